//! Who may call the API: a Cognito user pool whose ID tokens API Gateway's Cognito
//! authorizer checks on every route. The Pulumi program creates the pool and its app client
//! from these settings; local mode creates the same in the emulator and checks tokens the
//! same way.

/// The header the authorizer reads the ID token from (its identity source).
pub const HEADER: &str = "Authorization";

/// The authorizer's identity source, as API Gateway spells it.
pub fn identity_source() -> String {
    format!("method.request.header.{HEADER}")
}

/// A scheme a client may put before the token: the Cognito authorizer takes the bare token
/// and `Bearer <token>` alike (AWS's "Call a REST API integrated with an Amazon Cognito user
/// pool" sends the bare token; Amplify's REST documentation sends `Bearer`).
pub const BEARER: &str = "Bearer ";

/// The `token_use` of an ID token. With no OAuth scopes on a method, the authorizer takes
/// only ID tokens: an access token has no `aud` and is refused ("Control access to REST
/// APIs using Amazon Cognito user pools as an authorizer").
pub const ID_TOKEN_USE: &str = "id";

/// The `iss` of a pool's tokens ("Verifying a JSON web token", Cognito developer guide).
pub fn issuer(region: &str, user_pool_id: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
}

/// Where a pool publishes the keys its tokens are signed with, under the issuer (and under
/// the emulator's endpoint in local mode).
pub fn jwks_path(user_pool_id: &str) -> String {
    format!("/{user_pool_id}/.well-known/jwks.json")
}

/// Users sign in with their email address, which Cognito verifies.
pub const USERNAME_ATTRIBUTE: &str = "email";

/// The password policy: long rather than clever (NIST SP 800-63B puts length first), with
/// every class of character still asked for, as Cognito's default does.
pub const PASSWORD_MIN_LENGTH: u32 = 12;
pub const TEMPORARY_PASSWORD_DAYS: u32 = 3;

/// Only an administrator makes users: the stack is an API for known customers, and nobody
/// signs themselves up.
pub const ADMIN_CREATE_USER_ONLY: bool = true;

/// How the app client signs users in: a password straight (for curl and `tests/token.sh`)
/// or through SRP (what Amplify and the AWS SDKs' helpers use), and refreshing tokens. The
/// client has no secret: it is a public client (a browser, a phone, a shell).
pub const AUTH_FLOWS: [&str; 3] = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// A wrong user name and a wrong password get the same answer: sign-in does not tell who
/// has an account.
pub const PREVENT_USER_EXISTENCE_ERRORS: &str = "ENABLED";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_and_the_keys_are_under_the_pool() {
        assert_eq!(
            issuer("eu-west-1", "eu-west-1_AbC"),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
        );
        assert_eq!(
            jwks_path("eu-west-1_AbC"),
            "/eu-west-1_AbC/.well-known/jwks.json"
        );
        assert_eq!(identity_source(), "method.request.header.Authorization");
    }
}

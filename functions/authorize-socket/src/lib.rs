//! authorize-socket: the WebSocket API's `$connect` authorizer. A browser cannot set
//! headers on a WebSocket, so the ID token comes in the `token` query parameter; it is
//! checked as strictly as the REST API's Cognito authorizer checks the `Authorization`
//! header ([`TokenCheck`], which local mode's REST authorizer uses too): RS256 signature by
//! one of the pool's keys, `iss` (this pool), `aud` (this app client), `token_use` (`id`),
//! `exp` (no leeway) and `sub`.
//!
//! A refusal is the error `Unauthorized`, which API Gateway answers with 401 and no
//! connection ("Control access to WebSocket APIs with AWS Lambda REQUEST authorizers").

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use orders_blueprint::auth;
use orders_blueprint::live::{self, CONTEXT_SUB};
use serde_json::{Map, Value, json};

/// The checks of a pool's ID tokens for one app client.
pub struct TokenCheck {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

/// Why a pool's key set cannot check tokens.
#[derive(Debug, thiserror::Error)]
#[error("a key of the pool cannot check signatures: {0}")]
pub struct BadKeys(#[from] jsonwebtoken::errors::Error);

impl TokenCheck {
    /// The check of `user_pool_id`'s ID tokens for `client_id`, with the pool's `keys`.
    pub fn new(
        keys: &JwkSet,
        region: &str,
        user_pool_id: &str,
        client_id: &str,
    ) -> Result<Self, BadKeys> {
        let keys = keys
            .keys
            .iter()
            .map(|key| {
                let id = key.common.key_id.clone().unwrap_or_default();
                Ok((id, DecodingKey::from_jwk(key)?))
            })
            .collect::<Result<_, BadKeys>>()?;
        // Cognito signs with RS256 only; no other algorithm is taken, `none` least of all.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[auth::issuer(region, user_pool_id)]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // An expired token is refused from its `exp` on, as the Cognito authorizer does.
        validation.leeway = 0;
        Ok(Self { keys, validation })
    }

    /// The claims of `token` if it is a valid ID token of the pool for the client, each
    /// a string (as API Gateway hands claims on); `None` for anything else.
    pub fn claims(&self, token: &str) -> Option<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.keys.get(header.kid.as_deref()?)?;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation)
            .ok()?
            .claims;
        if claims.get("token_use")?.as_str()? != auth::ID_TOKEN_USE {
            return None;
        }
        claims.get("sub")?.as_str()?;
        Some(
            claims
                .into_iter()
                .map(|(name, value)| {
                    let text = match value {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    (name, Value::String(text))
                })
                .collect(),
        )
    }
}

/// The one refusal: API Gateway answers the handshake with 401.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Unauthorized")]
pub struct Unauthorized;

impl From<Unauthorized> for orders_aws::HandlerError {
    /// API Gateway answers 401 for the error message `Unauthorized` exactly.
    fn from(_: Unauthorized) -> Self {
        Self {
            name: "Unauthorized",
            message: "Unauthorized".into(),
        }
    }
}

/// Admits the connection `request` asks for if its `token` parameter is a valid ID token:
/// an Allow of this one `$connect` (`methodArn`) for the token's `sub`, with the `sub` in
/// the context.
pub fn handle(
    check: &TokenCheck,
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, Unauthorized> {
    let token = request
        .query_string_parameters
        .first(live::TOKEN_PARAMETER)
        .ok_or(Unauthorized)?;
    let claims = check.claims(token.trim()).ok_or(Unauthorized)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Unauthorized)?
        .to_owned();
    let method_arn = request.method_arn.clone().ok_or(Unauthorized)?;
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![method_arn];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(sub.clone());
    response.policy_document = policy;
    response.context = json!({ CONTEXT_SUB: sub });
    Ok(response)
}

/// Keys made in a test, published as a pool's key set, and tokens signed with them: for
/// the tests of this check and of local mode's REST authorizer.
#[cfg(any(test, feature = "test-keys"))]
pub mod test_keys {
    use std::sync::OnceLock;

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use rsa::RsaPrivateKey;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::{Map, Value, json};

    /// The key id the pool publishes its key under.
    pub const KEY_ID: &str = "pool-key";

    /// RSA keys cost a moment to make: two for a whole test binary (the pool's, and another).
    pub fn key(which: usize) -> &'static RsaPrivateKey {
        static KEYS: OnceLock<[RsaPrivateKey; 2]> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            [0, 1].map(|_| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
        });
        &keys[which]
    }

    /// The pool's published key set: key 0's public half as a JWK.
    pub fn pool_keys() -> JwkSet {
        let public = key(0).to_public_key();
        let encode = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
        serde_json::from_value(json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID,
            "n": encode(public.n().to_bytes_be()),
            "e": encode(public.e().to_bytes_be()),
        }]}))
        .unwrap()
    }

    /// `claims` signed RS256 by key `which` under the pool's key id.
    pub fn signed_by(which: usize, claims: &Map<String, Value>) -> String {
        signed_by_key(which, KEY_ID, claims)
    }

    /// `claims` signed RS256 by key `which` under the key id `kid`.
    pub fn signed_by_key(which: usize, kid: &str, claims: &Map<String, Value>) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let der = key(which).to_pkcs1_der().unwrap();
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_keys::{pool_keys, signed_by};
    use super::*;

    const REGION: &str = "eu-west-1";
    const POOL: &str = "eu-west-1_Pool";
    const CLIENT: &str = "app-client";
    const CONNECT: &str = "arn:aws:execute-api:eu-west-1:1:abc/live/$connect";

    fn id_token(token_use: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = json!({
            "sub": "alice-sub", "iss": auth::issuer(REGION, POOL), "aud": CLIENT,
            "token_use": token_use, "iat": now, "exp": now + 600,
        });
        signed_by(0, claims.as_object().unwrap())
    }

    fn request(query: &[(&str, &str)]) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        let mut request = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
        request.method_arn = Some(CONNECT.into());
        request.query_string_parameters = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::HashMap<_, _>>()
            .into();
        request
    }

    #[test]
    fn a_valid_id_token_allows_this_connect_for_its_subject() {
        let check = TokenCheck::new(&pool_keys(), REGION, POOL, CLIENT).unwrap();
        let allowed = handle(&check, &request(&[("token", &id_token("id"))])).unwrap();
        assert_eq!(allowed.principal_id.as_deref(), Some("alice-sub"));
        assert_eq!(allowed.context, json!({"sub": "alice-sub"}));
        let statement = &allowed.policy_document.statement[..];
        assert_eq!(statement.len(), 1);
        assert_eq!(statement[0].effect, IamPolicyEffect::Allow);
        assert_eq!(statement[0].action, ["execute-api:Invoke"]);
        assert_eq!(statement[0].resource, [CONNECT]);
    }

    #[test]
    fn no_token_another_parameter_or_an_access_token_is_unauthorized() {
        let check = TokenCheck::new(&pool_keys(), REGION, POOL, CLIENT).unwrap();
        for query in [
            vec![],
            vec![("access_token", id_token("id"))],
            vec![("token", id_token("access"))],
            vec![("token", "x.y.z".to_owned())],
        ] {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(
                handle(&check, &request(&query)),
                Err(Unauthorized),
                "{query:?}"
            );
        }
    }
}

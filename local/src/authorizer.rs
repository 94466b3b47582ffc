//! The API's Cognito authorizer, as API Gateway runs it: the ID token from the
//! `Authorization` header (bare or after `Bearer `), its RS256 signature checked against the
//! pool's published keys, then `iss` (this pool), `aud` (this app client), `token_use`
//! (`id`) and `exp`. Whatever fails, the caller gets the same 401.

use anyhow::Context;
use authorize_socket::TokenCheck;
use axum::http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use orders_blueprint::auth;
use serde_json::{Map, Value};

/// The signed-in caller, as the authorizer hands it on: the token's claims, each a string
/// (API Gateway's `requestContext.authorizer.claims`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub claims: Map<String, Value>,
}

pub struct Authorizer(TokenCheck);

impl Authorizer {
    /// The authorizer of `user_pool_id`'s tokens for `client_id`, with the keys the pool
    /// publishes at `endpoint`.
    pub async fn fetch(
        endpoint: &str,
        region: &str,
        user_pool_id: &str,
        client_id: &str,
    ) -> anyhow::Result<Self> {
        Self::new(
            &pool_keys(endpoint, user_pool_id).await?,
            region,
            user_pool_id,
            client_id,
        )
    }

    /// The authorizer of `user_pool_id`'s tokens for `client_id`, checking signatures with
    /// `keys`.
    pub fn new(
        keys: &JwkSet,
        region: &str,
        user_pool_id: &str,
        client_id: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self(TokenCheck::new(
            keys,
            region,
            user_pool_id,
            client_id,
        )?))
    }

    /// The check of the token itself (the WebSocket authorizer takes it from a query
    /// parameter rather than a header).
    pub fn tokens(&self) -> &TokenCheck {
        &self.0
    }

    /// The caller `headers` prove, if they do.
    pub fn check(&self, headers: &HeaderMap) -> Option<Caller> {
        let value = headers.get(auth::HEADER)?.to_str().ok()?.trim();
        let token = value.strip_prefix(auth::BEARER).unwrap_or(value).trim();
        let claims = self.0.claims(token)?;
        let sub = claims.get("sub")?.as_str()?.to_owned();
        Some(Caller { sub, claims })
    }
}

/// The key set the pool publishes at `endpoint`.
pub async fn pool_keys(endpoint: &str, user_pool_id: &str) -> anyhow::Result<JwkSet> {
    let url = format!("{endpoint}{}", auth::jwks_path(user_pool_id));
    serde_json::from_slice(
        &reqwest::get(&url)
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("read the pool's keys at {url}"))?
            .bytes()
            .await?,
    )
    .with_context(|| format!("{url} is not a JSON Web Key Set"))
}

#[cfg(test)]
mod tests {
    //! Each claim on its own: a token signed with the pool's key and one thing changed is
    //! refused, while the same token unchanged is taken. The key is made here, so every
    //! refusal is for the claim the case changed, never for an unknown key.

    use std::time::{SystemTime, UNIX_EPOCH};

    use authorize_socket::test_keys::{KEY_ID, pool_keys, signed_by, signed_by_key};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    const REGION: &str = "eu-west-1";
    const POOL: &str = "eu-west-1_Pool";
    const CLIENT: &str = "app-client";

    fn authorizer() -> Authorizer {
        Authorizer::new(&pool_keys(), REGION, POOL, CLIENT).unwrap()
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    /// The claims of an ID token this pool issues to this app client, valid for an hour.
    fn id_claims() -> Map<String, Value> {
        let now = now();
        json!({
            "sub": "7f1c2d3e-0000-4000-8000-000000000001",
            "iss": auth::issuer(REGION, POOL),
            "aud": CLIENT,
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "email": "alice@example.com",
            "cognito:username": "alice",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(auth::HEADER, authorization.parse().unwrap());
        headers
    }

    fn with(name: &str, value: Value) -> Map<String, Value> {
        let mut claims = id_claims();
        claims.insert(name.into(), value);
        claims
    }

    fn without(name: &str) -> Map<String, Value> {
        let mut claims = id_claims();
        claims.remove(name);
        claims
    }

    #[test]
    fn the_unchanged_token_is_taken_bare_or_after_bearer() {
        let token = signed_by(0, &id_claims());
        let authorizer = authorizer();
        for value in [token.clone(), format!("{}{token}", auth::BEARER)] {
            let caller = authorizer
                .check(&headers(&value))
                .expect("a valid ID token");
            assert_eq!(caller.sub, id_claims()["sub"]);
            // Claims reach the integration as strings, numbers included.
            assert_eq!(caller.claims["exp"], id_claims()["exp"].to_string());
        }
    }

    #[test]
    fn each_claim_changed_on_its_own_is_refused() {
        let past = now() - 1;
        let cases = [
            (
                "another pool's issuer",
                with("iss", json!(auth::issuer(REGION, "eu-west-1_Other"))),
            ),
            (
                "this pool in another region",
                with("iss", json!(auth::issuer("us-east-1", POOL))),
            ),
            ("no issuer", without("iss")),
            ("another app client", with("aud", json!("other-client"))),
            ("no audience", without("aud")),
            ("an access token", with("token_use", json!("access"))),
            ("no token_use", without("token_use")),
            ("expired a second ago", with("exp", json!(past))),
            ("no expiry", without("exp")),
            ("no subject", without("sub")),
        ];
        let authorizer = authorizer();
        for (case, claims) in cases {
            let token = signed_by(0, &claims);
            assert!(
                authorizer.check(&headers(&token)).is_none(),
                "{case} was taken"
            );
        }
    }

    #[test]
    fn a_signature_that_is_not_the_pools_is_refused() {
        let authorizer = authorizer();
        // Signed by another key under the pool's key id.
        let forged = signed_by(1, &id_claims());
        assert!(authorizer.check(&headers(&forged)).is_none());
        // The pool's signature over other claims: the payload swapped after signing.
        let genuine = signed_by(0, &id_claims());
        let other = signed_by(0, &with("sub", json!("someone-else")));
        let parts: Vec<&str> = genuine.split('.').collect();
        let other_payload = other.split('.').nth(1).unwrap();
        let spliced = format!("{}.{other_payload}.{}", parts[0], parts[2]);
        assert!(authorizer.check(&headers(&spliced)).is_none());
        // No signature at all: `alg: none`.
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": KEY_ID}).to_string()),
            parts[1]
        );
        assert!(authorizer.check(&headers(&unsigned)).is_none());
    }

    #[test]
    fn a_token_without_a_known_key_id_or_header_is_refused() {
        let authorizer = authorizer();
        let unknown_kid = signed_by_key(0, "another-key", &id_claims());
        assert!(authorizer.check(&headers(&unknown_kid)).is_none());
        assert!(authorizer.check(&HeaderMap::new()).is_none());
        assert!(authorizer.check(&headers("not a token")).is_none());
    }
}

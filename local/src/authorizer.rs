//! The API's Cognito authorizer, as API Gateway runs it: the ID token from the
//! `Authorization` header (bare or after `Bearer `), its RS256 signature checked against the
//! pool's published keys, then `iss` (this pool), `aud` (this app client), `token_use`
//! (`id`) and `exp`. Whatever fails, the caller gets the same 401.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use orders_blueprint::api::message as says;
use orders_blueprint::auth;
use serde_json::{Map, Value};

use crate::api::message;

/// The signed-in caller, as the authorizer hands it on: the token's claims, each a string
/// (API Gateway's `requestContext.authorizer.claims`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub claims: Map<String, Value>,
}

pub struct Authorizer {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl Authorizer {
    /// The authorizer of `user_pool_id`'s tokens for `client_id`, with the keys the pool
    /// publishes at `endpoint`.
    pub async fn fetch(
        endpoint: &str,
        region: &str,
        user_pool_id: &str,
        client_id: &str,
    ) -> anyhow::Result<Self> {
        let url = format!("{endpoint}{}", auth::jwks_path(user_pool_id));
        let keys: JwkSet = serde_json::from_slice(
            &reqwest::get(&url)
                .await
                .and_then(|r| r.error_for_status())
                .with_context(|| format!("read the pool's keys at {url}"))?
                .bytes()
                .await?,
        )
        .with_context(|| format!("{url} is not a JSON Web Key Set"))?;
        let keys = keys
            .keys
            .iter()
            .map(|key| {
                let id = key.common.key_id.clone().unwrap_or_default();
                Ok((id, DecodingKey::from_jwk(key)?))
            })
            .collect::<anyhow::Result<_>>()
            .context("a key of the pool cannot check signatures")?;
        // Cognito signs with RS256 only; no other algorithm is taken, `none` least of all.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[auth::issuer(region, user_pool_id)]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // An expired token is refused from its `exp` on, as the authorizer does.
        validation.leeway = 0;
        Ok(Self { keys, validation })
    }

    /// The caller `headers` prove, if they do.
    pub fn check(&self, headers: &HeaderMap) -> Option<Caller> {
        let value = headers.get(auth::HEADER)?.to_str().ok()?.trim();
        let token = value.strip_prefix(auth::BEARER).unwrap_or(value).trim();
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.keys.get(header.kid.as_deref()?)?;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation)
            .ok()?
            .claims;
        if claims.get("token_use")?.as_str()? != auth::ID_TOKEN_USE {
            return None;
        }
        let sub = claims.get("sub")?.as_str()?.to_owned();
        // Every claim reaches the integration as a string.
        let claims = claims
            .into_iter()
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (name, Value::String(text))
            })
            .collect();
        Some(Caller { sub, claims })
    }
}

/// Lets a request through to its route only with a caller; a 401 otherwise.
pub async fn require_caller(
    State(authorizer): State<Arc<Authorizer>>,
    mut request: Request,
    next: Next,
) -> Response {
    match authorizer.check(request.headers()) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => message(StatusCode::UNAUTHORIZED, says::UNAUTHORIZED),
    }
}

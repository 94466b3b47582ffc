//! Lambda entry point of authorize-socket. Environment: `USER_POOL_ID`,
//! `USER_POOL_CLIENT_ID` (and Lambda's own `AWS_REGION`). The pool's keys are read once, at
//! start-up, from where the pool publishes them: under its issuer, or under the endpoint
//! the SDK's settings name for Cognito (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`,
//! `AWS_ENDPOINT_URL`), as every other function's SDK calls go to an emulator.

use authorize_socket::{TokenCheck, Unauthorized};
use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use jsonwebtoken::jwk::JwkSet;
use orders_aws::{AWS_ROOT_CERTIFICATES, init_tracing, required_env, serve};
use orders_blueprint::auth;
use orders_core::settings::env::{USER_POOL_CLIENT_ID, USER_POOL_ID};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let region = required_env("AWS_REGION")?;
    let pool = required_env(USER_POOL_ID)?;
    let client = required_env(USER_POOL_CLIENT_ID)?;
    let published = [
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
        "AWS_ENDPOINT_URL",
    ]
    .into_iter()
    .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()))
    .unwrap_or_else(|| {
        auth::issuer(&region, &pool)
            .trim_end_matches(&format!("/{pool}"))
            .to_string()
    });
    let keys = pool_keys(published.trim_end_matches('/'), &pool).await?;
    let check = TokenCheck::new(&keys, &region, &pool, &client)?;
    let check = &check;
    serve(
        |request: &ApiGatewayCustomAuthorizerRequestTypeRequest| {
            tracing::info_span!(
                "invocation",
                route = request.method_arn.as_deref().unwrap_or_default()
            )
        },
        move |request| async move {
            let answer = authorize_socket::handle(check, &request);
            if answer == Err(Unauthorized) {
                tracing::info!("connection refused");
            }
            answer
        },
    )
    .await
}

/// The pool's key set, published at `{endpoint}/{pool}/.well-known/jwks.json`.
async fn pool_keys(endpoint: &str, pool: &str) -> Result<JwkSet, lambda_runtime::Error> {
    use http_body_util::BodyExt;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(AWS_ROOT_CERTIFICATES) {
        roots.add(certificate?)?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // Cognito's own endpoint is HTTPS; an emulator's may be plain HTTP.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Empty<hyper::body::Bytes>>(https);
    let url = format!("{endpoint}{}", auth::jwks_path(pool));
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), client.get(url.parse()?))
        .await
        .map_err(|_| format!("{url}: no answer in 5 s"))??;
    if !answer.status().is_success() {
        return Err(format!("{url}: {}", answer.status()).into());
    }
    let body = answer.into_body().collect().await?.to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("{url} is not a key set: {e}").into())
}

use lambda_runtime::Diagnostic;
use orders_core::OrderError;

/// A handler's failure as Lambda reports it: `errorType` is the stable name the state
/// machine's Retry and Catch match on, `errorMessage` the human explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    pub name: &'static str,
    pub message: String,
}

impl From<OrderError> for HandlerError {
    fn from(err: OrderError) -> Self {
        Self {
            name: err.name(),
            message: err.to_string(),
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        Diagnostic {
            error_type: err.name.to_owned(),
            error_message: err.message,
        }
    }
}

impl From<std::convert::Infallible> for HandlerError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// Serves a function: each invocation's payload runs `handler` inside the span `span`
/// makes for it, and an error reaches Lambda as its `errorType` and `errorMessage`.
pub fn serve<E, R, Err, F, Fut>(
    span: impl Fn(&E) -> tracing::Span,
    handler: F,
) -> impl std::future::Future<Output = Result<(), lambda_runtime::Error>>
where
    E: serde::de::DeserializeOwned,
    R: serde::Serialize,
    Err: Into<HandlerError>,
    F: Fn(E) -> Fut,
    Fut: std::future::Future<Output = Result<R, Err>>,
{
    use tracing::Instrument;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<E>| {
            let span = span(&event.payload);
            let result = handler(event.payload);
            async move { result.await.map_err(Into::into) }.instrument(span)
        },
    ))
}

/// Serves a workflow task: the span carries the order id, and a domain error reaches Step
/// Functions with its stable name as `errorType` (what the state machine's Retry and Catch
/// match on).
pub fn serve_task<E, D, R, F, Fut>(
    order_id: impl Fn(&E) -> D,
    handler: F,
) -> impl std::future::Future<Output = Result<(), lambda_runtime::Error>>
where
    E: serde::de::DeserializeOwned,
    D: std::fmt::Display,
    R: serde::Serialize,
    F: Fn(E) -> Fut,
    Fut: std::future::Future<Output = Result<R, OrderError>>,
{
    serve(
        move |event: &E| tracing::info_span!("invocation", order_id = %order_id(event)),
        handler,
    )
}

/// A configuration variable that is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct EnvError {
    pub name: String,
    pub problem: String,
}

/// Reads a variable the function cannot run without.
pub fn required_env(name: &str) -> Result<String, EnvError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(EnvError {
            name: name.into(),
            problem: "is empty".into(),
        }),
        Err(_) => Err(EnvError {
            name: name.into(),
            problem: "is not set".into(),
        }),
    }
}

/// Reads and parses a variable that has a default.
pub fn optional_env<T>(name: &str, default: T) -> Result<T, EnvError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(raw) => raw.trim().parse().map_err(|e| EnvError {
            name: name.into(),
            problem: format!("{raw:?} is not valid: {e}"),
        }),
    }
}

/// JSON logs, one object a line, for CloudWatch. `RUST_LOG` sets the level (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests, the local runner) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .try_init();
}

/// The roots AWS service endpoints chain to: Amazon Root CA 1 to 4 and Starfield Services
/// Root Certificate Authority - G2, the five Amazon Trust Services recommends for a custom
/// trust store (<https://www.amazontrust.com/repository/>). The certificates are those of
/// the Mozilla store as Debian's ca-certificates ships them.
pub const AWS_ROOT_CERTIFICATES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Where the HTTPS client's trust comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// [`AWS_ROOT_CERTIFICATES`]: five certificates, parsed in microseconds.
    AmazonTrustServices,
    /// The system's store: what `SSL_CERT_FILE` / `SSL_CERT_DIR` name, or the usual
    /// bundle. Loading it costs milliseconds at start-up (over 100 certificates).
    System,
}

impl TrustRoots {
    /// The system's store when the environment names one (a proxy re-signing TLS needs
    /// its own root), the AWS roots otherwise.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// [`TrustRoots::from_env`] with the variables read through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Self {
        let named = |name| var(name).is_some_and(|v| !v.is_empty());
        if named("SSL_CERT_FILE") || named("SSL_CERT_DIR") {
            Self::System
        } else {
            Self::AmazonTrustServices
        }
    }
}

/// A Lambda function's SDK configuration, built from what Lambda provides: the region and
/// the credentials in the variables it sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`:
/// <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>),
/// and `AWS_ENDPOINT_URL` when set (the benchmark, an emulator). `aws_config`'s loader is
/// not used: its provider chains (profiles, SSO, web identity through STS, containers,
/// instance metadata) serve hosts a Lambda is not, and linking them costs archive size and
/// start-up time. The HTTPS client is rustls on ring, trusting [`TrustRoots::from_env`].
pub fn sdk_config() -> aws_config::SdkConfig {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_http_client::tls::{
        Provider, TlsContext, TrustStore, rustls_provider::CryptoMode,
    };
    let trust = match TrustRoots::from_env() {
        TrustRoots::System => TrustStore::default(),
        TrustRoots::AmazonTrustServices => TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AWS_ROOT_CERTIFICATES),
    };
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context from a trust store");
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https();
    let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .region(variable("AWS_REGION").map(aws_config::Region::new))
        .credentials_provider(SharedCredentialsProvider::new(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ))
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(url) = variable("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    config.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::{OrderId, OrderStatus};

    /// The PEM blocks of a bundle, whitespace removed.
    fn certificates(pem: &str) -> Vec<String> {
        pem.split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| {
                let body = block.split("-----END CERTIFICATE-----").next().unwrap();
                body.split_whitespace().collect()
            })
            .collect()
    }

    #[test]
    fn the_aws_roots_are_five_certificates_of_the_system_store() {
        let ours = certificates(std::str::from_utf8(AWS_ROOT_CERTIFICATES).unwrap());
        assert_eq!(ours.len(), 5);
        // The oracle: the Mozilla store as the operating system ships it.
        let bundle = "/etc/ssl/certs/ca-certificates.crt";
        let system = std::fs::read_to_string(bundle)
            .unwrap_or_else(|e| panic!("{bundle}: {e} (install ca-certificates)"));
        let system = certificates(&system);
        for (i, certificate) in ours.iter().enumerate() {
            assert!(
                system.contains(certificate),
                "root {i} is not in the system store"
            );
        }
    }

    #[test]
    fn the_system_store_is_used_only_when_the_environment_names_one() {
        let vars = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            TrustRoots::from_vars(vars(&[])),
            TrustRoots::AmazonTrustServices
        );
        assert_eq!(
            TrustRoots::from_vars(vars(&[("SSL_CERT_FILE", "")])),
            TrustRoots::AmazonTrustServices
        );
        assert_eq!(
            TrustRoots::from_vars(vars(&[("SSL_CERT_FILE", "/corp/ca.pem")])),
            TrustRoots::System
        );
        assert_eq!(
            TrustRoots::from_vars(vars(&[("SSL_CERT_DIR", "/etc/ssl/certs")])),
            TrustRoots::System
        );
    }

    #[test]
    fn diagnostic_carries_the_stable_error_name() {
        let err = OrderError::IllegalTransition {
            order_id: OrderId::parse("o-1").unwrap(),
            from: OrderStatus::Received,
            to: OrderStatus::SentToRestaurant,
        };
        let diagnostic: Diagnostic = HandlerError::from(err).into();
        assert_eq!(diagnostic.error_type, "IllegalTransition");
        assert_eq!(
            diagnostic.error_message,
            "order o-1 cannot go from RECEIVED to SENT_TO_RESTAURANT"
        );
    }

    #[test]
    fn env_errors_name_the_variable() {
        let err = required_env("ORDERS_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ORDERS_TEST_SURELY_UNSET: is not set"
        );
        assert_eq!(optional_env("ORDERS_TEST_SURELY_UNSET", 7u8), Ok(7));
    }
}

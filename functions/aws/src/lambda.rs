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

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`),
/// with an HTTPS client on rustls and ring.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::{OrderId, OrderStatus};

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

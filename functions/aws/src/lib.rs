//! AWS adapters of the order ports and what every Lambda function does at start-up.
//!
//! The adapters use the official SDK crates. Their endpoint comes from the standard SDK
//! configuration, so `AWS_ENDPOINT_URL` points the same code at AWS, the local emulator or
//! LocalStack without a line of special code.

mod connections;
mod dynamodb;
mod lambda;
mod sfn;
mod sns;

pub use connections::DynamoConnections;
pub use dynamodb::DynamoOrderStore;
pub use lambda::{
    AWS_ROOT_CERTIFICATES, EnvError, HandlerError, TrustRoots, init_tracing, optional_env,
    required_env, sdk_config, serve, serve_task,
};
pub use sfn::SfnWorkflows;
pub use sns::{SnsDispatcher, SnsNotifier};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use orders_core::DependencyError;

/// Turns an SDK error into the port's error, keeping AWS's code and message.
fn dependency_error<E>(service: &'static str, err: E) -> DependencyError
where
    E: std::error::Error + 'static,
{
    DependencyError::new(service, DisplayErrorContext(&err).to_string())
}

/// Whether an SDK error is the service's answer `code` (e.g. a failed condition).
fn is_service_error<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>, code: &str) -> bool
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code()) == Some(code)
}

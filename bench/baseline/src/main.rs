//! The cold-start baseline: the Lambda runtime and nothing else. It answers every event
//! with the event itself.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, std::convert::Infallible>(event.payload)
    }))
    .await
}

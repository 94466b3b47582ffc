//! Lambda entry point of start-order. Environment: `STATE_MACHINE_ARN`.

use lambda_runtime::{LambdaEvent, service_fn};
use order_aws::{SfnWorkflows, init_tracing, required_env, sdk_config};
use order_core::settings::env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let state_machine_arn = required_env(env::STATE_MACHINE_ARN)?;
    let workflows = SfnWorkflows::new(
        aws_sdk_sfn::Client::new(&sdk_config().await),
        state_machine_arn,
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        start_order::handle(&workflows, event.payload)
    }))
    .await
}

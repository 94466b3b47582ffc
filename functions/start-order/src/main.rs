//! Lambda entry point of start-order. Environment: `STATE_MACHINE_ARN`.

use aws_lambda_events::sqs::SqsEvent;
use orders_aws::{SfnWorkflows, init_tracing, required_env, sdk_config, serve};
use orders_core::settings::env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let state_machine_arn = required_env(env::STATE_MACHINE_ARN)?;
    let workflows = SfnWorkflows::new(aws_sdk_sfn::Client::new(&sdk_config()), state_machine_arn);
    serve(
        |batch: &SqsEvent| tracing::info_span!("invocation", messages = batch.records.len()),
        |batch| start_order::handle(&workflows, batch),
    )
    .await
}

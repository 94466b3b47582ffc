//! Lambda entry point of manage-order-state. Environment: `ORDERS_TABLE`, `NOTIFY_TOPIC_ARN`.

use manage_order_state::{Input, handle_input};
use orders_aws::{
    DynamoOrderStore, SnsNotifier, init_tracing, required_env, sdk_config, serve_task,
};
use orders_core::settings::env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::ORDERS_TABLE)?;
    let topic_arn = required_env(env::NOTIFY_TOPIC_ARN)?;
    let config = sdk_config();
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic_arn);
    let (store, notifier) = (&store, &notifier);
    serve_task(
        |input: &Input| input.order_id().to_owned(),
        move |input| async move {
            let output = handle_input(store, notifier, input, chrono::Utc::now()).await?;
            if let Some(order) = output.order() {
                tracing::info!(status = %order.status, version = order.version, "order stored");
            }
            Ok(output)
        },
    )
    .await
}

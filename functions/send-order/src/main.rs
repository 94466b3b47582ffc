//! Lambda entry point of send-order. Environment: `ORDERS_TABLE`, `RESTAURANT_TOPIC_ARN`.

use orders_aws::{
    DynamoOrderStore, SnsDispatcher, init_tracing, required_env, sdk_config, serve_task,
};
use orders_core::settings::env;
use send_order::{Request, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::ORDERS_TABLE)?;
    let topic_arn = required_env(env::RESTAURANT_TOPIC_ARN)?;
    let config = sdk_config();
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let dispatcher = SnsDispatcher::new(aws_sdk_sns::Client::new(&config), topic_arn);
    serve_task(
        |request: &Request| request.order_id.clone(),
        |request| handle(&store, &dispatcher, request, chrono::Utc::now()),
    )
    .await
}

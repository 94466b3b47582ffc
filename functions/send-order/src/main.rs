//! Lambda entry point of send-order. Environment: `ORDERS_TABLE`, `RESTAURANT_TOPIC_ARN`.

use lambda_runtime::{LambdaEvent, service_fn};
use order_aws::{
    DynamoOrderStore, HandlerError, SnsDispatcher, init_tracing, required_env, sdk_config,
};
use send_order::{Request, handle};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env("ORDERS_TABLE")?;
    let topic_arn = required_env("RESTAURANT_TOPIC_ARN")?;
    let config = sdk_config().await;
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let dispatcher = SnsDispatcher::new(aws_sdk_sns::Client::new(&config), topic_arn);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| {
        let request = event.payload;
        let span = tracing::info_span!("invocation", order_id = %request.order_id);
        let (store, dispatcher) = (&store, &dispatcher);
        async move {
            handle(store, dispatcher, request, chrono::Utc::now())
                .await
                .map_err(HandlerError::from)
        }
        .instrument(span)
    }))
    .await
}

//! Lambda entry point of manage-order-state. Environment: `ORDERS_TABLE`, `NOTIFY_TOPIC_ARN`.

use lambda_runtime::{LambdaEvent, service_fn};
use manage_order_state::{Request, handle};
use order_aws::{
    DynamoOrderStore, HandlerError, SnsNotifier, init_tracing, required_env, sdk_config,
};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env("ORDERS_TABLE")?;
    let topic_arn = required_env("NOTIFY_TOPIC_ARN")?;
    let config = sdk_config().await;
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic_arn);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| {
        let request = event.payload;
        let span = tracing::info_span!("invocation", order_id = %request.order_id());
        let (store, notifier) = (&store, &notifier);
        async move {
            let order = handle(store, notifier, request, chrono::Utc::now())
                .await
                .map_err(HandlerError::from)?;
            tracing::info!(status = %order.status, "order stored");
            Ok::<_, HandlerError>(order)
        }
        .instrument(span)
    }))
    .await
}

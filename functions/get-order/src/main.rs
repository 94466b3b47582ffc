//! Lambda entry point of get-order. Environment: `ORDERS_TABLE`.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use order_aws::{DynamoOrderStore, init_tracing, required_env, sdk_config};
use order_core::settings::env;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::ORDERS_TABLE)?;
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&sdk_config().await), table);
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayProxyRequest>| {
        let store = &store;
        async move {
            let order_id = event
                .payload
                .path_parameters
                .get("id")
                .cloned()
                .unwrap_or_default();
            let span = tracing::info_span!("invocation", order_id = %order_id);
            let response = get_order::handle(store, &event.payload)
                .instrument(span)
                .await;
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}

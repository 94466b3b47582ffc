//! Lambda entry point of push-status. Environment: `CONNECTIONS_TABLE`, `SOCKET_ENDPOINT`
//! (the WebSocket stage's management endpoint).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use orders_aws::{DynamoConnections, init_tracing, required_env, sdk_config, serve};
use orders_core::events::OrderEvent;
use orders_core::settings::env;
use push_status::ManagementApi;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::CONNECTIONS_TABLE)?;
    let endpoint = required_env(env::SOCKET_ENDPOINT)?;
    let sdk = sdk_config();
    let connections = DynamoConnections::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let sockets = ManagementApi(aws_sdk_apigatewaymanagement::Client::from_conf(
        aws_sdk_apigatewaymanagement::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    ));
    let (connections, sockets) = (&connections, &sockets);
    serve(
        |event: &EventBridgeEvent<OrderEvent>| {
            tracing::info_span!("invocation", order_id = event.detail.order_id.as_str())
        },
        move |event| async move {
            let pushed = push_status::handle(connections, sockets, event)
                .await
                .map_err(orders_core::OrderError::from)?;
            tracing::info!(sent = pushed.sent, gone = pushed.gone, "pushed");
            Ok::<_, orders_core::OrderError>(pushed)
        },
    )
    .await
}

//! Lambda entry point of socket-connections. Environment: `CONNECTIONS_TABLE`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use orders_aws::{DynamoConnections, init_tracing, required_env, sdk_config, serve};
use orders_core::settings::env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::CONNECTIONS_TABLE)?;
    let connections = DynamoConnections::new(aws_sdk_dynamodb::Client::new(&sdk_config()), table);
    let connections = &connections;
    serve(
        |request: &ApiGatewayWebsocketProxyRequest| {
            tracing::info_span!(
                "invocation",
                route = request
                    .request_context
                    .route_key
                    .as_deref()
                    .unwrap_or_default()
            )
        },
        move |request| async move {
            socket_connections::handle(connections, &request, chrono::Utc::now()).await
        },
    )
    .await
}

//! Lambda entry point of get-order. Environment: `ORDERS_TABLE`, `ALLOWED_ORIGINS`.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use orders_aws::{DynamoOrderStore, init_tracing, required_env, sdk_config, serve};
use orders_core::settings::env;
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let table = required_env(env::ORDERS_TABLE)?;
    let orders = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&sdk_config()), table);
    let allowed = orders_core::cors::AllowedOrigins::parse(&required_env(env::ALLOWED_ORIGINS)?)?;
    let (orders, allowed) = (&orders, &allowed);
    serve(
        |request: &ApiGatewayProxyRequest| {
            let order_id = request.path_parameters.get("id").map(String::as_str);
            tracing::info_span!("invocation", order_id = order_id.unwrap_or_default())
        },
        // Every outcome, a failure to read included, is an HTTP answer.
        move |request| async move {
            let mut answer = get_order::handle(orders, &request).await;
            get_order::admit_origin(allowed, &request, &mut answer);
            Ok::<_, Infallible>(answer)
        },
    )
    .await
}

//! The REST API: `POST /orders` straight into the queue (validated at the edge, no Lambda
//! on the write path), `GET /orders` and `GET /orders/{id}` through get-order, and
//! `POST /orders/{id}/cancel` through cancel-order; every
//! route behind a Cognito authorizer of the stack's user pool. One module per route, and
//! one for what makes them live (responses, deployment, stage).

pub mod cancel;
pub mod cors;
pub mod get;
pub mod post;
pub mod stage;

use crate::aws::apigateway::{authorizer, resource, rest_api};
use crate::aws::types::apigateway::RestApiEndpointConfiguration;
use crate::config::StackConfig;
use crate::functions::Function;
use orders_blueprint::Names;
use post::{ORDER_SCHEMA, SEND_MESSAGE_TEMPLATE, queue_responses};
use pulumi_gestalt_rust::{Context, Output};
use serde_json::json;
use sha2::{Digest, Sha256};
use stage::gateway_responses;

/// A digest of everything the API's definition is made of: a change to any of it is a new
/// deployment (a deployment is a snapshot; without a new one, changes would not be live).
pub fn definition_digest(origins: &[String]) -> String {
    digest_of(&definition(origins))
}

/// Everything a deployment snapshots that the stack decides.
fn definition(origins: &[String]) -> serde_json::Value {
    json!({
        "schema": ORDER_SCHEMA,
        "sendMessage": SEND_MESSAGE_TEMPLATE,
        "queueResponses": queue_responses(origins),
        "gatewayResponses": gateway_responses(),
        "routes": orders_blueprint::api::ROUTES,
        "authorizer": [orders_blueprint::auth::identity_source(), AUTHORIZATION],
        "cors": [origins, cors::preflight_headers(&["GET"])],
    })
}

fn digest_of(definition: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(definition.to_string().as_bytes()))
}

/// How every method is authorized: ID tokens of the user pool, checked by the authorizer.
pub const AUTHORIZATION: &str = "COGNITO_USER_POOLS";

/// The API and its two paths: what each route is attached to.
pub struct Routes {
    pub prefix: String,
    pub api_id: Output<String>,
    pub execution_arn: Output<String>,
    /// The Cognito authorizer every method uses.
    pub authorizer_id: Output<String>,
    /// `/orders`
    pub orders: Output<String>,
    /// `/orders/{id}`
    pub order: Output<String>,
}

pub struct ApiInputs<'a> {
    pub queue_arn: &'a Output<String>,
    pub queue_name: String,
    pub get_order: &'a Function,
    pub cancel_order: &'a Function,
    pub user_pool_arn: &'a Output<String>,
    /// The browser origins it admits, the app's first.
    pub origins: &'a Output<Vec<String>>,
}

/// Creates the API and returns its invoke URL.
pub fn create(
    ctx: &Context,
    names: &Names,
    config: &StackConfig,
    inputs: ApiInputs,
) -> Output<String> {
    let prefix = names.prefix.clone();
    let api = rest_api::create(
        ctx,
        "api",
        rest_api::RestApiArgs::builder()
            .name(names.api())
            .description(
                "Serverless Orders: POST /orders, GET /orders, GET /orders/{id}, POST /orders/{id}/cancel",
            )
            .endpoint_configuration(
                RestApiEndpointConfiguration::builder()
                    .types("REGIONAL".to_string())
                    .build_struct(),
            )
            .build_struct(),
    );
    let orders = resource::create(
        ctx,
        "orders-path",
        resource::ResourceArgs::builder()
            .rest_api(api.id.clone())
            .parent_id(api.root_resource_id.clone())
            .path_part("orders")
            .build_struct(),
    );
    let order = resource::create(
        ctx,
        "order-path",
        resource::ResourceArgs::builder()
            .rest_api(api.id.clone())
            .parent_id(orders.id.clone())
            .path_part("{id}")
            .build_struct(),
    );
    // API Gateway's Cognito authorizer: the ID token from the Authorization header, checked
    // against the pool (signature, issuer, audience, expiry).
    let users = authorizer::create(
        ctx,
        "api-authorizer",
        authorizer::AuthorizerArgs::builder()
            .rest_api(api.id.clone())
            .name(names.authorizer())
            .type_(AUTHORIZATION)
            .provider_arns(inputs.user_pool_arn.map(|arn| vec![arn]))
            .identity_source(orders_blueprint::auth::identity_source())
            .build_struct(),
    );
    let routes = Routes {
        prefix,
        authorizer_id: users.id,
        api_id: api.id,
        execution_arn: api.execution_arn,
        orders: orders.id,
        order: order.id,
    };

    let queue = post::QueueTarget {
        arn: inputs.queue_arn,
        name: inputs.queue_name,
        region: config.region.clone(),
    };
    let origins = inputs.origins;
    let mut routes_ready = post::create(ctx, &routes, queue, origins);
    routes_ready.extend(get::create(ctx, &routes, inputs.get_order));
    let (cancel_ready, cancel_path) = cancel::create(ctx, &routes, inputs.cancel_order);
    routes_ready.extend(cancel_ready);
    // A preflight on each resource, with the methods it has.
    for (name, resource, methods) in [
        ("orders", &routes.orders, &["POST", "GET"][..]),
        ("order", &routes.order, &["GET"][..]),
        ("cancel", &cancel_path, &["POST"][..]),
    ] {
        routes_ready.push(cors::preflight(
            ctx, &routes, name, resource, methods, origins,
        ));
    }
    stage::create(ctx, &routes, config, routes_ready, origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_digest_changes_with_each_part_of_the_definition() {
        let origins = ["https://app.example".to_string()];
        let original = definition(&origins);
        let digest = definition_digest(&origins);
        assert_eq!(digest.len(), 64);
        let parts = original.as_object().unwrap();
        assert_eq!(parts.len(), 7);
        for part in parts.keys() {
            let mut changed = original.clone();
            changed[part] = match &original[part] {
                serde_json::Value::String(text) => json!(format!("{text} ")),
                other => json!([other, "one more"]),
            };
            assert_ne!(
                digest_of(&changed),
                digest,
                "a change to {part} goes unseen"
            );
        }
        // One character of one gateway response is a new deployment too.
        let mut changed = original.clone();
        changed["gatewayResponses"][0][2] = json!("{\"message\": \"invalid\"}");
        assert_ne!(digest_of(&changed), digest);
    }
}

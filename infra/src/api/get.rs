//! `GET /orders` and `GET /orders/{id}`: Lambda proxies to get-order, which only these two
//! routes may invoke. The authorizer's claims reach it in the event; it answers only with
//! the caller's orders.

use super::Routes;
use crate::aws::apigateway::{integration, method};
use crate::aws::lambda::permission;
use crate::functions::Function;
use crate::outputs::after;
use pulumi_gestalt_rust::{Context, Output};
use std::collections::HashMap;

/// A route served by get-order.
struct ReadRoute {
    /// The logical name of its method (and the prefix of its other resources').
    name: &'static str,
    /// On `/orders/{id}` (with the path parameter `id`), or on `/orders`.
    by_id: bool,
    /// The path as a permission's source ARN names it (`*` for a path parameter).
    arn_path: &'static str,
    statement_id: &'static str,
}

const READ_ROUTES: [ReadRoute; 2] = [
    ReadRoute {
        name: "list-orders",
        by_id: false,
        arn_path: "orders",
        statement_id: "AllowApiGatewayListOrders",
    },
    ReadRoute {
        name: "get-order",
        by_id: true,
        arn_path: "orders/*",
        statement_id: "AllowApiGatewayGetOrder",
    },
];

/// Creates both routes and returns the ids the deployment must wait for.
pub fn create(ctx: &Context, routes: &Routes, get_order: &Function) -> Vec<Output<String>> {
    let api_id = &routes.api_id;
    let mut ready = Vec::new();
    for route in &READ_ROUTES {
        let (resource_id, parameters) = if route.by_id {
            (
                routes.order.clone(),
                HashMap::from([("method.request.path.id".to_string(), true)]),
            )
        } else {
            (routes.orders.clone(), HashMap::new())
        };
        let get = method::create(
            ctx,
            route.name,
            method::MethodArgs::builder()
                .rest_api(api_id.clone())
                .resource_id(resource_id.clone())
                .http_method("GET")
                .authorization(super::AUTHORIZATION)
                .authorizer_id(routes.authorizer_id.clone())
                .request_parameters(parameters)
                .build_struct(),
        );
        let get_integration = integration::create(
            ctx,
            &format!("{}-integration", route.name),
            integration::IntegrationArgs::builder()
                .rest_api(api_id.clone())
                .resource_id(resource_id)
                .http_method(after(&Output::new("GET".to_string()), &get.id))
                .type_("AWS_PROXY")
                .integration_http_method("POST")
                .uri(get_order.invoke_arn.clone())
                .build_struct(),
        );
        let arn_path = route.arn_path;
        permission::create(
            ctx,
            &format!("{}-permission", route.name),
            permission::PermissionArgs::builder()
                .statement_id(route.statement_id)
                .action("lambda:InvokeFunction")
                .function(get_order.name.clone())
                .principal("apigateway.amazonaws.com")
                // This API's route, in any stage; nothing else may invoke the function.
                .source_arn(
                    routes
                        .execution_arn
                        .map(move |arn| format!("{arn}/*/GET/{arn_path}")),
                )
                .build_struct(),
        );
        ready.push(get_integration.id);
    }
    ready
}

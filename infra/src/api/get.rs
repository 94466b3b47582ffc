//! `GET /orders/{id}`: a Lambda proxy to get-order, which only this route may invoke.

use super::Routes;
use crate::aws::apigateway::{integration, method};
use crate::aws::lambda::permission;
use crate::functions::Function;
use crate::outputs::after;
use pulumi_gestalt_rust::{Context, Output};
use std::collections::HashMap;

/// Creates the route on `/orders/{id}` and returns the id the deployment must wait for.
pub fn create(ctx: &Context, routes: &Routes, get_order: &Function) -> Output<String> {
    let api_id = &routes.api_id;
    let get = method::create(
        ctx,
        "get-order",
        method::MethodArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(routes.order.clone())
            .http_method("GET")
            .authorization("NONE")
            .request_parameters(HashMap::from([(
                "method.request.path.id".to_string(),
                true,
            )]))
            .build_struct(),
    );
    let get_integration = integration::create(
        ctx,
        "get-order-integration",
        integration::IntegrationArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(routes.order.clone())
            .http_method(after(&Output::new("GET".to_string()), &get.id))
            .type_("AWS_PROXY")
            .integration_http_method("POST")
            .uri(get_order.invoke_arn.clone())
            .build_struct(),
    );
    permission::create(
        ctx,
        "get-order-permission",
        permission::PermissionArgs::builder()
            .statement_id("AllowApiGatewayGetOrder")
            .action("lambda:InvokeFunction")
            .function(get_order.name.clone())
            .principal("apigateway.amazonaws.com")
            // This API's GET /orders/{id}, in any stage; nothing else may invoke it.
            .source_arn(
                routes
                    .execution_arn
                    .map(|arn| format!("{arn}/*/GET/orders/*")),
            )
            .build_struct(),
    );
    get_integration.id
}

//! `POST /orders/{id}/cancel`: a Lambda proxy to cancel-order, which only this route may
//! invoke. The authorizer's claims reach it in the event; it cancels only the caller's
//! own orders.

use super::Routes;
use crate::aws::apigateway::{integration, method, resource};
use crate::aws::lambda::permission;
use crate::functions::Function;
use crate::outputs::after;
use pulumi_gestalt_rust::{Context, Output};
use std::collections::HashMap;

/// Creates the route; returns the ids the deployment must wait for, and the path's id.
pub fn create(
    ctx: &Context,
    routes: &Routes,
    cancel_order: &Function,
) -> (Vec<Output<String>>, Output<String>) {
    let api_id = &routes.api_id;
    let path = resource::create(
        ctx,
        "cancel-path",
        resource::ResourceArgs::builder()
            .rest_api(api_id.clone())
            .parent_id(routes.order.clone())
            .path_part("cancel")
            .build_struct(),
    );
    let post = method::create(
        ctx,
        "cancel-order",
        method::MethodArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(path.id.clone())
            .http_method("POST")
            .authorization(super::AUTHORIZATION)
            .authorizer_id(routes.authorizer_id.clone())
            .request_parameters(HashMap::from([(
                "method.request.path.id".to_string(),
                true,
            )]))
            .build_struct(),
    );
    let post_integration = integration::create(
        ctx,
        "cancel-order-integration",
        integration::IntegrationArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(path.id.clone())
            .http_method(after(&Output::new("POST".to_string()), &post.id))
            .type_("AWS_PROXY")
            .integration_http_method("POST")
            .uri(cancel_order.invoke_arn.clone())
            .build_struct(),
    );
    permission::create(
        ctx,
        "cancel-order-permission",
        permission::PermissionArgs::builder()
            .statement_id("AllowApiGatewayCancelOrder")
            .action("lambda:InvokeFunction")
            .function(cancel_order.name.clone())
            .principal("apigateway.amazonaws.com")
            // This API's route, in any stage; nothing else may invoke the function.
            .source_arn(
                routes
                    .execution_arn
                    .map(|arn| format!("{arn}/*/POST/orders/*/cancel")),
            )
            .build_struct(),
    );
    (vec![post_integration.id], path.id)
}

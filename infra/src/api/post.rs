//! `POST /orders`: the body checked against the order schema at the edge, then sent
//! straight to the queue (no Lambda on the write path).

use super::Routes;
use crate::aws::apigateway::{
    integration, integration_response, method, method_response, model, request_validator,
};
use crate::iam::{Grant, role_with_policy};
use crate::outputs::{account_of, after};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use std::collections::HashMap;

/// The JSON schema of an order: the same file the functions and the local API validate with.
pub const ORDER_SCHEMA: &str = include_str!("../../../schema/order-request.schema.json");

/// The SQS `SendMessage` call, form-encoded. The body has passed the model, and the order id
/// is API Gateway's request id, so a retried message always carries the same id. Each
/// piece is URL-encoded on its own: percent-encoding a concatenation is concatenating
/// the encodings.
pub const SEND_MESSAGE_TEMPLATE: &str = concat!(
    "Action=SendMessage&MessageBody=",
    "$util.urlEncode('{\"order_id\":\"')",
    "$util.urlEncode($context.requestId)",
    "$util.urlEncode('\",\"order\":')",
    "$util.urlEncode($input.json('$'))",
    "$util.urlEncode('}')",
);

/// On success: no body, and the order id in a header (what the client follows the order by).
pub const ACCEPTED_TEMPLATE: &str =
    "#set($context.responseOverride.header.X-Order-Id = $context.requestId)";

/// How the queue's answers become the API's: (status, SQS status pattern, body template).
/// A pattern of `None` is the default mapping, taken when no other matches.
pub const QUEUE_RESPONSES: [(&str, Option<&str>, &str); 3] = [
    ("204", Some(r"2\d{2}"), ACCEPTED_TEMPLATE),
    (
        "503",
        Some(r"5\d{2}"),
        r#"{"message": "the order queue is unavailable; try again"}"#,
    ),
    // Any other answer (a 4xx from SQS) is a fault of the stack, not of the client.
    (
        "500",
        None,
        r#"{"message": "the order could not be queued; try again"}"#,
    ),
];

/// What the post route needs from the rest of the stack.
pub struct QueueTarget<'a> {
    pub arn: &'a Output<String>,
    pub name: String,
    pub region: String,
}

/// Creates the route on `/orders` and returns the ids the deployment must wait for.
pub fn create(ctx: &Context, routes: &Routes, queue: QueueTarget) -> Vec<Output<String>> {
    let api_id = &routes.api_id;
    let prefix = &routes.prefix;
    let order_model = model::create(
        ctx,
        "order-model",
        model::ModelArgs::builder()
            .rest_api(api_id.clone())
            .name("OrderRequest")
            .description("An order as clients send it")
            .content_type("application/json")
            .schema(ORDER_SCHEMA)
            .build_struct(),
    );
    let validator = request_validator::create(
        ctx,
        "body-validator",
        request_validator::RequestValidatorArgs::builder()
            .rest_api(api_id.clone())
            .name("body")
            .validate_request_body(true)
            .validate_request_parameters(false)
            .build_struct(),
    );
    let post = method::create(
        ctx,
        "post-order",
        method::MethodArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(routes.orders.clone())
            .http_method("POST")
            .authorization("NONE")
            .request_models(
                after(&Output::new("OrderRequest".to_string()), &order_model.id)
                    .map(|model| HashMap::from([("application/json".to_string(), model)])),
            )
            .request_validator_id(validator.id.clone())
            .build_struct(),
    );

    // The method's HTTP verb, once the method exists: what its integration and responses
    // are attached to (AWS refuses them before).
    let post_method = after(&Output::new("POST".to_string()), &post.id);

    let queue_role_arn = role_with_policy(
        ctx,
        "api-queue-role",
        format!("{prefix}-api-queue-role"),
        "Lets API Gateway put orders in the order queue",
        "apigateway.amazonaws.com",
        vec![Grant::new(
            "QueueOrders",
            &["sqs:SendMessage"],
            vec![queue.arn.clone()],
        )],
    );
    let QueueTarget { region, name, .. } = queue;
    let queue_uri = account_of(queue.arn)
        .map(move |account| format!("arn:aws:apigateway:{region}:sqs:path/{account}/{name}"));
    let post_integration = integration::create(
        ctx,
        "post-order-integration",
        integration::IntegrationArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(routes.orders.clone())
            .http_method(post_method.clone())
            .type_("AWS")
            .integration_http_method("POST")
            .uri(queue_uri)
            .credentials(queue_role_arn)
            .request_parameters(HashMap::from([(
                "integration.request.header.Content-Type".to_string(),
                "'application/x-www-form-urlencoded'".to_string(),
            )]))
            .request_templates(HashMap::from([(
                "application/json".to_string(),
                SEND_MESSAGE_TEMPLATE.to_string(),
            )]))
            // Only application/json has a template: anything else is a 415, never queued.
            .passthrough_behavior("NEVER")
            .build_struct(),
    );

    let mut deployed_parts = vec![post_integration.id.clone()];
    for (status, pattern, template) in QUEUE_RESPONSES {
        let declared = method_response::create(
            ctx,
            &format!("post-order-{status}"),
            method_response::MethodResponseArgs::builder()
                .rest_api(api_id.clone())
                .resource_id(routes.orders.clone())
                .http_method(post_method.clone())
                .status_code(status)
                .response_parameters(if status == "204" {
                    HashMap::from([("method.response.header.X-Order-Id".to_string(), true)])
                } else {
                    HashMap::new()
                })
                .build_struct(),
        );
        // The mapping needs both the declared response and the integration.
        let ready = pulumi_combine!(declared.id.clone(), post_integration.id.clone());
        let args = integration_response::IntegrationResponseArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(routes.orders.clone())
            .http_method(after(&post_method, &ready))
            .status_code(status)
            .maybe_selection_pattern(pattern)
            .response_templates(HashMap::from([(
                "application/json".to_string(),
                template.to_string(),
            )]))
            .build_struct();
        let mapped =
            integration_response::create(ctx, &format!("post-order-{status}-mapping"), args);
        deployed_parts.push(mapped.id);
    }
    deployed_parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_queue_response_is_the_default() {
        let defaults = QUEUE_RESPONSES
            .iter()
            .filter(|(_, p, _)| p.is_none())
            .count();
        assert_eq!(defaults, 1);
    }
}

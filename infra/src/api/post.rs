//! `POST /orders`: the body checked against the order schema at the edge, then sent
//! straight to the queue (no Lambda on the write path).

use super::Routes;
use crate::aws::apigateway::{
    integration, integration_response, method, method_response, model, request_validator,
};
use crate::iam::{Grant, role_with_policy};
use crate::outputs::{account_of, after};
use orders_blueprint::api::message;
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use std::collections::HashMap;

/// The JSON schema of an order: the same file the functions and the local API validate with.
pub const ORDER_SCHEMA: &str = include_str!("../../../schema/order-request.schema.json");

/// The SQS `SendMessage` call, form-encoded. The body has passed the model, and the order id
/// is API Gateway's extended request id, so a retried message always carries the same id.
/// The user is the `sub` of the ID token the authorizer checked (a UUID: nothing in it
/// needs JSON escaping).
/// Not `$context.requestId`: a client can set that one with an `x-amzn-RequestId` header,
/// and so pick its order's id; "An API caller can't provide or override" the extended one
/// (API Gateway developer guide, access logging). Each piece is URL-encoded on its own:
/// percent-encoding a concatenation is concatenating the encodings.
pub const SEND_MESSAGE_TEMPLATE: &str = concat!(
    "Action=SendMessage&MessageBody=",
    "$util.urlEncode('{\"order_id\":\"')",
    "$util.urlEncode($context.extendedRequestId)",
    "$util.urlEncode('\",\"user_id\":\"')",
    "$util.urlEncode($context.authorizer.claims.sub)",
    "$util.urlEncode('\",\"order\":')",
    "$util.urlEncode($input.json('$'))",
    "$util.urlEncode('}')",
);

/// On success: no body; the order id in a header (what the client follows the order by),
/// and where to read the order (`$context.path` is the request's path, stage included).
pub const ACCEPTED_TEMPLATE: &str = concat!(
    "#set($context.responseOverride.header.X-Order-Id = $context.extendedRequestId)\n",
    "#set($context.responseOverride.header.Location = \"$context.path/$context.extendedRequestId\")",
);

/// The headers a 204 carries.
pub const ACCEPTED_HEADERS: [&str; 2] = ["X-Order-Id", "Location"];

/// How the queue's answers become the API's: (status, SQS status pattern, body template).
/// A pattern of `None` is the default mapping, taken when no other matches. Each template
/// first names the request's origin if it is one of `origins` (`super::cors`).
pub fn queue_responses(origins: &[String]) -> [(&'static str, Option<&'static str>, String); 3] {
    let cors = super::cors::admit_origin_template(origins);
    [
        ("204", Some(r"2\d{2}"), format!("{cors}{ACCEPTED_TEMPLATE}")),
        (
            "503",
            Some(r"5\d{2}"),
            format!("{cors}{}", message_body(message::QUEUE_UNAVAILABLE)),
        ),
        // Any other answer (a 4xx from SQS) is a fault of the stack, not of the client.
        (
            "500",
            None,
            format!("{cors}{}", message_body(message::NOT_QUEUED)),
        ),
    ]
}

/// `{"message": text}`, for a template that substitutes nothing.
pub fn message_body(text: &str) -> String {
    serde_json::json!({ "message": text }).to_string()
}

/// What the post route needs from the rest of the stack.
pub struct QueueTarget<'a> {
    pub arn: &'a Output<String>,
    pub name: String,
    pub region: String,
}

/// Creates the route on `/orders` and returns the ids the deployment must wait for.
pub fn create(
    ctx: &Context,
    routes: &Routes,
    queue: QueueTarget,
    origins: &Output<Vec<String>>,
) -> Vec<Output<String>> {
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
            .authorization(super::AUTHORIZATION)
            .authorizer_id(routes.authorizer_id.clone())
            // `$default`: every body is validated, whatever its Content-Type says ("Request
            // validation for REST APIs": a model is applied only to its own content type, and
            // `$default` applies it to all). Only JSON then has a template (below).
            .request_models(
                after(&Output::new("OrderRequest".to_string()), &order_model.id)
                    .map(|model| HashMap::from([("$default".to_string(), model)])),
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
            // Only application/json has a template: anything else is a 415, never queued. A
            // request without a Content-Type takes the application/json template ("Mapping
            // templates": API Gateway assumes application/json when the header is absent).
            .passthrough_behavior("NEVER")
            .timeout_milliseconds(orders_blueprint::api::INTEGRATION_TIMEOUT_MS as i32)
            .build_struct(),
    );

    let mut deployed_parts = vec![post_integration.id.clone()];
    for (index, (status, pattern, _)) in queue_responses(&[]).into_iter().enumerate() {
        let declared = method_response::create(
            ctx,
            &format!("post-order-{status}"),
            method_response::MethodResponseArgs::builder()
                .rest_api(api_id.clone())
                .resource_id(routes.orders.clone())
                .http_method(post_method.clone())
                .status_code(status)
                .response_parameters({
                    let mut declared: HashMap<String, bool> =
                        super::cors::declared_answer_headers().collect();
                    if status == "204" {
                        declared.extend(
                            ACCEPTED_HEADERS
                                .iter()
                                .map(|name| (format!("method.response.header.{name}"), true)),
                        );
                    }
                    declared
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
            .response_parameters(super::cors::answer_headers())
            .response_templates(origins.map(move |origins| {
                let template = queue_responses(&origins)[index].2.clone();
                HashMap::from([("application/json".to_string(), template)])
            }))
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
        let defaults = queue_responses(&[])
            .iter()
            .filter(|(_, p, _)| p.is_none())
            .count();
        assert_eq!(defaults, 1);
    }
}

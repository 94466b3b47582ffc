//! The REST API: `POST /orders` straight into the queue (validated at the edge, no Lambda
//! on the write path) and `GET /orders/{id}` through get-order.

use crate::aws::apigateway::{
    account, deployment, integration, integration_response, method, method_response,
    method_settings, model, request_validator, resource, response, rest_api, stage,
};
use crate::aws::lambda::permission;
use crate::aws::types::apigateway::{
    MethodSettingsSettings, RestApiEndpointConfiguration, StageAccessLogSettings,
};
use crate::config::StackConfig;
use crate::functions::Function;
use crate::iam::{self, Grant, role_with_policy};
use crate::logs;
use crate::outputs::{account_of, after, all};
use order_stack::Names;
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The stage, and so the last part of the API's URL.
pub const STAGE: &str = "v1";

/// The JSON schema of an order: the same file the functions and the local API validate with.
pub const ORDER_SCHEMA: &str = include_str!("../../schema/order-request.schema.json");

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

/// Answers API Gateway gives itself, as JSON with a `message` like every other answer.
/// Gateway response templates allow only `$context` substitution, no VTL.
pub const GATEWAY_RESPONSES: [(&str, &str, &str); 7] = [
    (
        "BAD_REQUEST_BODY",
        "400",
        r#"{"message": "invalid order: $context.error.validationErrorString"}"#,
    ),
    (
        "UNSUPPORTED_MEDIA_TYPE",
        "415",
        r#"{"message": "Content-Type must be application/json"}"#,
    ),
    // API Gateway reports an unknown route as a missing token (403); it is a 404.
    (
        "MISSING_AUTHENTICATION_TOKEN",
        "404",
        r#"{"message": "no such route"}"#,
    ),
    (
        "REQUEST_TOO_LARGE",
        "413",
        r#"{"message": "the body is too large"}"#,
    ),
    (
        "THROTTLED",
        "429",
        r#"{"message": "too many requests; slow down"}"#,
    ),
    (
        "DEFAULT_4XX",
        "",
        r#"{"message": $context.error.messageString}"#,
    ),
    (
        "DEFAULT_5XX",
        "",
        r#"{"message": $context.error.messageString}"#,
    ),
];

/// One JSON object per request in the access log.
pub fn access_log_format() -> String {
    json!({
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "error": "$context.error.message",
    })
    .to_string()
}

/// A digest of everything the API's definition is made of: a change to any of it is a new
/// deployment (a deployment is a snapshot; without a new one, changes would not be live).
pub fn definition_digest() -> String {
    let definition = json!({
        "schema": ORDER_SCHEMA,
        "sendMessage": SEND_MESSAGE_TEMPLATE,
        "queueResponses": QUEUE_RESPONSES,
        "gatewayResponses": GATEWAY_RESPONSES,
        "routes": ["POST /orders", "GET /orders/{id}"],
    });
    hex::encode(Sha256::digest(definition.to_string().as_bytes()))
}

pub struct ApiInputs<'a> {
    pub queue_arn: &'a Output<String>,
    pub queue_name: String,
    pub get_order: &'a Function,
}

/// Creates the API and returns its invoke URL.
pub fn create(
    ctx: &Context,
    names: &Names,
    config: &StackConfig,
    inputs: ApiInputs,
) -> Output<String> {
    let prefix = &names.prefix;
    let api = rest_api::create(
        ctx,
        "api",
        rest_api::RestApiArgs::builder()
            .name(format!("{prefix}-api"))
            .description("Serverless Orders: POST /orders, GET /orders/{id}")
            .endpoint_configuration(
                RestApiEndpointConfiguration::builder()
                    .types("REGIONAL".to_string())
                    .build_struct(),
            )
            .build_struct(),
    );
    let api_id = api.id.clone();

    let orders = resource::create(
        ctx,
        "orders-path",
        resource::ResourceArgs::builder()
            .rest_api(api_id.clone())
            .parent_id(api.root_resource_id.clone())
            .path_part("orders")
            .build_struct(),
    );
    let order = resource::create(
        ctx,
        "order-path",
        resource::ResourceArgs::builder()
            .rest_api(api_id.clone())
            .parent_id(orders.id.clone())
            .path_part("{id}")
            .build_struct(),
    );

    // POST /orders → SQS.
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
            .resource_id(orders.id.clone())
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
            vec![inputs.queue_arn.clone()],
        )],
    );
    let region = config.region.clone();
    let queue_name = inputs.queue_name.clone();
    let queue_uri = account_of(inputs.queue_arn)
        .map(move |account| format!("arn:aws:apigateway:{region}:sqs:path/{account}/{queue_name}"));
    let post_integration = integration::create(
        ctx,
        "post-order-integration",
        integration::IntegrationArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(orders.id.clone())
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
                .resource_id(orders.id.clone())
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
            .resource_id(orders.id.clone())
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

    // GET /orders/{id} → get-order (Lambda proxy).
    let get = method::create(
        ctx,
        "get-order",
        method::MethodArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(order.id.clone())
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
            .resource_id(order.id.clone())
            .http_method(after(&Output::new("GET".to_string()), &get.id))
            .type_("AWS_PROXY")
            .integration_http_method("POST")
            .uri(inputs.get_order.invoke_arn.clone())
            .build_struct(),
    );
    deployed_parts.push(get_integration.id.clone());
    permission::create(
        ctx,
        "get-order-permission",
        permission::PermissionArgs::builder()
            .statement_id("AllowApiGatewayGetOrder")
            .action("lambda:InvokeFunction")
            .function(inputs.get_order.name.clone())
            .principal("apigateway.amazonaws.com")
            // This API's GET /orders/{id}, in any stage; nothing else may invoke it.
            .source_arn(api.execution_arn.map(|arn| format!("{arn}/*/GET/orders/*")))
            .build_struct(),
    );

    for (kind, status, template) in GATEWAY_RESPONSES {
        let args = response::ResponseArgs::builder()
            .rest_api_id(api_id.clone())
            .response_type(kind)
            // The DEFAULT_* answers keep the status of the error they stand for.
            .maybe_status_code((!status.is_empty()).then_some(status))
            .response_templates(HashMap::from([(
                "application/json".to_string(),
                template.to_string(),
            )]))
            .build_struct();
        let answer = response::create(
            ctx,
            &format!("gateway-{}", kind.to_lowercase().replace('_', "-")),
            args,
        );
        deployed_parts.push(answer.id);
    }

    // The deployment waits for every part of the API (data flow is the only ordering).
    let deployment = deployment::create(
        ctx,
        "api-deployment",
        deployment::DeploymentArgs::builder()
            .rest_api(after(&api_id, &all(deployed_parts)))
            .description("Serverless Orders API")
            .triggers(HashMap::from([(
                "definition".to_string(),
                definition_digest(),
            )]))
            .build_struct(),
    );

    let access_logs = logs::create(
        ctx,
        "api-access-logs",
        format!("/aws/apigateway/{prefix}-api-access"),
        config.log_retention_days,
    );
    // API Gateway creates its execution log group on first use, without a retention; the
    // stack creates it first, with one.
    let execution_logs = logs::create(
        ctx,
        "api-execution-logs",
        api_id.map(|id| format!("API-Gateway-Execution-Logs_{id}/{STAGE}")),
        config.log_retention_days,
    );

    // Stage logging needs the region's API Gateway CloudWatch role to be set first.
    let mut stage_ready = vec![access_logs.arn.clone(), execution_logs.arn.clone()];
    if config.manage_api_gateway_account {
        let logs_role_arn = role_with_policy(
            ctx,
            "api-logs-role",
            format!("{prefix}-api-logs-role"),
            "Lets API Gateway write this API's access and execution logs",
            "apigateway.amazonaws.com",
            vec![
                Grant::new(
                    "WriteApiLogs",
                    &[
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    vec![
                        access_logs.arn.clone(),
                        logs::streams_of(&access_logs.arn),
                        execution_logs.arn.clone(),
                        logs::streams_of(&execution_logs.arn),
                    ],
                ),
                Grant::on_any_resource("FindLogGroups", iam::LIST_LOG_GROUPS),
            ],
        );
        let settings = account::create(
            ctx,
            "api-gateway-account",
            account::AccountArgs::builder()
                .cloudwatch_role_arn(logs_role_arn.clone())
                .build_struct(),
        );
        stage_ready.push(after(&logs_role_arn, &settings.id));
    }

    let stage = stage::create(
        ctx,
        "api-stage",
        stage::StageArgs::builder()
            .rest_api(api_id.clone())
            .deployment(after(&deployment.id, &all(stage_ready)))
            .stage_name(STAGE)
            .xray_tracing_enabled(true)
            .access_log_settings(access_logs.arn.map(|arn| {
                StageAccessLogSettings::builder()
                    .destination_arn(arn)
                    .format(access_log_format())
                    .build_struct()
            }))
            .build_struct(),
    );

    method_settings::create(
        ctx,
        "api-method-settings",
        method_settings::MethodSettingsArgs::builder()
            .rest_api(api_id.clone())
            .stage_name(after(&Output::new(STAGE.to_string()), &stage.invoke_url))
            .method_path("*/*")
            .settings(
                MethodSettingsSettings::builder()
                    .throttling_rate_limit(config.throttling_rate_limit)
                    .throttling_burst_limit(config.throttling_burst_limit as i32)
                    .metrics_enabled(true)
                    .logging_level("ERROR".to_string())
                    // Request and response bodies are customer data: kept out of the logs.
                    .data_trace_enabled(false)
                    .build_struct(),
            )
            .build_struct(),
    );

    stage.invoke_url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_log_format_is_json_with_the_request_id() {
        let format: serde_json::Value = serde_json::from_str(&access_log_format()).unwrap();
        assert_eq!(format["requestId"], "$context.requestId");
    }

    #[test]
    fn exactly_one_queue_response_is_the_default() {
        let defaults = QUEUE_RESPONSES
            .iter()
            .filter(|(_, p, _)| p.is_none())
            .count();
        assert_eq!(defaults, 1);
    }

    #[test]
    fn the_definition_digest_changes_with_the_definition() {
        assert_eq!(definition_digest(), definition_digest());
        assert_eq!(definition_digest().len(), 64);
    }
}

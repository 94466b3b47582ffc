//! What makes the routes live: API Gateway's own answers, the deployment, the stage with
//! its logs, throttling and metrics.

use super::post::message_body;
use super::{Routes, definition_digest};
use crate::aws::apigateway::{account, deployment, method_settings, response, stage};
use crate::aws::types::apigateway::{MethodSettingsSettings, StageAccessLogSettings};
use crate::config::StackConfig;
use crate::iam::{self, Grant, role_with_policy};
use crate::logs;
use crate::outputs::{after, all};
use orders_blueprint::api::message;
use pulumi_gestalt_rust::{Context, Output};
use serde_json::json;
use std::collections::HashMap;

/// The stage, and so the last part of the API's URL.
pub const STAGE: &str = "v1";

/// Answers API Gateway gives itself, as JSON with a `message` like every other answer:
/// (response type, status, template). Gateway response templates are not VTL: API Gateway
/// only substitutes the variables ("Set up gateway responses", responseTemplates).
pub fn gateway_responses() -> [(&'static str, &'static str, String); 9] {
    [
        // The Cognito authorizer refused the token, or there was none. One message for every
        // cause: AWS's own differ ("Unauthorized", "The incoming token has expired").
        ("UNAUTHORIZED", "401", message_body(message::UNAUTHORIZED)),
        // `validationErrorString` is substituted inside a JSON string. AWS does not document
        // its escaping; AWS's own sample (aws-samples/serverless-samples,
        // apigw-eventbridge-schema-validation) shows it arriving JSON-escaped:
        // `{ "message": "[object has missing required properties ([\"schedule\",\"team\"])]"}`.
        (
            "BAD_REQUEST_BODY",
            "400",
            format!(
                r#"{{"message": "{}$context.error.validationErrorString"}}"#,
                message::INVALID_ORDER
            ),
        ),
        (
            "UNSUPPORTED_MEDIA_TYPE",
            "415",
            message_body(message::UNSUPPORTED_MEDIA_TYPE),
        ),
        // API Gateway answers an unknown path, or a method the path does not have, as a
        // missing token (403, "Supported gateway response types"); for a client it is a 404.
        (
            "MISSING_AUTHENTICATION_TOKEN",
            "404",
            message_body(message::NO_SUCH_ROUTE),
        ),
        ("REQUEST_TOO_LARGE", "413", message_body(message::TOO_LARGE)),
        (
            "INTEGRATION_TIMEOUT",
            "504",
            message_body(message::TIMED_OUT),
        ),
        ("THROTTLED", "429", message_body(message::THROTTLED)),
        // The rest keep their own status, and API Gateway's message, already quoted.
        (
            "DEFAULT_4XX",
            "",
            r#"{"message": $context.error.messageString}"#.to_string(),
        ),
        (
            "DEFAULT_5XX",
            "",
            r#"{"message": $context.error.messageString}"#.to_string(),
        ),
    ]
}

/// One JSON object per request in the access log.
pub fn access_log_format() -> String {
    json!({
        "requestId": "$context.requestId",
        // The order id of a POST.
        "extendedRequestId": "$context.extendedRequestId",
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

/// Creates the gateway responses, deploys the API once `routes_ready` (and they) exist,
/// and returns the stage's invoke URL.
pub fn create(
    ctx: &Context,
    routes: &Routes,
    config: &StackConfig,
    routes_ready: Vec<Output<String>>,
    origins: &Output<Vec<String>>,
) -> Output<String> {
    let api_id = &routes.api_id;
    let prefix = &routes.prefix;
    let mut deployed_parts = routes_ready;
    for (kind, status, template) in gateway_responses() {
        let args = response::ResponseArgs::builder()
            .rest_api_id(api_id.clone())
            .response_type(kind)
            // The DEFAULT_* answers keep the status of the error they stand for.
            .maybe_status_code((!status.is_empty()).then_some(status))
            .response_templates(HashMap::from([("application/json".to_string(), template)]))
            .response_parameters(origins.map(|origins| {
                super::cors::gateway_headers(
                    origins.first().map(String::as_str).unwrap_or_default(),
                )
            }))
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
            .rest_api(after(api_id, &all(deployed_parts)))
            .description("Serverless Orders API")
            .triggers(origins.map(|origins| {
                HashMap::from([("definition".to_string(), definition_digest(&origins))])
            }))
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
}

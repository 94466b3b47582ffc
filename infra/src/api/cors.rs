//! CORS for the app: every resource answers a preflight (`OPTIONS`, no authorizer, a MOCK
//! integration), and every answer says which origin may read it. API Gateway gives three
//! kinds of answer, and each can say it differently:
//! - an integration's answer (the queue's through its mapping template, the preflight's):
//!   the template sets `Access-Control-Allow-Origin` to the request's `Origin` when the
//!   stack admits it (`$context.responseOverride`, "Override your API's request and
//!   response parameters");
//! - a proxy function's answer: the function sets it the same way (get-order's
//!   `admit_origin`, from `ALLOWED_ORIGINS`);
//! - a gateway response (401, 404, 400, 413, 415, 429, 5xx): its headers are fixed or copied
//!   from the request, never chosen ("A GatewayResponse mapping template isn't processed by
//!   the VTL engine"), so it names the stack's first admitted origin, the app's.

use super::Routes;
use crate::aws::apigateway::{integration, integration_response, method, method_response};
use crate::outputs::after;
use orders_core::cors::{ALLOWED_HEADERS, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use std::collections::HashMap;

/// The header a template sets when the request's origin is admitted.
pub const ALLOW_ORIGIN: &str = "Access-Control-Allow-Origin";

/// A mapping template's lines that admit the request's `Origin` if it is one of `origins`
/// (each checked to be `scheme://host[:port]`, so it needs no escaping in the template).
pub fn admit_origin_template(origins: &[String]) -> String {
    let test = origins
        .iter()
        .map(|origin| format!("$origin == \"{origin}\""))
        .collect::<Vec<_>>()
        .join(" || ");
    let test = if test.is_empty() {
        "false".into()
    } else {
        test
    };
    format!(
        "#set($origin = $input.params('Origin'))\n\
         #if(\"$!origin\" == \"\")#set($origin = $input.params('origin'))#end\n\
         #if({test})#set($context.responseOverride.header.{ALLOW_ORIGIN} = $origin)#end\n"
    )
}

/// The static headers of an integration's answer, as integration response parameters.
pub fn answer_headers() -> HashMap<String, String> {
    HashMap::from([
        (
            "method.response.header.Access-Control-Expose-Headers".to_string(),
            format!("'{}'", EXPOSED_HEADERS.join(",")),
        ),
        (
            "method.response.header.Vary".to_string(),
            "'Origin'".to_string(),
        ),
    ])
}

/// The headers a method response declares so that its integration may set them.
pub fn declared_answer_headers() -> impl Iterator<Item = (String, bool)> {
    [ALLOW_ORIGIN, "Access-Control-Expose-Headers", "Vary"]
        .into_iter()
        .map(|name| (format!("method.response.header.{name}"), true))
}

/// The headers of a gateway response: the app's origin, and what it may read.
pub fn gateway_headers(app_origin: &str) -> HashMap<String, String> {
    HashMap::from([
        (
            format!("gatewayresponse.header.{ALLOW_ORIGIN}"),
            format!("'{app_origin}'"),
        ),
        (
            "gatewayresponse.header.Access-Control-Expose-Headers".to_string(),
            format!("'{}'", EXPOSED_HEADERS.join(",")),
        ),
    ])
}

/// A preflight's fixed headers for a resource with `methods`.
pub fn preflight_headers(methods: &[&str]) -> HashMap<String, String> {
    let mut methods = methods.to_vec();
    methods.push("OPTIONS");
    [
        ("Access-Control-Allow-Methods", methods.join(",")),
        ("Access-Control-Allow-Headers", ALLOWED_HEADERS.join(",")),
        (
            "Access-Control-Max-Age",
            PREFLIGHT_MAX_AGE_SECONDS.to_string(),
        ),
        ("Vary", "Origin".to_string()),
    ]
    .into_iter()
    .map(|(name, value)| {
        (
            format!("method.response.header.{name}"),
            format!("'{value}'"),
        )
    })
    .collect()
}

/// The MOCK integration's request: it answers 200.
pub const PREFLIGHT_REQUEST: &str = r#"{"statusCode": 200}"#;

/// The preflight of the resource `resource_id` (named `name` in the stack), whose methods
/// are `methods`; returns the id the deployment must wait for.
pub fn preflight(
    ctx: &Context,
    routes: &Routes,
    name: &str,
    resource_id: &Output<String>,
    methods: &'static [&'static str],
    origins: &Output<Vec<String>>,
) -> Output<String> {
    let api_id = &routes.api_id;
    let options = method::create(
        ctx,
        &format!("{name}-preflight"),
        method::MethodArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(resource_id.clone())
            .http_method("OPTIONS")
            // A browser sends no credentials with a preflight.
            .authorization("NONE")
            .build_struct(),
    );
    let verb = after(&Output::new("OPTIONS".to_string()), &options.id);
    let mock = integration::create(
        ctx,
        &format!("{name}-preflight-integration"),
        integration::IntegrationArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(resource_id.clone())
            .http_method(verb.clone())
            .type_("MOCK")
            .request_templates(HashMap::from([(
                "application/json".to_string(),
                PREFLIGHT_REQUEST.to_string(),
            )]))
            .build_struct(),
    );
    let fixed = preflight_headers(methods);
    let declared = method_response::create(
        ctx,
        &format!("{name}-preflight-200"),
        method_response::MethodResponseArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(resource_id.clone())
            .http_method(verb.clone())
            .status_code("200")
            .response_parameters(
                fixed
                    .keys()
                    .cloned()
                    .map(|name| (name, true))
                    .chain([(format!("method.response.header.{ALLOW_ORIGIN}"), true)])
                    .collect::<HashMap<_, _>>(),
            )
            .build_struct(),
    );
    let ready = pulumi_combine!(declared.id.clone(), mock.id.clone());
    let answered = integration_response::create(
        ctx,
        &format!("{name}-preflight-200-mapping"),
        integration_response::IntegrationResponseArgs::builder()
            .rest_api(api_id.clone())
            .resource_id(resource_id.clone())
            .http_method(after(&verb, &ready))
            .status_code("200")
            .response_parameters(fixed)
            .response_templates(origins.map(|origins| {
                HashMap::from([(
                    "application/json".to_string(),
                    admit_origin_template(&origins),
                )])
            }))
            .build_struct(),
    );
    answered.id
}

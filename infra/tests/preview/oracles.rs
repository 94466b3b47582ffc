//! What the plan holds, read by third-party implementations (`tools/oracles`, `make
//! oracles`): the API's mapping templates rendered by a Velocity engine (velocityjs), the
//! state machine judged by asl-validator.

use super::*;

#[path = "../../../tools/oracles/node.rs"]
mod node;

/// Renders `template` as API Gateway would for a request with `body` and `context`:
/// returns the output and `$context` after rendering.
fn velocity(template: &str, body: &str, context: Value) -> (String, Value) {
    let rendered = node::run(
        "vtl.mjs",
        &json!({ "template": template, "body": body, "context": context }),
    );
    (
        rendered["output"].as_str().unwrap().to_string(),
        rendered["context"].clone(),
    )
}

#[test]
fn velocity_renders_the_send_message_call_start_order_accepts_for_any_body() {
    let plan = update();
    let integration = one(
        plan,
        "aws:apigateway/integration:Integration",
        "post-order-integration",
    );
    let template = input(integration, "requestTemplates")["application/json"]
        .as_str()
        .unwrap();
    let request_id = "Jl-yYG0uIAMFeWQ=";
    let bodies = [
        r#"{"restaurant_id":"r & co = +1","quantity":"3","note":"100% vegan; a+b=c"}"#,
        r#"{"restaurant_id":"back\\slash 'quote' say \"hi\"","quantity":3,"note":"line one\nline two\ttab"}"#,
        r#"{"restaurant_id":"東京 ラーメン Zoë Ødegård","quantity":100,"note":"🍕🌶️ extra 🔥"}"#,
        r##"{"restaurant_id":"#set($x = 1) $context.requestId","quantity":1,"note":"${x} %24%7B"}"##,
        r#"{"restaurant_id":"r","quantity":1,"quantity":2}"#,
    ];
    // A Cognito `sub`, as the authorizer hands the claims on.
    let user = "c0ce8b5d-3dfd-4136-8a31-029aeda34d5f";
    for body in bodies {
        let context = json!({
            "extendedRequestId": request_id,
            "requestId": "set-by-the-client",
            "authorizer": {"claims": {"sub": user, "email": "alice@example.com"}},
        });
        let (form, _) = velocity(template, body, context);
        let fields: BTreeMap<String, String> = form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["Action", "MessageBody"],
            "{form}"
        );
        assert_eq!(fields["Action"], "SendMessage");
        let message = &fields["MessageBody"];
        let queued: orders_core::OrderMessage =
            serde_json::from_str(message).expect("start-order accepts the message");
        assert_eq!(queued.order_id.as_str(), request_id);
        // The user is the token's, whatever the body says.
        assert_eq!(queued.user_id.as_str(), user);
        // The order is the body, as JSON reads it (for a repeated key, the last).
        let sent: Value = serde_json::from_str(body).unwrap();
        assert_eq!(parse(message)["order"], sent, "{body}");
        orders_core::validation::validate(&sent).expect("a valid order stays valid");
    }
}

#[test]
fn velocity_renders_the_204_with_the_order_id_and_where_to_read_it() {
    let plan = update();
    let mappings: Vec<&PlannedResource> = plan
        .resources_of("aws:apigateway/integrationResponse:IntegrationResponse")
        .into_iter()
        .filter(|m| m.name.starts_with("post-order-"))
        .collect();
    // The error answers render to JSON with a message.
    for mapping in mappings.iter().filter(|m| text(m, "statusCode") != "204") {
        let template = input(mapping, "responseTemplates")["application/json"]
            .as_str()
            .unwrap();
        let (output, _) = velocity(template, "", json!({ "extendedRequestId": "r" }));
        assert!(parse(&output)["message"].is_string(), "{output}");
    }
    let accepted = mappings
        .into_iter()
        .find(|m| text(m, "statusCode") == "204")
        .expect("a 204 mapping");
    let template = input(accepted, "responseTemplates")["application/json"]
        .as_str()
        .unwrap();
    let (output, context) = velocity(
        template,
        "",
        json!({ "extendedRequestId": "Jl-yYG0uIAMFeWQ=", "requestId": "set-by-the-client", "path": "/v1/orders" }),
    );
    assert_eq!(output.trim(), "", "a 204 has no body");
    let headers = &context["responseOverride"]["header"];
    assert_eq!(headers["X-Order-Id"], "Jl-yYG0uIAMFeWQ=");
    assert_eq!(
        headers["Location"],
        orders_blueprint::api::order_location("/v1/orders", "Jl-yYG0uIAMFeWQ=")
    );
    // Every header the template sets is declared on the method's 204.
    let declared = one(
        plan,
        "aws:apigateway/methodResponse:MethodResponse",
        "post-order-204",
    );
    let mut names: BTreeSet<String> = headers
        .as_object()
        .unwrap()
        .keys()
        .map(|name| format!("method.response.header.{name}"))
        .collect();
    // And those the mapping sets as fixed values, and the origin it admits (checked in
    // `velocity_admits_only_the_stacks_origins_in_every_integration_answer`).
    names.extend(
        input(accepted, "responseParameters")
            .as_object()
            .unwrap()
            .keys()
            .cloned(),
    );
    names.insert("method.response.header.Access-Control-Allow-Origin".to_string());
    let declared: BTreeSet<String> = input(declared, "responseParameters")
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, declared);
}

/// asl-validator's verdict on a definition, and what it printed.
fn asl_validator(definition: &str) -> (bool, String) {
    let file = std::env::temp_dir().join(format!("orders-asl-{}.json", std::process::id()));
    std::fs::write(&file, definition).unwrap();
    let output = std::process::Command::new(node::folder().join("node_modules/.bin/asl-validator"))
        .arg("--json-path")
        .arg(&file)
        .output()
        .expect("asl-validator runs");
    let _ = std::fs::remove_file(&file);
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn asl_validator_finds_the_deployed_definition_valid_and_a_broken_one_not() {
    let plan = update();
    let machine = one(plan, "aws:sfn/stateMachine:StateMachine", "workflow");
    let definition = text(machine, "definition");
    let (valid, said) = asl_validator(definition);
    assert!(valid, "{said}");

    // The oracle does refuse: a transition to a state that does not exist.
    let mut broken = parse(definition);
    let start = broken["StartAt"].as_str().unwrap().to_string();
    broken["States"][&start]["Next"] = json!("NoSuchState");
    let (valid, said) = asl_validator(&broken.to_string());
    assert!(!valid, "{said}");
    assert!(said.contains("NoSuchState"), "{said}");
}

/// Renders `template` for a request with the header `name: value` (none: no header).
fn velocity_with_header(template: &str, header: Option<(&str, &str)>) -> (String, Value) {
    let headers: serde_json::Map<String, Value> = header
        .map(|(name, value)| (name.to_string(), json!(value)))
        .into_iter()
        .collect();
    let rendered = node::run(
        "vtl.mjs",
        &json!({
            "template": template, "body": "", "context": {"extendedRequestId": "r", "path": "/v1/orders"},
            "params": {"header": headers},
        }),
    );
    (
        rendered["output"].as_str().unwrap().to_string(),
        rendered["context"].clone(),
    )
}

#[test]
fn velocity_admits_only_the_stacks_origins_in_every_integration_answer() {
    let plan = update();
    let app = plan.outputs["appUrl"].as_str().unwrap();
    let mappings = plan.resources_of("aws:apigateway/integrationResponse:IntegrationResponse");
    // The queue's three answers and the three preflights.
    assert_eq!(mappings.len(), 6);
    for mapping in mappings {
        let template = input(mapping, "responseTemplates")["application/json"]
            .as_str()
            .unwrap();
        let allowed = |header: Option<(&str, &str)>| {
            let (_, context) = velocity_with_header(template, header);
            context["responseOverride"]["header"]["Access-Control-Allow-Origin"]
                .as_str()
                .map(str::to_string)
        };
        let name = &mapping.name;
        assert_eq!(
            allowed(Some(("Origin", app))).as_deref(),
            Some(app),
            "{name}"
        );
        // HTTP/2 clients send header names in lower case.
        assert_eq!(
            allowed(Some(("origin", app))).as_deref(),
            Some(app),
            "{name}"
        );
        for foreign in [
            "https://not-admitted.example",
            &format!("{app}.evil.example"),
            &format!("{app}/"),
            "null",
        ] {
            assert_eq!(
                allowed(Some(("Origin", foreign))),
                None,
                "{name}: {foreign}"
            );
        }
        assert_eq!(allowed(None), None, "{name}");
        // What the integration may set, the method declares.
        let declared = plan
            .resources_of("aws:apigateway/methodResponse:MethodResponse")
            .into_iter()
            .find(|r| r.name == mapping.name.trim_end_matches("-mapping"))
            .unwrap();
        assert_eq!(
            declared.inputs["responseParameters"]["method.response.header.Access-Control-Allow-Origin"],
            true,
            "{name}"
        );
    }
}

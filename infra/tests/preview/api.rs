//! The API's two routes: the POST template evaluated, the queue's answers mapped, the GET proxy.

use super::*;

#[test]
fn post_orders_sends_the_validated_body_straight_to_sqs_under_the_request_id() {
    let plan = update();
    let integration = one(
        plan,
        "aws:apigateway/integration:Integration",
        "post-order-integration",
    );
    assert_eq!(text(integration, "type"), "AWS");
    assert_eq!(text(integration, "httpMethod"), "POST");
    assert_eq!(
        text(integration, "uri"),
        format!("arn:aws:apigateway:{REGION}:sqs:path/123456789012/orders-dev-queue")
    );
    assert_eq!(
        text(integration, "credentials"),
        "arn:aws:iam::123456789012:role/orders-dev-api-queue-role"
    );
    assert_eq!(
        input(integration, "requestParameters"),
        &json!({"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"})
    );
    // Only JSON has a template; NEVER makes every other content type a 415 (after the
    // model, which every body meets whatever its type).
    assert_eq!(text(integration, "passthroughBehavior"), "NEVER");
    let templates = input(integration, "requestTemplates").as_object().unwrap();
    assert_eq!(templates.keys().collect::<Vec<_>>(), ["application/json"]);

    // What the template sends: oracles::velocity_renders_the_send_message_call_…

    // Validated at the edge with the functions' own schema.
    let method = one(plan, "aws:apigateway/method:Method", "post-order");
    assert_eq!(text(method, "authorization"), "NONE");
    assert_eq!(
        input(method, "requestModels"),
        &json!({"$default": "OrderRequest"})
    );
    assert_eq!(text(method, "requestValidatorId"), "body-validator-id");
    let validator = one(
        plan,
        "aws:apigateway/requestValidator:RequestValidator",
        "body-validator",
    );
    assert_eq!(input(validator, "validateRequestBody"), true);
    let model = one(plan, "aws:apigateway/model:Model", "order-model");
    assert_eq!(text(model, "name"), "OrderRequest");
    let schema = std::fs::read_to_string(root().join("schema/order-request.schema.json")).unwrap();
    assert_eq!(text(model, "schema"), schema);
}

#[test]
fn the_queue_answer_maps_to_204_with_the_order_id_or_to_an_error() {
    let plan = update();
    let declared = one(
        plan,
        "aws:apigateway/methodResponse:MethodResponse",
        "post-order-204",
    );
    assert_eq!(
        input(declared, "responseParameters"),
        &json!({"method.response.header.X-Order-Id": true, "method.response.header.Location": true})
    );
    let mappings: Vec<&PlannedResource> =
        plan.resources_of("aws:apigateway/integrationResponse:IntegrationResponse");
    let answer_for = |sqs_status: &str| -> (&str, &str) {
        let matching: Vec<&&PlannedResource> = mappings
            .iter()
            .filter(|m| {
                input(m, "selectionPattern")
                    .as_str()
                    .is_some_and(|pattern| {
                        regex::Regex::new(&format!("^(?:{pattern})$"))
                            .unwrap()
                            .is_match(sqs_status)
                    })
            })
            .collect();
        assert!(matching.len() <= 1, "{sqs_status} matches several patterns");
        let mapping = matching.first().copied().copied().unwrap_or_else(|| {
            mappings
                .iter()
                .find(|m| input(m, "selectionPattern").is_null())
                .expect("a default mapping")
        });
        let template = input(mapping, "responseTemplates")["application/json"]
            .as_str()
            .unwrap();
        (text(mapping, "statusCode"), template)
    };

    let (status, template) = answer_for("200");
    assert_eq!(status, "204");
    assert!(template.starts_with("#set($context.responseOverride.header."));
    let (status, template) = answer_for("503");
    assert_eq!(status, "503");
    assert!(parse(template)["message"].is_string());
    for sqs_status in ["400", "403", "404"] {
        let (status, template) = answer_for(sqs_status);
        assert_eq!(status, "500", "SQS {sqs_status}");
        assert!(parse(template)["message"].is_string());
    }

    let gateway: BTreeMap<&str, (&Value, &Value)> = plan
        .resources_of("aws:apigateway/response:Response")
        .into_iter()
        .map(|r| {
            (
                text(r, "responseType"),
                (
                    input(r, "statusCode"),
                    &r.inputs["responseTemplates"]["application/json"],
                ),
            )
        })
        .collect();
    assert_eq!(gateway["BAD_REQUEST_BODY"].0, "400");
    assert_eq!(
        gateway["BAD_REQUEST_BODY"].1,
        r#"{"message": "invalid order: $context.error.validationErrorString"}"#
    );
    assert_eq!(gateway["UNSUPPORTED_MEDIA_TYPE"].0, "415");
    assert_eq!(gateway["MISSING_AUTHENTICATION_TOKEN"].0, "404");
    assert_eq!(gateway["REQUEST_TOO_LARGE"].0, "413");
    assert_eq!(gateway["THROTTLED"].0, "429");
    assert!(gateway.contains_key("DEFAULT_4XX") && gateway.contains_key("DEFAULT_5XX"));
}

#[test]
fn get_orders_reaches_get_order_through_a_lambda_proxy_only_from_this_api() {
    let plan = update();
    let function_arn =
        format!("arn:aws:lambda:{REGION}:123456789012:function:orders-dev-get-order");
    let integration = one(
        plan,
        "aws:apigateway/integration:Integration",
        "get-order-integration",
    );
    assert_eq!(text(integration, "type"), "AWS_PROXY");
    assert_eq!(text(integration, "integrationHttpMethod"), "POST");
    assert_eq!(
        text(integration, "uri"),
        format!(
            "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
        )
    );
    let path = one(plan, "aws:apigateway/resource:Resource", "order-path");
    assert_eq!(text(path, "pathPart"), "{id}");
    assert_eq!(text(path, "parentId"), "orders-path-id");
    let permission = one(
        plan,
        "aws:lambda/permission:Permission",
        "get-order-permission",
    );
    assert_eq!(text(permission, "principal"), "apigateway.amazonaws.com");
    assert_eq!(text(permission, "action"), "lambda:InvokeFunction");
    assert_eq!(text(permission, "function"), "orders-dev-get-order");
    assert_eq!(
        text(permission, "sourceArn"),
        format!("arn:aws:execute-api:{REGION}:123456789012:a1b2c3d4e5/*/GET/orders/*")
    );

    let stage = one(plan, "aws:apigateway/stage:Stage", "api-stage");
    assert_eq!(text(stage, "stageName"), "v1");
    assert_eq!(input(stage, "xrayTracingEnabled"), true);
    let access = &stage.inputs["accessLogSettings"];
    assert_eq!(
        access["destinationArn"],
        format!(
            "arn:aws:logs:{REGION}:123456789012:log-group:/aws/apigateway/orders-dev-api-access"
        )
    );
    assert_eq!(
        parse(access["format"].as_str().unwrap())["requestId"],
        "$context.requestId"
    );
    let settings = one(
        plan,
        "aws:apigateway/methodSettings:MethodSettings",
        "api-method-settings",
    );
    assert_eq!(text(settings, "methodPath"), "*/*");
    assert_eq!(settings.inputs["settings"]["throttlingRateLimit"], 100);
    assert_eq!(settings.inputs["settings"]["throttlingBurstLimit"], 200);
    assert_eq!(settings.inputs["settings"]["dataTraceEnabled"], false);
}

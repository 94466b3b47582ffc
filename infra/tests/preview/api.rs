//! The API's two routes: the POST template evaluated, the queue's answers mapped, the GET proxy.

use super::*;

/// Evaluates the request template the way API Gateway does, for the only VTL it uses:
/// `$util.urlEncode(…)` of a literal, of `$context.requestId` or of `$input.json('$')`.
fn render_send_message(template: &str, request_id: &str, body: &Value) -> String {
    let call = regex::Regex::new(
        r#"\$util\.urlEncode\(('[^']*'|\$context\.requestId|\$input\.json\('\$'\))\)"#,
    )
    .unwrap();
    let rendered = call.replace_all(template, |captures: &regex::Captures| {
        let argument = &captures[1];
        let value = if argument == "$context.requestId" {
            request_id.to_string()
        } else if argument.starts_with("$input") {
            body.to_string()
        } else {
            argument.trim_matches('\'').to_string()
        };
        form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
    });
    assert!(!rendered.contains('$'), "unevaluated VTL left: {rendered}");
    rendered.into_owned()
}

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
    // Only JSON has a template; NEVER makes every other content type a 415.
    assert_eq!(text(integration, "passthroughBehavior"), "NEVER");
    let templates = input(integration, "requestTemplates").as_object().unwrap();
    assert_eq!(templates.keys().collect::<Vec<_>>(), ["application/json"]);

    // The message SQS receives is exactly what start-order parses.
    let body = json!({"user_id": "u-1", "restaurant_id": "r & co", "quantity": "3", "note": "no onions, 100% vegan"});
    let form = render_send_message(
        templates["application/json"].as_str().unwrap(),
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        &body,
    );
    let fields: BTreeMap<String, String> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["Action", "MessageBody"]);
    assert_eq!(fields["Action"], "SendMessage");
    let submission: orders_core::OrderSubmission =
        serde_json::from_str(&fields["MessageBody"]).expect("start-order accepts the message");
    assert_eq!(
        submission.order_id.as_str(),
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    );
    assert_eq!(parse(&fields["MessageBody"])["order"], body);

    // Validated at the edge with the functions' own schema.
    let method = one(plan, "aws:apigateway/method:Method", "post-order");
    assert_eq!(text(method, "authorization"), "NONE");
    assert_eq!(
        input(method, "requestModels"),
        &json!({"application/json": "OrderRequest"})
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
        &json!({"method.response.header.X-Order-Id": true})
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
    assert_eq!(
        template,
        "#set($context.responseOverride.header.X-Order-Id = $context.requestId)"
    );
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
    assert!(
        gateway["BAD_REQUEST_BODY"]
            .1
            .as_str()
            .unwrap()
            .contains("$context.error.validationErrorString")
    );
    assert_eq!(gateway["UNSUPPORTED_MEDIA_TYPE"].0, "415");
    assert_eq!(gateway["MISSING_AUTHENTICATION_TOKEN"].0, "404");
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

//! The API's routes: the POST template evaluated, the queue's answers mapped, the GET
//! proxies, and the Cognito authorizer in front of all of them.

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
    assert_eq!(text(method, "authorization"), "COGNITO_USER_POOLS");
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
        &json!({
            "method.response.header.X-Order-Id": true,
            "method.response.header.Location": true,
            "method.response.header.Access-Control-Allow-Origin": true,
            "method.response.header.Access-Control-Expose-Headers": true,
            "method.response.header.Vary": true,
        })
    );
    let mappings: Vec<&PlannedResource> = plan
        .resources_of("aws:apigateway/integrationResponse:IntegrationResponse")
        .into_iter()
        .filter(|m| m.name.starts_with("post-order-"))
        .collect();
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
        // What follows the lines that name an admitted origin (`cors`).
        let template = template.rsplit("#end\n").next().unwrap();
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
    assert_eq!(gateway["UNAUTHORIZED"].0, "401");
    assert_eq!(
        parse(gateway["UNAUTHORIZED"].1.as_str().unwrap())["message"],
        orders_blueprint::api::message::UNAUTHORIZED
    );
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
fn every_route_is_behind_the_cognito_authorizer_of_the_stacks_user_pool() {
    let plan = update();
    let pool = one(plan, "aws:cognito/userPool:UserPool", "user-pool");
    // What AWS names a pool: its region, `_`, a generated part.
    let pool_id = format!("{REGION}_user-pool-id");
    let pool_arn = format!("arn:aws:cognito-idp:{REGION}:123456789012:userpool/{pool_id}");
    assert_eq!(text(pool, "name"), "orders-dev-users");
    assert_eq!(input(pool, "usernameAttributes"), &json!(["email"]));
    assert_eq!(input(pool, "autoVerifiedAttributes"), &json!(["email"]));
    assert_eq!(
        input(pool, "adminCreateUserConfig"),
        &json!({"allowAdminCreateUserOnly": true})
    );
    let policy = input(pool, "passwordPolicy");
    assert_eq!(policy["minimumLength"], 12);
    for class in [
        "requireLowercase",
        "requireUppercase",
        "requireNumbers",
        "requireSymbols",
    ] {
        assert_eq!(policy[class], true, "{class}");
    }
    assert_eq!(text(pool, "mfaConfiguration"), "OFF");
    // A trial stack goes with `pulumi destroy`; `protectUsers` keeps real customers.
    assert_eq!(text(pool, "deletionProtection"), "INACTIVE");

    let client = one(
        plan,
        "aws:cognito/userPoolClient:UserPoolClient",
        "user-pool-client",
    );
    assert_eq!(text(client, "userPoolId"), pool_id);
    assert_eq!(input(client, "generateSecret"), false);
    assert_eq!(
        input(client, "explicitAuthFlows"),
        &json!([
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH"
        ])
    );
    assert_eq!(text(client, "preventUserExistenceErrors"), "ENABLED");

    let authorizer = one(
        plan,
        "aws:apigateway/authorizer:Authorizer",
        "api-authorizer",
    );
    assert_eq!(text(authorizer, "type"), "COGNITO_USER_POOLS");
    assert_eq!(input(authorizer, "providerArns"), &json!([pool_arn]));
    assert_eq!(
        text(authorizer, "identitySource"),
        "method.request.header.Authorization"
    );
    assert_eq!(text(authorizer, "restApi"), "a1b2c3d4e5");

    // Every method of the API: exactly the routes of the contract, each authorized, and a
    // preflight on each path, which browsers send without credentials.
    let mut routes: Vec<(String, String)> = Vec::new();
    let mut preflights = BTreeSet::new();
    for method in plan.resources_of("aws:apigateway/method:Method") {
        if text(method, "httpMethod") == "OPTIONS" {
            assert_eq!(text(method, "authorization"), "NONE");
            preflights.insert(text(method, "resourceId").to_string());
            continue;
        }
        assert_eq!(text(method, "authorization"), "COGNITO_USER_POOLS");
        assert_eq!(text(method, "authorizerId"), "api-authorizer-id");
        let path = match text(method, "resourceId") {
            "orders-path-id" => "/orders",
            "order-path-id" => "/orders/{id}",
            "cancel-path-id" => "/orders/{id}/cancel",
            other => panic!("a method on an unknown path: {other}"),
        };
        routes.push((text(method, "httpMethod").to_string(), path.to_string()));
    }
    routes.sort();
    let mut expected: Vec<(String, String)> = orders_blueprint::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(routes, expected);
    assert_eq!(
        preflights,
        BTreeSet::from(["cancel-path-id", "order-path-id", "orders-path-id"].map(String::from))
    );
}

#[test]
fn get_orders_reaches_get_order_through_a_lambda_proxy_only_from_this_api() {
    let plan = update();
    let function_arn =
        format!("arn:aws:lambda:{REGION}:123456789012:function:orders-dev-get-order");
    for (route, path, source_path) in [
        ("list-orders", "orders-path-id", "orders"),
        ("get-order", "order-path-id", "orders/*"),
    ] {
        let integration = one(
            plan,
            "aws:apigateway/integration:Integration",
            &format!("{route}-integration"),
        );
        assert_eq!(text(integration, "type"), "AWS_PROXY");
        assert_eq!(text(integration, "integrationHttpMethod"), "POST");
        assert_eq!(text(integration, "resourceId"), path);
        assert_eq!(
            text(integration, "uri"),
            format!(
                "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
            )
        );
        let permission = one(
            plan,
            "aws:lambda/permission:Permission",
            &format!("{route}-permission"),
        );
        assert_eq!(text(permission, "principal"), "apigateway.amazonaws.com");
        assert_eq!(text(permission, "action"), "lambda:InvokeFunction");
        assert_eq!(text(permission, "function"), "orders-dev-get-order");
        assert_eq!(
            text(permission, "sourceArn"),
            format!("arn:aws:execute-api:{REGION}:123456789012:a1b2c3d4e5/*/GET/{source_path}")
        );
    }
    let path = one(plan, "aws:apigateway/resource:Resource", "order-path");
    assert_eq!(text(path, "pathPart"), "{id}");
    assert_eq!(text(path, "parentId"), "orders-path-id");

    // The cancel route reaches cancel-order the same way, and only from this API's route.
    let cancel = one(plan, "aws:apigateway/resource:Resource", "cancel-path");
    assert_eq!(text(cancel, "pathPart"), "cancel");
    assert_eq!(text(cancel, "parentId"), "order-path-id");
    let method = one(plan, "aws:apigateway/method:Method", "cancel-order");
    assert_eq!(text(method, "httpMethod"), "POST");
    assert_eq!(
        input(method, "requestParameters"),
        &json!({"method.request.path.id": true})
    );
    let integration = one(
        plan,
        "aws:apigateway/integration:Integration",
        "cancel-order-integration",
    );
    assert_eq!(text(integration, "type"), "AWS_PROXY");
    assert_eq!(text(integration, "resourceId"), "cancel-path-id");
    assert!(text(integration, "uri").ends_with(":function:orders-dev-cancel-order/invocations"));
    let permission = one(
        plan,
        "aws:lambda/permission:Permission",
        "cancel-order-permission",
    );
    assert_eq!(text(permission, "function"), "orders-dev-cancel-order");
    assert_eq!(
        text(permission, "sourceArn"),
        format!("arn:aws:execute-api:{REGION}:123456789012:a1b2c3d4e5/*/POST/orders/*/cancel")
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

/// The rows of the API's contract table that API Gateway answers itself (their source names
/// a gateway response) are answered so by the planned stack: local mode is checked against
/// the same table, so both give the same status and message.
#[test]
fn the_gateway_answers_of_the_contract_table_are_the_planned_ones() {
    let plan = update();
    let planned: BTreeMap<&str, &PlannedResource> = plan
        .resources_of("aws:apigateway/response:Response")
        .into_iter()
        .map(|r| (text(r, "responseType"), r))
        .collect();
    let table: Value =
        parse(&std::fs::read_to_string(root().join("tests/contract/answers.json")).unwrap());
    let mut checked = BTreeSet::new();
    for row in table["rows"].as_array().unwrap() {
        let source = row["source"].as_str().unwrap();
        let Some((kind, response)) = planned.iter().find(|(kind, _)| source.contains(**kind))
        else {
            continue;
        };
        let name = row["name"].as_str().unwrap();
        let answer = &row["answer"];
        assert_eq!(
            text(response, "statusCode").parse::<u64>().unwrap(),
            answer["status"].as_u64().unwrap(),
            "{name}: {kind}"
        );
        let template = response.inputs["responseTemplates"]["application/json"]
            .as_str()
            .unwrap();
        let message = parse(template)["message"].as_str().unwrap().to_string();
        if let Some(expected) = answer["message"].as_str() {
            assert_eq!(message, expected, "{name}: {kind}");
        }
        if let Some(prefix) = answer["message_starts_with"].as_str() {
            assert!(message.starts_with(prefix), "{name}: {kind}: {message}");
        }
        // A row of the app's origin: the gateway response names it, a fixed value.
        if answer["header_is"]["Access-Control-Allow-Origin"] == "{origin}" {
            let app = plan.outputs["appUrl"].as_str().unwrap();
            assert_eq!(
                response.inputs["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"],
                json!(format!("'{app}'")),
                "{name}: {kind}"
            );
        }
        checked.insert(*kind);
    }
    assert_eq!(
        checked,
        BTreeSet::from([
            "BAD_REQUEST_BODY",
            "MISSING_AUTHENTICATION_TOKEN",
            "REQUEST_TOO_LARGE",
            "UNAUTHORIZED",
            "UNSUPPORTED_MEDIA_TYPE",
        ])
    );
}

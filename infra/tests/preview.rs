//! Offline preview tests: the program binary against the mock engine, in preview and in
//! update mode, with assertions on what it registers. No `pulumi` CLI, no cloud.

use order_core::settings::env;
use order_stack::{FUNCTIONS, MAX_RECEIVE_COUNT, Names};
use orders_engine::mock::{
    self as preview, Mode, Plan, PlannedResource, ProgramRun, RunOptions, UNKNOWN,
};
use orders_infra::iam::wildcard_only;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

const PROJECT: &str = orders_infra::config::PROJECT;
const REGION: &str = "eu-west-1";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The dev stack's settings, building nothing and deploying this machine's architecture
/// (the archives `make zips` / the build test leave in target/lambda).
fn config(changes: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    let mut config = BTreeMap::from([
        ("aws:region".to_string(), REGION.to_string()),
        (
            format!("{PROJECT}:notificationEmail"),
            "orders@example.com".to_string(),
        ),
        (format!("{PROJECT}:architecture"), "x86_64".to_string()),
        (format!("{PROJECT}:buildFunctions"), "false".to_string()),
    ]);
    for (key, value) in changes {
        let key = if key.contains(':') {
            key.to_string()
        } else {
            format!("{PROJECT}:{key}")
        };
        match value {
            Some(value) => config.insert(key, value.to_string()),
            None => config.remove(&key),
        };
    }
    config
}

fn run(mode: Mode, config: BTreeMap<String, String>) -> ProgramRun {
    built();
    run_program(mode, config)
}

fn run_program(mode: Mode, config: BTreeMap<String, String>) -> ProgramRun {
    preview::run(RunOptions {
        program: PathBuf::from(env!("CARGO_BIN_EXE_orders-infra")),
        project: PROJECT.into(),
        mode,
        stack: "dev".into(),
        config,
        secret_keys: Default::default(),
        root: root(),
        timeout: Duration::from_secs(1800),
    })
    .expect("the mock engine runs the program")
}

/// A preview that builds the functions itself (cargo-lambda, release, zip): the real path
/// of `pulumi up`. Run once; the other tests use the archives it leaves.
fn built() -> &'static ProgramRun {
    static BUILT: OnceLock<ProgramRun> = OnceLock::new();
    BUILT.get_or_init(|| run_program(Mode::Preview, config(&[("buildFunctions", Some("true"))])))
}

fn update() -> &'static Plan {
    static UPDATE: OnceLock<Plan> = OnceLock::new();
    UPDATE.get_or_init(|| {
        let run = run(Mode::Update, config(&[]));
        assert!(run.success, "the program failed:\n{}", run.stderr);
        run.plan
    })
}

fn input<'a>(resource: &'a PlannedResource, key: &str) -> &'a Value {
    resource.inputs.get(key).unwrap_or(&Value::Null)
}

fn text<'a>(resource: &'a PlannedResource, key: &str) -> &'a str {
    input(resource, key).as_str().unwrap_or_else(|| {
        panic!(
            "{} {}: {key} is not a string",
            resource.type_token, resource.name
        )
    })
}

fn one<'a>(plan: &'a Plan, type_token: &str, name: &str) -> &'a PlannedResource {
    plan.resource(type_token, name)
        .unwrap_or_else(|| panic!("no {type_token} named {name}"))
}

fn parse(json_text: &str) -> Value {
    serde_json::from_str(json_text).expect("valid JSON")
}

fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::String(s) => s == UNKNOWN,
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(map) => map.values().any(contains_unknown),
        _ => false,
    }
}

fn expected_counts() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("aws:apigateway/account:Account", 1),
        ("aws:apigateway/deployment:Deployment", 1),
        ("aws:apigateway/integration:Integration", 2),
        ("aws:apigateway/integrationResponse:IntegrationResponse", 3),
        ("aws:apigateway/method:Method", 2),
        ("aws:apigateway/methodResponse:MethodResponse", 3),
        ("aws:apigateway/methodSettings:MethodSettings", 1),
        ("aws:apigateway/model:Model", 1),
        ("aws:apigateway/requestValidator:RequestValidator", 1),
        ("aws:apigateway/resource:Resource", 2),
        ("aws:apigateway/response:Response", 7),
        ("aws:apigateway/restApi:RestApi", 1),
        ("aws:apigateway/stage:Stage", 1),
        // Five functions, the state machine, the API's access and execution logs.
        ("aws:cloudwatch/logGroup:LogGroup", 8),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", 1),
        ("aws:dynamodb/table:Table", 1),
        // Five functions, the state machine, API Gateway's queue role and logs role.
        ("aws:iam/role:Role", 8),
        ("aws:iam/rolePolicy:RolePolicy", 8),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", 1),
        ("aws:lambda/function:Function", 5),
        ("aws:lambda/permission:Permission", 1),
        ("aws:sfn/stateMachine:StateMachine", 1),
        ("aws:sns/topic:Topic", 3),
        ("aws:sns/topicSubscription:TopicSubscription", 2),
        ("aws:sqs/queue:Queue", 2),
    ])
}

fn counts(plan: &Plan) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for resource in &plan.resources {
        *counts.entry(resource.type_token.as_str()).or_default() += 1;
    }
    counts
}

#[test]
fn preview_builds_the_functions_and_plans_every_resource() {
    let run = built();
    assert!(run.success, "the program failed:\n{}", run.stderr);
    let plan = &run.plan;
    assert_eq!(plan.mode, Mode::Preview);
    assert_eq!(counts(plan), expected_counts());
    // The engine loads the provider version of the checked-in schema.
    assert!(plan.resources.iter().all(|r| r.version == "7.48.0"));
    // Every output is declared; in a preview only what the program knows is known.
    let keys: BTreeSet<&str> = plan.outputs.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(orders_infra::OUTPUTS));
    assert_eq!(plan.outputs["tableName"], "orders-dev-orders");
    assert_eq!(plan.outputs["apiUrl"], UNKNOWN);
    assert_eq!(plan.outputs["stateMachineArn"], UNKNOWN);
    // What needs a created resource is unknown: a function's role ARN, for one.
    let function = one(plan, "aws:lambda/function:Function", "get-order");
    assert_eq!(text(function, "role"), UNKNOWN);
}

#[test]
fn update_knows_every_input_and_output_of_the_same_resources() {
    let plan = update();
    assert_eq!(plan.mode, Mode::Update);
    let previewed: BTreeSet<(&str, &str)> = built()
        .plan
        .resources
        .iter()
        .map(|r| (r.type_token.as_str(), r.name.as_str()))
        .collect();
    let updated: BTreeSet<(&str, &str)> = plan
        .resources
        .iter()
        .map(|r| (r.type_token.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(previewed, updated);
    for resource in &plan.resources {
        assert!(
            !resource.inputs.values().any(contains_unknown),
            "{} {} has unknown inputs in an update",
            resource.type_token,
            resource.name
        );
    }
    assert_eq!(
        plan.outputs["apiUrl"],
        format!("https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/v1")
    );
    assert_eq!(plan.outputs["tableName"], "orders-dev-orders");
    assert_eq!(
        plan.outputs["queueUrl"],
        format!("https://sqs.{REGION}.amazonaws.com/123456789012/orders-dev-queue")
    );
    assert_eq!(
        plan.outputs["dlqUrl"],
        format!("https://sqs.{REGION}.amazonaws.com/123456789012/orders-dev-dlq")
    );
    assert_eq!(
        plan.outputs["stateMachineArn"],
        format!("arn:aws:states:{REGION}:123456789012:stateMachine:orders-dev-workflow")
    );
    assert_eq!(
        plan.outputs["topicArn"],
        format!("arn:aws:sns:{REGION}:123456789012:orders-dev-notifications")
    );
}

#[test]
fn the_queue_is_encrypted_and_redrives_to_the_dlq_after_three_receives() {
    let plan = update();
    let names = Names::new("orders-dev");
    let queue = one(plan, "aws:sqs/queue:Queue", "order-queue");
    let dlq = one(plan, "aws:sqs/queue:Queue", "order-dlq");
    assert_eq!(text(queue, "name"), names.queue());
    assert_eq!(text(dlq, "name"), names.dead_letter_queue());
    let redrive = parse(text(queue, "redrivePolicy"));
    assert_eq!(
        redrive,
        json!({
            "deadLetterTargetArn": format!("arn:aws:sqs:{REGION}:123456789012:{}", names.dead_letter_queue()),
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        })
    );
    assert_eq!(MAX_RECEIVE_COUNT, 3);
    for q in [queue, dlq] {
        assert_eq!(input(q, "sqsManagedSseEnabled"), true);
    }
    let consumer = one(plan, "aws:lambda/function:Function", "start-order");
    let timeout = input(consumer, "timeout").as_i64().unwrap();
    assert!(input(queue, "visibilityTimeoutSeconds").as_i64().unwrap() >= 6 * timeout);

    let mapping = one(
        plan,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "order-queue-consumer",
    );
    assert_eq!(
        input(mapping, "eventSourceArn"),
        format!("arn:aws:sqs:{REGION}:123456789012:{}", names.queue()).as_str()
    );
    assert_eq!(text(mapping, "functionName"), names.function("start-order"));
    assert_eq!(
        input(mapping, "functionResponseTypes"),
        &json!(["ReportBatchItemFailures"])
    );
    assert_eq!(input(mapping, "batchSize"), 10);

    let alarm = one(
        plan,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "order-dlq-alarm",
    );
    assert_eq!(
        input(alarm, "dimensions"),
        &json!({"QueueName": names.dead_letter_queue()})
    );
    assert_eq!(
        text(alarm, "metricName"),
        "ApproximateNumberOfMessagesVisible"
    );
    assert_eq!(text(alarm, "comparisonOperator"), "GreaterThanThreshold");
    assert_eq!(input(alarm, "threshold"), 0);
    assert_eq!(
        input(alarm, "alarmActions"),
        &json!([format!(
            "arn:aws:sns:{REGION}:123456789012:{}",
            names.alarm_topic()
        )])
    );
}

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
    let submission: order_core::OrderSubmission =
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

#[test]
fn the_state_machine_definition_is_fully_substituted_valid_and_logged() {
    let plan = update();
    let machine = one(plan, "aws:sfn/stateMachine:StateMachine", "workflow");
    assert_eq!(text(machine, "type"), "STANDARD");
    let definition_text = text(machine, "definition");
    assert!(!definition_text.contains("${"), "a placeholder survived");
    let definition = parse(definition_text);
    order_stack::workflow::check(&definition).expect("a well-formed state machine");
    assert_eq!(definition["States"]["WaitForPayment"]["Seconds"], 30);

    let mut invoked = BTreeSet::new();
    for state in definition["States"].as_object().unwrap().values() {
        if state["Type"] == "Task" {
            invoked.insert(
                state["Arguments"]["FunctionName"]
                    .as_str()
                    .or(state["Parameters"]["FunctionName"].as_str())
                    .unwrap()
                    .to_string(),
            );
        }
    }
    let task_arns: BTreeSet<String> = ["manage-order-state", "process-payment", "send-order"]
        .iter()
        .map(|f| format!("arn:aws:lambda:{REGION}:123456789012:function:orders-dev-{f}"))
        .collect();
    assert_eq!(invoked, task_arns);

    let logging = &machine.inputs["loggingConfiguration"];
    assert_eq!(logging["level"], "ALL");
    assert_eq!(logging["includeExecutionData"], true);
    assert_eq!(
        logging["logDestination"],
        format!(
            "arn:aws:logs:{REGION}:123456789012:log-group:/aws/vendedlogs/states/orders-dev-workflow:*"
        )
    );
    assert_eq!(machine.inputs["tracingConfiguration"]["enabled"], true);

    let waited = run(Mode::Update, config(&[("waitSeconds", Some("5"))]));
    assert!(waited.success, "{}", waited.stderr);
    let machine = one(
        &waited.plan,
        "aws:sfn/stateMachine:StateMachine",
        "workflow",
    );
    assert_eq!(
        parse(text(machine, "definition"))["States"]["WaitForPayment"]["Seconds"],
        5
    );
}

/// Every ARN the stack creates, and the log-stream patterns of its log groups.
fn stack_arns(plan: &Plan) -> BTreeSet<String> {
    let mut arns = BTreeSet::new();
    for resource in &plan.resources {
        let name = resource
            .inputs
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let arn = match resource.type_token.as_str() {
            "aws:sqs/queue:Queue" => format!("arn:aws:sqs:{REGION}:123456789012:{name}"),
            "aws:dynamodb/table:Table" => {
                format!("arn:aws:dynamodb:{REGION}:123456789012:table/{name}")
            }
            "aws:sns/topic:Topic" => format!("arn:aws:sns:{REGION}:123456789012:{name}"),
            "aws:sfn/stateMachine:StateMachine" => {
                format!("arn:aws:states:{REGION}:123456789012:stateMachine:{name}")
            }
            "aws:lambda/function:Function" => {
                format!("arn:aws:lambda:{REGION}:123456789012:function:{name}")
            }
            "aws:cloudwatch/logGroup:LogGroup" => {
                let arn = format!("arn:aws:logs:{REGION}:123456789012:log-group:{name}");
                arns.insert(format!("{arn}:*"));
                arn
            }
            _ => continue,
        };
        arns.insert(arn);
    }
    arns
}

#[test]
fn every_policy_names_its_actions_and_the_stacks_own_resources() {
    let plan = update();
    let known = stack_arns(plan);
    let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for policy in plan.resources_of("aws:iam/rolePolicy:RolePolicy") {
        let role = text(policy, "role").to_string();
        let document = parse(text(policy, "policy"));
        assert_eq!(document["Version"], "2012-10-17");
        for statement in document["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{role}");
            let actions: Vec<&str> = statement["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let resources: Vec<&str> = statement["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert!(
                !actions.is_empty() && !resources.is_empty(),
                "{role}: empty statement"
            );
            for action in &actions {
                assert!(!action.contains('*'), "{role}: wildcard action {action}");
            }
            if resources.contains(&"*") {
                assert_eq!(resources, ["*"], "{role}: * mixed with ARNs");
                for action in &actions {
                    assert!(
                        wildcard_only(action),
                        "{role}: {action} on * without a reason"
                    );
                }
            } else {
                for resource in &resources {
                    let execution_logs =
                        resource.contains(":log-group:API-Gateway-Execution-Logs_a1b2c3d4e5/v1");
                    assert!(
                        known.contains(*resource) || execution_logs,
                        "{role}: {resource} is not this stack's"
                    );
                }
            }
            granted
                .entry(role.clone())
                .or_default()
                .extend(actions.iter().map(|a| a.to_string()));
        }
    }
    let expected: BTreeMap<String, BTreeSet<String>> = [
        (
            "orders-dev-start-order-role",
            vec![
                "states:StartExecution",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
        ),
        (
            "orders-dev-manage-order-state-role",
            vec![
                "dynamodb:PutItem",
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "sns:Publish",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
        ),
        (
            "orders-dev-process-payment-role",
            vec![
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
        ),
        (
            "orders-dev-send-order-role",
            vec![
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "sns:Publish",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
        ),
        (
            "orders-dev-get-order-role",
            vec![
                "dynamodb:GetItem",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
            ],
        ),
        (
            "orders-dev-workflow-role",
            vec![
                "lambda:InvokeFunction",
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            ],
        ),
        ("orders-dev-api-queue-role", vec!["sqs:SendMessage"]),
        (
            "orders-dev-api-logs-role",
            vec![
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
                "logs:DescribeLogGroups",
            ],
        ),
    ]
    .into_iter()
    .map(|(role, actions)| {
        (
            role.to_string(),
            actions.into_iter().map(String::from).collect(),
        )
    })
    .collect();
    assert_eq!(granted, expected);

    // Topic publishing is per topic: customers' and restaurants' never cross.
    let policy_of = |role: &str| {
        plan.resources_of("aws:iam/rolePolicy:RolePolicy")
            .into_iter()
            .find(|p| text(p, "role") == role)
            .map(|p| text(p, "policy").to_string())
            .unwrap()
    };
    assert!(
        policy_of("orders-dev-manage-order-state-role").contains(":orders-dev-notifications\"")
    );
    assert!(!policy_of("orders-dev-manage-order-state-role").contains("restaurant-orders"));
    assert!(policy_of("orders-dev-send-order-role").contains(":orders-dev-restaurant-orders\""));
    assert!(!policy_of("orders-dev-send-order-role").contains("notifications"));

    // Each role trusts exactly one service.
    for role in plan.resources_of("aws:iam/role:Role") {
        let trust = parse(text(role, "assumeRolePolicy"));
        let statements = trust["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let service = statements[0]["Principal"]["Service"].as_str().unwrap();
        let expected = if role.name.starts_with("api-") {
            "apigateway.amazonaws.com"
        } else if role.name == "workflow-role" {
            "states.amazonaws.com"
        } else {
            "lambda.amazonaws.com"
        };
        assert_eq!(service, expected, "{}", role.name);
    }
}

#[test]
fn every_function_ships_its_archive_with_its_settings() {
    let plan = update();
    for spec in FUNCTIONS {
        let function = one(plan, "aws:lambda/function:Function", spec.name);
        assert_eq!(text(function, "name"), format!("orders-dev-{}", spec.name));
        assert_eq!(text(function, "runtime"), "provided.al2023");
        assert_eq!(text(function, "handler"), "bootstrap");
        assert_eq!(input(function, "architectures"), &json!(["x86_64"]));
        assert_eq!(input(function, "memorySize"), spec.memory_mb);
        assert_eq!(input(function, "timeout"), spec.timeout_seconds);
        assert_eq!(function.inputs["tracingConfig"]["mode"], "Active");
        assert_eq!(
            function.inputs["loggingConfig"]["logGroup"],
            format!("/aws/lambda/orders-dev-{}", spec.name)
        );
        assert_eq!(
            text(function, "role"),
            format!(
                "arn:aws:iam::123456789012:role/orders-dev-{}-role",
                spec.name
            )
        );
        let env: Vec<&str> = function.inputs["environment"]["variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(env, spec.environment, "{}", spec.name);

        let code = function.inputs["code"].as_object().unwrap();
        assert_eq!(
            code["4dabf18193072939515e22adb298388d"],
            "0def7320c3a5731c473e5ecbe6d01bc7"
        );
        let path = PathBuf::from(code["path"].as_str().unwrap());
        assert!(
            path.is_absolute() && path.starts_with(root().join("target/deploy/x86_64")),
            "{}",
            path.display()
        );
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut binary = Vec::new();
        archive
            .by_name("bootstrap")
            .expect("the archive holds bootstrap")
            .read_to_end(&mut binary)
            .unwrap();
        assert!(
            binary.starts_with(b"\x7fELF"),
            "{}: bootstrap is an executable",
            spec.name
        );
    }
    let payment = one(plan, "aws:lambda/function:Function", "process-payment");
    assert_eq!(
        payment.inputs["environment"]["variables"][env::PAYMENT_SUCCESS_PROBABILITY],
        "0.8"
    );
}

#[test]
fn unchanged_code_gives_byte_identical_archives_and_inputs() {
    let first = update();
    let archives = |plan: &Plan| -> Vec<(String, Vec<u8>)> {
        plan.resources_of("aws:lambda/function:Function")
            .into_iter()
            .map(|f| {
                let path = f.inputs["code"]["path"].as_str().unwrap().to_string();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect()
    };
    let before = archives(first);
    let second = run(Mode::Update, config(&[]));
    assert!(second.success, "{}", second.stderr);
    assert_eq!(archives(&second.plan), before);
    let functions = |plan: &Plan| -> Vec<Value> {
        plan.resources_of("aws:lambda/function:Function")
            .into_iter()
            .map(|f| Value::Object(f.inputs.clone()))
            .collect()
    };
    assert_eq!(functions(&second.plan), functions(first));
}

#[test]
fn the_data_stores_are_encrypted_and_recoverable() {
    let plan = update();
    let table = one(plan, "aws:dynamodb/table:Table", "orders-table");
    assert_eq!(text(table, "billingMode"), "PAY_PER_REQUEST");
    assert_eq!(text(table, "hashKey"), "order_id");
    assert_eq!(
        input(table, "attributes"),
        &json!([{"name": "order_id", "type": "S"}])
    );
    assert_eq!(table.inputs["pointInTimeRecovery"]["enabled"], true);
    assert_eq!(table.inputs["serverSideEncryption"]["enabled"], true);
    for name in ["notifications-topic", "restaurant-topic"] {
        assert_eq!(
            text(one(plan, "aws:sns/topic:Topic", name), "kmsMasterKeyId"),
            "alias/aws/sns"
        );
    }
    let email = one(
        plan,
        "aws:sns/topicSubscription:TopicSubscription",
        "notifications-email",
    );
    assert_eq!(text(email, "protocol"), "email");
    assert_eq!(text(email, "endpoint"), "orders@example.com");
    assert_eq!(
        text(email, "topic"),
        format!("arn:aws:sns:{REGION}:123456789012:orders-dev-notifications")
    );
    for group in plan.resources_of("aws:cloudwatch/logGroup:LogGroup") {
        assert_eq!(input(group, "retentionInDays"), 14, "{}", group.name);
    }
}

#[test]
fn the_account_wide_logging_role_can_be_left_alone() {
    let run = run(
        Mode::Update,
        config(&[("manageApiGatewayAccount", Some("false"))]),
    );
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.plan
            .resources_of("aws:apigateway/account:Account")
            .is_empty()
    );
    assert!(
        run.plan
            .resource("aws:iam/role:Role", "api-logs-role")
            .is_none()
    );
    assert!(
        run.plan
            .resource("aws:apigateway/stage:Stage", "api-stage")
            .is_some()
    );
}

#[test]
fn bad_config_fails_with_a_clear_message_and_creates_nothing() {
    let cases = [
        (
            config(&[("notificationEmail", None)]),
            "pulumi config set notificationEmail",
        ),
        (
            config(&[("aws:region", None)]),
            "pulumi config set aws:region",
        ),
        (config(&[("waitSeconds", Some("-1"))]), "waitSeconds"),
        // The archives here are x86_64: deploying them as arm64 would fail at the first call.
        (config(&[("architecture", Some("arm64"))]), "not arm64"),
    ];
    for (config, message) in cases {
        let run = run(Mode::Preview, config);
        assert!(!run.success, "expected a failure mentioning {message}");
        assert!(
            run.stderr.contains(message),
            "{message} not in:\n{}",
            run.stderr
        );
        assert!(
            run.plan.resources.is_empty(),
            "resources registered despite: {message}"
        );
    }
}

#[test]
fn the_whole_plan_matches_its_reviewed_snapshot() {
    let plan = update();
    // Archive paths are absolute; the snapshot keeps them relative to the workspace.
    let root = format!("{}/", root().display());
    let text = serde_json::to_string(plan).unwrap().replace(&root, "");
    let plan: Value = serde_json::from_str(&text).unwrap();
    insta::assert_json_snapshot!("plan", plan);
}

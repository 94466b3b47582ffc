//! The plan as a whole: every resource, preview against update, the reviewed snapshot.

use super::*;

fn expected_counts() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("aws:apigateway/account:Account", 1),
        ("aws:apigateway/authorizer:Authorizer", 1),
        ("aws:apigateway/deployment:Deployment", 1),
        // Four routes and three preflights (OPTIONS on each path, MOCK).
        ("aws:apigateway/integration:Integration", 7),
        // The queue's three answers and the preflights' 200s.
        ("aws:apigateway/integrationResponse:IntegrationResponse", 6),
        ("aws:apigateway/method:Method", 7),
        ("aws:apigateway/methodResponse:MethodResponse", 6),
        ("aws:apigateway/methodSettings:MethodSettings", 1),
        ("aws:apigateway/model:Model", 1),
        ("aws:apigateway/requestValidator:RequestValidator", 1),
        ("aws:apigateway/resource:Resource", 3),
        ("aws:apigateway/response:Response", 9),
        ("aws:apigateway/restApi:RestApi", 1),
        ("aws:apigateway/stage:Stage", 1),
        // The WebSocket API of live status: `$connect` (authorized) and `$disconnect`, both
        // to socket-connections.
        ("aws:apigatewayv2/api:Api", 1),
        ("aws:apigatewayv2/authorizer:Authorizer", 1),
        ("aws:apigatewayv2/deployment:Deployment", 1),
        ("aws:apigatewayv2/integration:Integration", 1),
        ("aws:apigatewayv2/route:Route", 2),
        ("aws:apigatewayv2/stage:Stage", 1),
        // The app: served from a private bucket through an origin access control.
        ("aws:cloudfront/distribution:Distribution", 1),
        ("aws:cloudfront/originAccessControl:OriginAccessControl", 1),
        ("aws:cloudwatch/dashboard:Dashboard", 1),
        ("aws:cloudwatch/eventArchive:EventArchive", 1),
        ("aws:cloudwatch/eventBus:EventBus", 1),
        // The unsettled executions' rule, the order events' tap, and the push.
        ("aws:cloudwatch/eventRule:EventRule", 3),
        ("aws:cloudwatch/eventTarget:EventTarget", 3),
        // Ten functions, the state machine, the API's access and execution logs.
        ("aws:cloudwatch/logGroup:LogGroup", 13),
        ("aws:cloudwatch/logMetricFilter:LogMetricFilter", 1),
        // The four dead-letter queues (not empty, oldest message), executions failed,
        // timed out and aborted, each function's errors and throttles, the events pipe's
        // failures, the tap's and the push's, the live API's integration errors, refunds
        // failed for good, the API's 5xx.
        ("aws:cloudwatch/metricAlarm:MetricAlarm", 37),
        ("aws:cognito/userPool:UserPool", 1),
        ("aws:cognito/userPoolClient:UserPoolClient", 1),
        // The orders, and the open WebSocket connections.
        ("aws:dynamodb/table:Table", 2),
        // Ten functions, the state machine, the events pipe, API Gateway's queue role and
        // logs role.
        ("aws:iam/role:Role", 14),
        ("aws:iam/rolePolicy:RolePolicy", 14),
        ("aws:lambda/eventSourceMapping:EventSourceMapping", 1),
        ("aws:lambda/function:Function", 10),
        // API Gateway on get-order (two routes), cancel-order, authorize-socket and
        // socket-connections (two routes); EventBridge on manage-order-state and push-status.
        ("aws:lambda/permission:Permission", 8),
        ("aws:pipes/pipe:Pipe", 1),
        ("aws:s3/bucket:Bucket", 1),
        // index.html, app.js, style.css and config.json.
        ("aws:s3/bucketObjectv2:BucketObjectv2", 4),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", 1),
        ("aws:s3/bucketPolicy:BucketPolicy", 1),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", 1),
        ("aws:sfn/stateMachine:StateMachine", 1),
        ("aws:sns/topic:Topic", 3),
        ("aws:sns/topicSubscription:TopicSubscription", 2),
        // The order queue, four dead-letter queues (orders, unsettled executions, events
        // pipe, push) and the events tap.
        ("aws:sqs/queue:Queue", 6),
        ("aws:sqs/queuePolicy:QueuePolicy", 3),
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
    let app = plan.outputs["appUrl"].as_str().unwrap();
    assert!(
        app.starts_with("https://d") && app.ends_with(".cloudfront.net"),
        "{app}"
    );
    let live = plan.outputs["websocketUrl"].as_str().unwrap();
    assert!(
        live.starts_with("wss://") && live.ends_with("/live"),
        "{live}"
    );
}

#[test]
fn the_whole_plan_matches_its_reviewed_snapshot() {
    let plan = update();
    // Archive paths are absolute; the snapshot keeps them relative to the workspace.
    let workspace = format!("{}/", root().display());
    let text = serde_json::to_string(plan).unwrap().replace(&workspace, "");
    let mut plan: Value = serde_json::from_str(&text).unwrap();
    // The app's files are `web/`'s, byte for byte (checked here); the snapshot names them,
    // so that a change of the page is not a change of the plan to review.
    for resource in plan["resources"].as_array_mut().unwrap() {
        if resource["type"] != "aws:s3/bucketObjectv2:BucketObjectv2" {
            continue;
        }
        let key = resource["inputs"]["key"].as_str().unwrap().to_string();
        if key == orders_blueprint::live::CONFIG_FILE {
            continue;
        }
        let file = std::fs::read_to_string(root().join("web").join(&key)).unwrap();
        assert_eq!(resource["inputs"]["content"], json!(file), "{key}");
        resource["inputs"]["content"] = json!(format!("<web/{key}>"));
    }
    insta::assert_json_snapshot!("plan", plan);
}

//! Least privilege: every policy's actions and resources.

use super::*;

const ACCOUNT: &str = "123456789012";

fn queue(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-{name}")
}

fn table() -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-dev-orders")
}

fn topic(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:orders-dev-{name}")
}

fn function(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-dev-{name}")
}

fn log_group(name: &str) -> String {
    format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}")
}

/// The log streams of a group (the pattern AWS's own Lambda logging policy uses).
fn streams(name: &str) -> String {
    format!("{}:*", log_group(name))
}

/// What every function's role holds: its own log group's streams, and X-Ray traces
/// (whose actions take no resource).
fn function_basics(function: &str) -> Vec<(&'static str, String)> {
    let group = format!("/aws/lambda/orders-dev-{function}");
    vec![
        ("logs:CreateLogStream", streams(&group)),
        ("logs:PutLogEvents", streams(&group)),
        ("xray:PutTraceSegments", "*".into()),
        ("xray:PutTelemetryRecords", "*".into()),
    ]
}

#[test]
fn every_policy_names_its_actions_and_the_stacks_own_resources() {
    let plan = update();
    let mut granted: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for policy in plan.resources_of("aws:iam/rolePolicy:RolePolicy") {
        let role = text(policy, "role").to_string();
        let document = parse(text(policy, "policy"));
        assert_eq!(document["Version"], "2012-10-17");
        for statement in document["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{role}");
            let strings = |key: &str| -> Vec<String> {
                statement[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect()
            };
            let (actions, resources) = (strings("Action"), strings("Resource"));
            assert!(
                !actions.is_empty() && !resources.is_empty(),
                "{role}: empty statement"
            );
            if resources.contains(&"*".to_string()) {
                assert_eq!(resources, ["*"], "{role}: * mixed with ARNs");
                for action in &actions {
                    assert!(
                        wildcard_only(action),
                        "{role}: {action} on * without a reason"
                    );
                }
            }
            let pairs = granted.entry(role.clone()).or_default();
            for action in &actions {
                for resource in &resources {
                    pairs.insert((action.clone(), resource.clone()));
                }
            }
        }
    }

    // Written out by hand, role by role: what each may do, and to what.
    let access_logs = "/aws/apigateway/orders-dev-api-access";
    let execution_logs = "API-Gateway-Execution-Logs_a1b2c3d4e5/v1";
    let mut expected: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
    expected.insert(
        "orders-dev-start-order-role",
        vec![
            (
                "states:StartExecution",
                format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders-dev-workflow"),
            ),
            ("sqs:ReceiveMessage", queue("queue")),
            ("sqs:DeleteMessage", queue("queue")),
            ("sqs:GetQueueAttributes", queue("queue")),
        ],
    );
    expected.insert(
        "orders-dev-manage-order-state-role",
        vec![
            ("dynamodb:PutItem", table()),
            ("dynamodb:GetItem", table()),
            ("dynamodb:UpdateItem", table()),
            ("sns:Publish", topic("notifications")),
        ],
    );
    expected.insert("orders-dev-process-payment-role", vec![]);
    expected.insert(
        "orders-dev-send-order-role",
        vec![
            ("dynamodb:GetItem", table()),
            ("dynamodb:UpdateItem", table()),
            ("sns:Publish", topic("restaurant-orders")),
        ],
    );
    expected.insert(
        "orders-dev-get-order-role",
        vec![
            ("dynamodb:GetItem", table()),
            // The list reads the index of users' orders: no query of the table itself.
            ("dynamodb:Query", format!("{}/index/by-user", table())),
        ],
    );
    // The pipe's enrichment touches nothing.
    expected.insert("orders-dev-order-events-role", vec![]);
    // A cancel reads the order, then writes it once, conditionally.
    expected.insert(
        "orders-dev-cancel-order-role",
        vec![
            ("dynamodb:GetItem", table()),
            ("dynamodb:UpdateItem", table()),
        ],
    );
    // The WebSocket authorizer reads the pool's public keys over HTTPS: no AWS call.
    expected.insert("orders-dev-authorize-socket-role", vec![]);
    let connections = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-dev-connections");
    // `$connect` stores a connection, `$disconnect` forgets it.
    expected.insert(
        "orders-dev-socket-connections-role",
        vec![
            ("dynamodb:PutItem", connections.clone()),
            ("dynamodb:DeleteItem", connections.clone()),
        ],
    );
    // The push finds a customer's connections in the index, posts to them on this API's
    // stage only, and forgets a gone one.
    let live_api = text(
        one(plan, "aws:apigatewayv2/stage:Stage", "live-stage"),
        "apiId",
    )
    .to_string();
    expected.insert(
        "orders-dev-push-status-role",
        vec![
            ("dynamodb:Query", format!("{connections}/index/by-user")),
            ("dynamodb:DeleteItem", connections),
            (
                "execute-api:ManageConnections",
                format!(
                    "arn:aws:execute-api:{REGION}:{ACCOUNT}:{live_api}/live/POST/@connections/*"
                ),
            ),
        ],
    );
    for (role, pairs) in expected.iter_mut() {
        let function = role
            .strip_prefix("orders-dev-")
            .and_then(|r| r.strip_suffix("-role"))
            .unwrap();
        pairs.extend(function_basics(function));
    }
    let mut workflow = vec![
        ("lambda:InvokeFunction", function("manage-order-state")),
        ("lambda:InvokeFunction", function("process-payment")),
        ("lambda:InvokeFunction", function("send-order")),
    ];
    // Log delivery and X-Ray sampling take no resource ("Logging Step Functions
    // executions in CloudWatch Logs"; X-Ray's actions).
    for action in [
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
    ] {
        workflow.push((action, "*".into()));
    }
    expected.insert("orders-dev-workflow-role", workflow);
    // The events pipe: the table's stream (listing streams takes no resource), its
    // enrichment, the bus, and its dead-letter queue.
    let stream = format!("{}/stream/2026-01-01T00:00:00.000", table());
    expected.insert(
        "orders-dev-events-pipe-role",
        vec![
            ("dynamodb:DescribeStream", stream.clone()),
            ("dynamodb:GetRecords", stream.clone()),
            ("dynamodb:GetShardIterator", stream),
            ("dynamodb:ListStreams", "*".into()),
            ("lambda:InvokeFunction", function("order-events")),
            (
                "events:PutEvents",
                format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders-dev-orders"),
            ),
            ("sqs:SendMessage", queue("order-events-dlq")),
        ],
    );
    expected.insert(
        "orders-dev-api-queue-role",
        vec![("sqs:SendMessage", queue("queue"))],
    );
    let mut api_logs = vec![("logs:DescribeLogGroups", "*".to_string())];
    for group in [access_logs, execution_logs] {
        for action in [
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        ] {
            api_logs.push((action, log_group(group)));
            api_logs.push((action, streams(group)));
        }
    }
    expected.insert("orders-dev-api-logs-role", api_logs);
    let expected: BTreeMap<String, BTreeSet<(String, String)>> = expected
        .into_iter()
        .map(|(role, pairs)| {
            (
                role.to_string(),
                pairs
                    .into_iter()
                    .map(|(action, resource)| (action.to_string(), resource))
                    .collect(),
            )
        })
        .collect();
    for role in expected.keys().chain(granted.keys()) {
        let (want, got) = (&expected.get(role), &granted.get(role));
        assert_eq!(want, got, "{role}: expected, then granted");
    }

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
        } else if role.name == "events-pipe-role" {
            "pipes.amazonaws.com"
        } else {
            "lambda.amazonaws.com"
        };
        assert_eq!(service, expected, "{}", role.name);
    }
}

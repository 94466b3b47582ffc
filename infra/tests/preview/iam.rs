//! Least privilege: every policy's actions and resources.

use super::*;

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

//! Alarms and the dashboard: metrics AWS publishes, dimensions naming this stack's
//! resources, every alarm to the alarms topic.

use super::*;

const ACCOUNT: &str = "123456789012";

/// What each service publishes, by namespace: its metrics as used here, and the dimension
/// they are read by (from each service's CloudWatch metrics documentation).
type Metrics = Vec<(Vec<&'static str>, Vec<&'static str>)>;

fn published() -> BTreeMap<&'static str, Metrics> {
    BTreeMap::from([
        (
            "AWS/States",
            vec![(
                vec![
                    "ExecutionsStarted",
                    "ExecutionsSucceeded",
                    "ExecutionsFailed",
                    "ExecutionsTimedOut",
                    "ExecutionsAborted",
                ],
                vec!["StateMachineArn"],
            )],
        ),
        (
            "AWS/Lambda",
            vec![(
                vec!["Errors", "Throttles", "Duration"],
                vec!["FunctionName"],
            )],
        ),
        // A REST API by its name, a WebSocket API by its id ("Monitor WebSocket API
        // execution with CloudWatch metrics").
        (
            "AWS/ApiGateway",
            vec![
                (
                    vec![
                        "Count",
                        "4XXError",
                        "5XXError",
                        "Latency",
                        "IntegrationLatency",
                    ],
                    vec!["ApiName", "Stage"],
                ),
                (
                    vec!["ConnectCount", "IntegrationError"],
                    vec!["ApiId", "Stage"],
                ),
            ],
        ),
        (
            "AWS/SQS",
            vec![(
                vec![
                    "ApproximateNumberOfMessagesVisible",
                    "ApproximateAgeOfOldestMessage",
                ],
                vec!["QueueName"],
            )],
        ),
        (
            "AWS/EventBridge/Pipes",
            vec![(vec!["EventCount", "ExecutionFailed"], vec!["PipeName"])],
        ),
        // A rule of a custom bus: both dimensions.
        (
            "AWS/Events",
            vec![(
                vec!["Invocations", "FailedInvocations"],
                vec!["EventBusName", "RuleName"],
            )],
        ),
        // The stack's own, from its log metric filter (checked below): no dimension.
        (
            orders_infra::monitoring::NAMESPACE,
            vec![(vec![orders_infra::monitoring::REFUNDS_FAILED], vec![])],
        ),
    ])
}

/// The dimensions `metric` of `namespace` is read by, if the service publishes it.
fn dimensions_of<'a>(
    published: &'a BTreeMap<&'static str, Metrics>,
    namespace: &str,
    metric: &str,
) -> Option<&'a Vec<&'static str>> {
    published
        .get(namespace)?
        .iter()
        .find(|(metrics, _)| metrics.contains(&metric))
        .map(|(_, dimensions)| dimensions)
}

/// Every value a dimension may take: this stack's resources.
fn own_resources(plan: &Plan) -> BTreeSet<String> {
    let names = Names::new("orders-dev");
    let live_api = text(
        one(plan, "aws:apigatewayv2/stage:Stage", "live-stage"),
        "apiId",
    );
    let mut own: BTreeSet<String> = [
        live_api.to_string(),
        orders_blueprint::live::STAGE.to_string(),
        names.push_dead_letter_queue(),
        names.push_rule(),
        names.queue(),
        names.dead_letter_queue(),
        names.unsettled_dead_letter_queue(),
        names.events_dead_letter_queue(),
        names.events_pipe(),
        names.event_bus(),
        names.events_tap_rule(),
        names.api(),
        "v1".to_string(),
        format!(
            "arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{}",
            names.state_machine()
        ),
    ]
    .into();
    own.extend(FUNCTIONS.iter().map(|f| names.function(f.name)));
    own
}

#[test]
fn every_alarm_watches_a_published_metric_of_this_stack_and_tells_the_alarms_topic() {
    let plan = update();
    let names = Names::new("orders-dev");
    let published = published();
    let own = own_resources(plan);
    let topic = json!([format!(
        "arn:aws:sns:{REGION}:{ACCOUNT}:{}",
        names.alarm_topic()
    )]);
    let alarms = plan.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm");
    let mut watched = BTreeSet::new();
    for alarm in &alarms {
        let namespace = text(alarm, "namespace");
        let metric = text(alarm, "metricName");
        let dimension_names = dimensions_of(&published, namespace, metric)
            .unwrap_or_else(|| panic!("{}: {namespace} {metric}", alarm.name));
        let dimensions = input(alarm, "dimensions").as_object().unwrap();
        let keys: Vec<&str> = dimensions.keys().map(String::as_str).collect();
        let mut expected_keys = dimension_names.clone();
        expected_keys.sort();
        assert_eq!(keys, expected_keys, "{}", alarm.name);
        for value in dimensions.values() {
            assert!(
                own.contains(value.as_str().unwrap()),
                "{}: {value}",
                alarm.name
            );
        }
        assert_eq!(input(alarm, "alarmActions"), &topic, "{}", alarm.name);
        assert_eq!(input(alarm, "okActions"), &topic, "{}", alarm.name);
        assert!(!text(alarm, "alarmDescription").is_empty());
        let first = dimensions
            .values()
            .next()
            .map_or(namespace, |value| value.as_str().unwrap());
        watched.insert((metric.to_string(), first.to_string()));
    }
    // What the runbook promises is watched.
    let machine = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders-dev-workflow");
    for metric in [
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    ] {
        assert!(
            watched.contains(&(metric.to_string(), machine.clone())),
            "{metric}"
        );
    }
    for function in FUNCTIONS {
        for metric in ["Errors", "Throttles"] {
            let name = names.function(function.name);
            assert!(
                watched.contains(&(metric.to_string(), name)),
                "{metric} {}",
                function.name
            );
        }
    }
    for (metric, watched_one) in [
        ("ExecutionFailed", names.events_pipe()),
        ("FailedInvocations", names.event_bus()),
        (
            orders_infra::monitoring::REFUNDS_FAILED,
            orders_infra::monitoring::NAMESPACE.to_string(),
        ),
    ] {
        assert!(
            watched.contains(&(metric.to_string(), watched_one.clone())),
            "{metric} {watched_one}"
        );
    }
    for queue in [
        names.dead_letter_queue(),
        names.unsettled_dead_letter_queue(),
        names.events_dead_letter_queue(),
        names.push_dead_letter_queue(),
    ] {
        for metric in [
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
        ] {
            assert!(
                watched.contains(&(metric.to_string(), queue.clone())),
                "{metric} {queue}"
            );
        }
    }
    let api = alarms
        .iter()
        .find(|a| text(a, "metricName") == "5XXError")
        .expect("an alarm on the API's 5xx");
    assert_eq!(
        input(api, "dimensions"),
        &json!({"ApiName": names.api(), "Stage": "v1"})
    );
    // The push rule's failures and the WebSocket API's integration errors.
    let push = alarms
        .iter()
        .find(|a| {
            text(a, "metricName") == "FailedInvocations"
                && input(a, "dimensions")["RuleName"] == names.push_rule()
        })
        .expect("an alarm on the push rule");
    assert_eq!(input(push, "dimensions")["EventBusName"], names.event_bus());
    let live = alarms
        .iter()
        .find(|a| text(a, "metricName") == "IntegrationError")
        .expect("an alarm on the live API's integration errors");
    assert_eq!(
        input(live, "dimensions")["Stage"],
        orders_blueprint::live::STAGE
    );
    // Dead-letter queues twice (messages, age), the executions, two per function, the
    // pipe, the tap and push rules, the live API, the refunds and the REST API's 5xx.
    assert_eq!(
        alarms.len(),
        4 * 2 + 3 + 2 * FUNCTIONS.len() + 1 + 2 + 1 + 1 + 1
    );
}

/// The refunds that failed for good are counted from the workflow's own execution log:
/// the filter reads that log group and makes the metric the alarm watches.
#[test]
fn failed_refunds_are_counted_from_the_workflows_execution_log() {
    let plan = update();
    let filter = one(
        plan,
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "refunds-failed-metric",
    );
    let group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "workflow-logs");
    assert_eq!(text(filter, "logGroupName"), text(group, "name"));
    let machine = one(plan, "aws:sfn/stateMachine:StateMachine", "workflow");
    assert_eq!(machine.inputs["loggingConfiguration"]["level"], "ALL");
    assert_eq!(
        input(filter, "metricTransformation"),
        &json!({
            "name": orders_infra::monitoring::REFUNDS_FAILED,
            "namespace": orders_infra::monitoring::NAMESPACE,
            "value": "1",
            "defaultValue": null,
            "unit": null,
        })
    );
    // It matches the end of an execution that failed with the workflow's RefundFailed.
    let pattern = text(filter, "pattern");
    assert!(
        pattern.contains(r#"$.type = "ExecutionFailed""#),
        "{pattern}"
    );
    assert!(
        pattern.contains(r#"$.details.error = "RefundFailed""#),
        "{pattern}"
    );
    let definition = parse(text(machine, "definition"));
    assert_eq!(definition["States"]["RefundFailed"]["Type"], "Fail");
    assert_eq!(
        definition["States"]["RefundFailed"]["Error"],
        "RefundFailed"
    );
}

#[test]
fn the_dashboard_shows_the_pipeline_and_names_only_this_stacks_resources() {
    let plan = update();
    let dashboard = one(plan, "aws:cloudwatch/dashboard:Dashboard", "dashboard");
    assert_eq!(text(dashboard, "dashboardName"), "orders-dev-pipeline");
    let body = parse(text(dashboard, "dashboardBody"));
    let published = published();
    let own = own_resources(plan);
    let mut shown = BTreeSet::new();
    for widget in body["widgets"].as_array().unwrap() {
        assert_eq!(widget["type"], "metric");
        assert_eq!(widget["properties"]["region"], REGION);
        for line in widget["properties"]["metrics"].as_array().unwrap() {
            let line = line.as_array().unwrap();
            let namespace = line[0].as_str().unwrap();
            let metric = line[1].as_str().unwrap();
            let dimension_names = dimensions_of(&published, namespace, metric)
                .unwrap_or_else(|| panic!("{namespace} {metric}"));
            // [namespace, metric, name, value, (name, value)..., {options}]
            let pairs = &line[2..line.len() - 1];
            assert_eq!(pairs.len(), 2 * dimension_names.len(), "{line:?}");
            for pair in pairs.chunks(2) {
                assert!(
                    dimension_names.contains(&pair[0].as_str().unwrap()),
                    "{line:?}"
                );
                assert!(own.contains(pair[1].as_str().unwrap()), "{line:?}");
            }
            shown.insert(namespace);
        }
    }
    assert_eq!(
        shown,
        BTreeSet::from([
            "AWS/ApiGateway",
            "AWS/EventBridge/Pipes",
            "AWS/Events",
            "AWS/Lambda",
            "AWS/SQS",
            "AWS/States",
            orders_infra::monitoring::NAMESPACE,
        ])
    );
}

//! Alarms and a dashboard: what an operator of the pipeline watches. Every alarm goes to
//! the alarms topic, and says in its description what to do (the README's runbook says
//! more). Metric names and dimensions are the ones each service publishes: `AWS/States`
//! (by `StateMachineArn`), `AWS/Lambda` (by `FunctionName`), `AWS/ApiGateway` (by `ApiName`
//! and `Stage`), `AWS/SQS` (by `QueueName`), `AWS/EventBridge/Pipes` (by `PipeName`) and
//! `AWS/Events` (by `EventBusName` and `RuleName` on a custom bus) ("Logging and monitoring
//! Amazon EventBridge Pipes"; "Monitoring Amazon EventBridge"), and the WebSocket API's
//! in `AWS/ApiGateway` by `ApiId` and `Stage` ("Monitor WebSocket API execution with
//! CloudWatch metrics"). One is the stack's own: a
//! metric filter on the workflow's execution log counts the refunds that failed for good.

use crate::aws::cloudwatch::{dashboard, log_metric_filter, metric_alarm};
use crate::aws::types::cloudwatch::LogMetricFilterMetricTransformation;
use crate::outputs::all;
use orders_blueprint::{FUNCTIONS, Names};
use pulumi_gestalt_rust::{Context, Output};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Seconds a message may wait in a dead-letter queue before its age alarms: someone should
/// have looked within the hour.
pub const DEAD_LETTER_AGE_ALARM_SECONDS: f64 = 3600.0;

/// The stack's own metrics.
pub const NAMESPACE: &str = "ServerlessOrders";
/// Refunds of cancelled orders that failed for good (each ends its execution with the
/// workflow's `RefundFailed`).
pub const REFUNDS_FAILED: &str = "RefundsFailed";

/// The execution-log lines of a refund that failed for good: Step Functions logs an
/// execution's end as `ExecutionFailed` with the Fail state's error in `details.error`.
pub fn refund_failed_pattern() -> String {
    r#"{ ($.type = "ExecutionFailed") && ($.details.error = "RefundFailed") }"#.to_owned()
}

/// One alarm: on `metric` of `namespace` for `dimensions`, above `threshold` over
/// `period_seconds` (`statistic`).
pub struct Alarm {
    pub logical_name: String,
    pub name: String,
    pub description: String,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, Output<String>)>,
    pub statistic: &'static str,
    pub threshold: f64,
    pub period_seconds: i32,
}

pub struct Watched<'a> {
    pub region: &'a str,
    pub state_machine_arn: &'a Output<String>,
    /// The workflow's execution log group.
    pub workflow_log_group: &'a Output<String>,
    pub stage: &'a str,
    pub alarm_topic_arn: &'a Output<String>,
    /// The WebSocket API of live status.
    pub socket_api_id: &'a Output<String>,
}

/// Every alarm of the stack.
pub fn alarms(names: &Names, watched: &Watched) -> Vec<Alarm> {
    let machine = watched.state_machine_arn;
    let mut alarms = Vec::new();
    // A message in a dead-letter queue is work nobody will do: alarm at the first one.
    for (queue, logical, description) in [
        (
            names.dead_letter_queue(),
            "order-dlq-alarm",
            "Orders reached the dead-letter queue after 3 failed receives: inspect and redrive them.",
        ),
        (
            names.unsettled_dead_letter_queue(),
            "unsettled-dlq-alarm",
            "An execution ended unsettled and manage-order-state could not take the news for a \
             day: its order may not be final. Read the event in this queue and settle the order.",
        ),
        (
            names.events_dead_letter_queue(),
            "events-dlq-alarm",
            "The events pipe gave up on a batch of the orders table's stream: those order \
             events were not published. The message names the stream and sequence numbers; \
             read them (within the stream's 24 hours) and publish the events again.",
        ),
        (
            names.push_dead_letter_queue(),
            "push-dlq-alarm",
            "push-status could not take order events for an hour: those status changes were \
             not pushed (the app reads the orders back when it reconnects). Read push-status' \
             log group; the events can be dropped once the cause is fixed.",
        ),
    ] {
        alarms.push(Alarm {
            logical_name: logical.into(),
            name: format!("{queue}-not-empty"),
            description: description.into(),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: vec![("QueueName", Output::new(queue))],
            statistic: "Maximum",
            threshold: 0.0,
            period_seconds: 60,
        });
    }
    for (metric, what) in [
        ("ExecutionsFailed", "failed"),
        ("ExecutionsTimedOut", "timed out"),
        ("ExecutionsAborted", "were stopped"),
    ] {
        alarms.push(Alarm {
            logical_name: format!("alarm-{}", metric.to_lowercase()),
            name: format!("{}-{}", names.state_machine(), metric.to_lowercase()),
            description: format!(
                "Order workflow executions {what}: their orders end FAILED (see each order's \
                 failure and the execution's history)."
            ),
            namespace: "AWS/States",
            metric,
            dimensions: vec![("StateMachineArn", machine.clone())],
            statistic: "Sum",
            threshold: 0.0,
            period_seconds: 300,
        });
    }
    for function in FUNCTIONS {
        let name = names.function(function.name);
        for (metric, what) in [
            ("Errors", "answered with errors (read its log group)"),
            (
                "Throttles",
                "was throttled (check the account's concurrency)",
            ),
        ] {
            alarms.push(Alarm {
                logical_name: format!("alarm-{}-{}", function.name, metric.to_lowercase()),
                name: format!("{name}-{}", metric.to_lowercase()),
                description: format!("{} {what}.", function.name),
                namespace: "AWS/Lambda",
                metric,
                dimensions: vec![("FunctionName", Output::new(name.clone()))],
                statistic: "Sum",
                threshold: 0.0,
                period_seconds: 300,
            });
        }
    }
    alarms.push(Alarm {
        logical_name: "alarm-events-pipe-failed".into(),
        name: format!("{}-failed", names.events_pipe()),
        description: "The events pipe failed to deliver a batch (enrichment or bus); it retries, \
                      then dead-letters it (read order-events' log group)."
            .into(),
        namespace: "AWS/EventBridge/Pipes",
        metric: "ExecutionFailed",
        dimensions: vec![("PipeName", Output::new(names.events_pipe()))],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    alarms.push(Alarm {
        logical_name: "alarm-events-tap-failed".into(),
        name: format!("{}-failed-invocations", names.events_tap_rule()),
        description: "EventBridge could not deliver order events to the tap queue for good \
                      (check the queue's policy)."
            .into(),
        namespace: "AWS/Events",
        metric: "FailedInvocations",
        dimensions: vec![
            ("EventBusName", Output::new(names.event_bus())),
            ("RuleName", Output::new(names.events_tap_rule())),
        ],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    alarms.push(Alarm {
        logical_name: "alarm-push-failed".into(),
        name: format!("{}-failed-invocations", names.push_rule()),
        description: "EventBridge could not deliver order events to push-status for good; they \
                      went to the push dead-letter queue (read push-status' log group)."
            .into(),
        namespace: "AWS/Events",
        metric: "FailedInvocations",
        dimensions: vec![
            ("EventBusName", Output::new(names.event_bus())),
            ("RuleName", Output::new(names.push_rule())),
        ],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    alarms.push(Alarm {
        logical_name: "alarm-live-integration-errors".into(),
        name: format!("{}-integration-errors", names.socket_api()),
        description: "The live status API's integration failed (authorize-socket or \
                      socket-connections): customers may not connect (read their log groups)."
            .into(),
        namespace: "AWS/ApiGateway",
        metric: "IntegrationError",
        dimensions: vec![
            ("ApiId", watched.socket_api_id.clone()),
            (
                "Stage",
                Output::new(orders_blueprint::live::STAGE.to_string()),
            ),
        ],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    alarms.push(Alarm {
        logical_name: "alarm-refunds-failed".into(),
        name: format!("{}-refunds-failed", names.state_machine()),
        description: "The refund of a cancelled order failed for good: the order records it \
                      (refund_failure) and the customer was told staff will refund them. Refund \
                      the payment named on the order by hand."
            .into(),
        namespace: NAMESPACE,
        metric: REFUNDS_FAILED,
        dimensions: vec![],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    alarms.push(Alarm {
        logical_name: "alarm-api-5xx".into(),
        name: format!("{}-5xx", names.api()),
        description: "The API answered 5xx: the queue refused or did not answer, or get-order \
                      failed (read the API's execution log group)."
            .into(),
        namespace: "AWS/ApiGateway",
        metric: "5XXError",
        dimensions: vec![
            ("ApiName", Output::new(names.api())),
            ("Stage", Output::new(watched.stage.to_string())),
        ],
        statistic: "Sum",
        threshold: 0.0,
        period_seconds: 300,
    });
    for (queue, logical) in [
        (names.dead_letter_queue(), "alarm-order-dlq-age"),
        (
            names.unsettled_dead_letter_queue(),
            "alarm-unsettled-dlq-age",
        ),
        (names.events_dead_letter_queue(), "alarm-events-dlq-age"),
        (names.push_dead_letter_queue(), "alarm-push-dlq-age"),
    ] {
        alarms.push(Alarm {
            logical_name: logical.into(),
            name: format!("{queue}-oldest"),
            description: format!(
                "A message has waited in {queue} for over an hour: find its cause, fix it, \
                 then redrive it."
            ),
            namespace: "AWS/SQS",
            metric: "ApproximateAgeOfOldestMessage",
            dimensions: vec![("QueueName", Output::new(queue))],
            statistic: "Maximum",
            threshold: DEAD_LETTER_AGE_ALARM_SECONDS,
            period_seconds: 300,
        });
    }
    alarms
}

/// The dashboard's widgets: the pipeline from the API to the dead-letter queues.
pub fn dashboard_body(
    names: &Names,
    region: &str,
    stage: &str,
    state_machine_arn: &str,
    socket_api_id: &str,
) -> String {
    let api = |metric: &str, stat: &str| -> Value {
        json!(["AWS/ApiGateway", metric, "ApiName", names.api(), "Stage", stage, {"stat": stat}])
    };
    let queue = |metric: &str, queue: String| -> Value {
        json!(["AWS/SQS", metric, "QueueName", queue, {"stat": "Maximum"}])
    };
    let execution = |metric: &str| -> Value {
        json!(["AWS/States", metric, "StateMachineArn", state_machine_arn, {"stat": "Sum"}])
    };
    let functions = |metric: &str, stat: &str| -> Vec<Value> {
        FUNCTIONS
            .iter()
            .map(|f| {
                json!(["AWS/Lambda", metric, "FunctionName", names.function(f.name), {"stat": stat}])
            })
            .collect()
    };
    let widget = |title: &str, metrics: Vec<Value>, x: u32, y: u32| -> Value {
        json!({
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "view": "timeSeries",
                "period": 60,
                "metrics": metrics,
            },
        })
    };
    json!({
        "widgets": [
            widget("API requests and errors", vec![
                api("Count", "Sum"), api("4XXError", "Sum"), api("5XXError", "Sum"),
            ], 0, 0),
            widget("API latency (ms)", vec![
                api("Latency", "p50"), api("Latency", "p99"), api("IntegrationLatency", "p99"),
            ], 12, 0),
            widget("Order queue", vec![
                queue("ApproximateNumberOfMessagesVisible", names.queue()),
                queue("ApproximateAgeOfOldestMessage", names.queue()),
            ], 0, 6),
            widget("Executions", vec![
                execution("ExecutionsStarted"), execution("ExecutionsSucceeded"),
                execution("ExecutionsFailed"), execution("ExecutionsTimedOut"),
                execution("ExecutionsAborted"),
            ], 12, 6),
            widget("Function duration p99 (ms)", functions("Duration", "p99"), 0, 12),
            widget("Function errors", functions("Errors", "Sum"), 12, 12),
            widget("Dead letters", vec![
                queue("ApproximateNumberOfMessagesVisible", names.dead_letter_queue()),
                queue("ApproximateNumberOfMessagesVisible", names.unsettled_dead_letter_queue()),
                queue("ApproximateNumberOfMessagesVisible", names.events_dead_letter_queue()),
                queue("ApproximateNumberOfMessagesVisible", names.push_dead_letter_queue()),
            ], 0, 18),
            widget("Order events and refunds", vec![
                json!(["AWS/EventBridge/Pipes", "EventCount", "PipeName", names.events_pipe(), {"stat": "Sum"}]),
                json!(["AWS/EventBridge/Pipes", "ExecutionFailed", "PipeName", names.events_pipe(), {"stat": "Sum"}]),
                json!(["AWS/Events", "FailedInvocations", "EventBusName", names.event_bus(), "RuleName", names.events_tap_rule(), {"stat": "Sum"}]),
                json!([NAMESPACE, REFUNDS_FAILED, {"stat": "Sum"}]),
            ], 12, 18),
            widget("Live status", vec![
                json!(["AWS/ApiGateway", "ConnectCount", "ApiId", socket_api_id, "Stage", orders_blueprint::live::STAGE, {"stat": "Sum"}]),
                json!(["AWS/ApiGateway", "IntegrationError", "ApiId", socket_api_id, "Stage", orders_blueprint::live::STAGE, {"stat": "Sum"}]),
                json!(["AWS/Events", "Invocations", "EventBusName", names.event_bus(), "RuleName", names.push_rule(), {"stat": "Sum"}]),
                json!(["AWS/Events", "FailedInvocations", "EventBusName", names.event_bus(), "RuleName", names.push_rule(), {"stat": "Sum"}]),
            ], 0, 24),
        ],
    })
    .to_string()
}

/// Creates the alarms, the metric they need of the workflow's log, and the dashboard.
pub fn create(ctx: &Context, names: &Names, watched: Watched) {
    log_metric_filter::create(
        ctx,
        "refunds-failed-metric",
        log_metric_filter::LogMetricFilterArgs::builder()
            .name(format!("{}-refunds-failed", names.state_machine()))
            .log_group_name(watched.workflow_log_group.clone())
            .pattern(refund_failed_pattern())
            .metric_transformation(
                LogMetricFilterMetricTransformation::builder()
                    .name(REFUNDS_FAILED.to_string())
                    .namespace(NAMESPACE.to_string())
                    .value("1".to_string())
                    .build_struct(),
            )
            .build_struct(),
    );
    for alarm in alarms(names, &watched) {
        let dimensions = all(alarm
            .dimensions
            .iter()
            .map(|(name, value)| {
                let name = name.to_string();
                value.map(move |value| (name.clone(), value))
            })
            .collect())
        .map(|pairs| pairs.into_iter().collect::<HashMap<String, String>>());
        metric_alarm::create(
            ctx,
            &alarm.logical_name,
            metric_alarm::MetricAlarmArgs::builder()
                .name(alarm.name)
                .alarm_description(alarm.description)
                .namespace(alarm.namespace)
                .metric_name(alarm.metric)
                .dimensions(dimensions)
                .statistic(alarm.statistic)
                .period(alarm.period_seconds)
                .evaluation_periods(1)
                .threshold(alarm.threshold)
                .comparison_operator("GreaterThanThreshold")
                .treat_missing_data("notBreaching")
                .alarm_actions(watched.alarm_topic_arn.map(|arn| vec![arn]))
                .ok_actions(watched.alarm_topic_arn.map(|arn| vec![arn]))
                .build_struct(),
        );
    }
    let (names_, region, stage) = (
        names.clone(),
        watched.region.to_string(),
        watched.stage.to_string(),
    );
    dashboard::create(
        ctx,
        "dashboard",
        dashboard::DashboardArgs::builder()
            .dashboard_name(names.dashboard())
            .dashboard_body(
                pulumi_gestalt_rust::pulumi_combine!(
                    watched.state_machine_arn.clone(),
                    watched.socket_api_id.clone()
                )
                .map(move |(arn, socket)| dashboard_body(&names_, &region, &stage, &arn, &socket)),
            )
            .build_struct(),
    );
}

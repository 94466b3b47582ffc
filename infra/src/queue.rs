//! The order queue, its dead-letter queue, and the alarm that says the DLQ is not empty.

use crate::aws::cloudwatch::metric_alarm;
use crate::aws::sqs::queue;
use orders_blueprint::{
    DLQ_RETENTION_SECONDS, Names, QUEUE_RETENTION_SECONDS, QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    redrive_policy,
};
use pulumi_gestalt_rust::{Context, Output};
use std::collections::HashMap;

pub struct Queues {
    pub queue_arn: Output<String>,
    pub queue_url: Output<String>,
    pub dlq_url: Output<String>,
}

pub fn create(ctx: &Context, names: &Names, alarm_topic_arn: &Output<String>) -> Queues {
    let dlq = dead_letter_queue(ctx, "order-dlq", names.dead_letter_queue());

    let queue = queue::create(
        ctx,
        "order-queue",
        queue::QueueArgs::builder()
            .name(names.queue())
            .visibility_timeout_seconds(QUEUE_VISIBILITY_TIMEOUT_SECONDS as i32)
            .message_retention_seconds(QUEUE_RETENTION_SECONDS as i32)
            .sqs_managed_sse_enabled(true)
            .redrive_policy(dlq.arn.map(|arn| redrive_policy(&arn)))
            .build_struct(),
    );

    // Any message in the DLQ is an order nobody will process: alarm at the first one.
    not_empty_alarm(
        ctx,
        "order-dlq-alarm",
        names.dead_letter_queue(),
        "Orders reached the dead-letter queue after 3 failed receives: inspect and redrive them.",
        alarm_topic_arn,
    );

    Queues {
        queue_arn: queue.arn,
        queue_url: queue.url,
        dlq_url: dlq.url,
    }
}

/// A dead-letter queue: encrypted, keeping its messages as long as SQS allows.
pub fn dead_letter_queue(ctx: &Context, logical_name: &str, name: String) -> queue::QueueResult {
    queue::create(
        ctx,
        logical_name,
        queue::QueueArgs::builder()
            .name(name)
            .message_retention_seconds(DLQ_RETENTION_SECONDS as i32)
            .sqs_managed_sse_enabled(true)
            .build_struct(),
    )
}

/// An alarm, to the alarms topic, at the first message visible in the queue `queue_name`
/// (and an all-clear once it is empty again).
pub fn not_empty_alarm(
    ctx: &Context,
    logical_name: &str,
    queue_name: String,
    description: &str,
    alarm_topic_arn: &Output<String>,
) {
    metric_alarm::create(
        ctx,
        logical_name,
        metric_alarm::MetricAlarmArgs::builder()
            .name(format!("{queue_name}-not-empty"))
            .alarm_description(description)
            .namespace("AWS/SQS")
            .metric_name("ApproximateNumberOfMessagesVisible")
            .dimensions(HashMap::from([("QueueName".to_string(), queue_name)]))
            .statistic("Maximum")
            .period(60)
            .evaluation_periods(1)
            .threshold(0.0)
            .comparison_operator("GreaterThanThreshold")
            .treat_missing_data("notBreaching")
            .alarm_actions(alarm_topic_arn.map(|arn| vec![arn]))
            .ok_actions(alarm_topic_arn.map(|arn| vec![arn]))
            .build_struct(),
    );
}

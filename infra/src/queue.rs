//! The order queue and its dead-letter queue (whose alarms are in `monitoring`).

use crate::aws::sqs::queue;
use orders_blueprint::{
    DLQ_RETENTION_SECONDS, Names, QUEUE_RETENTION_SECONDS, QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    redrive_policy,
};
use pulumi_gestalt_rust::{Context, Output};

pub struct Queues {
    pub queue_arn: Output<String>,
    pub queue_url: Output<String>,
    pub dlq_url: Output<String>,
}

pub fn create(ctx: &Context, names: &Names) -> Queues {
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

/// The queue policy that lets one EventBridge rule, and nothing else, send to a queue
/// ("Permissions for Amazon SQS" and "Granting permissions to the dead-letter queue",
/// EventBridge: principal events.amazonaws.com, the rule's ARN as `aws:SourceArn`).
pub fn rule_may_send(sid: &str, queue_arn: &str, rule_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }],
    })
    .to_string()
}

//! How an EventBridge rule hands its events to a function: only that rule may invoke the
//! function, EventBridge retries a failed delivery for a while, and an event it still could
//! not deliver waits in a dead-letter queue that only that rule may write to ("Granting
//! permissions to the dead-letter queue", EventBridge). The unsettled executions' rule and
//! the push rule are made alike.

use crate::aws::cloudwatch::event_target;
use crate::aws::lambda::permission;
use crate::aws::sqs::queue_policy;
use crate::aws::types::cloudwatch::{EventTargetDeadLetterConfig, EventTargetRetryPolicy};
use crate::functions::Function;
use crate::outputs::after;
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};

/// One rule's delivery to one function.
pub struct Delivery<'a> {
    /// What the resources' logical names start with (`{key}-dlq`, `{key}-target`, …).
    pub key: &'static str,
    pub rule_name: &'a Output<String>,
    pub rule_arn: &'a Output<String>,
    /// The rule's bus, unless it is the default one.
    pub bus_name: Option<&'a Output<String>>,
    pub function: &'a Function,
    /// The target's id in the rule.
    pub target_id: &'static str,
    /// The permission's statement id, and the dead-letter queue policy's.
    pub statement_id: &'static str,
    pub dead_letter_sid: &'static str,
    pub dead_letter_queue: String,
    pub retry_attempts: u32,
    pub event_age_seconds: u32,
}

/// Creates the permission, the dead-letter queue and its policy, and the target; returns the
/// queue's URL.
pub fn to_function(ctx: &Context, delivery: Delivery) -> Output<String> {
    let key = delivery.key;
    let dlq =
        crate::queue::dead_letter_queue(ctx, &format!("{key}-dlq"), delivery.dead_letter_queue);
    let sid = delivery.dead_letter_sid;
    let policy = queue_policy::create(
        ctx,
        &format!("{key}-dlq-policy"),
        queue_policy::QueuePolicyArgs::builder()
            .queue_url(dlq.url.clone())
            .policy(
                pulumi_combine!(dlq.arn.clone(), delivery.rule_arn.clone())
                    .map(move |(queue, rule)| crate::queue::rule_may_send(sid, &queue, &rule)),
            )
            .build_struct(),
    );
    let allowed = permission::create(
        ctx,
        &format!("{key}-permission"),
        permission::PermissionArgs::builder()
            .statement_id(delivery.statement_id)
            .action("lambda:InvokeFunction")
            .function(delivery.function.name.clone())
            .principal("events.amazonaws.com")
            .source_arn(delivery.rule_arn.clone())
            .build_struct(),
    );
    // The target is added once the function accepts the rule's calls and the queue its
    // leftovers.
    let ready = pulumi_combine!(allowed.id.clone(), policy.id.clone());
    event_target::create(
        ctx,
        &format!("{key}-target"),
        event_target::EventTargetArgs::builder()
            .rule(after(delivery.rule_name, &ready))
            .maybe_event_bus_name(delivery.bus_name.cloned())
            .target_id(delivery.target_id)
            .arn(delivery.function.arn.clone())
            .retry_policy(
                EventTargetRetryPolicy::builder()
                    .maximum_retry_attempts(delivery.retry_attempts as i32)
                    .maximum_event_age_in_seconds(delivery.event_age_seconds as i32)
                    .build_struct(),
            )
            .dead_letter_config(dlq.arn.map(|arn| {
                EventTargetDeadLetterConfig::builder()
                    .arn(arn)
                    .build_struct()
            }))
            .build_struct(),
    );
    dlq.url
}

//! Executions that end without settling their order (stopped by hand, timed out, failed
//! outside the workflow's own Catch): an EventBridge rule on this state machine's
//! "Step Functions Execution Status Change" events sends them to manage-order-state, which
//! marks the order `FAILED` and tells the customer. EventBridge retries the function for a
//! day; an event it still could not deliver waits in a dead-letter queue that alarms.

use crate::aws::cloudwatch::{event_rule, event_target};
use crate::aws::lambda::permission;
use crate::aws::sqs::queue_policy;
use crate::aws::types::cloudwatch::{EventTargetDeadLetterConfig, EventTargetRetryPolicy};
use crate::functions::Function;
use crate::outputs::after;
use orders_blueprint::{
    Names, UNSETTLED_EVENT_AGE_SECONDS, UNSETTLED_RETRY_ATTEMPTS, unsettled_executions_pattern,
};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};

/// The EventBridge service, as a principal.
const EVENTS: &str = "events.amazonaws.com";

pub struct Inputs<'a> {
    pub state_machine_arn: &'a Output<String>,
    pub manage_order_state: &'a Function,
}

/// The queue policy that lets this rule, and nothing else, put its undeliverable events in
/// the dead-letter queue.
pub fn dead_letter_policy(queue_arn: &str, rule_arn: &str) -> String {
    crate::queue::rule_may_send("UnsettledExecutionEvents", queue_arn, rule_arn)
}

/// Creates the rule, its target and dead-letter queue; returns the queue's URL.
pub fn create(ctx: &Context, names: &Names, inputs: Inputs) -> Output<String> {
    let rule = event_rule::create(
        ctx,
        "unsettled-rule",
        event_rule::EventRuleArgs::builder()
            .name(names.unsettled_rule())
            .description("Executions of the order workflow that end FAILED, TIMED_OUT or ABORTED")
            .event_pattern(
                inputs
                    .state_machine_arn
                    .map(|arn| unsettled_executions_pattern(&arn)),
            )
            .build_struct(),
    );

    let dlq =
        crate::queue::dead_letter_queue(ctx, "unsettled-dlq", names.unsettled_dead_letter_queue());
    let policy = queue_policy::create(
        ctx,
        "unsettled-dlq-policy",
        queue_policy::QueuePolicyArgs::builder()
            .queue_url(dlq.url.clone())
            .policy(
                pulumi_combine!(dlq.arn.clone(), rule.arn.clone())
                    .map(|(queue, rule)| dead_letter_policy(&queue, &rule)),
            )
            .build_struct(),
    );

    // Only this rule may invoke the function on EventBridge's behalf.
    let allowed = permission::create(
        ctx,
        "unsettled-permission",
        permission::PermissionArgs::builder()
            .statement_id("AllowUnsettledExecutionEvents")
            .action("lambda:InvokeFunction")
            .function(inputs.manage_order_state.name.clone())
            .principal(EVENTS)
            .source_arn(rule.arn.clone())
            .build_struct(),
    );

    // The target is added once the function accepts the rule's calls and the queue its
    // leftovers.
    let ready = pulumi_combine!(allowed.id.clone(), policy.id.clone());
    event_target::create(
        ctx,
        "unsettled-target",
        event_target::EventTargetArgs::builder()
            .rule(after(&rule.name, &ready))
            .target_id("manage-order-state")
            .arn(inputs.manage_order_state.arn.clone())
            .retry_policy(
                EventTargetRetryPolicy::builder()
                    .maximum_retry_attempts(UNSETTLED_RETRY_ATTEMPTS as i32)
                    .maximum_event_age_in_seconds(UNSETTLED_EVENT_AGE_SECONDS as i32)
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

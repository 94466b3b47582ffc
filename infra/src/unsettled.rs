//! Executions that end without settling their order (stopped by hand, timed out, failed
//! outside the workflow's own Catch): an EventBridge rule on this state machine's
//! "Step Functions Execution Status Change" events sends them to manage-order-state, which
//! marks the order `FAILED` and tells the customer. EventBridge retries the function for a
//! day; an event it still could not deliver waits in a dead-letter queue that alarms.

use crate::aws::cloudwatch::event_rule;
use crate::functions::Function;
use orders_blueprint::{
    Names, UNSETTLED_EVENT_AGE_SECONDS, UNSETTLED_RETRY_ATTEMPTS, unsettled_executions_pattern,
};
use pulumi_gestalt_rust::{Context, Output};

pub struct Inputs<'a> {
    pub state_machine_arn: &'a Output<String>,
    pub manage_order_state: &'a Function,
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
    crate::delivery::to_function(
        ctx,
        crate::delivery::Delivery {
            key: "unsettled",
            rule_name: &rule.name,
            rule_arn: &rule.arn,
            bus_name: None,
            function: inputs.manage_order_state,
            target_id: "manage-order-state",
            statement_id: "AllowUnsettledExecutionEvents",
            dead_letter_sid: "UnsettledExecutionEvents",
            dead_letter_queue: names.unsettled_dead_letter_queue(),
            retry_attempts: UNSETTLED_RETRY_ATTEMPTS,
            event_age_seconds: UNSETTLED_EVENT_AGE_SECONDS,
        },
    )
}

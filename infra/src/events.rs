//! The order events: a custom EventBridge bus with an event for every committed status
//! change, fed from the table's stream by an EventBridge pipe (order-events as its
//! enrichment), never by the functions that write. An archive on the bus keeps the events
//! for replay; a tap queue subscribed to every order event serves consumers that want a
//! queue and `tests/smoke.sh`.

use crate::aws::cloudwatch::{event_archive, event_bus, event_rule, event_target};
use crate::aws::pipes::pipe;
use crate::aws::sqs::queue_policy;
use crate::aws::types::pipes::{
    PipeSourceParameters, PipeSourceParametersDynamodbStreamParameters,
    PipeSourceParametersDynamodbStreamParametersDeadLetterConfig,
    PipeSourceParametersFilterCriteria, PipeSourceParametersFilterCriteriaFilter,
    PipeTargetParameters, PipeTargetParametersEventbridgeEventBusParameters,
};
use crate::functions::Function;
use crate::iam::{Grant, role_with_policy};
use crate::outputs::after;
use crate::table::Table;
use orders_blueprint::Names;
use orders_blueprint::events::{
    ARCHIVE_RETENTION_DAYS, PIPE_BATCH_SIZE, PIPE_MAX_RECORD_AGE_SECONDS, PIPE_RETRY_ATTEMPTS,
    STARTING_POSITION, pipe_filter, tap_pattern,
};
use orders_core::events::{DETAIL_TYPE, SOURCE};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};

/// What the rest of the stack sees of the events.
pub struct Events {
    pub bus_name: Output<String>,
    pub bus_arn: Output<String>,
    pub tap_queue_url: Output<String>,
}

/// The queue policy that lets the tap rule, and nothing else, send to the tap queue.
pub fn tap_policy(queue_arn: &str, rule_arn: &str) -> String {
    crate::queue::rule_may_send("OrderEventsTap", queue_arn, rule_arn)
}

pub fn create(ctx: &Context, names: &Names, table: &Table, enrichment: &Function) -> Events {
    let bus = event_bus::create(
        ctx,
        "orders-bus",
        event_bus::EventBusArgs::builder()
            .name(names.event_bus())
            .build_struct(),
    );
    event_archive::create(
        ctx,
        "orders-archive",
        event_archive::EventArchiveArgs::builder()
            .name(names.event_archive())
            .description("Every order event, kept for replay")
            .event_source_arn(bus.arn.clone())
            .retention_days(ARCHIVE_RETENTION_DAYS as i32)
            .build_struct(),
    );

    // Batches the pipe could not deliver after its retries: their place in the stream.
    let dlq = crate::queue::dead_letter_queue(ctx, "events-dlq", names.events_dead_letter_queue());
    let stream_arn = table.stream_arn.clone();
    let role_arn = role_with_policy(
        ctx,
        "events-pipe-role",
        format!("{}-role", names.events_pipe()),
        "Runs the pipe from the orders table's stream to the orders event bus",
        "pipes.amazonaws.com",
        vec![
            // What a pipe needs of a DynamoDB stream source ("Event source permissions for
            // Amazon EventBridge Pipes"): three reads on the stream, and the listing.
            Grant::new(
                "ReadOrderStream",
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ],
                vec![stream_arn.clone()],
            ),
            Grant::on_any_resource("ListStreams", crate::iam::LIST_STREAMS),
            Grant::new(
                "Enrich",
                &["lambda:InvokeFunction"],
                vec![enrichment.arn.clone()],
            ),
            Grant::new(
                "PublishOrderEvents",
                &["events:PutEvents"],
                vec![bus.arn.clone()],
            ),
            Grant::new("DeadLetter", &["sqs:SendMessage"], vec![dlq.arn.clone()]),
        ],
    );
    pipe::create(
        ctx,
        "events-pipe",
        pipe::PipeArgs::builder()
            .name(names.events_pipe())
            .description("Orders table stream → order-events → orders event bus")
            .role_arn(role_arn)
            .source(stream_arn)
            .enrichment(enrichment.arn.clone())
            .target(bus.arn.clone())
            .source_parameters(dlq.arn.map(|dlq_arn| {
                PipeSourceParameters::builder()
                    .dynamodb_stream_parameters(
                        PipeSourceParametersDynamodbStreamParameters::builder()
                            .starting_position(STARTING_POSITION.to_string())
                            .batch_size(PIPE_BATCH_SIZE as i32)
                            .maximum_retry_attempts(PIPE_RETRY_ATTEMPTS as i32)
                            .maximum_record_age_in_seconds(PIPE_MAX_RECORD_AGE_SECONDS)
                            .on_partial_batch_item_failure("AUTOMATIC_BISECT".to_string())
                            .dead_letter_config(
                                PipeSourceParametersDynamodbStreamParametersDeadLetterConfig::builder()
                                    .arn(dlq_arn)
                                    .build_struct(),
                            )
                            .build_struct(),
                    )
                    .filter_criteria(
                        PipeSourceParametersFilterCriteria::builder()
                            .filters(vec![
                                PipeSourceParametersFilterCriteriaFilter::builder()
                                    .pattern(pipe_filter())
                                    .build_struct(),
                            ])
                            .build_struct(),
                    )
                    .build_struct()
            }))
            .target_parameters(
                PipeTargetParameters::builder()
                    .eventbridge_event_bus_parameters(
                        PipeTargetParametersEventbridgeEventBusParameters::builder()
                            .source(SOURCE.to_string())
                            .detail_type(DETAIL_TYPE.to_string())
                            .build_struct(),
                    )
                    .build_struct(),
            )
            .build_struct(),
    );

    // The tap: a queue that gets every order event.
    let tap = crate::queue::dead_letter_queue(ctx, "events-tap", names.events_tap_queue());
    let rule = event_rule::create(
        ctx,
        "events-tap-rule",
        event_rule::EventRuleArgs::builder()
            .name(names.events_tap_rule())
            .description("Every order event, to the tap queue")
            .event_bus_name(bus.name.clone())
            .event_pattern(tap_pattern())
            .build_struct(),
    );
    let policy = queue_policy::create(
        ctx,
        "events-tap-policy",
        queue_policy::QueuePolicyArgs::builder()
            .queue_url(tap.url.clone())
            .policy(
                pulumi_combine!(tap.arn.clone(), rule.arn.clone())
                    .map(|(queue, rule)| tap_policy(&queue, &rule)),
            )
            .build_struct(),
    );
    event_target::create(
        ctx,
        "events-tap-target",
        event_target::EventTargetArgs::builder()
            .rule(after(&rule.name, &policy.id))
            .event_bus_name(bus.name.clone())
            .target_id("tap-queue")
            .arn(tap.arn.clone())
            .build_struct(),
    );

    Events {
        bus_name: bus.name,
        bus_arn: bus.arn,
        tap_queue_url: tap.url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tap_rule_may_send_to_the_tap_queue() {
        let policy: serde_json::Value =
            serde_json::from_str(&tap_policy("arn:queue", "arn:rule")).unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Principal"]["Service"], "events.amazonaws.com");
        assert_eq!(statement["Action"], "sqs:SendMessage");
        assert_eq!(statement["Resource"], "arn:queue");
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"],
            "arn:rule"
        );
    }
}

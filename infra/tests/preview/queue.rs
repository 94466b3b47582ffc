//! The queue, its dead-letter queue and the consumer's event source mapping.

use super::*;

#[test]
fn the_queue_is_encrypted_and_redrives_to_the_dlq_after_three_receives() {
    let plan = update();
    let names = Names::new("orders-dev");
    let queue = one(plan, "aws:sqs/queue:Queue", "order-queue");
    let dlq = one(plan, "aws:sqs/queue:Queue", "order-dlq");
    assert_eq!(text(queue, "name"), names.queue());
    assert_eq!(text(dlq, "name"), names.dead_letter_queue());
    let redrive = parse(text(queue, "redrivePolicy"));
    assert_eq!(
        redrive,
        json!({
            "deadLetterTargetArn": format!("arn:aws:sqs:{REGION}:123456789012:{}", names.dead_letter_queue()),
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        })
    );
    assert_eq!(MAX_RECEIVE_COUNT, 3);
    for q in [queue, dlq] {
        assert_eq!(input(q, "sqsManagedSseEnabled"), true);
    }
    let consumer = one(plan, "aws:lambda/function:Function", "start-order");
    let timeout = input(consumer, "timeout").as_i64().unwrap();
    assert!(input(queue, "visibilityTimeoutSeconds").as_i64().unwrap() >= 6 * timeout);

    let mapping = one(
        plan,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "order-queue-consumer",
    );
    assert_eq!(
        input(mapping, "eventSourceArn"),
        format!("arn:aws:sqs:{REGION}:123456789012:{}", names.queue()).as_str()
    );
    assert_eq!(text(mapping, "functionName"), names.function("start-order"));
    assert_eq!(
        input(mapping, "functionResponseTypes"),
        &json!(["ReportBatchItemFailures"])
    );
    assert_eq!(input(mapping, "batchSize"), 10);

    let alarm = one(
        plan,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "order-dlq-alarm",
    );
    assert_eq!(
        input(alarm, "dimensions"),
        &json!({"QueueName": names.dead_letter_queue()})
    );
    assert_eq!(
        text(alarm, "metricName"),
        "ApproximateNumberOfMessagesVisible"
    );
    assert_eq!(text(alarm, "comparisonOperator"), "GreaterThanThreshold");
    assert_eq!(input(alarm, "threshold"), 0);
    assert_eq!(
        input(alarm, "alarmActions"),
        &json!([format!(
            "arn:aws:sns:{REGION}:123456789012:{}",
            names.alarm_topic()
        )])
    );
}

//! Executions that end unsettled: the EventBridge rule on this state machine only, its
//! target (manage-order-state) with retries and a dead-letter queue, and who may use them.

use super::*;

const ACCOUNT: &str = "123456789012";

#[test]
fn an_execution_that_ends_unsettled_reaches_manage_order_state_or_an_alarmed_queue() {
    let plan = update();
    let names = Names::new("orders-dev");
    let machine = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders-dev-workflow");
    let rule_arn = format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/orders-dev-execution-unsettled");
    let function =
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-dev-manage-order-state");
    let dlq_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dev-execution-unsettled-dlq");

    // The rule: this state machine's executions, and only the ends that leave an order
    // unsettled (a SUCCEEDED execution settled its order itself).
    let rule = one(plan, "aws:cloudwatch/eventRule:EventRule", "unsettled-rule");
    assert_eq!(text(rule, "name"), names.unsettled_rule());
    assert_eq!(
        parse(text(rule, "eventPattern")),
        json!({
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {
                "stateMachineArn": [machine],
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            },
        })
    );

    // Its target: manage-order-state, retried for a day, then the dead-letter queue.
    let target = one(
        plan,
        "aws:cloudwatch/eventTarget:EventTarget",
        "unsettled-target",
    );
    assert_eq!(text(target, "rule"), names.unsettled_rule());
    assert_eq!(text(target, "arn"), function);
    assert_eq!(
        input(target, "retryPolicy"),
        &json!({"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 86400})
    );
    assert_eq!(input(target, "deadLetterConfig"), &json!({"arn": dlq_arn}));

    // Only this rule may invoke the function for EventBridge.
    let permission = one(
        plan,
        "aws:lambda/permission:Permission",
        "unsettled-permission",
    );
    assert_eq!(text(permission, "principal"), "events.amazonaws.com");
    assert_eq!(text(permission, "action"), "lambda:InvokeFunction");
    assert_eq!(
        text(permission, "function"),
        "orders-dev-manage-order-state"
    );
    assert_eq!(text(permission, "sourceArn"), rule_arn);

    // The dead-letter queue: encrypted, kept two weeks, writable by this rule alone, alarmed.
    let dlq = one(plan, "aws:sqs/queue:Queue", "unsettled-dlq");
    assert_eq!(text(dlq, "name"), names.unsettled_dead_letter_queue());
    assert_eq!(input(dlq, "sqsManagedSseEnabled"), true);
    assert_eq!(input(dlq, "messageRetentionSeconds"), 14 * 24 * 3600);
    let policy = one(
        plan,
        "aws:sqs/queuePolicy:QueuePolicy",
        "unsettled-dlq-policy",
    );
    assert_eq!(
        text(policy, "queueUrl"),
        format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-dev-execution-unsettled-dlq")
    );
    assert_eq!(
        parse(text(policy, "policy"))["Statement"],
        json!([{
            "Sid": "UnsettledExecutionEvents",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": dlq_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }])
    );
    let alarm = one(
        plan,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "unsettled-dlq-alarm",
    );
    assert_eq!(text(alarm, "namespace"), "AWS/SQS");
    assert_eq!(
        input(alarm, "dimensions"),
        &json!({"QueueName": names.unsettled_dead_letter_queue()})
    );
    assert_eq!(
        input(alarm, "alarmActions"),
        &json!([format!(
            "arn:aws:sns:{REGION}:{ACCOUNT}:{}",
            names.alarm_topic()
        )])
    );
    assert_eq!(
        plan.outputs["unsettledDlqUrl"],
        format!("https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-dev-execution-unsettled-dlq")
    );
}

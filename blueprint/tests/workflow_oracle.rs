//! The deployed state machine run by an ASL interpreter of another author
//! (aws-local-stepfunctions, `tools/oracles/asl.mjs`), each task answered by a scripted
//! outcome: which task gets which payload, and how each path ends. Every payload must be
//! one the task's function accepts.

use orders_blueprint::workflow::{Substitutions, render};
use serde_json::{Value, json};

#[path = "../../tools/oracles/node.rs"]
mod node;

const MANAGE: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-dev-manage-order-state";
const PAY: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-dev-process-payment";
const SEND: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-dev-send-order";

fn definition() -> Value {
    let text = render(&Substitutions {
        manage_order_state_arn: MANAGE.into(),
        process_payment_arn: PAY.into(),
        send_order_arn: SEND.into(),
        wait_seconds: orders_core::WaitSeconds::DEFAULT,
        execution_timeout_seconds: None,
    })
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The execution input start-order gives: the order id and the normalised order.
fn input() -> Value {
    json!({
        "order_id": "Jl-yYG0uIAMFeWQ=",
        "order": {"user_id": "u-1", "restaurant_id": "Restaurant 4", "quantity": 3}
    })
}

struct Run {
    status: String,
    error: Option<String>,
    /// (state, payload) of each task invocation, in order.
    calls: Vec<(String, Value)>,
}

impl Run {
    fn states(&self) -> Vec<&str> {
        self.calls.iter().map(|(state, _)| state.as_str()).collect()
    }

    fn payload_of(&self, state: &str) -> &Value {
        &self
            .calls
            .iter()
            .find(|(name, _)| name == state)
            .unwrap_or_else(|| panic!("{state} was not called: {:?}", self.states()))
            .1
    }
}

/// Runs the definition; a look during the wait not scripted finds the wait over.
fn run(definition: &Value, mut tasks: Value) -> Run {
    if tasks.get("WatchForCancel").is_none() {
        tasks["WatchForCancel"] = watch(0, 0);
    }
    let answer = node::run(
        "asl.mjs",
        &json!({ "definition": definition, "input": input(), "tasks": tasks }),
    );
    let calls = answer["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|call| {
            let input = &call["input"];
            let function = input["FunctionName"].as_str().unwrap();
            assert!([MANAGE, PAY, SEND].contains(&function), "{function}");
            (
                call["state"].as_str().unwrap().to_string(),
                input["Payload"].clone(),
            )
        })
        .collect();
    Run {
        status: answer["status"].as_str().unwrap().to_string(),
        error: answer["error"].as_str().map(String::from),
        calls,
    }
}

/// Each payload parses as the request of the function the state calls.
fn assert_functions_accept(run: &Run) {
    for (state, payload) in &run.calls {
        let parsed = match state.as_str() {
            "ProcessPayment" | "Refund" => {
                serde_json::from_value::<process_payment::Request>(payload.clone()).map(drop)
            }
            "SendOrder" => serde_json::from_value::<send_order::Request>(payload.clone()).map(drop),
            _ => serde_json::from_value::<manage_order_state::Request>(payload.clone()).map(drop),
        };
        parsed.unwrap_or_else(|err| {
            panic!("{state} sends what its function refuses: {err}: {payload}")
        });
    }
}

fn payment(outcome: &str) -> Value {
    json!({ "result": { "Payload": { "payment_id": "pay_1", "outcome": outcome } } })
}

/// manage-order-state's answer to a look during the wait.
fn watch(left: u32, sleep: u32) -> Value {
    json!({ "result": { "Payload": { "left": left, "sleep": sleep } } })
}

fn cancelled() -> Value {
    json!({ "throw": { "name": "OrderCancelled", "message": "order Jl-yYG0uIAMFeWQ= was cancelled by its customer" } })
}

fn refunded() -> Value {
    json!({ "result": { "Payload": { "refund_id": "re_1", "payment_id": "pay_1" } } })
}

/// send-order's answer: the hand-off.
fn dispatched() -> Value {
    json!({ "result": { "Payload": { "reference": "ref-1", "sent_at": "2026-11-27T12:00:00Z" } } })
}

#[test]
fn a_paid_order_is_saved_charged_handed_over_and_marked_sent() {
    let run = run(
        &definition(),
        json!({ "ProcessPayment": payment("PAID"), "SendOrder": dispatched() }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert_eq!(
        run.states(),
        [
            "SaveOrder",
            "ProcessPayment",
            "WatchForCancel",
            "MarkPaid",
            "SendOrder",
            "MarkSent"
        ]
    );
    assert_functions_accept(&run);
    assert_eq!(run.payload_of("MarkPaid")["payment"]["outcome"], "PAID");
    assert_eq!(run.payload_of("MarkSent")["status"], "SENT_TO_RESTAURANT");
}

#[test]
fn a_declined_order_is_marked_payment_failed_and_never_sent() {
    let run = run(
        &definition(),
        json!({ "ProcessPayment": payment("DECLINED") }),
    );
    assert_eq!(run.status, "SUCCEEDED");
    assert_eq!(
        run.states(),
        [
            "SaveOrder",
            "ProcessPayment",
            "WatchForCancel",
            "MarkPaymentFailed"
        ]
    );
    assert_functions_accept(&run);
    assert_eq!(
        run.payload_of("MarkPaymentFailed")["status"],
        "PAYMENT_FAILED"
    );
}

#[test]
fn a_task_that_fails_for_good_marks_the_order_failed_with_its_error() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "SendOrder": { "throw": { "name": "RestaurantClosed", "message": "closed on Mondays" } }
        }),
    );
    assert_eq!(run.status, "FAILED");
    assert_eq!(run.error.as_deref(), Some("OrderFailed"));
    assert_functions_accept(&run);
    let marked = run.payload_of("MarkFailed");
    assert_eq!(marked["status"], "FAILED");
    assert_eq!(
        marked["failure"],
        json!({"Error": "RestaurantClosed", "Cause": "closed on Mondays"})
    );
}

#[test]
fn an_error_without_a_cause_still_marks_the_order_failed() {
    // States.Timeout, retried, then caught: its error output has no Cause.
    let run = run(
        &definition(),
        json!({ "SaveOrder": { "throw": { "name": "States.Timeout" } } }),
    );
    assert_eq!(
        run.error.as_deref(),
        Some("OrderFailed"),
        "{:?}",
        run.states()
    );
    assert_functions_accept(&run);
    let marked = run.payload_of("MarkFailed");
    assert_eq!(marked["failure"], json!({"Error": "States.Timeout"}));
    assert_eq!(marked["order"], input()["order"], "the order travels along");
}

#[test]
fn a_failure_path_reading_the_cause_dies_on_an_error_without_one() {
    // What the failure path was: the interpreter ends it with the uncatchable
    // States.Runtime before the order is marked. The oracle sees the fault it guards.
    let mut old = definition();
    let payload = old["States"]["MarkFailed"]["Parameters"]["Payload"]
        .as_object_mut()
        .unwrap();
    payload.remove("failure.$").expect("the failure goes whole");
    payload.insert(
        "failure".into(),
        json!({"error.$": "$.error.Error", "cause.$": "$.error.Cause"}),
    );
    let run = run(
        &old,
        json!({ "SaveOrder": { "throw": { "name": "States.Timeout" } } }),
    );
    assert_eq!(run.error.as_deref(), Some("States.Runtime"));
    assert!(!run.states().contains(&"MarkFailed"));
}

#[test]
fn the_wait_is_taken_in_naps_between_looks_for_a_cancel() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "WatchForCancel": [watch(20, 10), watch(10, 10), watch(0, 10), watch(0, 0)],
            "SendOrder": dispatched(),
        }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    let looks: Vec<&Value> = run
        .calls
        .iter()
        .filter(|(state, _)| state == "WatchForCancel")
        .map(|(_, payload)| payload)
        .collect();
    // Each look is told what is left of the wait, as the one before answered.
    let left: Vec<&Value> = looks.iter().map(|payload| &payload["left"]).collect();
    assert_eq!(left, [&json!(30), &json!(20), &json!(10), &json!(0)]);
    assert!(looks.iter().all(|payload| payload["every"] == 10));
    assert_functions_accept(&run);
    assert!(
        run.states()
            .ends_with(&["MarkPaid", "SendOrder", "MarkSent"])
    );
}

#[test]
fn a_cancel_before_payment_ends_cancelled_with_nothing_to_refund() {
    // The save is retried after the customer cancelled: nothing is charged.
    let run = run(&definition(), json!({ "SaveOrder": cancelled() }));
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert_eq!(run.states(), ["SaveOrder", "MarkCancelled"]);
    assert_functions_accept(&run);
    assert_eq!(
        run.payload_of("MarkCancelled"),
        &json!({"action": "cancelled", "order_id": "Jl-yYG0uIAMFeWQ="})
    );
}

#[test]
fn a_cancel_during_the_wait_ends_it_at_the_next_look_and_refunds_the_charge() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "WatchForCancel": [watch(20, 10), cancelled()],
            "Refund": refunded(),
        }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert_eq!(
        run.states(),
        [
            "SaveOrder",
            "ProcessPayment",
            "WatchForCancel",
            "WatchForCancel",
            "Refund",
            "MarkRefunded"
        ]
    );
    assert_functions_accept(&run);
    assert_eq!(run.payload_of("Refund")["payment_id"], "pay_1");
    assert_eq!(
        run.payload_of("MarkRefunded")["refund"],
        json!({"refund_id": "re_1", "payment_id": "pay_1"})
    );
}

#[test]
fn a_declined_order_cancelled_during_the_wait_has_nothing_to_refund() {
    let run = run(
        &definition(),
        json!({ "ProcessPayment": payment("DECLINED"), "WatchForCancel": cancelled() }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert_eq!(
        run.states(),
        [
            "SaveOrder",
            "ProcessPayment",
            "WatchForCancel",
            "MarkCancelled"
        ]
    );
}

#[test]
fn a_cancel_that_wins_the_race_with_the_hand_off_is_refunded_and_never_sent() {
    for (lost_in, script) in [
        (
            "MarkPaid",
            json!({ "ProcessPayment": payment("PAID"), "MarkPaid": cancelled(), "Refund": refunded() }),
        ),
        (
            "SendOrder",
            json!({ "ProcessPayment": payment("PAID"), "SendOrder": cancelled(), "Refund": refunded() }),
        ),
    ] {
        let run = run(&definition(), script);
        assert_eq!(run.status, "SUCCEEDED", "{lost_in}: {:?}", run.error);
        let states = run.states();
        assert!(
            states.ends_with(&[lost_in, "Refund", "MarkRefunded"]),
            "{lost_in}: {states:?}"
        );
        assert!(!states.contains(&"MarkSent"), "{lost_in}: {states:?}");
        assert_functions_accept(&run);
    }
}

#[test]
fn a_refund_that_fails_transiently_is_retried_and_completes() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "WatchForCancel": cancelled(),
            "Refund": [
                { "throw": { "name": "DependencyError", "message": "the provider was away" } },
                { "throw": { "name": "Lambda.ServiceException", "message": "try again" } },
                refunded()
            ],
        }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    let refunds = run.states().iter().filter(|s| **s == "Refund").count();
    assert_eq!(refunds, 3, "{:?}", run.states());
    assert!(run.states().ends_with(&["Refund", "MarkRefunded"]));
}

#[test]
fn a_refund_that_fails_for_good_is_recorded_and_fails_the_execution() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "WatchForCancel": cancelled(),
            "Refund": { "throw": { "name": "CardClosed", "message": "the card no longer exists" } },
        }),
    );
    assert_eq!(run.status, "FAILED");
    assert_eq!(run.error.as_deref(), Some("RefundFailed"));
    assert!(run.states().ends_with(&["Refund", "MarkRefundFailed"]));
    assert_functions_accept(&run);
    assert_eq!(
        run.payload_of("MarkRefundFailed")["refund_failure"],
        json!({"Error": "CardClosed", "Cause": "the card no longer exists"})
    );
}

#[test]
fn a_cancel_seen_only_by_the_failure_path_is_still_compensated() {
    let run = run(
        &definition(),
        json!({
            "ProcessPayment": payment("PAID"),
            "SendOrder": { "throw": { "name": "RestaurantClosed", "message": "closed" } },
            "MarkFailed": cancelled(),
            "Refund": refunded(),
        }),
    );
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert!(
        run.states()
            .ends_with(&["SendOrder", "MarkFailed", "Refund", "MarkRefunded"]),
        "{:?}",
        run.states()
    );
}

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

fn run(definition: &Value, tasks: Value) -> Run {
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
            "ProcessPayment" => {
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
        ["SaveOrder", "ProcessPayment", "MarkPaymentFailed"]
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

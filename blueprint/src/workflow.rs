//! The order state machine, `asl/order.asl.json`, and its placeholders.
//!
//! The file is valid JSON as it stands: a placeholder is a whole string value
//! `"${Name}"`. Substitution replaces it with a typed JSON value (a string for an ARN, a
//! number for the wait), so `"Seconds": "${WaitSeconds}"` becomes `"Seconds": 30`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The definition as checked in.
pub const DEFINITION: &str = include_str!("../../asl/order.asl.json");

pub const MANAGE_ORDER_STATE_ARN: &str = "ManageOrderStateArn";
pub const PROCESS_PAYMENT_ARN: &str = "ProcessPaymentArn";
pub const SEND_ORDER_ARN: &str = "SendOrderArn";
pub const WAIT_SECONDS: &str = "WaitSeconds";
pub const EXECUTION_TIMEOUT_SECONDS: &str = "ExecutionTimeoutSeconds";
pub const CANCEL_CHECK_SECONDS: &str = "CancelCheckSeconds";

/// Every placeholder the definition uses.
pub const PLACEHOLDERS: [&str; 6] = [
    MANAGE_ORDER_STATE_ARN,
    PROCESS_PAYMENT_ARN,
    SEND_ORDER_ARN,
    WAIT_SECONDS,
    EXECUTION_TIMEOUT_SECONDS,
    CANCEL_CHECK_SECONDS,
];

/// The longest nap of the wait: how late, at most, the workflow sees a cancel made during
/// it (and so starts the refund). Each look is one manage-order-state invocation and two
/// state transitions: a 30 s wait costs four looks.
pub const CANCEL_CHECK_EVERY_SECONDS: u32 = 10;

/// What an execution may spend beyond its wait: more than every task's every attempt at
/// its timeout, and every pause between attempts, together (a test checks it against the
/// definition). Past it the execution ends `TIMED_OUT`.
pub const TASKS_BUDGET_SECONDS: u32 = 2 * 3600;

/// The values that fill the placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Substitutions {
    pub manage_order_state_arn: String,
    pub process_payment_arn: String,
    pub send_order_arn: String,
    pub wait_seconds: orders_core::WaitSeconds,
    /// The execution's `TimeoutSeconds`; `None`: the wait and [`TASKS_BUDGET_SECONDS`].
    pub execution_timeout_seconds: Option<u32>,
}

impl Substitutions {
    fn values(&self) -> BTreeMap<&'static str, Value> {
        BTreeMap::from([
            (
                MANAGE_ORDER_STATE_ARN,
                Value::from(self.manage_order_state_arn.as_str()),
            ),
            (
                PROCESS_PAYMENT_ARN,
                Value::from(self.process_payment_arn.as_str()),
            ),
            (SEND_ORDER_ARN, Value::from(self.send_order_arn.as_str())),
            (WAIT_SECONDS, Value::from(self.wait_seconds.value())),
            (
                CANCEL_CHECK_SECONDS,
                Value::from(CANCEL_CHECK_EVERY_SECONDS),
            ),
            (
                EXECUTION_TIMEOUT_SECONDS,
                Value::from(self.execution_timeout_seconds()),
            ),
        ])
    }

    /// The execution's `TimeoutSeconds`: as set, or the wait and the tasks' budget.
    pub fn execution_timeout_seconds(&self) -> u32 {
        self.execution_timeout_seconds
            .unwrap_or(self.wait_seconds.value() + TASKS_BUDGET_SECONDS)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the state machine definition is not JSON: {0}")]
    NotJson(String),
    #[error("the state machine definition uses unknown placeholders: {0:?}")]
    UnknownPlaceholders(Vec<String>),
    #[error("placeholder text is left in the definition at {0:?}")]
    Leftover(Vec<String>),
    #[error("the state machine definition is not sound: {0:?}")]
    Unsound(Vec<String>),
}

/// The definition as a JSON value.
pub fn definition() -> Result<Value, WorkflowError> {
    serde_json::from_str(DEFINITION).map_err(|e| WorkflowError::NotJson(e.to_string()))
}

/// The definition with every placeholder filled, checked, as the JSON text to deploy.
pub fn render(substitutions: &Substitutions) -> Result<String, WorkflowError> {
    let mut document = definition()?;
    let values = substitutions.values();
    let mut unknown = BTreeSet::new();
    substitute(&mut document, &values, &mut unknown);
    if !unknown.is_empty() {
        return Err(WorkflowError::UnknownPlaceholders(
            unknown.into_iter().collect(),
        ));
    }
    let mut leftovers = Vec::new();
    find_placeholder_text(&document, "$", &mut leftovers);
    if !leftovers.is_empty() {
        return Err(WorkflowError::Leftover(leftovers));
    }
    check(&document).map_err(WorkflowError::Unsound)?;
    Ok(document.to_string())
}

fn placeholder_name(text: &str) -> Option<&str> {
    text.strip_prefix("${")?.strip_suffix('}')
}

fn substitute(value: &mut Value, values: &BTreeMap<&str, Value>, unknown: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            if let Some(name) = placeholder_name(text) {
                match values.get(name) {
                    Some(filled) => *value = filled.clone(),
                    None => {
                        unknown.insert(name.to_owned());
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute(v, values, unknown)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|v| substitute(v, values, unknown)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn find_placeholder_text(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::String(text) if text.contains("${") => found.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_placeholder_text(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                if key.contains("${") {
                    found.push(format!("{path}.{key} (key)"));
                }
                find_placeholder_text(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// Structural checks a deploy would otherwise find late: the start state exists, every
/// transition names a state, every state is reachable, a state either ends or goes on,
/// and every Task has a Retry and a Catch.
pub fn check(document: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let Some(states) = document["States"].as_object() else {
        return Err(vec!["no States object".into()]);
    };
    let exists = |name: &str| states.contains_key(name);
    let start = document["StartAt"].as_str().unwrap_or_default();
    if !exists(start) {
        problems.push(format!("StartAt names no state: {start:?}"));
    }
    let mut reachable = BTreeSet::new();
    let mut to_visit = vec![start.to_owned()];
    while let Some(name) = to_visit.pop() {
        if !reachable.insert(name.clone()) {
            continue;
        }
        if let Some(state) = states.get(&name) {
            to_visit.extend(transitions(state));
        }
    }
    for (name, state) in states {
        let kind = state["Type"].as_str().unwrap_or_default();
        for target in transitions(state) {
            if !exists(&target) {
                problems.push(format!("{name}: transition to missing state {target:?}"));
            }
        }
        if !reachable.contains(name) {
            problems.push(format!("{name}: unreachable"));
        }
        let terminal = matches!(kind, "Succeed" | "Fail") || state["End"] == Value::Bool(true);
        let goes_on = state.get("Next").is_some() || kind == "Choice";
        if terminal == goes_on {
            problems.push(format!("{name}: must either end or name its Next state"));
        }
        if kind == "Task" {
            for field in ["Retry", "Catch"] {
                if state[field].as_array().is_none_or(|rules| rules.is_empty()) {
                    problems.push(format!("{name}: a Task needs a {field}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The states a state can go to next: `Next`, `Default`, each Choice rule, each Catch.
fn transitions(state: &Value) -> Vec<String> {
    let mut targets: Vec<String> = ["Next", "Default"]
        .iter()
        .filter_map(|field| state[field].as_str().map(str::to_owned))
        .collect();
    for list in ["Choices", "Catch"] {
        if let Some(rules) = state[list].as_array() {
            targets.extend(
                rules
                    .iter()
                    .filter_map(|r| r["Next"].as_str().map(str::to_owned)),
            );
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn substitutions() -> Substitutions {
        Substitutions {
            manage_order_state_arn: "arn:aws:lambda:eu-west-1:123456789012:function:manage".into(),
            process_payment_arn: "arn:aws:lambda:eu-west-1:123456789012:function:pay".into(),
            send_order_arn: "arn:aws:lambda:eu-west-1:123456789012:function:send".into(),
            wait_seconds: orders_core::WaitSeconds::DEFAULT,
            execution_timeout_seconds: None,
        }
    }

    fn rendered() -> Value {
        serde_json::from_str(&render(&substitutions()).unwrap()).unwrap()
    }

    #[test]
    fn checked_in_definition_is_sound() {
        assert_eq!(check(&definition().unwrap()), Ok(()));
    }

    #[test]
    fn definition_uses_exactly_the_known_placeholders() {
        let mut used = BTreeSet::new();
        fn collect(value: &Value, used: &mut BTreeSet<String>) {
            match value {
                Value::String(t) => {
                    if let Some(name) = placeholder_name(t) {
                        used.insert(name.to_owned());
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| collect(v, used)),
                Value::Object(fields) => fields.values().for_each(|v| collect(v, used)),
                _ => {}
            }
        }
        collect(&definition().unwrap(), &mut used);
        let known: BTreeSet<String> = PLACEHOLDERS.iter().map(|p| p.to_string()).collect();
        assert_eq!(used, known);
    }

    /// The longest the tasks can take: each task's every attempt at its timeout, and the
    /// longest pause before each retry. Every task counts, on whichever path (more than any one path takes); the look
    /// during the wait counts once per nap and once more.
    fn worst_case_task_seconds(document: &Value) -> f64 {
        let wait = document["States"]["StartWaiting"]["Parameters"]["left"]
            .as_f64()
            .unwrap();
        let looks = (wait / f64::from(CANCEL_CHECK_EVERY_SECONDS)).ceil() + 1.0;
        let mut total = 0.0;
        for (name, state) in document["States"].as_object().unwrap() {
            if state["Type"] != "Task" {
                continue;
            }
            let times = if name == "WatchForCancel" { looks } else { 1.0 };
            total += times * worst_case_of(state);
        }
        total
    }

    /// One task's attempts at its timeout and its pauses before each retry.
    fn worst_case_of(state: &Value) -> f64 {
        let timeout = state["TimeoutSeconds"]
            .as_f64()
            .expect("every task has a timeout");
        let mut total = timeout;
        for retrier in state["Retry"].as_array().into_iter().flatten() {
            let attempts = retrier["MaxAttempts"].as_f64().unwrap_or(3.0);
            let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
            let backoff = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
            let cap = retrier["MaxDelaySeconds"].as_f64().unwrap_or(f64::INFINITY);
            for attempt in 0..attempts as i32 {
                total += timeout + (interval * backoff.powi(attempt)).min(cap);
            }
        }
        total
    }

    #[test]
    fn the_execution_times_out_only_after_the_wait_and_every_task_attempt() {
        let document = rendered();
        let tasks = worst_case_task_seconds(&document);
        assert!(
            f64::from(TASKS_BUDGET_SECONDS) > tasks,
            "the budget {TASKS_BUDGET_SECONDS} s is under the tasks' worst case {tasks} s"
        );
        let wait = document["States"]["StartWaiting"]["Parameters"]["left"]
            .as_u64()
            .unwrap();
        assert_eq!(
            document["TimeoutSeconds"].as_u64().unwrap(),
            wait + u64::from(TASKS_BUDGET_SECONDS)
        );
    }

    #[test]
    fn no_placeholder_survives_substitution_and_types_are_kept() {
        let text = render(&substitutions()).unwrap();
        assert!(!text.contains("${"));
        let document = rendered();
        assert_eq!(document["States"]["StartWaiting"]["Parameters"]["left"], 30);
        assert_eq!(
            document["States"]["WatchForCancel"]["Parameters"]["Payload"]["every"],
            CANCEL_CHECK_EVERY_SECONDS
        );
        assert_eq!(
            document["States"]["ProcessPayment"]["Parameters"]["FunctionName"],
            "arn:aws:lambda:eu-west-1:123456789012:function:pay"
        );
    }

    #[test]
    fn every_task_retries_transient_errors_and_catches_everything() {
        let document = rendered();
        for (name, state) in document["States"].as_object().unwrap() {
            if state["Type"] != "Task" {
                continue;
            }
            let retried: Vec<&str> = state["Retry"][0]["ErrorEquals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            for transient in [
                "DependencyError",
                "Lambda.ServiceException",
                "Lambda.TooManyRequestsException",
            ] {
                assert!(
                    retried.contains(&transient),
                    "{name} must retry {transient}"
                );
            }
            assert!(
                !retried.contains(&"IllegalTransition"),
                "{name}: permanent errors are not retried"
            );
            assert!(
                !retried.contains(&"OrderCancelled"),
                "{name}: a cancel is compensated, not retried"
            );
            // States.ALL comes last (Step Functions requires it), after a cancel's catcher.
            let catchers = state["Catch"].as_array().unwrap();
            let last = catchers.last().unwrap();
            assert_eq!(
                last["ErrorEquals"],
                serde_json::json!(["States.ALL"]),
                "{name}"
            );
            let expected = match name.as_str() {
                "MarkFailed" => "OrderFailed",
                "Refund" => "MarkRefundFailed",
                "MarkRefunded" | "MarkCancelled" | "MarkRefundFailed" => "CancelNotSettled",
                _ => "MarkFailed",
            };
            assert_eq!(last["Next"], expected, "{name}");
        }
    }

    #[test]
    fn every_step_before_the_hand_off_turns_a_cancel_into_the_compensation() {
        let document = rendered();
        let states = document["States"].as_object().unwrap();
        let watching: BTreeSet<&str> = states
            .iter()
            .filter(|(_, state)| {
                state["Catch"].as_array().is_some_and(|catchers| {
                    catchers.iter().any(|c| {
                        c["ErrorEquals"] == serde_json::json!(["OrderCancelled"])
                            && c["Next"] == "Charged?"
                    })
                })
            })
            .map(|(name, _)| name.as_str())
            .collect();
        // Every task that reads or writes the order before MarkSent; process-payment
        // touches no order (the next look after it sees the cancel).
        assert_eq!(
            watching,
            BTreeSet::from([
                "SaveOrder",
                "WatchForCancel",
                "MarkPaid",
                "MarkPaymentFailed",
                "SendOrder",
                "MarkFailed",
            ])
        );
    }

    #[test]
    fn every_path_ends_in_a_final_status_task_or_the_fail_state() {
        let document = rendered();
        let states = document["States"].as_object().unwrap();
        let ends: BTreeSet<&str> = states
            .iter()
            .filter(|(_, s)| s["End"] == true || s["Type"] == "Fail")
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            ends,
            BTreeSet::from([
                "CancelNotSettled",
                "MarkCancelled",
                "MarkPaymentFailed",
                "MarkRefunded",
                "MarkSent",
                "OrderFailed",
                "RefundFailed",
            ])
        );
        for (name, status) in [
            ("MarkSent", "SENT_TO_RESTAURANT"),
            ("MarkPaymentFailed", "PAYMENT_FAILED"),
            ("MarkFailed", "FAILED"),
        ] {
            assert_eq!(states[name]["Parameters"]["Payload"]["status"], status);
        }
    }

    #[test]
    fn unsound_definitions_are_caught() {
        let mut document = rendered();
        document["States"]["SendOrder"]["Next"] = "Nowhere".into();
        document["States"]["MarkPaid"]
            .as_object_mut()
            .unwrap()
            .remove("Retry");
        let problems = check(&document).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("missing state \"Nowhere\"")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("MarkPaid: a Task needs a Retry")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("MarkSent: unreachable")),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let mut document = definition().unwrap();
        document["Comment"] = "${Surprise}".into();
        let mut unknown = BTreeSet::new();
        substitute(&mut document, &substitutions().values(), &mut unknown);
        assert_eq!(unknown, BTreeSet::from(["Surprise".to_owned()]));
    }
}

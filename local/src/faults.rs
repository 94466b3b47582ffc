//! Fault injection, off unless `ORDERS_FAULTS` asks for it, so tests and users can watch
//! the workflow's Retry and Catch and the queue's redelivery at work.
//!
//! `ORDERS_FAULTS` is a comma-separated list of `FUNCTION:KIND[:COUNT][@FIELD=VALUE]`:
//! - `transient`: the invocation fails with `DependencyError` (the workflow retries it);
//! - `fail`: it fails with `InjectedFault`, which nothing retries (the order ends `FAILED`);
//! - `lost`: the function runs and does its work, then the answer is lost, as when a
//!   Lambda times out after its writes or a consumer dies before deleting its batch. The
//!   caller sees `Lambda.ServiceException` and tries again.
//! - `first-record-only` (start-order only): the consumer bug of the article this project
//!   started from: the first record of each batch is started and the whole batch is
//!   reported done, so the other records are deleted unstarted. The reliability checker
//!   must catch it (`tests/reliability/load.rs`).
//!
//! COUNT is how many invocations fail before the rule is spent (default: no limit).
//! `@FIELD=VALUE` limits the rule to invocations whose payload has that top-level field
//! with that value, which is how one order is singled out (`@quantity=42`).
//! Example: `process-payment:transient:2,send-order:fail@quantity=42`.

use std::str::FromStr;
use std::sync::Mutex;

use orders_aws::HandlerError;
use serde_json::Value;

use crate::invocation::Invocation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Transient,
    Fail,
    Lost,
    FirstRecordOnly,
}

/// A fault due on one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub error: HandlerError,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    function: String,
    kind: FaultKind,
    /// Failures left; `None` for no limit.
    left: Option<u32>,
    only_if: Option<(String, String)>,
}

impl Rule {
    /// Whether the rule is due on a call of `function` whose payload, as JSON, is `payload`.
    fn applies(&self, function: &str, payload: &Value) -> bool {
        if self.function != function || self.left == Some(0) {
            return false;
        }
        let Some((field, expected)) = &self.only_if else {
            return true;
        };
        match &payload[field.as_str()] {
            Value::String(text) => text == expected,
            Value::Null => false,
            other => serde_json::from_str::<Value>(expected).is_ok_and(|v| v == *other),
        }
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
}

impl Clone for Faults {
    fn clone(&self) -> Self {
        Self {
            rules: Mutex::new(self.lock().clone()),
        }
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The fault due on this invocation, if any; it counts as used.
    pub fn take(&self, invocation: &Invocation) -> Option<Fault> {
        let mut rules = self.lock();
        if rules.is_empty() {
            return None;
        }
        let function = invocation.function();
        // Filters name the payload's fields as the Invoke API carries it.
        let payload = invocation.to_json();
        let rule = rules.iter_mut().find(|r| r.applies(function, &payload))?;
        if let Some(left) = &mut rule.left {
            *left -= 1;
        }
        let (name, message) = match rule.kind {
            FaultKind::Transient => ("DependencyError", "injected transient fault"),
            FaultKind::Fail => ("InjectedFault", "injected fault"),
            FaultKind::Lost => (
                "Lambda.ServiceException",
                "injected fault: the function ran but its answer was lost",
            ),
            FaultKind::FirstRecordOnly => (
                "FirstRecordOnly",
                "injected fault: only the first record of the batch was started, all reported done",
            ),
        };
        Some(Fault {
            kind: rule.kind,
            error: HandlerError {
                name,
                message: format!("{message} in {function}"),
            },
        })
    }
}

impl FromStr for Faults {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut rules = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (rule, only_if) = match item.split_once('@') {
                Some((rule, filter)) => {
                    let (field, value) = filter
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("{filter:?} is not FIELD=VALUE"))?;
                    (rule, Some((field.to_owned(), value.to_owned())))
                }
                None => (item, None),
            };
            let parts: Vec<&str> = rule.split(':').collect();
            let (function, kind, count) = match parts.as_slice() {
                [f, k] => (*f, *k, None),
                [f, k, n] => (*f, *k, Some(*n)),
                _ => anyhow::bail!("{item:?} is not FUNCTION:KIND[:COUNT][@FIELD=VALUE]"),
            };
            if orders_blueprint::function(function).is_none() {
                anyhow::bail!("{function:?} is not one of the functions");
            }
            let kind = match kind {
                "transient" => FaultKind::Transient,
                "fail" => FaultKind::Fail,
                "lost" => FaultKind::Lost,
                "first-record-only" if function == orders_blueprint::START_ORDER => {
                    FaultKind::FirstRecordOnly
                }
                "first-record-only" => {
                    anyhow::bail!("first-record-only is a fault of start-order, not {function}")
                }
                other => anyhow::bail!(
                    "fault kind {other:?} is not transient, fail, lost or first-record-only"
                ),
            };
            let left = count
                .map(|n| {
                    n.parse::<u32>()
                        .map_err(|_| anyhow::anyhow!("{n:?} is not a count"))
                })
                .transpose()?;
            rules.push(Rule {
                function: function.to_owned(),
                kind,
                left,
                only_if,
            });
        }
        Ok(Self {
            rules: Mutex::new(rules),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(function: &str, payload: &str) -> Invocation {
        Invocation::parse(function, payload.as_bytes()).unwrap()
    }

    fn payment(quantity: u8) -> Invocation {
        call(
            "process-payment",
            &format!(r#"{{"action": "charge", "order_id": "o-1", "quantity": {quantity}}}"#),
        )
    }

    fn send() -> Invocation {
        call("send-order", r#"{"order_id": "o-1"}"#)
    }

    #[test]
    fn counted_transient_faults_run_out() {
        let faults: Faults = "process-payment:transient:2".parse().unwrap();
        let fault = faults.take(&payment(3)).unwrap();
        assert_eq!(fault.kind, FaultKind::Transient);
        assert_eq!(fault.error.name, "DependencyError");
        assert!(faults.take(&payment(3)).is_some());
        assert!(faults.take(&payment(3)).is_none());
        assert!(faults.take(&send()).is_none());
    }

    #[test]
    fn uncounted_faults_never_stop() {
        let faults: Faults = "send-order:fail".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(faults.take(&send()).unwrap().error.name, "InjectedFault");
        }
    }

    #[test]
    fn a_filter_singles_out_one_order() {
        let faults: Faults =
            "process-payment:fail@quantity=42,manage-order-state:lost:1@status=FAILED"
                .parse()
                .unwrap();
        assert!(faults.take(&payment(3)).is_none());
        assert!(faults.take(&payment(42)).is_some());
        let set_failed = call(
            "manage-order-state",
            r#"{"action":"set_status","order_id":"o-2","status":"FAILED"}"#,
        );
        let set_sent = call(
            "manage-order-state",
            r#"{"action":"set_status","order_id":"o-2","status":"SENT_TO_RESTAURANT"}"#,
        );
        assert!(faults.take(&set_sent).is_none());
        assert_eq!(faults.take(&set_failed).unwrap().kind, FaultKind::Lost);
        assert!(faults.take(&set_failed).is_none(), "count 1 is spent");
    }

    #[test]
    fn lost_answers_look_like_a_lambda_service_error() {
        let faults: Faults = "start-order:lost:1".parse().unwrap();
        let batch = call("start-order", r#"{"Records": []}"#);
        assert_eq!(
            faults.take(&batch).unwrap().error.name,
            "Lambda.ServiceException"
        );
    }

    #[test]
    fn first_record_only_is_a_start_order_fault() {
        let faults: Faults = "start-order:first-record-only".parse().unwrap();
        let batch = call("start-order", r#"{"Records": []}"#);
        assert_eq!(
            faults.take(&batch).unwrap().kind,
            FaultKind::FirstRecordOnly
        );
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        for (spec, reason) in [
            ("pay:fail", "not one of the functions"),
            (
                "send-order:explode",
                "not transient, fail, lost or first-record-only",
            ),
            ("send-order:first-record-only", "a fault of start-order"),
            ("send-order:fail:x", "not a count"),
            ("send-order", "FUNCTION:KIND"),
            ("send-order:fail@quantity", "FIELD=VALUE"),
        ] {
            let err = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(err.contains(reason), "{spec}: {err}");
        }
        assert!("".parse::<Faults>().unwrap().is_empty());
    }
}

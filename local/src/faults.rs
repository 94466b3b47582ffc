//! Fault injection, off unless `ORDERS_FAULTS` asks for it, so tests and users can watch
//! the workflow's Retry and Catch work.
//!
//! `ORDERS_FAULTS` is a comma-separated list of `FUNCTION:KIND[:COUNT]`:
//! - `transient` fails with `DependencyError` (the workflow retries it),
//! - `fail` fails with `InjectedFault` (not retried: the order ends `FAILED`);
//!
//! COUNT is how many invocations fail before the function works again (default: all).
//! Example: `process-payment:transient:2,send-order:fail`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

use order_aws::HandlerError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Transient,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    kind: FaultKind,
    /// Failures left; `None` for every invocation.
    left: Option<u32>,
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<HashMap<String, Rule>>,
}

impl Clone for Faults {
    fn clone(&self) -> Self {
        Self {
            rules: Mutex::new(self.lock().clone()),
        }
    }
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Rule>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The error to answer this invocation of `function` with, if a fault is due.
    pub fn take(&self, function: &str) -> Option<HandlerError> {
        let mut rules = self.lock();
        let rule = rules.get_mut(function)?;
        match &mut rule.left {
            Some(0) => return None,
            Some(left) => *left -= 1,
            None => {}
        }
        Some(match rule.kind {
            FaultKind::Transient => HandlerError {
                name: "DependencyError",
                message: format!("injected transient fault in {function}"),
            },
            FaultKind::Fail => HandlerError {
                name: "InjectedFault",
                message: format!("injected fault in {function}"),
            },
        })
    }
}

impl FromStr for Faults {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut rules = HashMap::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            let (function, kind, count) = match parts.as_slice() {
                [f, k] => (*f, *k, None),
                [f, k, n] => (*f, *k, Some(*n)),
                _ => anyhow::bail!("{item:?} is not FUNCTION:KIND[:COUNT]"),
            };
            if order_stack::function(function).is_none() {
                anyhow::bail!("{function:?} is not one of the functions");
            }
            let kind = match kind {
                "transient" => FaultKind::Transient,
                "fail" => FaultKind::Fail,
                other => anyhow::bail!("fault kind {other:?} is not transient or fail"),
            };
            let left = count
                .map(|n| {
                    n.parse::<u32>()
                        .map_err(|_| anyhow::anyhow!("{n:?} is not a count"))
                })
                .transpose()?;
            rules.insert(function.to_owned(), Rule { kind, left });
        }
        Ok(Self {
            rules: Mutex::new(rules),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_transient_faults_run_out() {
        let faults: Faults = "process-payment:transient:2".parse().unwrap();
        assert_eq!(
            faults.take("process-payment").unwrap().name,
            "DependencyError"
        );
        assert!(faults.take("process-payment").is_some());
        assert!(faults.take("process-payment").is_none());
        assert!(faults.take("send-order").is_none());
    }

    #[test]
    fn uncounted_faults_never_stop() {
        let faults: Faults = "send-order:fail".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(faults.take("send-order").unwrap().name, "InjectedFault");
        }
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        for (spec, reason) in [
            ("pay:fail", "not one of the functions"),
            ("send-order:explode", "not transient or fail"),
            ("send-order:fail:x", "not a count"),
            ("send-order", "FUNCTION:KIND"),
        ] {
            let err = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(err.contains(reason), "{spec}: {err}");
        }
        assert!("".parse::<Faults>().unwrap().is_empty());
    }
}

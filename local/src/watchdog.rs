//! Catches an execution the emulator accepted but never began.
//!
//! Under heavy load the emulator has been seen, rarely, to answer `StartExecution` and then
//! never run the execution: it stays `RUNNING` with an empty history, and its order would
//! be stuck for good (the queue message is already deleted). AWS does not do this. Local
//! mode keeps its promise anyway: such an execution is stopped and its order marked
//! `FAILED` with the reason `WorkflowLost`, customer notified, through the same handler
//! the workflow's failure path uses. Each case is printed.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sfn::types::ExecutionStatus;
use orders_core::{OrderId, OrderStatus};
use serde_json::Value;

use crate::lambda_host::Functions;
use crate::progress;

/// How long an execution may show no history before it counts as lost. A live one
/// records `ExecutionStarted` within milliseconds.
pub const GRACE: Duration = Duration::from_secs(30);

/// Whether an execution started at `started` and still without history at `now` is lost.
pub fn is_lost(started: SystemTime, now: SystemTime, has_history: bool) -> bool {
    !has_history && now.duration_since(started).is_ok_and(|age| age > GRACE)
}

pub struct Watchdog {
    pub sfn: aws_sdk_sfn::Client,
    pub state_machine_arn: String,
    pub functions: Arc<Functions>,
}

impl Watchdog {
    pub async fn run(self) {
        let mut handled = HashSet::new();
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Err(err) = self.sweep(&mut handled).await {
                tracing::warn!(error = %err, "the execution watchdog could not look");
            }
        }
    }

    async fn sweep(&self, handled: &mut HashSet<String>) -> anyhow::Result<()> {
        let mut token = None;
        loop {
            let page = self
                .sfn
                .list_executions()
                .state_machine_arn(&self.state_machine_arn)
                .status_filter(ExecutionStatus::Running)
                .set_next_token(token)
                .send()
                .await?;
            for execution in page.executions {
                let started =
                    SystemTime::try_from(execution.start_date).unwrap_or(SystemTime::now());
                // Only old executions are worth a history call.
                if handled.contains(&execution.name) || !is_lost(started, SystemTime::now(), false)
                {
                    continue;
                }
                let history = self
                    .sfn
                    .get_execution_history()
                    .execution_arn(&execution.execution_arn)
                    .max_results(1)
                    .send()
                    .await?;
                if !is_lost(started, SystemTime::now(), !history.events.is_empty()) {
                    continue;
                }
                handled.insert(execution.name.clone());
                self.recover(&execution.execution_arn, &execution.name)
                    .await?;
            }
            token = page.next_token;
            if token.is_none() {
                return Ok(());
            }
        }
    }

    async fn recover(&self, execution_arn: &str, name: &str) -> anyhow::Result<()> {
        progress::lost_execution(name);
        let input: Value = self
            .sfn
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await?
            .input
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        let _ = self
            .sfn
            .stop_execution()
            .execution_arn(execution_arn)
            .error("WorkflowLost")
            .send()
            .await;
        let request = manage_order_state::Request::SetStatus {
            order_id: OrderId::parse(name)?,
            status: OrderStatus::Failed,
            payment: None,
            failure: Some(manage_order_state::FailureInput {
                error: "WorkflowLost".into(),
                cause: "the local emulator accepted the execution but never ran it".into(),
            }),
            // The order travels along, so that one never saved is saved as it ends.
            order: serde_json::from_value(input["order"].clone()).ok(),
        };
        self.functions
            .manage_order_state(request)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", e.name, e.message))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_old_execution_without_history_is_lost() {
        let now = SystemTime::now();
        let old = now - GRACE - Duration::from_secs(1);
        let young = now - Duration::from_secs(1);
        assert!(is_lost(old, now, false));
        assert!(!is_lost(old, now, true), "a waiting execution has history");
        assert!(
            !is_lost(young, now, false),
            "a just-started one gets its grace"
        );
        assert!(
            !is_lost(now + Duration::from_secs(5), now, false),
            "clock skew is not age"
        );
    }
}

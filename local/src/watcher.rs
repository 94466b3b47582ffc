//! What the stack's EventBridge rule does, done here: the runner watches the workflow's
//! executions in the emulator and delivers, for each one that ends `FAILED`, `TIMED_OUT`
//! or `ABORTED`, the same "Step Functions Execution Status Change" event to the same
//! target, manage-order-state, which settles the order if the workflow did not.
//!
//! It also catches an execution the emulator accepted but never ran. Under heavy load the
//! emulator has been seen, rarely, to answer `StartExecution` and then leave the execution
//! `RUNNING` with an empty history for good (AWS does not do this). Such an execution is
//! stopped with the error `WorkflowLost`, and so ends `ABORTED` like one stopped by hand.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sfn::types::{ExecutionListItem, ExecutionStatus};
use serde_json::json;

use crate::lambda_host::Functions;
use crate::progress;

/// How long an execution may show no history before it counts as lost. A live one
/// records `ExecutionStarted` within milliseconds.
pub const GRACE: Duration = Duration::from_secs(30);

/// How often the emulator is looked at.
const EVERY: Duration = Duration::from_secs(2);

/// The error a lost execution is stopped with.
pub const LOST: &str = "WorkflowLost";

/// Whether an execution started at `started` and still without history at `now` is lost.
pub fn is_lost(started: SystemTime, now: SystemTime, has_history: bool) -> bool {
    !has_history && now.duration_since(started).is_ok_and(|age| age > GRACE)
}

pub struct Watcher {
    pub sfn: aws_sdk_sfn::Client,
    pub state_machine_arn: String,
    pub functions: Arc<Functions>,
}

impl Watcher {
    pub async fn run(self) {
        let mut delivered = HashSet::new();
        let mut stopped = HashSet::new();
        loop {
            tokio::time::sleep(EVERY).await;
            if let Err(err) = self.deliver_ended(&mut delivered).await {
                tracing::warn!(error = %err, "the execution watcher could not look");
            }
            if let Err(err) = self.stop_lost(&mut stopped).await {
                tracing::warn!(error = %err, "the execution watcher could not look");
            }
        }
    }

    /// Every execution of the workflow with `status`.
    async fn executions(&self, status: ExecutionStatus) -> anyhow::Result<Vec<ExecutionListItem>> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .sfn
                .list_executions()
                .state_machine_arn(&self.state_machine_arn)
                .status_filter(status.clone())
                .set_next_token(token)
                .send()
                .await?;
            all.extend(page.executions);
            token = page.next_token;
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    /// The event for each execution newly ended unsettled, delivered until the target
    /// takes it (EventBridge retries a target that fails, too).
    async fn deliver_ended(&self, delivered: &mut HashSet<String>) -> anyhow::Result<()> {
        for (status, _) in orders_core::execution::UNSETTLED {
            for execution in self.executions(ExecutionStatus::from(status)).await? {
                if delivered.contains(&execution.execution_arn) {
                    continue;
                }
                let event = self.event(&execution).await?;
                let input = serde_json::from_value(event)?;
                match self.functions.manage_order_state(input).await {
                    Ok(_) => {
                        delivered.insert(execution.execution_arn);
                    }
                    Err(err) => tracing::warn!(
                        execution = %execution.name, error = err.name, message = err.message,
                        "the execution's event was not taken; it is delivered again"
                    ),
                }
            }
        }
        Ok(())
    }

    /// The "Step Functions Execution Status Change" event of an ended execution, as
    /// EventBridge delivers it.
    async fn event(&self, execution: &ExecutionListItem) -> anyhow::Result<serde_json::Value> {
        let described = self
            .sfn
            .describe_execution()
            .execution_arn(&execution.execution_arn)
            .send()
            .await?;
        let millis = |date: &aws_sdk_sfn::primitives::DateTime| date.to_millis().ok();
        Ok(json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": orders_core::execution::DETAIL_TYPE,
            "source": orders_core::execution::SOURCE,
            "account": orders_emulator::ACCOUNT,
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": orders_emulator::REGION,
            "resources": [execution.execution_arn],
            "detail": {
                "executionArn": execution.execution_arn,
                "stateMachineArn": self.state_machine_arn,
                "name": execution.name,
                "status": described.status.as_str(),
                "startDate": millis(&described.start_date),
                "stopDate": described.stop_date.as_ref().and_then(millis),
                "input": described.input,
                "output": described.output,
                "error": described.error,
                "cause": described.cause,
            },
        }))
    }

    /// Stops each execution the emulator never began.
    async fn stop_lost(&self, stopped: &mut HashSet<String>) -> anyhow::Result<()> {
        for execution in self.executions(ExecutionStatus::Running).await? {
            let started = SystemTime::try_from(execution.start_date).unwrap_or(SystemTime::now());
            // Only old executions are worth a history call.
            if stopped.contains(&execution.name) || !is_lost(started, SystemTime::now(), false) {
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
            progress::lost_execution(&execution.name);
            self.sfn
                .stop_execution()
                .execution_arn(&execution.execution_arn)
                .error(LOST)
                .cause("the local emulator accepted the execution but never ran it")
                .send()
                .await?;
            stopped.insert(execution.name);
        }
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

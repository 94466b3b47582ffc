//! The event Step Functions sends through EventBridge when an execution's status changes
//! ("Step Functions Execution Status Change"), as much of it as the pipeline reads: the
//! stack's rule matches it, manage-order-state settles an order with it, and local mode's
//! runner delivers the same.

use serde::{Deserialize, Serialize};

use crate::{Failure, NewOrder};

/// The `detail-type` of the events this handles.
pub const DETAIL_TYPE: &str = "Step Functions Execution Status Change";
/// Their `source`.
pub const SOURCE: &str = "aws.states";
/// The statuses of an execution that may end without settling its order, and the reason
/// its order is then marked `FAILED` with.
pub const UNSETTLED: [(&str, &str); 3] = [
    ("FAILED", "ExecutionFailed"),
    ("TIMED_OUT", "ExecutionTimedOut"),
    ("ABORTED", "ExecutionAborted"),
];

/// The EventBridge event, as much of it as is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionEnded {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub detail: ExecutionDetail,
}

/// The event's `detail`: the execution (whose name is the order id), how it ended, and
/// its input (the order, as start-order gave it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetail {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub status: String,
    /// The execution's input as JSON text; left out of events past EventBridge's size limit.
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
}

impl ExecutionDetail {
    /// The failure recorded on the order: what happened to the execution, and why.
    pub fn failure(&self) -> Result<Failure, String> {
        let error = UNSETTLED
            .iter()
            .find(|(status, _)| *status == self.status)
            .map(|(_, reason)| *reason)
            .ok_or_else(|| {
                format!(
                    "execution {} is {}, not an end that leaves its order unsettled",
                    self.name, self.status
                )
            })?;
        let cause = match (self.error.as_deref(), self.cause.as_deref()) {
            (Some(error), Some(cause)) => format!("{error}: {cause}"),
            (Some(text), None) | (None, Some(text)) => text.to_owned(),
            (None, None) => String::new(),
        };
        Ok(Failure::new(error.to_owned(), cause))
    }

    /// The order the execution carried, when the event has the input.
    pub fn order(&self) -> Option<NewOrder> {
        let input: serde_json::Value = serde_json::from_str(self.input.as_deref()?).ok()?;
        serde_json::from_value(input.get("order")?.clone()).ok()
    }
}

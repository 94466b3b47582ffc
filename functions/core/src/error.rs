use crate::{OrderId, OrderStatus};

/// A call to something outside the process (database, topic, workflow service) failed.
/// It may well succeed when tried again, so the state machine retries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} call failed: {message}")]
pub struct DependencyError {
    pub service: &'static str,
    pub message: String,
}

impl DependencyError {
    pub fn new(service: &'static str, message: impl Into<String>) -> Self {
        Self {
            service,
            message: message.into(),
        }
    }
}

/// What a handler can fail with. Each variant has a stable [`name`](OrderError::name):
/// it becomes the Lambda error type, which the state machine routes on.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("order {0} not found")]
    NotFound(OrderId),
    #[error("order {order_id} cannot go from {from} to {to}")]
    IllegalTransition {
        order_id: OrderId,
        from: OrderStatus,
        to: OrderStatus,
    },
    #[error("order {0} kept changing while it was being updated")]
    ConcurrentUpdate(OrderId),
    /// The customer cancelled the order: the workflow stops moving it forward and
    /// compensates (refunds a charge) instead.
    #[error("order {0} was cancelled by its customer")]
    OrderCancelled(OrderId),
    #[error(transparent)]
    Dependency(#[from] DependencyError),
}

impl OrderError {
    /// The error name Step Functions sees (`States.TaskFailed` carries it as `Error`).
    pub fn name(&self) -> &'static str {
        match self {
            OrderError::InvalidInput(_) => "InvalidInput",
            OrderError::NotFound(_) => "OrderNotFound",
            OrderError::IllegalTransition { .. } => "IllegalTransition",
            OrderError::ConcurrentUpdate(_) => "ConcurrentUpdate",
            OrderError::OrderCancelled(_) => "OrderCancelled",
            OrderError::Dependency(_) => "DependencyError",
        }
    }

    /// Whether trying the same call again can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OrderError::ConcurrentUpdate(_) | OrderError::Dependency(_)
        )
    }
}

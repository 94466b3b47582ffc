//! In-memory adapters of the ports, with the same conditional semantics as the AWS ones,
//! and fault injection so tests can fail any call on purpose.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use crate::{
    DependencyError, Dispatch, Dispatcher, Failure, Inserted, Notification, Notifier, Order,
    OrderId, OrderPage, OrderReader, OrderStatus, OrderStore, OrderSubmission, Position, Refund,
    Started, StatusChange, UserId, WorkflowStarter,
};

/// A store call, to aim fault injection at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Insert,
    Get,
    List,
    UpdateStatus,
    Cancel,
    ClaimHandoff,
    RecordRefund,
    RecordDispatch,
    MarkNotified,
}

#[derive(Default)]
struct StoreState {
    orders: HashMap<OrderId, Order>,
    failures: HashMap<Operation, usize>,
    race: Option<OrderStatus>,
}

/// An `OrderStore` in a `HashMap`.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
}

fn injected(service: &'static str) -> DependencyError {
    DependencyError::new(service, "injected failure")
}

impl MemoryStore {
    /// Makes the next `times` calls of `operation` fail as a dependency error.
    pub fn fail_next(&self, operation: Operation, times: usize) {
        *self.lock().failures.entry(operation).or_default() += times;
    }

    /// Before the next status update, another writer sets the order to `status`.
    pub fn race_next_update(&self, status: OrderStatus) {
        self.lock().race = Some(status);
    }

    pub fn len(&self) -> usize {
        self.lock().orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn orders(&self) -> Vec<Order> {
        self.lock().orders.values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn call(
        &self,
        operation: Operation,
    ) -> Result<std::sync::MutexGuard<'_, StoreState>, DependencyError> {
        let mut state = self.lock();
        if let Some(left) = state.failures.get_mut(&operation).filter(|left| **left > 0) {
            *left -= 1;
            return Err(injected("memory store"));
        }
        Ok(state)
    }
}

impl OrderReader for MemoryStore {
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, DependencyError> {
        Ok(self.call(Operation::Get)?.orders.get(id).cloned())
    }

    async fn list(
        &self,
        user: &UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<OrderPage, DependencyError> {
        let state = self.call(Operation::List)?;
        // Newest first; orders of one instant by id, as the index's key order does not say.
        let key = |position: Position| std::cmp::Reverse((position.created_at, position.order_id));
        let start = after.cloned().map(key);
        let mut orders: Vec<Order> = state
            .orders
            .values()
            .filter(|order| &order.user_id == user)
            .filter(|order| {
                start
                    .as_ref()
                    .is_none_or(|start| key(Position::of(order)) > *start)
            })
            .cloned()
            .collect();
        orders.sort_by_key(|order| key(Position::of(order)));
        Ok(OrderPage::cut(orders, limit, false))
    }
}

impl OrderStore for MemoryStore {
    async fn insert(&self, order: &Order) -> Result<Inserted, DependencyError> {
        let mut state = self.call(Operation::Insert)?;
        if let Some(stored) = state.orders.get(&order.order_id) {
            return Ok(Inserted::AlreadyExists(Box::new(stored.clone())));
        }
        state.orders.insert(order.order_id.clone(), order.clone());
        Ok(Inserted::New)
    }

    async fn update_status(
        &self,
        id: &OrderId,
        from: OrderStatus,
        change: &StatusChange,
    ) -> Result<Option<Order>, DependencyError> {
        let mut state = self.call(Operation::UpdateStatus)?;
        let race = state.race.take();
        let Some(order) = state.orders.get_mut(id) else {
            return Ok(None);
        };
        if let Some(status) = race {
            order.status = status;
        }
        if order.status != from {
            return Ok(None);
        }
        order.status = change.status;
        order.version += 1;
        order.updated_at = change.at;
        if change.payment.is_some() {
            order.payment = change.payment.clone();
        }
        if change.failure.is_some() {
            order.failure = change.failure.clone();
        }
        Ok(Some(order.clone()))
    }

    async fn cancel(
        &self,
        id: &OrderId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Order>, DependencyError> {
        let mut state = self.call(Operation::Cancel)?;
        match state.orders.get_mut(id) {
            Some(order)
                if OrderStatus::CANCELLABLE.contains(&order.status)
                    && order.handoff_at.is_none() =>
            {
                order.status = OrderStatus::Cancelled;
                order.version += 1;
                order.cancelled_at = Some(at);
                order.updated_at = at;
                Ok(Some(order.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn claim_handoff(
        &self,
        id: &OrderId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, DependencyError> {
        let mut state = self.call(Operation::ClaimHandoff)?;
        match state.orders.get_mut(id) {
            Some(order) if order.status == OrderStatus::PaymentOk && order.handoff_at.is_none() => {
                order.handoff_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_refund(
        &self,
        id: &OrderId,
        payment: &crate::Payment,
        refund: &Refund,
    ) -> Result<bool, DependencyError> {
        let mut state = self.call(Operation::RecordRefund)?;
        match state.orders.get_mut(id) {
            Some(order) if order.refund.is_none() => {
                order.payment = Some(payment.clone());
                order.refund = Some(refund.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_refund_failure(
        &self,
        id: &OrderId,
        failure: &Failure,
    ) -> Result<bool, DependencyError> {
        let mut state = self.call(Operation::RecordRefund)?;
        match state.orders.get_mut(id) {
            Some(order) if order.refund_failure.is_none() => {
                order.refund_failure = Some(failure.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_dispatch(
        &self,
        id: &OrderId,
        dispatch: &Dispatch,
    ) -> Result<bool, DependencyError> {
        let mut state = self.call(Operation::RecordDispatch)?;
        match state.orders.get_mut(id) {
            Some(order) if order.dispatch.is_none() => {
                order.dispatch = Some(dispatch.clone());
                order.updated_at = dispatch.sent_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn mark_notified(
        &self,
        id: &OrderId,
        status: OrderStatus,
    ) -> Result<bool, DependencyError> {
        let mut state = self.call(Operation::MarkNotified)?;
        match state.orders.get_mut(id) {
            Some(order) if order.notified_status.is_none() => {
                order.notified_status = Some(status);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// A list of sent messages, and a count of calls to fail first.
struct Recorder<T> {
    sent: Mutex<(Vec<T>, usize)>,
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Self {
            sent: Mutex::new((Vec::new(), 0)),
        }
    }
}

impl<T: Clone> Recorder<T> {
    fn fail_next(&self, times: usize) {
        self.lock().1 += times;
    }

    fn sent(&self) -> Vec<T> {
        self.lock().0.clone()
    }

    fn record(&self, service: &'static str, item: T) -> Result<usize, DependencyError> {
        let mut guard = self.lock();
        if guard.1 > 0 {
            guard.1 -= 1;
            return Err(injected(service));
        }
        guard.0.push(item);
        Ok(guard.0.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<T>, usize)> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A `Notifier` that keeps what it was asked to send.
#[derive(Default)]
pub struct RecordingNotifier(Recorder<Notification>);

impl RecordingNotifier {
    pub fn fail_next(&self, times: usize) {
        self.0.fail_next(times);
    }

    pub fn sent(&self) -> Vec<Notification> {
        self.0.sent()
    }
}

impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), DependencyError> {
        self.0
            .record("memory notifier", notification.clone())
            .map(drop)
    }
}

/// A `Dispatcher` that keeps the orders it handed off; references are `dispatch-N`.
#[derive(Default)]
pub struct RecordingDispatcher(Recorder<Order>);

impl RecordingDispatcher {
    pub fn fail_next(&self, times: usize) {
        self.0.fail_next(times);
    }

    pub fn sent(&self) -> Vec<Order> {
        self.0.sent()
    }
}

impl Dispatcher for RecordingDispatcher {
    async fn dispatch(&self, order: &Order) -> Result<String, DependencyError> {
        let n = self.0.record("memory dispatcher", order.clone())?;
        Ok(format!("dispatch-{n}"))
    }
}

#[derive(Default)]
struct WorkflowState {
    executions: BTreeMap<OrderId, OrderSubmission>,
    failing: HashSet<OrderId>,
}

/// A `WorkflowStarter` with Step Functions' naming rule: one execution per name.
#[derive(Default)]
pub struct MemoryWorkflows {
    state: Mutex<WorkflowState>,
}

impl MemoryWorkflows {
    /// Starting a workflow for this order fails until [`heal`](Self::heal) is called.
    pub fn fail_for(&self, id: &OrderId) {
        self.lock().failing.insert(id.clone());
    }

    pub fn heal(&self, id: &OrderId) {
        self.lock().failing.remove(id);
    }

    /// The started executions, by name.
    pub fn executions(&self) -> BTreeMap<OrderId, OrderSubmission> {
        self.lock().executions.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WorkflowState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl WorkflowStarter for MemoryWorkflows {
    async fn start(&self, submission: &OrderSubmission) -> Result<Started, DependencyError> {
        let mut state = self.lock();
        if state.failing.contains(&submission.order_id) {
            return Err(injected("memory workflows"));
        }
        if state.executions.contains_key(&submission.order_id) {
            return Ok(Started::AlreadyStarted);
        }
        state
            .executions
            .insert(submission.order_id.clone(), submission.clone());
        Ok(Started::New)
    }
}

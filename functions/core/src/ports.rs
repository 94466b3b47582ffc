//! The ports: what the handlers need from the outside world. AWS adapters live in
//! `orders-aws`; in-memory ones (feature `memory`) serve tests and the local runner.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::{
    DependencyError, Dispatch, Failure, Notification, Order, OrderId, OrderStatus, OrderSubmission,
    Payment, Refund, UserId,
};

/// What inserting a new order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// An order with that id was stored already; it is returned untouched.
    AlreadyExists(Box<Order>),
}

/// A status change and what it records with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    pub payment: Option<Payment>,
    pub failure: Option<Failure>,
}

/// Where a page of a user's orders ends: the last order it holds. The next page starts
/// after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub order_id: OrderId,
}

impl Position {
    pub fn of(order: &Order) -> Self {
        Self {
            created_at: order.created_at,
            order_id: order.order_id.clone(),
        }
    }
}

/// One page of a user's orders, newest first, and where the next page starts (`None`: this
/// was the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub next: Option<Position>,
}

impl OrderPage {
    /// The page of the first `limit` of `orders`; `more`: the store holds orders past the
    /// ones given. The next page starts after the last order of this one.
    pub fn cut(mut orders: Vec<Order>, limit: usize, more: bool) -> Self {
        let more = more || orders.len() > limit;
        orders.truncate(limit);
        let next = if more {
            orders.last().map(Position::of)
        } else {
            None
        };
        Self { orders, next }
    }
}

/// Reading the `Orders` table: all that a reader (get-order) is given.
pub trait OrderReader: Send + Sync {
    /// Reads an order, consistently (a read after a write sees the write).
    fn get(
        &self,
        id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, DependencyError>> + Send;

    /// Up to `limit` of `user`'s orders, newest first, starting after `after`. Read from an
    /// index, so an order stored a moment ago may not be listed yet.
    fn list(
        &self,
        user: &UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> impl Future<Output = Result<OrderPage, DependencyError>> + Send;
}

/// The `Orders` table, read and written. Every write is conditional, which is what makes
/// retries safe.
pub trait OrderStore: OrderReader {
    /// Stores a new order unless one with its id exists.
    fn insert(
        &self,
        order: &Order,
    ) -> impl Future<Output = Result<Inserted, DependencyError>> + Send;

    /// Applies `change` if the order is still in `from`; `None` if it is not (or is gone).
    fn update_status(
        &self,
        id: &OrderId,
        from: OrderStatus,
        change: &StatusChange,
    ) -> impl Future<Output = Result<Option<Order>, DependencyError>> + Send;

    /// Cancels the order in one conditional write: only while its status is one of
    /// [`OrderStatus::CANCELLABLE`] and no hand-off is claimed. `None` if that no longer
    /// holds (or the order is gone); the cancelled order otherwise.
    fn cancel(
        &self,
        id: &OrderId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Order>, DependencyError>> + Send;

    /// Claims the hand-off in one conditional write: only while the order is `PAYMENT_OK`
    /// and unclaimed. `false` if that no longer holds. A claimed order cannot be cancelled,
    /// and a cancelled one cannot be claimed: whichever write comes first wins.
    fn claim_handoff(
        &self,
        id: &OrderId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Records the refund of a cancelled order, and the charge it gives back, unless a
    /// refund is recorded; `false` if it was.
    fn record_refund(
        &self,
        id: &OrderId,
        payment: &Payment,
        refund: &Refund,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Records why a cancelled order's refund failed for good, unless recorded before.
    fn record_refund_failure(
        &self,
        id: &OrderId,
        failure: &Failure,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Records the hand-off to the restaurant unless one is recorded; `false` if it was.
    fn record_dispatch(
        &self,
        id: &OrderId,
        dispatch: &Dispatch,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Records that the customer was told about `status` unless that was recorded before;
    /// `false` if it was.
    fn mark_notified(
        &self,
        id: &OrderId,
        status: OrderStatus,
    ) -> impl Future<Output = Result<bool, DependencyError>> + Send;
}

/// The customer notification channel (an SNS topic with an email subscription on AWS).
pub trait Notifier: Send + Sync {
    fn notify(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

/// The restaurant hand-off channel. Returns the channel's reference for the hand-off.
pub trait Dispatcher: Send + Sync {
    fn dispatch(
        &self,
        order: &Order,
    ) -> impl Future<Output = Result<String, DependencyError>> + Send;
}

/// What asking for a workflow found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    New,
    /// An execution with this order's id exists already (a redelivered message).
    AlreadyStarted,
}

/// The order workflow (a Step Functions state machine on AWS).
pub trait WorkflowStarter: Send + Sync {
    /// Starts the workflow for an order; the order id is the execution name.
    fn start(
        &self,
        submission: &OrderSubmission,
    ) -> impl Future<Output = Result<Started, DependencyError>> + Send;
}

/// Charges the customer. A declined payment is an `Ok` outcome, not an error.
pub trait PaymentProcessor: Send + Sync {
    fn charge(
        &self,
        order_id: &OrderId,
        quantity: u8,
    ) -> impl Future<Output = Result<Payment, DependencyError>> + Send;

    /// Gives back a charge. Refunding the same payment again is the same refund.
    fn refund(
        &self,
        order_id: &OrderId,
        payment_id: &str,
    ) -> impl Future<Output = Result<Refund, DependencyError>> + Send;
}

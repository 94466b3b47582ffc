//! manage-order-state: the state machine's hands on the `Orders` table.
//!
//! `create` saves a received order (a repeat returns the stored order untouched);
//! `set_status` moves it along the lifecycle and tells the customer when it ends; `watch`
//! looks for a cancel during the wait; `cancelled` completes a cancelled order with its
//! refund and one email. Each is safe to retry; see `orders_core::service`. Any of them
//! fails with `OrderCancelled` once the customer has cancelled (the workflow then
//! compensates instead of moving the order on). EventBridge also calls it when an
//! execution ends without settling its order ([`ended`]).

pub mod ended;

use chrono::{DateTime, Utc};
use orders_core::service::{Compensation, Watch};
use orders_core::{
    Failure, NewOrder, Notifier, Order, OrderError, OrderId, OrderStatus, OrderStore, Payment,
    Refund, StatusChange, service,
};
use serde::{Deserialize, Serialize};

/// What the function is invoked with: a task of the workflow, or EventBridge's news of an
/// execution that ended unsettled (told apart by the event's `detail-type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Input {
    Task(Request),
    ExecutionEnded(orders_core::execution::ExecutionEnded),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("detail-type").is_some() {
            serde_json::from_value(value).map(Input::ExecutionEnded)
        } else {
            serde_json::from_value(value).map(Input::Task)
        }
        .map_err(D::Error::custom)
    }
}

impl Input {
    /// The order it is about (an execution's name is its order's id).
    pub fn order_id(&self) -> &str {
        match self {
            Input::Task(request) => request.order_id().as_str(),
            Input::ExecutionEnded(event) => &event.detail.name,
        }
    }
}

/// What an invocation answers: the stored order, or where the wait stands (`watch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Output {
    Order(Box<Order>),
    Watch(Watch),
}

impl Output {
    /// The order, for the answers that are one.
    pub fn order(&self) -> Option<&Order> {
        match self {
            Output::Order(order) => Some(order),
            Output::Watch(_) => None,
        }
    }
}

impl From<Order> for Output {
    fn from(order: Order) -> Self {
        Output::Order(Box::new(order))
    }
}

/// Runs one invocation.
pub async fn handle_input(
    store: &impl OrderStore,
    notifier: &impl Notifier,
    input: Input,
    now: DateTime<Utc>,
) -> Result<Output, OrderError> {
    match input {
        Input::Task(request) => handle(store, notifier, request, now).await,
        Input::ExecutionEnded(event) => ended::settle(store, notifier, &event, now)
            .await
            .map(Output::from),
    }
}

/// The task input the state machine sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Create {
        order_id: OrderId,
        order: NewOrder,
    },
    SetStatus {
        order_id: OrderId,
        status: OrderStatus,
        #[serde(default)]
        payment: Option<Payment>,
        #[serde(default)]
        failure: Option<FailureInput>,
        /// The order itself, sent by the workflow's failure path: an order whose save
        /// failed is then saved before it is marked, so it still ends in the table.
        #[serde(default)]
        order: Option<NewOrder>,
    },
    /// One look during the wait: `left` seconds of it remain, looked at every `every`.
    Watch {
        order_id: OrderId,
        left: u32,
        every: u32,
    },
    /// The customer cancelled: record the charge and its refund (if there was one), or
    /// why the refund failed for good, and tell the customer once.
    Cancelled {
        order_id: OrderId,
        #[serde(default)]
        payment: Option<Payment>,
        #[serde(default)]
        refund: Option<Refund>,
        #[serde(default)]
        refund_failure: Option<FailureInput>,
    },
}

impl Request {
    pub fn order_id(&self) -> &OrderId {
        match self {
            Request::Create { order_id, .. }
            | Request::SetStatus { order_id, .. }
            | Request::Watch { order_id, .. }
            | Request::Cancelled { order_id, .. } => order_id,
        }
    }
}

/// A caught error as the state machine passes it on: the Catch's error output whole
/// (`Error`, and `Cause` when the error has one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureInput {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

/// Runs one request.
pub async fn handle(
    store: &impl OrderStore,
    notifier: &impl Notifier,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Output, OrderError> {
    match request {
        Request::Create { order_id, order } => {
            let stored = service::create_order(store, &order_id, order, now).await?;
            // A repeated save of an order cancelled since: the workflow must not charge it.
            if stored.status == OrderStatus::Cancelled {
                return Err(OrderError::OrderCancelled(order_id));
            }
            Ok(stored.into())
        }
        Request::Watch {
            order_id,
            left,
            every,
        } => service::watch(store, &order_id, left, every)
            .await
            .map(Output::Watch),
        Request::Cancelled {
            order_id,
            payment,
            refund,
            refund_failure,
        } => {
            let compensation = match (payment, refund, refund_failure) {
                (Some(payment), Some(refund), _) => Compensation::Refunded(payment, refund),
                (None, Some(_), _) => {
                    return Err(OrderError::InvalidInput(
                        "a refund comes with the payment it gives back".into(),
                    ));
                }
                (_, None, Some(f)) => Compensation::RefundFailed(Failure::new(f.error, f.cause)),
                (_, None, None) => Compensation::NothingCharged,
            };
            service::settle_cancelled(store, notifier, &order_id, compensation)
                .await
                .map(Output::from)
        }
        Request::SetStatus {
            order_id,
            status,
            payment,
            failure,
            order,
        } => {
            check_payment_matches(status, payment.as_ref())?;
            if let Some(order) = order {
                service::create_order(store, &order_id, order, now).await?;
            }
            let change = StatusChange {
                status,
                at: now,
                payment,
                failure: failure.map(|f| Failure::new(f.error, f.cause)),
            };
            service::set_status(store, notifier, &order_id, change)
                .await
                .map(Output::from)
        }
    }
}

/// A payment status records the payment that decided it, and must agree with it.
fn check_payment_matches(status: OrderStatus, payment: Option<&Payment>) -> Result<(), OrderError> {
    let expects_paid = match status {
        OrderStatus::PaymentOk => true,
        OrderStatus::PaymentFailed => false,
        _ => return Ok(()),
    };
    match payment {
        None => Err(OrderError::InvalidInput(format!(
            "status {status} needs the payment that decided it"
        ))),
        Some(p) if p.is_paid() != expects_paid => Err(OrderError::InvalidInput(format!(
            "status {status} does not match payment outcome {:?}",
            p.outcome
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::{MemoryStore, Operation, RecordingNotifier};
    use serde_json::json;

    fn stored(output: Output) -> Order {
        match output {
            Output::Order(order) => *order,
            other => panic!("not an order: {other:?}"),
        }
    }

    fn request(value: serde_json::Value) -> Request {
        serde_json::from_value(value).unwrap()
    }

    fn create(order_id: &str, quantity: u8) -> Request {
        request(json!({
            "action": "create",
            "order_id": order_id,
            "order": {"user_id": "u-1", "restaurant_id": "r-1", "quantity": quantity}
        }))
    }

    #[test]
    fn an_input_is_a_task_or_an_execution_status_change() {
        let task: Input = serde_json::from_value(json!({
            "action": "set_status", "order_id": "o-1", "status": "PAYMENT_OK",
            "payment": {"payment_id": "p", "outcome": "PAID"}
        }))
        .unwrap();
        assert!(matches!(task, Input::Task(Request::SetStatus { .. })));
        assert_eq!(task.order_id(), "o-1");
        let event: Input = serde_json::from_value(json!({
            "version": "0", "detail-type": orders_core::execution::DETAIL_TYPE, "source": orders_core::execution::SOURCE,
            "detail": {
                "executionArn": "arn:aws:states:eu-west-1:1:execution:w:o-2",
                "stateMachineArn": "arn:aws:states:eu-west-1:1:stateMachine:w",
                "name": "o-2", "status": "ABORTED"
            }
        }))
        .unwrap();
        assert!(matches!(event, Input::ExecutionEnded(_)));
        assert_eq!(event.order_id(), "o-2");
        // A malformed task is refused with the task's own error, not a guess between shapes.
        let refused =
            serde_json::from_value::<Input>(json!({"action": "delete", "order_id": "o-3"}))
                .unwrap_err()
                .to_string();
        assert!(refused.contains("unknown variant `delete`"), "{refused}");
    }

    #[tokio::test]
    async fn second_create_does_not_overwrite() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        let first = handle(&store, &notifier, create("o-1", 2), Utc::now())
            .await
            .unwrap();
        let second = handle(&store, &notifier, create("o-1", 7), Utc::now())
            .await
            .unwrap();
        assert_eq!(first, second);
        assert_eq!(store.orders()[0].quantity, 2);
        assert_eq!(stored(first).status, OrderStatus::Received);
    }

    #[tokio::test]
    async fn paid_order_walks_the_happy_path_and_notifies_once() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-2", 1), Utc::now())
            .await
            .unwrap();
        let paid = request(json!({
            "action": "set_status", "order_id": "o-2", "status": "PAYMENT_OK",
            "payment": {"payment_id": "p-1", "outcome": "PAID"}
        }));
        let order = stored(handle(&store, &notifier, paid, Utc::now()).await.unwrap());
        assert_eq!(order.payment.unwrap().payment_id, "p-1");
        assert!(notifier.sent().is_empty());
        let sent = request(
            json!({"action": "set_status", "order_id": "o-2", "status": "SENT_TO_RESTAURANT"}),
        );
        for _ in 0..2 {
            let order = stored(
                handle(&store, &notifier, sent.clone(), Utc::now())
                    .await
                    .unwrap(),
            );
            assert_eq!(order.status, OrderStatus::SentToRestaurant);
        }
        assert_eq!(notifier.sent().len(), 1);
        assert_eq!(notifier.sent()[0].status, OrderStatus::SentToRestaurant);
    }

    #[tokio::test]
    async fn illegal_transition_is_refused_with_its_stable_name() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-3", 1), Utc::now())
            .await
            .unwrap();
        let skip = request(
            json!({"action": "set_status", "order_id": "o-3", "status": "SENT_TO_RESTAURANT"}),
        );
        let err = handle(&store, &notifier, skip, Utc::now())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "IllegalTransition");
        assert_eq!(store.orders()[0].status, OrderStatus::Received);
    }

    #[tokio::test]
    async fn payment_status_must_agree_with_the_payment() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-4", 1), Utc::now())
            .await
            .unwrap();
        for body in [
            json!({"action": "set_status", "order_id": "o-4", "status": "PAYMENT_OK"}),
            json!({"action": "set_status", "order_id": "o-4", "status": "PAYMENT_OK",
                   "payment": {"payment_id": "p", "outcome": "DECLINED"}}),
        ] {
            let err = handle(&store, &notifier, request(body), Utc::now())
                .await
                .unwrap_err();
            assert_eq!(err.name(), "InvalidInput");
        }
        assert_eq!(store.orders()[0].status, OrderStatus::Received);
    }

    #[tokio::test]
    async fn failure_from_a_catch_is_recorded_and_notified() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-5", 1), Utc::now())
            .await
            .unwrap();
        let failed = request(json!({
            "action": "set_status", "order_id": "o-5", "status": "FAILED",
            "failure": {"Error": "States.TaskFailed", "Cause": "x".repeat(4000)}
        }));
        let order = stored(handle(&store, &notifier, failed, Utc::now()).await.unwrap());
        let failure = order.failure.unwrap();
        assert_eq!(failure.error, "States.TaskFailed");
        assert_eq!(failure.cause.len(), Failure::MAX_CAUSE_CHARS);
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn an_error_without_a_cause_still_ends_the_order_failed() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-8", 1), Utc::now())
            .await
            .unwrap();
        let failed = request(json!({
            "action": "set_status", "order_id": "o-8", "status": "FAILED",
            "failure": {"Error": "States.Timeout"}
        }));
        let order = stored(handle(&store, &notifier, failed, Utc::now()).await.unwrap());
        assert_eq!(order.status, OrderStatus::Failed);
        assert_eq!(order.failure.unwrap().error, "States.Timeout");
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn order_never_saved_still_ends_failed_when_its_data_comes_along() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        let failed = request(json!({
            "action": "set_status", "order_id": "o-7", "status": "FAILED",
            "order": {"user_id": "u-1", "restaurant_id": "r-1", "quantity": 3},
            "failure": {"Error": "DependencyError", "Cause": "DynamoDB was away"}
        }));
        let order = stored(
            handle(&store, &notifier, failed.clone(), Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(order.status, OrderStatus::Failed);
        assert_eq!(order.quantity, 3);
        // The failure path retried: still one order, one notification.
        handle(&store, &notifier, failed, Utc::now()).await.unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn store_outage_is_a_transient_error() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        store.fail_next(Operation::Insert, 1);
        let err = handle(&store, &notifier, create("o-6", 1), Utc::now())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "DependencyError");
        assert!(err.is_transient());
        handle(&store, &notifier, create("o-6", 1), Utc::now())
            .await
            .unwrap();
        assert_eq!(store.len(), 1);
    }

    async fn cancel(store: &MemoryStore, order_id: &str) {
        let answer = service::cancel_order(
            store,
            &orders_core::UserId::parse("u-1").unwrap(),
            &OrderId::parse(order_id).unwrap(),
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(
            matches!(answer, service::Cancel::Cancelled(_)),
            "{answer:?}"
        );
    }

    #[tokio::test]
    async fn every_workflow_step_after_a_cancel_fails_with_order_cancelled() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-9", 1), Utc::now())
            .await
            .unwrap();
        let watch = request(json!({"action": "watch", "order_id": "o-9", "left": 30, "every": 10}));
        assert_eq!(
            handle(&store, &notifier, watch.clone(), Utc::now())
                .await
                .unwrap(),
            Output::Watch(Watch {
                left: 20,
                sleep: 10
            })
        );
        cancel(&store, "o-9").await;
        let paid = request(json!({
            "action": "set_status", "order_id": "o-9", "status": "PAYMENT_OK",
            "payment": {"payment_id": "p-1", "outcome": "PAID"}
        }));
        let failed = request(json!({
            "action": "set_status", "order_id": "o-9", "status": "FAILED",
            "failure": {"Error": "States.Timeout"}
        }));
        for step in [create("o-9", 1), watch, paid, failed] {
            let err = handle(&store, &notifier, step.clone(), Utc::now())
                .await
                .unwrap_err();
            assert_eq!(err.name(), "OrderCancelled", "{step:?}");
        }
        assert_eq!(store.orders()[0].status, OrderStatus::Cancelled);
        assert!(
            notifier.sent().is_empty(),
            "the email comes with the refund"
        );
    }

    #[tokio::test]
    async fn a_cancelled_order_is_completed_with_its_refund_once() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        handle(&store, &notifier, create("o-10", 1), Utc::now())
            .await
            .unwrap();
        cancel(&store, "o-10").await;
        let refunded = request(json!({
            "action": "cancelled", "order_id": "o-10",
            "payment": {"payment_id": "pay_1", "outcome": "PAID"},
            "refund": {"refund_id": "re_1", "payment_id": "pay_1"}
        }));
        for _ in 0..2 {
            let order = stored(
                handle(&store, &notifier, refunded.clone(), Utc::now())
                    .await
                    .unwrap(),
            );
            assert_eq!(order.refund.unwrap().refund_id, "re_1");
            assert_eq!(order.payment.unwrap().payment_id, "pay_1");
        }
        assert_eq!(notifier.sent().len(), 1);
        assert!(notifier.sent()[0].message.contains("re_1"));
        // A refund that failed for good is recorded, and the email says so.
        handle(&store, &notifier, create("o-11", 1), Utc::now())
            .await
            .unwrap();
        cancel(&store, "o-11").await;
        let unrefunded = request(json!({
            "action": "cancelled", "order_id": "o-11",
            "refund_failure": {"Error": "DependencyError", "Cause": "the provider was away"}
        }));
        let order = stored(
            handle(&store, &notifier, unrefunded, Utc::now())
                .await
                .unwrap(),
        );
        assert_eq!(order.refund_failure.unwrap().error, "DependencyError");
        assert!(notifier.sent()[1].message.contains("staff"));
    }

    #[test]
    fn malformed_requests_are_refused_by_deserialisation() {
        for bad in [
            json!({"action": "delete", "order_id": "o-1"}),
            json!({"action": "create", "order_id": "o-1"}),
            json!({"action": "create", "order_id": "o 1", "order": {"user_id": "u", "restaurant_id": "r", "quantity": 1}}),
            json!({"action": "create", "order_id": "o-1", "order": {"user_id": "u", "restaurant_id": "r", "quantity": 0}}),
            json!({"action": "set_status", "order_id": "o-1", "status": "LOST"}),
            json!({"action": "set_status", "order_id": "o-1", "status": "FAILED", "typo": 1}),
        ] {
            assert!(
                serde_json::from_value::<Request>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}

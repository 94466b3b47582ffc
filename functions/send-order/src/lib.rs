//! send-order: hands a paid order to its restaurant, once, and records the hand-off on the
//! order. The restaurant side is a topic each restaurant subscribes to, filtered on the
//! `restaurant_id` message attribute.

use chrono::{DateTime, Utc};
use orders_core::{Dispatch, Dispatcher, OrderError, OrderId, OrderStore, service};
use serde::{Deserialize, Serialize};

/// The task input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub order_id: OrderId,
}

pub async fn handle(
    store: &impl OrderStore,
    dispatcher: &impl Dispatcher,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Dispatch, OrderError> {
    service::send_to_restaurant(store, dispatcher, &request.order_id, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::{MemoryStore, Operation, RecordingDispatcher, RecordingNotifier};
    use orders_core::{NewOrder, OrderStatus, Payment, PaymentOutcome, StatusChange};

    async fn paid_order(store: &MemoryStore) -> Request {
        let order_id = OrderId::parse("o-1").unwrap();
        let new = NewOrder {
            user_id: orders_core::UserId::parse("u").unwrap(),
            restaurant_id: "r-9".into(),
            quantity: 2,
            note: Some("ring twice".into()),
        };
        service::create_order(store, &order_id, new, Utc::now())
            .await
            .unwrap();
        let paid = StatusChange {
            status: OrderStatus::PaymentOk,
            at: Utc::now(),
            payment: Some(Payment {
                payment_id: "p".into(),
                outcome: PaymentOutcome::Paid,
            }),
            failure: None,
        };
        service::set_status(store, &RecordingNotifier::default(), &order_id, paid)
            .await
            .unwrap();
        Request { order_id }
    }

    #[tokio::test]
    async fn paid_order_reaches_its_restaurant_once() {
        let (store, dispatcher) = (MemoryStore::default(), RecordingDispatcher::default());
        let request = paid_order(&store).await;
        let first = handle(&store, &dispatcher, request.clone(), Utc::now())
            .await
            .unwrap();
        let retry = handle(&store, &dispatcher, request, Utc::now())
            .await
            .unwrap();
        assert_eq!(first, retry);
        let sent = dispatcher.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].restaurant_id, "r-9");
        assert_eq!(store.orders()[0].dispatch.as_ref(), Some(&first));
    }

    #[tokio::test]
    async fn retry_after_a_failed_record_reuses_nothing_stale() {
        let (store, dispatcher) = (MemoryStore::default(), RecordingDispatcher::default());
        let request = paid_order(&store).await;
        store.fail_next(Operation::RecordDispatch, 1);
        let err = handle(&store, &dispatcher, request.clone(), Utc::now())
            .await
            .unwrap_err();
        assert!(err.is_transient());
        let dispatch = handle(&store, &dispatcher, request, Utc::now())
            .await
            .unwrap();
        // The restaurant got the order twice (at least once); the order records the last.
        assert_eq!(dispatcher.sent().len(), 2);
        assert_eq!(store.orders()[0].dispatch, Some(dispatch));
    }

    #[tokio::test]
    async fn missing_order_is_not_found() {
        let err = handle(
            &MemoryStore::default(),
            &RecordingDispatcher::default(),
            Request {
                order_id: OrderId::parse("ghost").unwrap(),
            },
            Utc::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.name(), "OrderNotFound");
    }

    #[tokio::test]
    async fn dispatcher_outage_is_transient_and_records_nothing() {
        let (store, dispatcher) = (MemoryStore::default(), RecordingDispatcher::default());
        let request = paid_order(&store).await;
        dispatcher.fail_next(1);
        let err = handle(&store, &dispatcher, request, Utc::now())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "DependencyError");
        assert_eq!(store.orders()[0].dispatch, None);
    }
}

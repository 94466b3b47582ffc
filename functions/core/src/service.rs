//! The lifecycle rules, written once against the ports so that every handler and the
//! local runner share them. Each operation is safe to repeat: Step Functions retries a
//! task whose previous attempt may have done part of its work.

use chrono::{DateTime, Utc};

use crate::{
    Dispatch, Dispatcher, Inserted, NewOrder, Notification, Notifier, Order, OrderError, OrderId,
    OrderStatus, OrderStore, StatusChange,
};

/// How often a status change is tried again when another writer got in first.
const MAX_ATTEMPTS: usize = 3;

/// Saves a received order. A second call for the same id changes nothing and returns the
/// order as first stored.
pub async fn create_order(
    store: &impl OrderStore,
    order_id: &OrderId,
    new: NewOrder,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let order = Order::received(order_id.clone(), new, now);
    match store.insert(&order).await? {
        Inserted::New => Ok(order),
        Inserted::AlreadyExists(stored) => Ok(*stored),
    }
}

/// Moves an order to a new status if the lifecycle allows it, and tells the customer when
/// the status is final.
///
/// A retry after a partial failure completes what is missing: the status is written once
/// (a second identical request finds it in place), and the notification is marked as sent
/// only after SNS took it, so it is never lost. When nothing failed it is sent once; only
/// a crash between the publish and the mark can repeat it (at least once, never zero).
pub async fn set_status(
    store: &impl OrderStore,
    notifier: &impl Notifier,
    order_id: &OrderId,
    change: StatusChange,
) -> Result<Order, OrderError> {
    for _ in 0..MAX_ATTEMPTS {
        let current = store
            .get(order_id)
            .await?
            .ok_or_else(|| OrderError::NotFound(order_id.clone()))?;
        let order = if current.status == change.status {
            current
        } else if current.status.can_become(change.status) {
            match store
                .update_status(order_id, current.status, &change)
                .await?
            {
                Some(updated) => updated,
                None => continue,
            }
        } else {
            return Err(OrderError::IllegalTransition {
                order_id: order_id.clone(),
                from: current.status,
                to: change.status,
            });
        };
        if order.status.is_final() && order.notified_status != Some(order.status) {
            notifier.notify(&Notification::for_order(&order)).await?;
            store.mark_notified(order_id, order.status).await?;
        }
        return Ok(order);
    }
    Err(OrderError::ConcurrentUpdate(order_id.clone()))
}

/// Hands a paid order to its restaurant once and records the hand-off on the order.
/// A repeated call returns the recorded hand-off without sending again.
pub async fn send_to_restaurant(
    store: &impl OrderStore,
    dispatcher: &impl Dispatcher,
    order_id: &OrderId,
    now: DateTime<Utc>,
) -> Result<Dispatch, OrderError> {
    let order = store
        .get(order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.clone()))?;
    if let Some(dispatch) = order.dispatch {
        return Ok(dispatch);
    }
    if order.status != OrderStatus::PaymentOk {
        return Err(OrderError::IllegalTransition {
            order_id: order_id.clone(),
            from: order.status,
            to: OrderStatus::SentToRestaurant,
        });
    }
    let dispatch = Dispatch {
        reference: dispatcher.dispatch(&order).await?,
        sent_at: now,
    };
    if store.record_dispatch(order_id, &dispatch).await? {
        return Ok(dispatch);
    }
    // Another attempt recorded its hand-off first; that one is the order's.
    store
        .get(order_id)
        .await?
        .and_then(|order| order.dispatch)
        .ok_or_else(|| OrderError::ConcurrentUpdate(order_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryStore, Operation, RecordingDispatcher, RecordingNotifier};
    use crate::{Failure, OrderReader, Payment, PaymentOutcome};

    fn id(raw: &str) -> OrderId {
        OrderId::parse(raw).unwrap()
    }

    fn new_order(quantity: u8) -> NewOrder {
        NewOrder {
            user_id: crate::UserId::parse("u-1").unwrap(),
            restaurant_id: "r-1".into(),
            quantity,
            note: None,
        }
    }

    fn change(status: OrderStatus) -> StatusChange {
        StatusChange {
            status,
            at: Utc::now(),
            payment: None,
            failure: None,
        }
    }

    async fn received(store: &MemoryStore, raw: &str) -> OrderId {
        let order_id = id(raw);
        create_order(store, &order_id, new_order(2), Utc::now())
            .await
            .unwrap();
        order_id
    }

    #[tokio::test]
    async fn second_create_does_not_overwrite() {
        let store = MemoryStore::default();
        let order_id = id("o-1");
        let first = create_order(&store, &order_id, new_order(2), Utc::now())
            .await
            .unwrap();
        let second = create_order(&store, &order_id, new_order(9), Utc::now())
            .await
            .unwrap();
        assert_eq!(second, first);
        assert_eq!(store.get(&order_id).await.unwrap().unwrap().quantity, 2);
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn illegal_transition_is_refused_and_changes_nothing() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-2").await;
        let err = set_status(
            &store,
            &notifier,
            &order_id,
            change(OrderStatus::SentToRestaurant),
        )
        .await
        .unwrap_err();
        assert_eq!(err.name(), "IllegalTransition");
        assert!(!err.is_transient());
        let stored = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!(stored.status, OrderStatus::Received);
        assert!(notifier.sent().is_empty());
    }

    #[tokio::test]
    async fn final_status_sends_exactly_one_notification() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-3").await;
        let mut declined = change(OrderStatus::PaymentFailed);
        declined.payment = Some(Payment {
            payment_id: "p-1".into(),
            outcome: PaymentOutcome::Declined,
        });
        for _ in 0..3 {
            let order = set_status(&store, &notifier, &order_id, declined.clone())
                .await
                .unwrap();
            assert_eq!(order.status, OrderStatus::PaymentFailed);
        }
        let sent = notifier.sent();
        assert_eq!(sent.len(), 1, "a repeated request must not notify again");
        assert_eq!(sent[0].status, OrderStatus::PaymentFailed);
        let stored = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!(stored.notified_status, Some(OrderStatus::PaymentFailed));
        assert_eq!(stored.payment, declined.payment);
    }

    #[tokio::test]
    async fn non_final_status_notifies_nobody() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-4").await;
        set_status(&store, &notifier, &order_id, change(OrderStatus::PaymentOk))
            .await
            .unwrap();
        assert!(notifier.sent().is_empty());
    }

    #[tokio::test]
    async fn notification_lost_to_a_failed_publish_is_sent_on_retry() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-5").await;
        notifier.fail_next(1);
        let err = set_status(
            &store,
            &notifier,
            &order_id,
            change(OrderStatus::PaymentFailed),
        )
        .await
        .unwrap_err();
        assert!(
            err.is_transient(),
            "a failed publish must be retried: {err}"
        );
        assert_eq!(
            store.get(&order_id).await.unwrap().unwrap().status,
            OrderStatus::PaymentFailed,
            "the status was written before the publish failed"
        );
        set_status(
            &store,
            &notifier,
            &order_id,
            change(OrderStatus::PaymentFailed),
        )
        .await
        .unwrap();
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn failed_mark_after_publish_is_completed_by_the_retry() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-6").await;
        store.fail_next(Operation::MarkNotified, 1);
        assert!(
            set_status(&store, &notifier, &order_id, change(OrderStatus::Failed))
                .await
                .is_err()
        );
        set_status(&store, &notifier, &order_id, change(OrderStatus::Failed))
            .await
            .unwrap();
        // At least once: the crash window between publish and mark repeats the email.
        assert_eq!(notifier.sent().len(), 2);
        set_status(&store, &notifier, &order_id, change(OrderStatus::Failed))
            .await
            .unwrap();
        assert_eq!(notifier.sent().len(), 2, "once marked, never again");
    }

    #[tokio::test]
    async fn failed_order_keeps_its_reason() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-7").await;
        let mut failed = change(OrderStatus::Failed);
        failed.failure = Some(Failure::new("States.Timeout", "payment took too long"));
        let order = set_status(&store, &notifier, &order_id, failed)
            .await
            .unwrap();
        assert_eq!(order.failure.unwrap().error, "States.Timeout");
        assert!(notifier.sent()[0].message.contains("States.Timeout"));
    }

    #[tokio::test]
    async fn status_of_a_missing_order_is_not_found() {
        let store = MemoryStore::default();
        let err = set_status(
            &store,
            &RecordingNotifier::default(),
            &id("nope"),
            change(OrderStatus::Failed),
        )
        .await
        .unwrap_err();
        assert_eq!(err.name(), "OrderNotFound");
    }

    #[tokio::test]
    async fn lost_race_is_retried_against_the_new_status() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = received(&store, "o-8").await;
        // Another writer moves the order to PAYMENT_OK between our read and our write.
        store.race_next_update(OrderStatus::PaymentOk);
        let order = set_status(&store, &notifier, &order_id, change(OrderStatus::Failed))
            .await
            .unwrap();
        assert_eq!(order.status, OrderStatus::Failed);
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn paid_order_is_dispatched_once() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let dispatcher = RecordingDispatcher::default();
        let order_id = received(&store, "o-9").await;
        set_status(&store, &notifier, &order_id, change(OrderStatus::PaymentOk))
            .await
            .unwrap();
        let first = send_to_restaurant(&store, &dispatcher, &order_id, Utc::now())
            .await
            .unwrap();
        let again = send_to_restaurant(&store, &dispatcher, &order_id, Utc::now())
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(dispatcher.sent().len(), 1);
        assert_eq!(
            store.get(&order_id).await.unwrap().unwrap().dispatch,
            Some(first)
        );
    }

    #[tokio::test]
    async fn unpaid_order_is_not_dispatched() {
        let store = MemoryStore::default();
        let dispatcher = RecordingDispatcher::default();
        let order_id = received(&store, "o-10").await;
        let err = send_to_restaurant(&store, &dispatcher, &order_id, Utc::now())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "IllegalTransition");
        assert!(dispatcher.sent().is_empty());
    }
}

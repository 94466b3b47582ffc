//! The lifecycle rules, written once against the ports so that every handler and the
//! local runner share them. Each operation is safe to repeat: Step Functions retries a
//! task whose previous attempt may have done part of its work.

use chrono::{DateTime, Utc};

use crate::{
    Dispatch, Dispatcher, Failure, Inserted, NewOrder, Notification, Notifier, Order, OrderError,
    OrderId, OrderStatus, OrderStore, Payment, Refund, StatusChange, UserId,
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
        } else if current.status == OrderStatus::Cancelled {
            // The customer got in first: the workflow compensates instead of moving on.
            return Err(OrderError::OrderCancelled(order_id.clone()));
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
///
/// The hand-off is claimed before anything is sent, with one conditional write that a
/// cancel recorded first makes fail (and that makes every later cancel fail): an order is
/// either cancelled or handed off, never both. A cancelled order is `OrderCancelled`.
pub async fn send_to_restaurant(
    store: &impl OrderStore,
    dispatcher: &impl Dispatcher,
    order_id: &OrderId,
    now: DateTime<Utc>,
) -> Result<Dispatch, OrderError> {
    let mut order = read(store, order_id).await?;
    if let Some(dispatch) = order.dispatch {
        return Ok(dispatch);
    }
    if order.handoff_at.is_none() {
        if !store.claim_handoff(order_id, now).await? {
            // Lost to a cancel, or an earlier attempt of ours claimed it: read which.
            order = read(store, order_id).await?;
        }
        if order.status == OrderStatus::Cancelled {
            return Err(OrderError::OrderCancelled(order_id.clone()));
        }
        if order.status != OrderStatus::PaymentOk {
            return Err(OrderError::IllegalTransition {
                order_id: order_id.clone(),
                from: order.status,
                to: OrderStatus::SentToRestaurant,
            });
        }
    }
    let dispatch = Dispatch {
        reference: dispatcher.dispatch(&order).await?,
        sent_at: now,
    };
    if store.record_dispatch(order_id, &dispatch).await? {
        return Ok(dispatch);
    }
    // Another attempt recorded its hand-off first; that one is the order's.
    read(store, order_id)
        .await?
        .dispatch
        .ok_or_else(|| OrderError::ConcurrentUpdate(order_id.clone()))
}

async fn read(store: &impl OrderStore, order_id: &OrderId) -> Result<Order, OrderError> {
    store
        .get(order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.clone()))
}

/// What a customer's cancel found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancel {
    /// This request cancelled the order.
    Cancelled(Box<Order>),
    /// It was cancelled before; nothing changed.
    AlreadyCancelled(Box<Order>),
    /// It was handed to its restaurant, or ended otherwise: it can no longer be cancelled.
    TooLate(Box<Order>),
    /// No such order of this customer (another customer's order is not theirs to know of).
    NotFound,
}

/// Cancels `caller`'s order while it can be cancelled. The cancel is one conditional write
/// ([`OrderStore::cancel`]); a read first tells the answers apart, and a write that lost
/// to another writer reads again.
pub async fn cancel_order(
    store: &impl OrderStore,
    caller: &UserId,
    order_id: &OrderId,
    now: DateTime<Utc>,
) -> Result<Cancel, OrderError> {
    for _ in 0..MAX_ATTEMPTS {
        let order = match store.get(order_id).await? {
            Some(order) if &order.user_id == caller => order,
            _ => return Ok(Cancel::NotFound),
        };
        if order.status == OrderStatus::Cancelled {
            return Ok(Cancel::AlreadyCancelled(Box::new(order)));
        }
        if order.status.is_final() || order.handoff_at.is_some() {
            return Ok(Cancel::TooLate(Box::new(order)));
        }
        if let Some(cancelled) = store.cancel(order_id, now).await? {
            return Ok(Cancel::Cancelled(Box::new(cancelled)));
        }
    }
    Err(OrderError::ConcurrentUpdate(order_id.clone()))
}

/// Where the workflow's wait stands: seconds still to wait after this nap, and the nap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Watch {
    pub left: u32,
    pub sleep: u32,
}

/// One look at the order during the workflow's wait: `OrderCancelled` if the customer
/// cancelled, otherwise the next nap (at most `every` seconds; 0 when the wait is over).
pub async fn watch(
    store: &impl OrderStore,
    order_id: &OrderId,
    left: u32,
    every: u32,
) -> Result<Watch, OrderError> {
    let order = read(store, order_id).await?;
    if order.status == OrderStatus::Cancelled {
        return Err(OrderError::OrderCancelled(order_id.clone()));
    }
    let sleep = left.min(every.max(1));
    Ok(Watch {
        left: left - sleep,
        sleep,
    })
}

/// How the compensation of a cancelled order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compensation {
    /// Nothing was charged.
    NothingCharged,
    /// The charge, and its refund.
    Refunded(Payment, Refund),
    /// The refund failed for good; staff make it by hand.
    RefundFailed(Failure),
}

/// Completes a cancelled order: records its refund (or why it failed) and tells the
/// customer once. Safe to repeat, as [`set_status`] is.
pub async fn settle_cancelled(
    store: &impl OrderStore,
    notifier: &impl Notifier,
    order_id: &OrderId,
    compensation: Compensation,
) -> Result<Order, OrderError> {
    let order = read(store, order_id).await?;
    if order.status != OrderStatus::Cancelled {
        return Err(OrderError::IllegalTransition {
            order_id: order_id.clone(),
            from: order.status,
            to: OrderStatus::Cancelled,
        });
    }
    match &compensation {
        Compensation::NothingCharged => {}
        Compensation::Refunded(payment, refund) => {
            store.record_refund(order_id, payment, refund).await?;
        }
        Compensation::RefundFailed(failure) => {
            store.record_refund_failure(order_id, failure).await?;
        }
    }
    let order = read(store, order_id).await?;
    if order.notified_status != Some(OrderStatus::Cancelled) {
        notifier.notify(&Notification::for_order(&order)).await?;
        store
            .mark_notified(order_id, OrderStatus::Cancelled)
            .await?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryStore, Operation, RecordingDispatcher, RecordingNotifier};
    use crate::{OrderReader, PaymentOutcome};

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

    async fn paid(store: &MemoryStore, raw: &str) -> OrderId {
        let order_id = received(store, raw).await;
        let mut paid = change(OrderStatus::PaymentOk);
        paid.payment = Some(Payment {
            payment_id: "pay_1".into(),
            outcome: PaymentOutcome::Paid,
        });
        set_status(store, &RecordingNotifier::default(), &order_id, paid)
            .await
            .unwrap();
        order_id
    }

    fn user() -> crate::UserId {
        crate::UserId::parse("u-1").unwrap()
    }

    #[tokio::test]
    async fn versions_count_the_status_changes() {
        let store = MemoryStore::default();
        let order_id = paid(&store, "o-v").await;
        let order = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!((order.status, order.version), (OrderStatus::PaymentOk, 2));
        let Cancel::Cancelled(cancelled) = cancel_order(&store, &user(), &order_id, Utc::now())
            .await
            .unwrap()
        else {
            panic!("a paid order can be cancelled")
        };
        assert_eq!(cancelled.version, 3);
        // Writes that change no status leave the version alone.
        let payment = store
            .get(&order_id)
            .await
            .unwrap()
            .unwrap()
            .payment
            .unwrap();
        store
            .record_refund(
                &order_id,
                &payment,
                &Refund {
                    refund_id: "r".into(),
                    payment_id: "pay_1".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(store.get(&order_id).await.unwrap().unwrap().version, 3);
    }

    #[tokio::test]
    async fn a_cancel_answers_by_what_it_finds() {
        let store = MemoryStore::default();
        let order_id = received(&store, "o-c1").await;
        let stranger = crate::UserId::parse("someone-else").unwrap();
        assert_eq!(
            cancel_order(&store, &stranger, &order_id, Utc::now())
                .await
                .unwrap(),
            Cancel::NotFound,
            "another customer's order is not theirs to cancel"
        );
        assert_eq!(
            store.get(&order_id).await.unwrap().unwrap().status,
            OrderStatus::Received
        );
        let first = cancel_order(&store, &user(), &order_id, Utc::now())
            .await
            .unwrap();
        assert!(matches!(first, Cancel::Cancelled(_)), "{first:?}");
        let again = cancel_order(&store, &user(), &order_id, Utc::now())
            .await
            .unwrap();
        let Cancel::AlreadyCancelled(order) = again else {
            panic!("a repeated cancel changes nothing: {again:?}")
        };
        assert_eq!(order.version, 2);
        assert_eq!(
            cancel_order(&store, &user(), &id("never-placed"), Utc::now())
                .await
                .unwrap(),
            Cancel::NotFound
        );
    }

    #[tokio::test]
    async fn a_claimed_or_final_order_is_too_late_to_cancel() {
        let store = MemoryStore::default();
        let dispatcher = RecordingDispatcher::default();
        let claimed = paid(&store, "o-c2").await;
        assert!(store.claim_handoff(&claimed, Utc::now()).await.unwrap());
        let answer = cancel_order(&store, &user(), &claimed, Utc::now())
            .await
            .unwrap();
        assert!(matches!(answer, Cancel::TooLate(_)), "{answer:?}");
        send_to_restaurant(&store, &dispatcher, &claimed, Utc::now())
            .await
            .unwrap();
        assert_eq!(dispatcher.sent().len(), 1, "the claim's owner hands it off");
        let declined = received(&store, "o-c3").await;
        let mut failed = change(OrderStatus::PaymentFailed);
        failed.payment = Some(Payment {
            payment_id: "p".into(),
            outcome: PaymentOutcome::Declined,
        });
        set_status(&store, &RecordingNotifier::default(), &declined, failed)
            .await
            .unwrap();
        let answer = cancel_order(&store, &user(), &declined, Utc::now())
            .await
            .unwrap();
        assert!(matches!(answer, Cancel::TooLate(_)), "{answer:?}");
    }

    #[tokio::test]
    async fn a_cancelled_order_is_never_handed_off_and_moves_no_further() {
        let store = MemoryStore::default();
        let dispatcher = RecordingDispatcher::default();
        let notifier = RecordingNotifier::default();
        let order_id = paid(&store, "o-c4").await;
        cancel_order(&store, &user(), &order_id, Utc::now())
            .await
            .unwrap();
        let err = send_to_restaurant(&store, &dispatcher, &order_id, Utc::now())
            .await
            .unwrap_err();
        assert_eq!(err.name(), "OrderCancelled");
        assert!(dispatcher.sent().is_empty());
        let err = set_status(&store, &notifier, &order_id, change(OrderStatus::Failed))
            .await
            .unwrap_err();
        assert_eq!(err.name(), "OrderCancelled");
        assert!(!err.is_transient());
        let err = watch(&store, &order_id, 10, 5).await.unwrap_err();
        assert_eq!(err.name(), "OrderCancelled");
        let stored = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!(stored.status, OrderStatus::Cancelled);
        assert!(stored.dispatch.is_none() && stored.handoff_at.is_none());
    }

    #[tokio::test]
    async fn the_wait_is_watched_in_naps_that_add_up_to_it() {
        let store = MemoryStore::default();
        let order_id = received(&store, "o-w").await;
        let mut left = 23;
        let mut naps = Vec::new();
        loop {
            let step = watch(&store, &order_id, left, 10).await.unwrap();
            if step.sleep == 0 {
                break;
            }
            naps.push(step.sleep);
            left = step.left;
        }
        assert_eq!(naps, [10, 10, 3]);
        assert_eq!(watch(&store, &order_id, 0, 10).await.unwrap().sleep, 0);
    }

    #[tokio::test]
    async fn a_cancelled_order_is_settled_with_its_refund_and_one_email() {
        let store = MemoryStore::default();
        let notifier = RecordingNotifier::default();
        let order_id = paid(&store, "o-c5").await;
        cancel_order(&store, &user(), &order_id, Utc::now())
            .await
            .unwrap();
        let refund = Refund {
            refund_id: "ref_1".into(),
            payment_id: "pay_1".into(),
        };
        for _ in 0..2 {
            let order = settle_cancelled(
                &store,
                &notifier,
                &order_id,
                Compensation::Refunded(
                    Payment {
                        payment_id: "pay_1".into(),
                        outcome: PaymentOutcome::Paid,
                    },
                    refund.clone(),
                ),
            )
            .await
            .unwrap();
            assert_eq!(order.refund.as_ref(), Some(&refund));
        }
        let sent = notifier.sent();
        assert_eq!(
            sent.len(),
            1,
            "one email for a cancel, however often settled"
        );
        assert_eq!(sent[0].status, OrderStatus::Cancelled);
        assert!(sent[0].message.contains("refunded"), "{}", sent[0].message);
        // Only a cancelled order is settled as one.
        let open = received(&store, "o-c6").await;
        let err = settle_cancelled(&store, &notifier, &open, Compensation::NothingCharged)
            .await
            .unwrap_err();
        assert_eq!(err.name(), "IllegalTransition");
    }
}

//! An execution of the workflow that ended without settling its order: stopped by hand,
//! timed out, or failed outside the workflow's own Catch. EventBridge brings the news (the
//! "Step Functions Execution Status Change" event; local mode's runner delivers the same);
//! the order is marked `FAILED` with what happened, and the customer told once. An order
//! the workflow already settled stays as it is.

use chrono::{DateTime, Utc};
use orders_core::execution::{DETAIL_TYPE, ExecutionEnded, SOURCE};
use orders_core::{
    Notifier, Order, OrderError, OrderId, OrderStatus, OrderStore, StatusChange, service,
};

/// Settles the order of an execution that ended unsettled.
pub async fn settle(
    store: &impl OrderStore,
    notifier: &impl Notifier,
    event: &ExecutionEnded,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    if event.source != SOURCE || event.detail_type != DETAIL_TYPE {
        return Err(OrderError::InvalidInput(format!(
            "not a Step Functions execution status change: {} from {}",
            event.detail_type, event.source
        )));
    }
    let detail = &event.detail;
    let failure = detail.failure().map_err(OrderError::InvalidInput)?;
    let order_id =
        OrderId::parse(&detail.name).map_err(|e| OrderError::InvalidInput(e.to_string()))?;
    // An execution that ended before it saved its order still ends with the order stored.
    if let Some(order) = detail.order() {
        service::create_order(store, &order_id, order, now).await?;
    }
    let current = store
        .get(&order_id)
        .await?
        .ok_or_else(|| OrderError::NotFound(order_id.clone()))?;
    // A settled order keeps its status; the change below only completes its email if
    // that was what was left undone.
    let status = if current.status.is_final() {
        current.status
    } else {
        OrderStatus::Failed
    };
    let change = StatusChange {
        status,
        at: now,
        payment: None,
        failure: (status == OrderStatus::Failed && !current.status.is_final()).then_some(failure),
    };
    service::set_status(store, notifier, &order_id, change).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::{MemoryStore, RecordingNotifier};
    use serde_json::json;

    const ORDER_ID: &str = "Jl-yYG0uIAMFeWQ=";

    fn event(status: &str, with_input: bool) -> ExecutionEnded {
        let arn = "arn:aws:states:eu-west-1:123456789012:execution:orders-dev-workflow";
        let mut detail = json!({
            "executionArn": format!("{arn}:{ORDER_ID}"),
            "stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:orders-dev-workflow",
            "name": ORDER_ID,
            "status": status,
            "startDate": 1_764_244_800_000u64,
            "stopDate": 1_764_244_860_000u64,
            "cause": "stopped by an operator",
        });
        if with_input {
            detail["input"] = json!(
                json!({
                    "order_id": ORDER_ID,
                    "order": {"user_id": "u-1", "restaurant_id": "r-1", "quantity": 2}
                })
                .to_string()
            );
        }
        serde_json::from_value(json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": DETAIL_TYPE,
            "source": SOURCE,
            "account": "123456789012",
            "time": "2026-11-27T12:01:00Z",
            "region": "eu-west-1",
            "resources": [format!("{arn}:{ORDER_ID}")],
            "detail": detail,
        }))
        .unwrap()
    }

    use orders_core::NewOrder;

    async fn received(store: &MemoryStore) {
        let order =
            NewOrder::try_from(json!({"user_id": "u-1", "restaurant_id": "r-1", "quantity": 2}))
                .unwrap();
        service::create_order(store, &OrderId::parse(ORDER_ID).unwrap(), order, Utc::now())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_aborted_execution_ends_its_order_failed_and_emailed_once() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        received(&store).await;
        let aborted = event("ABORTED", true);
        let order = settle(&store, &notifier, &aborted, Utc::now())
            .await
            .unwrap();
        assert_eq!(order.status, OrderStatus::Failed);
        let failure = order.failure.unwrap();
        assert_eq!(failure.error, "ExecutionAborted");
        assert_eq!(failure.cause, "stopped by an operator");
        // EventBridge delivers at least once: a repeat changes nothing and sends nothing.
        settle(&store, &notifier, &aborted, Utc::now())
            .await
            .unwrap();
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn a_timed_out_execution_that_never_saved_its_order_still_leaves_it_failed() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        let order = settle(&store, &notifier, &event("TIMED_OUT", true), Utc::now())
            .await
            .unwrap();
        assert_eq!(order.status, OrderStatus::Failed);
        assert_eq!(order.quantity, 2);
        assert_eq!(order.failure.unwrap().error, "ExecutionTimedOut");
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn an_order_the_workflow_settled_stays_as_it_is() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        received(&store).await;
        let id = OrderId::parse(ORDER_ID).unwrap();
        let declined = StatusChange {
            status: OrderStatus::PaymentFailed,
            at: Utc::now(),
            payment: Some(orders_core::Payment {
                payment_id: "pay_1".into(),
                outcome: orders_core::PaymentOutcome::Declined,
            }),
            failure: None,
        };
        service::set_status(&store, &notifier, &id, declined)
            .await
            .unwrap();
        // The workflow's failure path ends in its Fail state: the execution is FAILED.
        let order = settle(&store, &notifier, &event("FAILED", true), Utc::now())
            .await
            .unwrap();
        assert_eq!(order.status, OrderStatus::PaymentFailed);
        assert!(order.failure.is_none());
        assert_eq!(notifier.sent().len(), 1);
    }

    #[tokio::test]
    async fn other_events_and_statuses_are_refused() {
        let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
        received(&store).await;
        let succeeded = event("SUCCEEDED", false);
        assert!(matches!(
            settle(&store, &notifier, &succeeded, Utc::now()).await,
            Err(OrderError::InvalidInput(_))
        ));
        let mut foreign = event("ABORTED", false);
        foreign.source = "aws.ec2".into();
        assert!(
            settle(&store, &notifier, &foreign, Utc::now())
                .await
                .is_err()
        );
        assert_eq!(store.orders()[0].status, OrderStatus::Received);
        assert!(notifier.sent().is_empty());
    }
}

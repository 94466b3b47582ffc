//! The order events (**contract**): one for every committed status change of an order,
//! on the stack's orders event bus. `schema/order-event.schema.json` describes their
//! `detail`.
//!
//! They are derived from the committed data, never sent by the function that wrote it: the
//! table's stream carries every write, and [`OrderEvent::of_change`] keeps the writes that
//! changed a status. A function that dies right after its write loses no event, and an
//! event can come twice (the stream is read at least once): `version`, which moves with
//! every status change in the same write, orders and de-duplicates them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Order, OrderId, OrderStatus, UserId};

/// The events' `source`.
pub const SOURCE: &str = "serverless-orders.orders";
/// The events' `detail-type`.
pub const DETAIL_TYPE: &str = "Order Status Changed";

/// An event's `detail`: what changed, for whom, and when. No internals: no ARN, no
/// failure cause (a failed order says only that it failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEvent {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub restaurant_id: String,
    pub status: OrderStatus,
    /// 1 for `RECEIVED` (the first status), one more per change.
    pub version: u32,
    /// When the change was committed (the order's `updated_at` in that write).
    pub at: DateTime<Utc>,
}

impl OrderEvent {
    /// The event of a write that took an order from `old` (none: the order is new) to
    /// `new`; none if the write changed no status (a recorded hand-off, refund or email).
    pub fn of_change(old: Option<&Order>, new: &Order) -> Option<Self> {
        if old.is_some_and(|old| old.status == new.status) {
            return None;
        }
        Some(Self {
            order_id: new.order_id.clone(),
            user_id: new.user_id.clone(),
            restaurant_id: new.restaurant_id.clone(),
            status: new.status,
            version: new.version,
            at: new.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewOrder, Payment, PaymentOutcome};

    fn received() -> Order {
        let new = NewOrder {
            user_id: UserId::parse("u-1").unwrap(),
            restaurant_id: "r-1".into(),
            quantity: 2,
            note: Some("no onions".into()),
        };
        Order::received(OrderId::parse("o-1").unwrap(), new, Utc::now())
    }

    #[test]
    fn a_new_order_is_version_one_received() {
        let order = received();
        let event = OrderEvent::of_change(None, &order).unwrap();
        assert_eq!((event.status, event.version), (OrderStatus::Received, 1));
        assert_eq!(event.at, order.updated_at);
    }

    #[test]
    fn only_a_changed_status_is_an_event() {
        let before = received();
        let mut paid = before.clone();
        paid.status = OrderStatus::PaymentOk;
        paid.version = 2;
        paid.payment = Some(Payment {
            payment_id: "p".into(),
            outcome: PaymentOutcome::Paid,
        });
        let event = OrderEvent::of_change(Some(&before), &paid).unwrap();
        assert_eq!((event.status, event.version), (OrderStatus::PaymentOk, 2));
        let mut claimed = paid.clone();
        claimed.handoff_at = Some(Utc::now());
        assert_eq!(OrderEvent::of_change(Some(&paid), &claimed), None);
    }

    #[test]
    fn an_event_carries_no_internals() {
        let mut failed = received();
        failed.status = OrderStatus::Failed;
        failed.failure = Some(crate::Failure::new(
            "States.TaskFailed",
            "arn:aws:lambda:eu-west-1:123456789012:function:x failed",
        ));
        let event = OrderEvent::of_change(Some(&received()), &failed).unwrap();
        let json = serde_json::to_value(&event).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "at",
                "order_id",
                "restaurant_id",
                "status",
                "user_id",
                "version"
            ]
        );
        assert!(!json.to_string().contains("arn:"));
    }
}

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::OrderStatus;
use crate::validation::{self, ValidationError};

/// The order id, minted at the edge (API Gateway's `$context.extendedRequestId`, URL-safe
/// base64 such as `Jl-yYG0uIAMFeWQ=`).
///
/// It is also the Step Functions execution name, so it keeps to that name's rules with
/// room to spare: 1 to 80 ASCII letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order id is 1 to 80 characters, each a letter, a digit, '-', '_' or '='")]
pub struct InvalidOrderId;

impl OrderId {
    pub const MAX_LEN: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, InvalidOrderId> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidOrderId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrderId {
    type Error = InvalidOrderId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<OrderId> for String {
    fn from(id: OrderId) -> Self {
        id.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who ordered: the `sub` claim of the caller's Cognito ID token, which API Gateway's
/// authorizer checked. Never taken from a request body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a user id is 1 to 128 visible ASCII characters (a Cognito `sub`)")]
pub struct InvalidUserId;

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, InvalidUserId> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidUserId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserId {
    type Error = InvalidUserId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A valid request body of `POST /orders`, normalised (`quantity` is always a number here).
///
/// Deserialising one runs the schema validation, so an `OrderRequest` that exists is valid,
/// whichever door it came in by (HTTP body, queue message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct OrderRequest {
    pub restaurant_id: String,
    pub quantity: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl TryFrom<serde_json::Value> for OrderRequest {
    type Error = ValidationError;

    fn try_from(body: serde_json::Value) -> Result<Self, Self::Error> {
        validation::validate(&body)
    }
}

/// A valid order and who placed it: what the workflow saves. In JSON, the request's fields
/// with `user_id` beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct NewOrder {
    pub user_id: UserId,
    pub restaurant_id: String,
    pub quantity: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl NewOrder {
    pub fn new(user_id: UserId, request: OrderRequest) -> Self {
        Self {
            user_id,
            restaurant_id: request.restaurant_id,
            quantity: request.quantity,
            note: request.note,
        }
    }
}

impl TryFrom<serde_json::Value> for NewOrder {
    type Error = ValidationError;

    fn try_from(mut order: serde_json::Value) -> Result<Self, Self::Error> {
        let user = order
            .as_object_mut()
            .and_then(|fields| fields.remove("user_id"));
        let user_id = user
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .ok_or(InvalidUserId)
            .and_then(UserId::parse)
            .map_err(|invalid| ValidationError {
                field: Some("user_id".into()),
                message: invalid.to_string(),
            })?;
        Ok(Self::new(user_id, validation::validate(&order)?))
    }
}

/// The queue message (**contract**): the order id and the user, both set by the API, and
/// the body as the client sent it. The consumer reads it with the order validated
/// (`OrderMessage`); the local API writes it with the body as it came
/// (`OrderMessage<serde_json::Value>`, as API Gateway's `$input.json('$')` writes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderMessage<Order = OrderRequest> {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub order: Order,
}

/// The Step Functions execution input (**contract** with `asl/order.asl.json`): the order
/// with its user, normalised.
///
/// Serialising it is deterministic for a given message (no clock, fixed field order), so a
/// redelivered message starts an execution with the same name and the same input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSubmission {
    pub order_id: OrderId,
    pub order: NewOrder,
}

impl From<OrderMessage> for OrderSubmission {
    fn from(message: OrderMessage) -> Self {
        Self {
            order_id: message.order_id,
            order: NewOrder::new(message.user_id, message.order),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentOutcome {
    Paid,
    Declined,
}

/// The result of charging the customer. A declined payment is a normal outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: String,
    pub outcome: PaymentOutcome,
}

impl Payment {
    pub fn is_paid(&self) -> bool {
        self.outcome == PaymentOutcome::Paid
    }
}

/// The hand-off of a paid order to its restaurant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    /// The restaurant channel's id for the hand-off (an SNS message id on AWS).
    pub reference: String,
    pub sent_at: DateTime<Utc>,
}

/// The refund of a charged order that was cancelled. Its id is derived from the payment's,
/// so a repeated refund is the same refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub payment_id: String,
}

/// Why an order ended `FAILED`: the Step Functions error name and its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    /// Causes can be whole stack traces; an order keeps a readable head of it.
    pub const MAX_CAUSE_CHARS: usize = 1000;

    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        let cause: String = cause.into();
        Self {
            error: error.into(),
            cause: cause.chars().take(Self::MAX_CAUSE_CHARS).collect(),
        }
    }
}

/// The order as stored in the `Orders` table (**contract**: one item per order, key `order_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    pub user_id: UserId,
    /// Written at a fixed width, so that the index on user and creation time sorts it in
    /// time order.
    #[serde(with = "crate::stored_time")]
    pub created_at: DateTime<Utc>,
    pub restaurant_id: String,
    pub quantity: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: OrderStatus,
    /// 1 when received, one more with each status change (written in the same write as
    /// the status): consumers of the order events order and de-duplicate by it.
    pub version: u32,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    /// When send-order claimed the hand-off: from then on the order cannot be cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<Dispatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    /// Why the refund of a cancelled order could not be made (it is then made by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The final status the customer has been told about; guards against a second email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_status: Option<OrderStatus>,
}

impl Order {
    pub fn received(order_id: OrderId, new: NewOrder, now: DateTime<Utc>) -> Self {
        // Kept to the precision it is stored with, so the order read back is this one.
        let now = now.trunc_subsecs(crate::stored_time::DIGITS);
        Self {
            order_id,
            user_id: new.user_id,
            restaurant_id: new.restaurant_id,
            quantity: new.quantity,
            note: new.note,
            created_at: now,
            status: OrderStatus::Received,
            version: 1,
            updated_at: now,
            payment: None,
            handoff_at: None,
            dispatch: None,
            cancelled_at: None,
            refund: None,
            refund_failure: None,
            failure: None,
            notified_status: None,
        }
    }
}

/// The message the customer gets when the order reaches a final status (**contract**).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub subject: String,
    pub message: String,
}

impl Notification {
    /// SNS refuses an email subject longer than this.
    pub const MAX_SUBJECT_CHARS: usize = 100;

    pub fn for_order(order: &Order) -> Self {
        let outcome = match order.status {
            OrderStatus::SentToRestaurant => {
                "Your payment went through and the restaurant has your order.".to_owned()
            }
            OrderStatus::PaymentFailed => {
                "Your payment was declined, so the order was not sent to the restaurant.".to_owned()
            }
            OrderStatus::Failed => match &order.failure {
                Some(failure) => format!(
                    "We could not complete your order ({}). You have not been charged for a meal that was not sent.",
                    failure.error
                ),
                None => "We could not complete your order.".to_owned(),
            },
            OrderStatus::Cancelled => match (&order.refund, &order.refund_failure) {
                (Some(refund), _) => format!(
                    "Your order was cancelled as you asked, and your payment {} was refunded (refund {}).",
                    refund.payment_id, refund.refund_id
                ),
                (None, Some(_)) => "Your order was cancelled as you asked. The refund of your payment could not be made automatically; our staff will make it.".to_owned(),
                (None, None) => "Your order was cancelled as you asked. You have not been charged.".to_owned(),
            },
            OrderStatus::Received | OrderStatus::PaymentOk => {
                format!("Your order is now {}.", order.status)
            }
        };
        // Order ids are ASCII, so cutting by characters keeps the subject valid.
        let subject: String = format!("[{}] Order {}", order.status, order.order_id)
            .chars()
            .take(Self::MAX_SUBJECT_CHARS)
            .collect();
        let message = format!(
            "Order {id}\nStatus: {status}\nRestaurant: {restaurant}\nQuantity: {quantity}\n\n{outcome}\n",
            id = order.order_id,
            status = order.status,
            restaurant = order.restaurant_id,
            quantity = order.quantity,
        );
        Self {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            status: order.status,
            subject,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_order(status: OrderStatus) -> Order {
        let new = NewOrder {
            user_id: UserId::parse("Burger_20").unwrap(),
            restaurant_id: "Restaurant 4".into(),
            quantity: 3,
            note: None,
        };
        let mut order = Order::received(OrderId::parse("abc-123").unwrap(), new, Utc::now());
        order.status = status;
        order
    }

    #[test]
    fn order_id_accepts_api_gateway_request_ids() {
        // Extended request ids (the order ids) and plain request ids alike.
        for id in ["Jl-yYG0uIAMFeWQ=", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"] {
            assert_eq!(OrderId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn order_id_refuses_what_an_execution_name_cannot_hold() {
        let too_long = "a".repeat(OrderId::MAX_LEN + 1);
        for bad in [
            "",
            "has space",
            "a/b",
            "ä",
            "x*",
            too_long.as_str(),
            "new\nline",
        ] {
            assert_eq!(OrderId::parse(bad), Err(InvalidOrderId), "{bad:?}");
        }
        assert!(OrderId::parse(&"a".repeat(OrderId::MAX_LEN)).is_ok());
    }

    #[test]
    fn a_message_becomes_a_normalised_submission_with_its_user() {
        let message = json!({"order_id": "id-1", "user_id": "u", "order": {"restaurant_id": "r", "quantity": "3"}});
        let message: OrderMessage = serde_json::from_value(message).unwrap();
        let submission = OrderSubmission::from(message);
        assert_eq!(submission.order.quantity, 3);
        let written = serde_json::to_string(&submission).unwrap();
        assert_eq!(
            written,
            r#"{"order_id":"id-1","order":{"user_id":"u","restaurant_id":"r","quantity":3}}"#
        );
        let back: OrderSubmission = serde_json::from_str(&written).unwrap();
        assert_eq!(back, submission);
    }

    #[test]
    fn a_message_with_an_invalid_order_or_user_is_refused_with_the_field_named() {
        let refused = |message: serde_json::Value| {
            serde_json::from_value::<OrderMessage>(message)
                .unwrap_err()
                .to_string()
        };
        let err = refused(
            json!({"order_id": "id-1", "user_id": "u", "order": {"restaurant_id": "r", "quantity": 0}}),
        );
        assert!(err.contains("quantity"), "{err}");
        let err = refused(
            json!({"order_id": "bad id", "user_id": "u", "order": {"restaurant_id": "r", "quantity": 1}}),
        );
        assert!(err.contains("order id"), "{err}");
        // No authorizer, no user: the template writes an empty `sub`.
        let err = refused(
            json!({"order_id": "id-1", "user_id": "", "order": {"restaurant_id": "r", "quantity": 1}}),
        );
        assert!(err.contains("user id"), "{err}");
        // A body that names its own user is refused, even on the queue.
        let err = refused(
            json!({"order_id": "id-1", "user_id": "u", "order": {"user_id": "v", "restaurant_id": "r", "quantity": 1}}),
        );
        assert!(err.contains("user_id"), "{err}");
    }

    #[test]
    fn a_new_order_needs_its_user() {
        let without = json!({"restaurant_id": "r", "quantity": 1});
        let err = serde_json::from_value::<NewOrder>(without).unwrap_err();
        assert!(err.to_string().contains("user id"), "{err}");
        for bad in ["", "has space", "ü"] {
            let order = json!({"user_id": bad, "restaurant_id": "r", "quantity": 1});
            assert!(
                serde_json::from_value::<NewOrder>(order).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn creation_times_are_stored_at_one_width_so_text_order_is_time_order() {
        let times = [
            "2026-11-27T15:00:00Z",
            "2026-11-27T15:00:00.000001Z",
            "2026-11-27T15:00:00.5Z",
            "2026-11-27T15:00:01Z",
        ];
        let mut written = Vec::new();
        for time in times {
            let mut order = sample_order(OrderStatus::Received);
            order.created_at = time.parse().unwrap();
            let json = serde_json::to_value(&order).unwrap();
            let text = json["created_at"].as_str().unwrap().to_owned();
            assert_eq!(text.len(), 27, "{text}");
            assert_eq!(serde_json::from_value::<Order>(json).unwrap(), order);
            written.push(text);
        }
        let mut sorted = written.clone();
        sorted.sort();
        assert_eq!(sorted, written);
    }

    #[test]
    fn stored_order_round_trips_through_json() {
        let mut order = sample_order(OrderStatus::Failed);
        order.failure = Some(Failure::new("States.Timeout", "took too long"));
        order.notified_status = Some(OrderStatus::Failed);
        let json = serde_json::to_value(&order).unwrap();
        assert_eq!(json["status"], "FAILED");
        assert_eq!(json["quantity"], 3);
        assert!(json.get("payment").is_none(), "absent parts are left out");
        let back: Order = serde_json::from_value(json).unwrap();
        assert_eq!(back, order);
    }

    #[test]
    fn failure_cause_is_bounded() {
        let failure = Failure::new("Boom", "x".repeat(5000));
        assert_eq!(failure.cause.chars().count(), Failure::MAX_CAUSE_CHARS);
    }

    #[test]
    fn notification_names_order_and_status() {
        for status in [
            OrderStatus::SentToRestaurant,
            OrderStatus::PaymentFailed,
            OrderStatus::Failed,
            OrderStatus::Cancelled,
        ] {
            let n = Notification::for_order(&sample_order(status));
            assert!(n.subject.contains("abc-123") && n.subject.contains(status.as_str()));
            assert!(n.message.contains("abc-123") && n.message.contains(status.as_str()));
            assert_eq!(n.user_id.as_str(), "Burger_20");
            assert_eq!(n.status, status);
        }
    }

    #[test]
    fn notification_subject_fits_sns_even_for_the_longest_id() {
        let mut order = sample_order(OrderStatus::SentToRestaurant);
        order.order_id = OrderId::parse(&"z".repeat(OrderId::MAX_LEN)).unwrap();
        let n = Notification::for_order(&order);
        assert!(n.subject.chars().count() <= Notification::MAX_SUBJECT_CHARS);
        assert!(n.message.contains(order.order_id.as_str()));
    }
}

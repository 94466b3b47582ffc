use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an order is in its life. `RECEIVED` → `PAYMENT_OK` | `PAYMENT_FAILED`,
/// `PAYMENT_OK` → `SENT_TO_RESTAURANT`; any status that is not final may end in `FAILED`,
/// and the customer may cancel (`CANCELLED`) until the order is handed to its restaurant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Received,
    PaymentOk,
    PaymentFailed,
    SentToRestaurant,
    Failed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Received,
        OrderStatus::PaymentOk,
        OrderStatus::PaymentFailed,
        OrderStatus::SentToRestaurant,
        OrderStatus::Failed,
        OrderStatus::Cancelled,
    ];

    /// The statuses a cancel applies to (the hand-off, not a status, closes the window too).
    pub const CANCELLABLE: [OrderStatus; 2] = [OrderStatus::Received, OrderStatus::PaymentOk];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "RECEIVED",
            OrderStatus::PaymentOk => "PAYMENT_OK",
            OrderStatus::PaymentFailed => "PAYMENT_FAILED",
            OrderStatus::SentToRestaurant => "SENT_TO_RESTAURANT",
            OrderStatus::Failed => "FAILED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    /// A final status ends the workflow; the customer is told about it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::PaymentFailed
                | OrderStatus::SentToRestaurant
                | OrderStatus::Failed
                | OrderStatus::Cancelled
        )
    }

    /// Whether an order in `self` may move to `next`. Staying put is not a transition.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Received, PaymentOk | PaymentFailed | Failed | Cancelled)
                | (PaymentOk, SentToRestaurant | Failed | Cancelled)
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    #[test]
    fn lifecycle_allows_exactly_the_documented_transitions() {
        let allowed: Vec<(OrderStatus, OrderStatus)> = OrderStatus::ALL
            .into_iter()
            .flat_map(|from| OrderStatus::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from.can_become(*to))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Received, PaymentOk),
                (Received, PaymentFailed),
                (Received, Failed),
                (Received, Cancelled),
                (PaymentOk, SentToRestaurant),
                (PaymentOk, Failed),
                (PaymentOk, Cancelled),
            ]
        );
    }

    #[test]
    fn final_statuses_cannot_change() {
        for from in OrderStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for to in OrderStatus::ALL {
                assert!(!from.can_become(to), "{from} must not become {to}");
            }
        }
        let finals: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            vec![PaymentFailed, SentToRestaurant, Failed, Cancelled]
        );
        for status in OrderStatus::CANCELLABLE {
            assert!(status.can_become(Cancelled) && !status.is_final());
        }
    }

    #[test]
    fn status_names_round_trip_through_text_and_json() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert!("paid".parse::<OrderStatus>().is_err());
    }
}

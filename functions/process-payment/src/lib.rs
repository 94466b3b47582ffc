//! process-payment: charges the customer, and refunds the charge of an order the customer
//! cancelled. The payment provider here is a simulation with a configurable success
//! probability; a declined payment is a normal result the state machine branches on, not
//! an error. A refund of the same payment is the same refund (its id is derived from the
//! payment's), so the workflow may retry it.

use orders_core::{DependencyError, OrderId, Payment, PaymentOutcome, PaymentProcessor, Refund};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The task input: charge for an order (which, and how much of it), or refund a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Charge {
        order_id: OrderId,
        quantity: u8,
    },
    Refund {
        order_id: OrderId,
        payment_id: String,
    },
}

impl Request {
    pub fn order_id(&self) -> &OrderId {
        match self {
            Request::Charge { order_id, .. } | Request::Refund { order_id, .. } => order_id,
        }
    }
}

/// The task's answer: the payment, or the refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Payment(Payment),
    Refund(Refund),
}

pub use orders_core::SuccessProbability;

/// A simulated provider: each charge succeeds with the configured probability.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedPayments {
    pub success: SuccessProbability,
}

impl PaymentProcessor for SimulatedPayments {
    async fn charge(&self, order_id: &OrderId, quantity: u8) -> Result<Payment, DependencyError> {
        let paid = rand::rng().random_bool(self.success.value());
        let payment = Payment {
            payment_id: format!("pay_{}", uuid::Uuid::new_v4().simple()),
            outcome: if paid {
                PaymentOutcome::Paid
            } else {
                PaymentOutcome::Declined
            },
        };
        tracing::info!(%order_id, quantity, outcome = ?payment.outcome, payment_id = %payment.payment_id, "payment decided");
        Ok(payment)
    }

    async fn refund(
        &self,
        order_id: &OrderId,
        payment_id: &str,
    ) -> Result<Refund, DependencyError> {
        let refund = Refund {
            refund_id: format!("re_{}", payment_id.trim_start_matches("pay_")),
            payment_id: payment_id.to_owned(),
        };
        tracing::info!(%order_id, payment_id, refund_id = %refund.refund_id, "payment refunded");
        Ok(refund)
    }
}

/// Charges for one order, or refunds its charge.
pub async fn handle(
    processor: &impl PaymentProcessor,
    request: Request,
) -> Result<Answer, orders_core::OrderError> {
    match request {
        Request::Charge { order_id, quantity } => {
            if !(1..=100).contains(&quantity) {
                return Err(orders_core::OrderError::InvalidInput(format!(
                    "quantity {quantity} is outside 1..=100"
                )));
            }
            Ok(Answer::Payment(
                processor.charge(&order_id, quantity).await?,
            ))
        }
        Request::Refund {
            order_id,
            payment_id,
        } => {
            if payment_id.is_empty() {
                return Err(orders_core::OrderError::InvalidInput(
                    "a refund names the payment it gives back".into(),
                ));
            }
            Ok(Answer::Refund(
                processor.refund(&order_id, &payment_id).await?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        serde_json::from_value(
            serde_json::json!({"action": "charge", "order_id": "o-1", "quantity": 3}),
        )
        .unwrap()
    }

    fn payment(answer: Answer) -> Payment {
        match answer {
            Answer::Payment(payment) => payment,
            other => panic!("not a payment: {other:?}"),
        }
    }

    async fn outcomes(p: &str, n: usize) -> Vec<PaymentOutcome> {
        let payments = SimulatedPayments {
            success: p.parse().unwrap(),
        };
        let mut seen = Vec::new();
        for _ in 0..n {
            seen.push(payment(handle(&payments, request()).await.unwrap()).outcome);
        }
        seen
    }

    #[tokio::test]
    async fn certain_outcomes_follow_the_probability() {
        assert!(
            outcomes("1", 50)
                .await
                .iter()
                .all(|o| *o == PaymentOutcome::Paid)
        );
        assert!(
            outcomes("0", 50)
                .await
                .iter()
                .all(|o| *o == PaymentOutcome::Declined)
        );
    }

    #[tokio::test]
    async fn even_odds_give_both_outcomes() {
        // 200 fair draws all alike has probability 2^-199.
        let seen = outcomes("0.5", 200).await;
        assert!(seen.contains(&PaymentOutcome::Paid) && seen.contains(&PaymentOutcome::Declined));
    }

    #[tokio::test]
    async fn payment_ids_are_unique() {
        let payments = SimulatedPayments {
            success: SuccessProbability::DEFAULT,
        };
        let a = payment(handle(&payments, request()).await.unwrap());
        let b = payment(handle(&payments, request()).await.unwrap());
        assert_ne!(a.payment_id, b.payment_id);
        assert!(a.payment_id.starts_with("pay_"));
    }

    #[tokio::test]
    async fn out_of_range_quantity_is_invalid_input() {
        let payments = SimulatedPayments {
            success: SuccessProbability::DEFAULT,
        };
        let bad: Request = serde_json::from_value(
            serde_json::json!({"action": "charge", "order_id": "o-1", "quantity": 0}),
        )
        .unwrap();
        assert_eq!(
            handle(&payments, bad).await.unwrap_err().name(),
            "InvalidInput"
        );
    }

    #[tokio::test]
    async fn a_refund_is_the_same_refund_however_often_asked() {
        let payments = SimulatedPayments {
            success: SuccessProbability::DEFAULT,
        };
        let charged = payment(handle(&payments, request()).await.unwrap());
        let refund: Request = serde_json::from_value(serde_json::json!({
            "action": "refund", "order_id": "o-1", "payment_id": charged.payment_id
        }))
        .unwrap();
        let first = handle(&payments, refund.clone()).await.unwrap();
        let again = handle(&payments, refund).await.unwrap();
        assert_eq!(first, again);
        let Answer::Refund(refund) = first else {
            panic!("a refund answers a refund")
        };
        assert_eq!(refund.payment_id, charged.payment_id);
        assert!(refund.refund_id.starts_with("re_"));
        // A request without its action is refused: the workflow always names it.
        assert!(
            serde_json::from_value::<Request>(
                serde_json::json!({"order_id": "o-1", "quantity": 3})
            )
            .is_err()
        );
    }
}

//! process-payment: charges the customer. The payment provider here is a simulation with a
//! configurable success probability; a declined payment is a normal result the state
//! machine branches on, not an error.

use orders_core::{DependencyError, OrderId, Payment, PaymentOutcome, PaymentProcessor};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The task input: which order, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub order_id: OrderId,
    pub quantity: u8,
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
}

/// Charges for one order.
pub async fn handle(
    processor: &impl PaymentProcessor,
    request: Request,
) -> Result<Payment, orders_core::OrderError> {
    if !(1..=100).contains(&request.quantity) {
        return Err(orders_core::OrderError::InvalidInput(format!(
            "quantity {} is outside 1..=100",
            request.quantity
        )));
    }
    Ok(processor
        .charge(&request.order_id, request.quantity)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        serde_json::from_value(serde_json::json!({"order_id": "o-1", "quantity": 3})).unwrap()
    }

    async fn outcomes(p: &str, n: usize) -> Vec<PaymentOutcome> {
        let payments = SimulatedPayments {
            success: p.parse().unwrap(),
        };
        let mut seen = Vec::new();
        for _ in 0..n {
            seen.push(handle(&payments, request()).await.unwrap().outcome);
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
        let a = handle(&payments, request()).await.unwrap();
        let b = handle(&payments, request()).await.unwrap();
        assert_ne!(a.payment_id, b.payment_id);
        assert!(a.payment_id.starts_with("pay_"));
    }

    #[tokio::test]
    async fn out_of_range_quantity_is_invalid_input() {
        let payments = SimulatedPayments {
            success: SuccessProbability::DEFAULT,
        };
        let mut bad = request();
        bad.quantity = 0;
        assert_eq!(
            handle(&payments, bad).await.unwrap_err().name(),
            "InvalidInput"
        );
    }
}

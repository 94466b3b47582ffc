//! cancel-order: `POST /orders/{id}/cancel` behind API Gateway (proxy integration), for
//! the signed-in customer's own orders.
//!
//! - `202` `{"order_id", "status"}`: the order is cancelled (now, or by an earlier cancel:
//!   a repeated cancel changes nothing). From this answer on it cannot be handed to its
//!   restaurant; the workflow refunds a charge at its next step and emails the customer.
//! - `409` `{"message"}`: too late, the order was handed to its restaurant or ended
//!   otherwise. A client reads the order (`GET /orders/{id}`) to learn how it ended.
//! - `404`: no such order of the caller, answered as get-order answers it (another user's
//!   order included, and an order accepted a moment ago and not stored yet: retry).
//! - `400` for an id that cannot be one; `503` if the table cannot be reached.
//!
//! The cancel itself is one conditional write (`orders_core::service::cancel_order`),
//! which the hand-off's claim races: exactly one of them wins.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use chrono::{DateTime, Utc};
use get_order::{caller, json, message, not_found, unavailable};
use orders_core::service::{self, Cancel};
use orders_core::{OrderError, OrderId, OrderStatus, OrderStore};
use serde::Serialize;

/// The resource path this function serves, as API Gateway names it in the event.
pub const CANCEL_RESOURCE: &str = "/orders/{id}/cancel";

/// The answer of an accepted cancel (**contract**).
#[derive(Debug, Serialize)]
pub struct Cancelled<'a> {
    pub order_id: &'a OrderId,
    pub status: OrderStatus,
}

/// Answers one request. Never fails: every outcome is an HTTP answer.
pub async fn handle(
    store: &impl OrderStore,
    request: &ApiGatewayProxyRequest,
    now: DateTime<Utc>,
) -> ApiGatewayProxyResponse {
    let Some(caller) = caller(request) else {
        return message(401, "the request has no signed-in user");
    };
    let Some(raw_id) = request.path_parameters.get("id") else {
        return message(400, "the path must name an order: /orders/{id}/cancel");
    };
    let order_id = match OrderId::parse(raw_id) {
        Ok(id) => id,
        Err(invalid) => return message(400, &invalid.to_string()),
    };
    match service::cancel_order(store, &caller, &order_id, now).await {
        Ok(Cancel::Cancelled(order)) => {
            tracing::info!(%order_id, version = order.version, "order cancelled");
            accepted(&order.order_id, order.status)
        }
        Ok(Cancel::AlreadyCancelled(order)) => accepted(&order.order_id, order.status),
        Ok(Cancel::TooLate(order)) => {
            message(409, &too_late(order.status, order.handoff_at.is_some()))
        }
        Ok(Cancel::NotFound) => not_found(),
        Err(OrderError::ConcurrentUpdate(_)) | Err(OrderError::Dependency(_)) => unavailable(),
        Err(err) => {
            tracing::error!(%order_id, error = %err, "cancelling failed");
            unavailable()
        }
    }
}

fn accepted(order_id: &OrderId, status: OrderStatus) -> ApiGatewayProxyResponse {
    json(202, &Cancelled { order_id, status })
}

/// Why a cancel came too late, in the customer's words.
pub fn too_late(status: OrderStatus, handed_off: bool) -> String {
    if handed_off || status == OrderStatus::SentToRestaurant {
        "the order can no longer be cancelled: it was handed to its restaurant".to_owned()
    } else {
        format!("the order can no longer be cancelled: it has ended ({status})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::encodings::Body;
    use orders_core::memory::{MemoryStore, Operation, RecordingNotifier};
    use orders_core::{NewOrder, OrderReader, Payment, PaymentOutcome, StatusChange, UserId};
    use serde_json::{Value, json};

    const ALICE: &str = "0b7c3f1e-alice";
    const BOB: &str = "5d2e9a40-bob";

    fn cancel_as(user: &str, id: &str) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        request.resource = Some(CANCEL_RESOURCE.into());
        request
            .request_context
            .authorizer
            .fields
            .insert("claims".into(), json!({"sub": user, "token_use": "id"}));
        request.path_parameters.insert("id".into(), id.into());
        request
    }

    fn body(response: &ApiGatewayProxyResponse) -> Value {
        match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("not a JSON body: {other:?}"),
        }
    }

    async fn placed(store: &MemoryStore, id: &str) -> OrderId {
        let order_id = OrderId::parse(id).unwrap();
        let new = NewOrder {
            user_id: UserId::parse(ALICE).unwrap(),
            restaurant_id: "r-1".into(),
            quantity: 2,
            note: None,
        };
        service::create_order(store, &order_id, new, Utc::now())
            .await
            .unwrap();
        order_id
    }

    async fn paid(store: &MemoryStore, order_id: &OrderId) {
        let change = StatusChange {
            status: OrderStatus::PaymentOk,
            at: Utc::now(),
            payment: Some(Payment {
                payment_id: "pay_1".into(),
                outcome: PaymentOutcome::Paid,
            }),
            failure: None,
        };
        service::set_status(store, &RecordingNotifier::default(), order_id, change)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_owner_cancels_and_a_repeat_answers_the_same() {
        let store = MemoryStore::default();
        let order_id = placed(&store, "o-1").await;
        for _ in 0..2 {
            let answer = handle(&store, &cancel_as(ALICE, "o-1"), Utc::now()).await;
            assert_eq!(answer.status_code, 202);
            assert_eq!(
                body(&answer),
                json!({"order_id": "o-1", "status": "CANCELLED"})
            );
        }
        let stored = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.version), (OrderStatus::Cancelled, 2));
    }

    #[tokio::test]
    async fn another_users_order_is_answered_as_an_unknown_one_and_left_alone() {
        let store = MemoryStore::default();
        let order_id = placed(&store, "o-2").await;
        let theirs = handle(&store, &cancel_as(BOB, "o-2"), Utc::now()).await;
        let unknown = handle(&store, &cancel_as(BOB, "o-404"), Utc::now()).await;
        assert_eq!(theirs.status_code, 404);
        assert_eq!(body(&theirs), body(&unknown));
        assert_eq!(theirs.headers, unknown.headers);
        let stored = store.get(&order_id).await.unwrap().unwrap();
        assert_eq!(stored.status, OrderStatus::Received);
    }

    #[tokio::test]
    async fn a_handed_off_or_ended_order_is_a_conflict() {
        let store = MemoryStore::default();
        let claimed = placed(&store, "o-3").await;
        paid(&store, &claimed).await;
        assert!(store.claim_handoff(&claimed, Utc::now()).await.unwrap());
        let answer = handle(&store, &cancel_as(ALICE, "o-3"), Utc::now()).await;
        assert_eq!(answer.status_code, 409);
        assert!(
            body(&answer)["message"]
                .as_str()
                .unwrap()
                .contains("restaurant")
        );
        let failed = placed(&store, "o-4").await;
        let change = StatusChange {
            status: OrderStatus::Failed,
            at: Utc::now(),
            payment: None,
            failure: None,
        };
        service::set_status(&store, &RecordingNotifier::default(), &failed, change)
            .await
            .unwrap();
        let answer = handle(&store, &cancel_as(ALICE, "o-4"), Utc::now()).await;
        assert_eq!(answer.status_code, 409);
        assert!(
            body(&answer)["message"]
                .as_str()
                .unwrap()
                .contains("FAILED")
        );
        assert_eq!(
            store.get(&failed).await.unwrap().unwrap().status,
            OrderStatus::Failed
        );
    }

    #[tokio::test]
    async fn bad_ids_no_user_and_an_unreachable_table_have_their_answers() {
        let store = MemoryStore::default();
        let answer = handle(&store, &cancel_as(ALICE, "has space"), Utc::now()).await;
        assert_eq!(answer.status_code, 400);
        assert!(
            body(&answer)["message"]
                .as_str()
                .unwrap()
                .contains("1 to 80")
        );
        let mut nobody = cancel_as(ALICE, "o-5");
        nobody.request_context.authorizer.fields.clear();
        assert_eq!(handle(&store, &nobody, Utc::now()).await.status_code, 401);
        store.fail_next(Operation::Get, 1);
        let answer = handle(&store, &cancel_as(ALICE, "o-5"), Utc::now()).await;
        assert_eq!(answer.status_code, 503);
    }
}

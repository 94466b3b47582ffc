//! get-order: `GET /orders/{id}` behind API Gateway (proxy integration).
//!
//! 200 with the order and its status, 404 if there is no such order (yet: with a
//! `Retry-After`), 400 for an id that cannot be one. Bodies are JSON; errors are
//! `{"message": ...}` and never carry internals (the failure cause, which may hold ARNs,
//! stays in the table and the logs).

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use orders_core::{Dispatch, Order, OrderId, OrderReader, OrderStatus, Payment};
use serde::Serialize;

/// The order as the API shows it (**contract** of `GET /orders/{id}`).
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub order_id: &'a OrderId,
    pub user_id: &'a str,
    pub restaurant_id: &'a str,
    pub quantity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    pub status: OrderStatus,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<&'a Payment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<&'a Dispatch>,
    /// The error name only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<&'a str>,
}

impl<'a> From<&'a Order> for OrderView<'a> {
    fn from(order: &'a Order) -> Self {
        Self {
            order_id: &order.order_id,
            user_id: &order.user_id,
            restaurant_id: &order.restaurant_id,
            quantity: order.quantity,
            note: order.note.as_deref(),
            status: order.status,
            is_final: order.status.is_final(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            payment: order.payment.as_ref(),
            dispatch: order.dispatch.as_ref(),
            failure: order.failure.as_ref().map(|f| f.error.as_str()),
        }
    }
}

/// Answers one request. Never fails: every outcome is an HTTP answer.
pub async fn handle(
    orders: &impl OrderReader,
    request: &ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    let Some(raw_id) = request.path_parameters.get("id") else {
        return message(400, "the path must name an order: /orders/{id}");
    };
    let order_id = match OrderId::parse(raw_id) {
        Ok(id) => id,
        Err(invalid) => return message(400, &invalid.to_string()),
    };
    match orders.get(&order_id).await {
        Ok(Some(order)) => json(200, &OrderView::from(&order)),
        Ok(None) => not_found(),
        Err(err) => {
            tracing::error!(%order_id, error = %err, "reading the order failed");
            message(503, "the order could not be read just now; try again")
        }
    }
}

/// The workflow stores an order a moment after the API accepts it (locally a tenth of a
/// second, longer in AWS): a client that reads right after its 204 is told to retry.
pub const NOT_FOUND_MESSAGE: &str =
    "order not found; an order accepted moments ago may not be stored yet: retry";
/// Seconds a client waits before it reads an unknown order again.
pub const RETRY_AFTER_SECONDS: u32 = 1;

fn not_found() -> ApiGatewayProxyResponse {
    let mut response = message(404, NOT_FOUND_MESSAGE);
    response
        .headers
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

fn message(status: i64, text: &str) -> ApiGatewayProxyResponse {
    json(status, &serde_json::json!({ "message": text }))
}

fn json(status: i64, body: &impl Serialize) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(Body::Text(
        serde_json::to_string(body).unwrap_or_else(|_| r#"{"message":"internal error"}"#.into()),
    ));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::{MemoryStore, Operation, RecordingNotifier};
    use orders_core::{Failure, NewOrder, StatusChange, service};
    use serde_json::{Value, json};

    fn get(id: Option<&str>) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        if let Some(id) = id {
            request.path_parameters.insert("id".into(), id.into());
        }
        request
    }

    fn body(response: &ApiGatewayProxyResponse) -> Value {
        match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("expected a text body, got {other:?}"),
        }
    }

    async fn stored(store: &MemoryStore) {
        let new = NewOrder {
            user_id: "u-1".into(),
            restaurant_id: "r-1".into(),
            quantity: 4,
            note: None,
        };
        service::create_order(store, &OrderId::parse("o-1").unwrap(), new, Utc::now())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn known_order_is_returned_with_its_status() {
        let store = MemoryStore::default();
        stored(&store).await;
        let response = handle(&store, &get(Some("o-1"))).await;
        assert_eq!(response.status_code, 200);
        assert_eq!(response.headers[header::CONTENT_TYPE], "application/json");
        let order = body(&response);
        assert_eq!(order["order_id"], "o-1");
        assert_eq!(order["status"], "RECEIVED");
        assert_eq!(order["final"], false);
        assert_eq!(order["quantity"], 4);
    }

    #[tokio::test]
    async fn unknown_order_is_404_with_a_message() {
        let response = handle(&MemoryStore::default(), &get(Some("o-404"))).await;
        assert_eq!(response.status_code, 404);
        assert_eq!(body(&response), json!({ "message": NOT_FOUND_MESSAGE }));
        assert_eq!(response.headers[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn malformed_or_missing_id_is_400() {
        for id in [Some("has space"), Some(""), Some("../etc"), None] {
            let response = handle(&MemoryStore::default(), &get(id)).await;
            assert_eq!(response.status_code, 400, "{id:?}");
            assert!(
                body(&response)["message"]
                    .as_str()
                    .unwrap()
                    .contains("order")
            );
        }
    }

    #[tokio::test]
    async fn failed_order_shows_the_error_name_but_not_the_cause() {
        let store = MemoryStore::default();
        stored(&store).await;
        let change = StatusChange {
            status: OrderStatus::Failed,
            at: Utc::now(),
            payment: None,
            failure: Some(Failure::new(
                "States.TaskFailed",
                "arn:aws:lambda:eu-west-1:123456789012:function:secret",
            )),
        };
        let id = OrderId::parse("o-1").unwrap();
        service::set_status(&store, &RecordingNotifier::default(), &id, change)
            .await
            .unwrap();
        let response = handle(&store, &get(Some("o-1"))).await;
        let order = body(&response);
        assert_eq!(order["failure"], "States.TaskFailed");
        assert_eq!(order["final"], true);
        assert!(!response_text(&response).contains("arn:"));
        assert!(order.get("notified_status").is_none());
    }

    #[tokio::test]
    async fn store_outage_is_503_without_internals() {
        let store = MemoryStore::default();
        store.fail_next(Operation::Get, 1);
        let response = handle(&store, &get(Some("o-1"))).await;
        assert_eq!(response.status_code, 503);
        assert!(!response_text(&response).contains("injected"));
    }

    fn response_text(response: &ApiGatewayProxyResponse) -> String {
        body(response).to_string()
    }
}

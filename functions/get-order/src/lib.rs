//! get-order: the caller's orders behind API Gateway (proxy integration), signed in
//! through the API's Cognito authorizer.
//!
//! - `GET /orders/{id}`: 200 with the order and its status; 404 if there is no such order
//!   of the caller (yet: with a `Retry-After`), the same 404 for another user's order, so
//!   that an answer never tells whether an id exists; 400 for an id that cannot be one.
//! - `GET /orders?limit=&cursor=`: the caller's orders, newest first, a page at a time.
//!
//! Bodies are JSON; errors are `{"message": ...}` and never carry internals (the failure
//! cause, which may hold ARNs, stays in the table and the logs).

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use orders_core::{
    Dispatch, Order, OrderId, OrderPage, OrderReader, OrderStatus, Payment, Position, Refund,
    UserId,
};
use serde::Serialize;

/// The order as the API shows it (**contract** of `GET /orders/{id}` and of each item of
/// `GET /orders`).
#[derive(Debug, Serialize)]
pub struct OrderView<'a> {
    pub order_id: &'a OrderId,
    pub user_id: &'a UserId,
    pub restaurant_id: &'a str,
    pub quantity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    pub status: OrderStatus,
    #[serde(rename = "final")]
    pub is_final: bool,
    /// 1 when received, one more per status change (as in the order events).
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<&'a Payment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<&'a Dispatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The refund of a cancelled order's charge, once made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<&'a Refund>,
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
            version: order.version,
            created_at: order.created_at,
            updated_at: order.updated_at,
            payment: order.payment.as_ref(),
            dispatch: order.dispatch.as_ref(),
            cancelled_at: order.cancelled_at,
            refund: order.refund.as_ref(),
            failure: order.failure.as_ref().map(|f| f.error.as_str()),
        }
    }
}

/// A page of `GET /orders` (**contract**): `next` is the cursor of the following page,
/// `null` on the last.
#[derive(Debug, Serialize)]
pub struct OrderListView<'a> {
    pub orders: Vec<OrderView<'a>>,
    pub next: Option<String>,
}

/// The resource paths this function serves, as API Gateway names them in the event.
pub const ORDERS_RESOURCE: &str = "/orders";
pub const ORDER_RESOURCE: &str = "/orders/{id}";

/// Orders per page of `GET /orders`: by default, and at most.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 50;

/// Answers one request. Never fails: every outcome is an HTTP answer.
pub async fn handle(
    orders: &impl OrderReader,
    request: &ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    // The authorizer lets no request through without a user; a request that has none did
    // not come through it, and is read as nobody's.
    let Some(caller) = caller(request) else {
        return message(401, "the request has no signed-in user");
    };
    if request.resource.as_deref() == Some(ORDERS_RESOURCE) {
        return list(orders, &caller, request).await;
    }
    let Some(raw_id) = request.path_parameters.get("id") else {
        return message(400, "the path must name an order: /orders/{id}");
    };
    let order_id = match OrderId::parse(raw_id) {
        Ok(id) => id,
        Err(invalid) => return message(400, &invalid.to_string()),
    };
    match orders.get(&order_id).await {
        Ok(Some(order)) if order.user_id == caller => json(200, &OrderView::from(&order)),
        // Another user's order is answered as one that does not exist.
        Ok(_) => not_found(),
        Err(err) => {
            tracing::error!(%order_id, error = %err, "reading the order failed");
            unavailable()
        }
    }
}

/// The signed-in user: the `sub` claim the Cognito authorizer passes on
/// (`requestContext.authorizer.claims`, every claim a string).
pub fn caller(request: &ApiGatewayProxyRequest) -> Option<UserId> {
    let claims = request.request_context.authorizer.fields.get("claims")?;
    UserId::parse(claims.get("sub")?.as_str()?).ok()
}

async fn list(
    orders: &impl OrderReader,
    caller: &UserId,
    request: &ApiGatewayProxyRequest,
) -> ApiGatewayProxyResponse {
    let query = &request.query_string_parameters;
    let limit = match query.first("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=MAX_PAGE_SIZE).contains(&limit) => limit,
            _ => {
                return message(
                    400,
                    &format!("`limit` must be an integer from 1 to {MAX_PAGE_SIZE}"),
                );
            }
        },
    };
    let after = match query.first("cursor").map(decode_cursor) {
        None => None,
        Some(Some(position)) => Some(position),
        Some(None) => {
            return message(
                400,
                "`cursor` must be the `next` of an earlier page, unchanged",
            );
        }
    };
    match orders.list(caller, limit, after.as_ref()).await {
        Ok(OrderPage { orders, next }) => json(
            200,
            &OrderListView {
                orders: orders.iter().map(OrderView::from).collect(),
                next: next.as_ref().map(encode_cursor),
            },
        ),
        Err(err) => {
            tracing::error!(error = %err, "listing orders failed");
            unavailable()
        }
    }
}

/// The cursor of the page after `position`: opaque to clients (URL-safe base64 of JSON),
/// and safe in a query string as it is.
pub fn encode_cursor(position: &Position) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str) -> Option<Position> {
    let json = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    serde_json::from_slice(&json).ok()
}

/// 503: the table could not be read (or written) just now.
pub fn unavailable() -> ApiGatewayProxyResponse {
    message(503, "the orders could not be read just now; try again")
}

/// The workflow stores an order a moment after the API accepts it (locally a tenth of a
/// second, longer in AWS): a client that reads right after its 204 is told to retry.
pub const NOT_FOUND_MESSAGE: &str =
    "order not found; an order accepted moments ago may not be stored yet: retry";
/// Seconds a client waits before it reads an unknown order again.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// 404 for an order that is not the caller's, or not stored (yet).
pub fn not_found() -> ApiGatewayProxyResponse {
    let mut response = message(404, NOT_FOUND_MESSAGE);
    response
        .headers
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// `{"message": text}` with `status`.
pub fn message(status: i64, text: &str) -> ApiGatewayProxyResponse {
    json(status, &serde_json::json!({ "message": text }))
}

/// A JSON answer, never cached.
pub fn json(status: i64, body: &impl Serialize) -> ApiGatewayProxyResponse {
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

/// The CORS headers of a proxy integration's answer, which API Gateway passes on as the
/// function sets them: the request's `Origin` if `allowed` admits it (with `Vary: Origin`,
/// so a cache keeps one answer per origin), and the headers a browser app may read.
pub fn admit_origin(
    allowed: &orders_core::cors::AllowedOrigins,
    request: &ApiGatewayProxyRequest,
    answer: &mut ApiGatewayProxyResponse,
) {
    use orders_core::cors::EXPOSED_HEADERS;
    let headers = &mut answer.headers;
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_str(&EXPOSED_HEADERS.join(",")).expect("header names are ASCII"),
    );
    let origin = request
        .headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| allowed.admits(o));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::{MemoryStore, Operation, RecordingNotifier};
    use orders_core::{Failure, NewOrder, StatusChange, service};
    use serde_json::{Value, json};

    const ALICE: &str = "0b7c3f1e-alice";
    const BOB: &str = "5d2e9a40-bob";

    /// A request as the authorizer passes it on: `user`'s claims, all strings.
    fn signed_in(user: &str, resource: &str) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        request.resource = Some(resource.into());
        request.request_context.authorizer.fields.insert(
            "claims".into(),
            json!({"sub": user, "token_use": "id", "email_verified": "true"}),
        );
        request
    }

    fn get(id: Option<&str>) -> ApiGatewayProxyRequest {
        get_as(ALICE, id)
    }

    fn get_as(user: &str, id: Option<&str>) -> ApiGatewayProxyRequest {
        let mut request = signed_in(user, ORDER_RESOURCE);
        if let Some(id) = id {
            request.path_parameters.insert("id".into(), id.into());
        }
        request
    }

    fn list_as(user: &str, query: &[(&str, &str)]) -> ApiGatewayProxyRequest {
        let mut request = signed_in(user, ORDERS_RESOURCE);
        request.query_string_parameters = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::HashMap<_, _>>()
            .into();
        request
    }

    fn body(response: &ApiGatewayProxyResponse) -> Value {
        match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("expected a text body, got {other:?}"),
        }
    }

    async fn stored(store: &MemoryStore) {
        stored_for(store, ALICE, "o-1", Utc::now()).await;
    }

    async fn stored_for(store: &MemoryStore, user: &str, id: &str, at: DateTime<Utc>) {
        let new = NewOrder {
            user_id: UserId::parse(user).unwrap(),
            restaurant_id: "r-1".into(),
            quantity: 4,
            note: None,
        };
        service::create_order(store, &OrderId::parse(id).unwrap(), new, at)
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
    async fn another_users_order_is_answered_as_unknown() {
        let store = MemoryStore::default();
        stored(&store).await;
        let theirs = handle(&store, &get_as(BOB, Some("o-1"))).await;
        let unknown = handle(&store, &get_as(BOB, Some("o-404"))).await;
        assert_eq!(theirs.status_code, 404);
        assert_eq!(body(&theirs), body(&unknown));
        assert_eq!(theirs.headers, unknown.headers);
        assert_eq!(handle(&store, &get(Some("o-1"))).await.status_code, 200);
    }

    #[tokio::test]
    async fn a_request_without_a_signed_in_user_reads_nothing() {
        let store = MemoryStore::default();
        stored(&store).await;
        let mut anonymous = get(Some("o-1"));
        anonymous.request_context.authorizer.fields.clear();
        let mut blank = get(Some("o-1"));
        blank
            .request_context
            .authorizer
            .fields
            .insert("claims".into(), json!({"sub": ""}));
        for request in [anonymous, blank] {
            let response = handle(&store, &request).await;
            assert_eq!(response.status_code, 401);
            assert!(!response_text(&response).contains("o-1"));
        }
    }

    #[tokio::test]
    async fn the_list_pages_through_the_callers_orders_newest_first() {
        let store = MemoryStore::default();
        let start: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap();
        for i in 0..7 {
            let at = start + chrono::Duration::seconds(i);
            stored_for(&store, ALICE, &format!("a-{i}"), at).await;
            stored_for(&store, BOB, &format!("b-{i}"), at).await;
        }
        // Two orders of one instant: both listed, once each.
        stored_for(
            &store,
            ALICE,
            "a-same",
            start + chrono::Duration::seconds(3),
        )
        .await;
        let mut seen = Vec::new();
        let mut query: Vec<(&str, String)> = vec![("limit", "3".into())];
        let mut pages = 0;
        loop {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = handle(&store, &list_as(ALICE, &pairs)).await;
            assert_eq!(response.status_code, 200);
            let page = body(&response);
            let orders = page["orders"].as_array().unwrap();
            assert!(orders.len() <= 3);
            for order in orders {
                assert_eq!(order["user_id"], ALICE);
                seen.push(order["order_id"].as_str().unwrap().to_owned());
            }
            pages += 1;
            match page["next"].as_str() {
                Some(next) => query = vec![("limit", "3".into()), ("cursor", next.into())],
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(
            seen,
            ["a-6", "a-5", "a-4", "a-same", "a-3", "a-2", "a-1", "a-0"]
        );
    }

    #[tokio::test]
    async fn the_list_of_a_user_without_orders_is_empty_and_last() {
        let store = MemoryStore::default();
        stored(&store).await;
        let response = handle(&store, &list_as(BOB, &[])).await;
        assert_eq!(response.status_code, 200);
        assert_eq!(body(&response), json!({"orders": [], "next": null}));
    }

    #[tokio::test]
    async fn a_bad_limit_or_cursor_is_400() {
        let store = MemoryStore::default();
        for query in [
            [("limit", "0")],
            [("limit", "51")],
            [("limit", "ten")],
            [("limit", "-1")],
            [("cursor", "not-a-cursor")],
            [("cursor", "eyJ4IjoxfQ")],
        ] {
            let response = handle(&store, &list_as(ALICE, &query)).await;
            assert_eq!(response.status_code, 400, "{query:?}");
            let text = body(&response)["message"].as_str().unwrap().to_owned();
            assert!(text.contains(query[0].0), "{query:?}: {text}");
        }
        let response = handle(&store, &list_as(ALICE, &[("limit", "50")])).await;
        assert_eq!(response.status_code, 200);
    }

    #[tokio::test]
    async fn a_store_outage_while_listing_is_503() {
        let store = MemoryStore::default();
        store.fail_next(Operation::List, 1);
        let response = handle(&store, &list_as(ALICE, &[])).await;
        assert_eq!(response.status_code, 503);
        assert!(!response_text(&response).contains("injected"));
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

    #[test]
    fn an_answer_names_the_origin_only_if_admitted() {
        let allowed = orders_core::cors::AllowedOrigins::parse("https://app.example").unwrap();
        for (origin, expected) in [
            (Some("https://app.example"), Some("https://app.example")),
            (Some("https://evil.example"), None),
            (None, None),
        ] {
            let mut request = ApiGatewayProxyRequest::default();
            if let Some(origin) = origin {
                request
                    .headers
                    .insert(header::ORIGIN, HeaderValue::from_static(origin));
            }
            let mut answer = ApiGatewayProxyResponse::default();
            admit_origin(&allowed, &request, &mut answer);
            let named = answer
                .headers
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.to_str().unwrap());
            assert_eq!(named, expected, "{origin:?}");
            assert_eq!(answer.headers[header::VARY], "Origin");
            assert_eq!(
                answer.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
                "X-Order-Id,Location,x-amz-apigw-id"
            );
        }
    }
}

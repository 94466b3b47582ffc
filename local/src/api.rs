//! The public HTTP API, answering as API Gateway does in the cloud: same routes, same
//! validation (the one schema), same status codes and `X-Order-Id` header.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use orders_aws::DynamoOrderStore;
use serde_json::{Value, json};

use crate::progress;

/// The largest body accepted. A valid order is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How much of a refused body is read before answering: SQS's message size limit.
const DRAIN_LIMIT_BYTES: usize = 1024 * 1024;

pub struct Api {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub store: DynamoOrderStore,
}

pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(read_order))
        .fallback(|| async { message(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            message(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .with_state(api)
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

fn too_large(unread_rest: bool) -> Response {
    let mut response = message(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the body is larger than 16 KiB",
    );
    if unread_rest {
        // The rest of the body is not read, so this connection cannot carry another
        // request; saying so keeps clients from reusing it.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

async fn create_order(State(api): State<Arc<Api>>, headers: HeaderMap, body: Body) -> Response {
    if !is_json(&headers) {
        return message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    // Bodies past the limit are still read up to SQS's own message limit before the 413,
    // so the client gets its answer instead of a connection reset mid-upload.
    let bytes = match axum::body::to_bytes(body, DRAIN_LIMIT_BYTES).await {
        Ok(bytes) if bytes.len() <= MAX_BODY_BYTES => bytes,
        Ok(_) => return too_large(false),
        Err(_) => return too_large(true),
    };
    let Ok(order) = serde_json::from_slice::<Value>(&bytes) else {
        return message(StatusCode::BAD_REQUEST, "the body is not valid JSON");
    };
    if let Err(invalid) = orders_core::validation::validate(&order) {
        return message(StatusCode::BAD_REQUEST, &invalid.message);
    }
    // API Gateway mints the id ($context.requestId); a UUID here, as there.
    let order_id = uuid::Uuid::new_v4().to_string();
    let queued = api
        .sqs
        .send_message()
        .queue_url(&api.queue_url)
        .message_body(json!({ "order_id": order_id, "order": order }).to_string())
        .send()
        .await;
    if let Err(err) = queued {
        tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "the queue refused an order");
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the order could not be queued; try again",
        );
    }
    progress::accepted(&order_id);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&order_id) {
        response.headers_mut().insert("x-order-id", value);
    }
    response
}

async fn read_order(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    let mut request = ApiGatewayProxyRequest::default();
    request.path_parameters.insert("id".into(), id);
    from_lambda(get_order::handle(&api.store, &request).await)
}

fn from_lambda(answer: ApiGatewayProxyResponse) -> Response {
    let body = match answer.body {
        Some(LambdaBody::Text(text)) => Body::from(text),
        Some(LambdaBody::Binary(bytes)) => Body::from(bytes),
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(answer.status_code as u16)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answer.headers;
    response
}

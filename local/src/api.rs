//! The public HTTP API, answering as API Gateway answers with the stack's configuration:
//! same routes, authorizer (`crate::authorizer`), validation (the one schema), status codes,
//! headers, throttle and queue timeout. `tests/contract/answers.json` is the table both are checked against.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body as LambdaBody;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::SdkError;
use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota};
use orders_aws::DynamoOrderStore;
use orders_blueprint::api::{MAX_BODY_BYTES, REQUEST_ID_HEADER, message as says, order_location};
use orders_core::cors::{
    ALLOWED_HEADERS, AllowedOrigins, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS,
};
use orders_core::{OrderId, OrderMessage, UserId};
use serde_json::{Value, json};

use crate::authorizer::{Authorizer, Caller};
use crate::progress;

pub struct Api {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub store: DynamoOrderStore,
    pub throttle: Throttle,
    /// How long the queue has to take an order (the integration timeout).
    pub queue_timeout: Duration,
    /// Checks the caller's token on every route.
    pub authorizer: Arc<Authorizer>,
    /// The browser origins that may read its answers (the app's first).
    pub origins: AllowedOrigins,
}

/// Marks an answer of an integration (the queue's, a function's), whose CORS headers name
/// the request's origin if admitted; every other answer is a gateway response, whose
/// headers are fixed when the stack is deployed and name the app's origin.
#[derive(Clone, Copy)]
struct Integrated;

/// A new order id, shaped like API Gateway's extended request ids (which are the cloud's
/// order ids): 11 random bytes in URL-safe base64, 16 characters ending in `=`.
pub fn new_order_id() -> String {
    use base64::Engine;
    let random = uuid::Uuid::new_v4();
    base64::engine::general_purpose::URL_SAFE.encode(&random.as_bytes()[..11])
}

/// The stage's throttle: a token bucket per method, as API Gateway keeps ("Throttle
/// requests to your REST APIs": token bucket, limits applied at the method level).
pub struct Throttle(DefaultKeyedRateLimiter<&'static str>);

impl Throttle {
    /// `rate` tokens a second into a bucket of `burst`.
    pub fn new(rate: f64, burst: NonZeroU32) -> anyhow::Result<Self> {
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0,
            "the throttle rate must be a positive number of requests a second, not {rate}"
        );
        let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))
            .ok_or_else(|| anyhow::anyhow!("the throttle rate is too high"))?
            .allow_burst(burst);
        Ok(Self(DefaultKeyedRateLimiter::keyed(quota)))
    }

    /// A 429 if `method` has no token left.
    fn refuse(&self, method: &'static str) -> Option<Response> {
        self.0
            .check_key(&method)
            .is_err()
            .then(|| message(StatusCode::TOO_MANY_REQUESTS, says::THROTTLED))
    }
}

pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/orders", post(create_order).get(list_orders))
        .route("/orders/{id}", get(read_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        // Every route is behind the authorizer; an unknown route is answered before it, as
        // API Gateway matches the route first.
        .route_layer(middleware::from_fn_with_state(
            api.authorizer.clone(),
            require_caller,
        ))
        .fallback(|| async { message(StatusCode::NOT_FOUND, says::NO_SUCH_ROUTE) })
        // API Gateway answers a method a path does not have like an unknown path.
        .method_not_allowed_fallback(|| async {
            message(StatusCode::NOT_FOUND, says::NO_SUCH_ROUTE)
        })
        .layer(middleware::from_fn(name_request))
        .layer(middleware::from_fn_with_state(api.clone(), cors))
        .with_state(api)
}

/// The methods of the resource `path` names (`None`: no such resource), OPTIONS last.
fn resource_methods(path: &str) -> Option<Vec<&'static str>> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut methods: Vec<&'static str> = orders_blueprint::api::ROUTES
        .iter()
        .filter(|(_, resource)| {
            let pattern: Vec<&str> = resource.split('/').collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s)
        })
        .map(|(method, _)| *method)
        .collect();
    if methods.is_empty() {
        return None;
    }
    methods.push("OPTIONS");
    Some(methods)
}

/// The REST API's CORS, as the stack configures it: a preflight (`OPTIONS`, no
/// authorizer; a MOCK integration in the cloud) for every resource, admitting the
/// request's origin if it is one of [`Api::origins`]; on an integration's answer the same;
/// on a gateway response (401, 404, 413, 415, 429, 400, 504…) the app's origin, the one
/// value API Gateway can give it (its headers are static or copied, never chosen).
async fn cors(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let admitted = origin
        .filter(|o| api.origins.admits(o))
        .and_then(|o| HeaderValue::from_str(&o).ok());
    if request.method() == axum::http::Method::OPTIONS {
        if let Some(methods) = resource_methods(request.uri().path()) {
            let mut response = StatusCode::OK.into_response();
            let headers = response.headers_mut();
            for (name, value) in [
                (header::ACCESS_CONTROL_ALLOW_METHODS, methods.join(",")),
                (
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    ALLOWED_HEADERS.join(","),
                ),
                (
                    header::ACCESS_CONTROL_MAX_AGE,
                    PREFLIGHT_MAX_AGE_SECONDS.to_string(),
                ),
                (header::VARY, "Origin".to_owned()),
            ] {
                headers.insert(name, HeaderValue::from_str(&value).expect("ASCII"));
            }
            if let Some(origin) = admitted {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
            return response;
        }
    }
    let mut response = next.run(request).await;
    let integrated = response.extensions().get::<Integrated>().is_some();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_str(&EXPOSED_HEADERS.join(",")).expect("ASCII"),
    );
    if integrated {
        // A function's answer carries its own (get_order::admit_origin); the queue's gets
        // them from the integration response's template.
        if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
            if let Some(origin) = admitted {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            }
        }
    } else if let Some(app) = api
        .origins
        .first()
        .and_then(|o| HeaderValue::from_str(o).ok())
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, app);
    }
    response
}

/// Lets a request through to its route only with a caller; a 401 otherwise.
async fn require_caller(
    State(authorizer): State<Arc<Authorizer>>,
    mut request: Request,
    next: Next,
) -> Response {
    match authorizer.check(request.headers()) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => message(StatusCode::UNAUTHORIZED, says::UNAUTHORIZED),
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

fn invalid(detail: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        &format!("{}{detail}", says::INVALID_ORDER),
    )
}

/// Whether the body goes through the application/json template: a request without a
/// Content-Type is taken as JSON, as API Gateway does ("Mapping templates").
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// How the queue's refusal reaches the client, as the stack's integration responses map
/// SQS's answers: 5xx → 503, any other answer → 500; no answer at all → 504, API
/// Gateway's status for a failed or timed-out integration.
fn queue_refusal<E>(error: &SdkError<E, HttpResponse>) -> (StatusCode, &'static str) {
    match error.raw_response().map(|raw| raw.status().as_u16()) {
        Some(500..=599) => (StatusCode::SERVICE_UNAVAILABLE, says::QUEUE_UNAVAILABLE),
        Some(_) => (StatusCode::INTERNAL_SERVER_ERROR, says::NOT_QUEUED),
        None => (StatusCode::GATEWAY_TIMEOUT, says::QUEUE_UNAVAILABLE),
    }
}

/// The id API Gateway gives a request (its extended request id): a new order's id.
#[derive(Clone)]
struct RequestId(String);

/// Mints every request's id, and names it in the answer, as API Gateway does.
async fn name_request(mut request: Request, next: Next) -> Response {
    let id = new_order_id();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

async fn create_order(
    State(api): State<Arc<Api>>,
    Extension(RequestId(order_id)): Extension<RequestId>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let order_id = order_id.as_str();
    if let Some(throttled) = api.throttle.refuse("POST /orders") {
        return throttled;
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let mut response = message(StatusCode::PAYLOAD_TOO_LARGE, says::TOO_LARGE);
            // The rest of the body is not read, so this connection cannot carry another
            // request; saying so keeps clients from reusing it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    // The stack validates every body, whatever its Content-Type, before it picks a
    // template; only then does a type without one get its 415.
    let Ok(order) = serde_json::from_slice::<Value>(&bytes) else {
        return invalid("the body is not valid JSON");
    };
    if let Err(refused) = orders_core::validation::validate(&order) {
        return invalid(&refused.message);
    }
    if !is_json(&headers) {
        return message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            says::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    // The order is the parsed body written again, as `$input.json('$')` writes it; the
    // user is the token's, as `$context.authorizer.claims.sub` gives it.
    let (Ok(id), Ok(user_id)) = (OrderId::parse(order_id), UserId::parse(&caller.sub)) else {
        tracing::error!(%order_id, sub = caller.sub, "no order message can carry these ids");
        return message(StatusCode::INTERNAL_SERVER_ERROR, says::NOT_QUEUED);
    };
    let queued = OrderMessage {
        order_id: id,
        user_id,
        order,
    };
    let Ok(body) = serde_json::to_string(&queued) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, says::NOT_QUEUED);
    };
    let send = api
        .sqs
        .send_message()
        .queue_url(&api.queue_url)
        .message_body(body)
        .send();
    match tokio::time::timeout(api.queue_timeout, send).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "the queue refused an order");
            let (status, text) = queue_refusal(&err);
            let mut response = message(status, text);
            response.extensions_mut().insert(Integrated);
            return response;
        }
        Err(_) => {
            tracing::error!(%order_id, "the queue did not answer in time");
            return message(StatusCode::GATEWAY_TIMEOUT, says::TIMED_OUT);
        }
    }
    progress::accepted(order_id);
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.extensions_mut().insert(Integrated);
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-order-id", order_id.to_owned()),
        ("location", order_location("/orders", order_id)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

async fn read_order(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(throttled) = api.throttle.refuse("GET /orders/{id}") {
        return throttled;
    }
    let mut request = proxy_request(get_order::ORDER_RESOURCE, &caller, headers);
    request.path_parameters.insert("id".into(), id);
    let answer = get_order::handle(&api.store, &request).await;
    from_lambda(&api, &request, answer)
}

async fn list_orders(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Query(parameters): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(throttled) = api.throttle.refuse("GET /orders") {
        return throttled;
    }
    let mut request = proxy_request(get_order::ORDERS_RESOURCE, &caller, headers);
    // API Gateway decodes the query string into the event's parameters.
    request.query_string_parameters = parameters.into();
    let answer = get_order::handle(&api.store, &request).await;
    from_lambda(&api, &request, answer)
}

async fn cancel_order(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(throttled) = api.throttle.refuse("POST /orders/{id}/cancel") {
        return throttled;
    }
    let mut request = proxy_request(cancel_order::CANCEL_RESOURCE, &caller, headers);
    request.path_parameters.insert("id".into(), id);
    let answer = cancel_order::handle(&api.store, &request, chrono::Utc::now()).await;
    from_lambda(&api, &request, answer)
}

/// The event API Gateway's proxy integration gives get-order (or cancel-order) for
/// `resource`, with the authorizer's claims.
fn proxy_request(resource: &str, caller: &Caller, headers: HeaderMap) -> ApiGatewayProxyRequest {
    let mut request = ApiGatewayProxyRequest::default();
    request.resource = Some(resource.into());
    request.headers = headers;
    request
        .request_context
        .authorizer
        .fields
        .insert("claims".into(), Value::Object(caller.claims.clone()));
    request
}

/// The function's answer, with the CORS headers its main adds in the cloud.
fn from_lambda(
    api: &Api,
    request: &ApiGatewayProxyRequest,
    mut answer: ApiGatewayProxyResponse,
) -> Response {
    get_order::admit_origin(&api.origins, request, &mut answer);
    let body = match answer.body {
        Some(LambdaBody::Text(text)) => Body::from(text),
        Some(LambdaBody::Binary(bytes)) => Body::from(bytes),
        _ => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(answer.status_code as u16)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answer.headers;
    response.extensions_mut().insert(Integrated);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::operation::send_message::SendMessageError;
    use aws_smithy_types::body::SdkBody;

    fn answered(status: u16) -> SdkError<SendMessageError, HttpResponse> {
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(SendMessageError::unhandled("refused by the test"), raw)
    }

    #[test]
    fn queue_answers_map_as_the_stack_maps_them() {
        assert_eq!(
            queue_refusal(&answered(500)).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            queue_refusal(&answered(503)).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            queue_refusal(&answered(400)).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            queue_refusal(&answered(403)).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let unanswered: SdkError<SendMessageError, HttpResponse> =
            SdkError::timeout_error("no answer in time");
        assert_eq!(queue_refusal(&unanswered).0, StatusCode::GATEWAY_TIMEOUT);
    }
}

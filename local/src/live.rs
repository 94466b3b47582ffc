//! Live status in local mode: the WebSocket API as API Gateway serves it with the stack's
//! configuration, and the push rule's target.
//!
//! - `GET /live?token=…` upgrades to a WebSocket when the `$connect` authorizer
//!   (authorize-socket's handler, the one the stack deploys) admits the token: no `token`
//!   parameter → 401 without calling it, as API Gateway does for a missing identity source;
//!   a refusal → 401. socket-connections then stores the connection (`$connect`) and
//!   forgets it when the socket closes (`$disconnect`).
//! - `POST /live/@connections/{id}` is the stage's management API (`PostToConnection`):
//!   the body goes to the connection as a text message; an unknown or closed one is 410
//!   `GoneException`, as AWS answers it.
//! - The push rule's events wait in a queue (the emulator invokes no function from a rule);
//!   [`Pusher`] hands each to push-status, which posts through the SDK to the management API
//!   above.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use orders_aws::DynamoConnections;
use orders_blueprint::live::{STAGE, TOKEN_PARAMETER};
use orders_core::events::OrderEvent;
use serde_json::json;
use tokio::sync::mpsc;

use crate::authorizer::Authorizer;

pub struct Gateway {
    pub authorizer: Arc<Authorizer>,
    pub connections: DynamoConnections,
    /// The `methodArn` of `$connect` the authorizer is asked about.
    pub method_arn: String,
    /// The open sockets, by connection id.
    pub open: Mutex<HashMap<String, mpsc::UnboundedSender<String>>>,
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route(&format!("/{STAGE}"), get(connect))
        .route(&format!("/{STAGE}/@connections/{{id}}"), post(post_to))
        .with_state(gateway)
}

fn refused(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

/// The event API Gateway gives a WebSocket route's integration.
fn route_event(
    route: &str,
    connection: &str,
    sub: Option<&str>,
) -> ApiGatewayWebsocketProxyRequest {
    let mut event = ApiGatewayWebsocketProxyRequest::default();
    let context = &mut event.request_context;
    context.route_key = Some(route.into());
    context.connection_id = Some(connection.into());
    context.stage = Some(STAGE.into());
    if let Some(sub) = sub {
        context
            .authorizer
            .fields
            .insert(orders_blueprint::live::CONTEXT_SUB.into(), json!(sub));
    }
    event
}

async fn connect(
    State(gateway): State<Arc<Gateway>>,
    Query(parameters): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // An identity source that is missing or empty: 401 without calling the authorizer.
    if parameters.get(TOKEN_PARAMETER).is_none_or(|t| t.is_empty()) {
        return refused(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let mut request = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
    request.type_ = Some("REQUEST".into());
    request.method_arn = Some(gateway.method_arn.clone());
    request.query_string_parameters = parameters.into();
    let Ok(allowed) = authorize_socket::handle(gateway.authorizer.tokens(), &request) else {
        return refused(StatusCode::UNAUTHORIZED, "Unauthorized");
    };
    let sub = allowed.principal_id.unwrap_or_default();
    let connection = crate::api::new_order_id();
    let connected = socket_connections::handle(
        &gateway.connections,
        &route_event("$connect", &connection, Some(&sub)),
        chrono::Utc::now(),
    )
    .await;
    if let Err(err) = connected {
        tracing::error!(error = %err, "$connect failed");
        return refused(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    }
    // Registered before the handshake completes: from then on a post reaches it.
    let (sender, outgoing) = mpsc::unbounded_channel();
    gateway
        .open
        .lock()
        .expect("not poisoned")
        .insert(connection.clone(), sender);
    upgrade.on_upgrade(move |socket| serve(gateway, connection, socket, outgoing))
}

async fn serve(
    gateway: Arc<Gateway>,
    connection: String,
    mut socket: WebSocket,
    mut outgoing: mpsc::UnboundedReceiver<String>,
) {
    loop {
        tokio::select! {
            message = outgoing.recv() => match message {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            incoming = socket.recv() => match incoming {
                // The stack has no message routes: what a client sends is dropped.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    gateway
        .open
        .lock()
        .expect("not poisoned")
        .remove(&connection);
    let disconnected = socket_connections::handle(
        &gateway.connections,
        &route_event("$disconnect", &connection, None),
        chrono::Utc::now(),
    )
    .await;
    if let Err(err) = disconnected {
        tracing::warn!(error = %err, connection, "$disconnect failed");
    }
}

async fn post_to(
    State(gateway): State<Arc<Gateway>>,
    Path(connection): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return refused(StatusCode::BAD_REQUEST, "the data must be text");
    };
    let sent = {
        let mut open = gateway.open.lock().expect("not poisoned");
        let sent = open
            .get(&connection)
            .is_some_and(|sender| sender.send(text).is_ok());
        // A socket whose handshake never completed has dropped its end: it is gone.
        if !sent {
            open.remove(&connection);
        }
        sent
    };
    if sent {
        StatusCode::OK.into_response()
    } else {
        let mut gone = refused(StatusCode::GONE, "");
        gone.headers_mut().insert(
            "x-amzn-errortype",
            axum::http::HeaderValue::from_static("GoneException"),
        );
        gone
    }
}

/// Hands the push rule's events to push-status, as the rule's Lambda target does.
pub struct Pusher {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub connections: DynamoConnections,
    pub sockets: push_status::ManagementApi,
}

impl Pusher {
    pub async fn run(self) {
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await;
            let messages = match received {
                Ok(output) => output.messages.unwrap_or_default(),
                Err(err) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "push queue");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            };
            for message in messages {
                let event: Result<EventBridgeEvent<OrderEvent>, _> =
                    serde_json::from_str(message.body().unwrap_or_default());
                let pushed = match event {
                    Ok(event) => push_status::handle(&self.connections, &self.sockets, event)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(err) => Err(format!("not an order event: {err}")),
                };
                match pushed {
                    // Taken: the next delivery would be a repeat.
                    Ok(_) => {
                        let _ = self
                            .sqs
                            .delete_message()
                            .queue_url(&self.queue_url)
                            .set_receipt_handle(message.receipt_handle)
                            .send()
                            .await;
                    }
                    // Left for the queue to deliver again, as EventBridge retries.
                    Err(err) => tracing::warn!(error = err, "push-status failed"),
                }
            }
        }
    }
}

//! socket-connections: the WebSocket API's `$connect` and `$disconnect` routes. A connection
//! the authorizer admitted is stored as its customer's, with an expiry (API Gateway closes
//! a connection after 2 hours, and `$disconnect` is best effort: DynamoDB's TTL removes what
//! it missed); a closed one is forgotten.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chrono::{DateTime, Utc};
use orders_aws::DynamoConnections;
use orders_blueprint::live::{CONNECTION_TTL_SECONDS, CONTEXT_SUB};
use orders_core::{DependencyError, UserId};
use serde_json::Value;

/// What went wrong; API Gateway answers the client 500 and, on `$connect`, refuses it.
#[derive(Debug)]
pub enum Refused {
    /// The event has no connection id, route, or (on `$connect`) customer: not from the
    /// stack's API.
    NotAConnection(&'static str),
    Store(DependencyError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAConnection(what) => write!(f, "not a connection event: no {what}"),
            Self::Store(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for Refused {}

impl From<Refused> for orders_aws::HandlerError {
    fn from(err: Refused) -> Self {
        Self {
            name: match err {
                Refused::NotAConnection(_) => "InvalidInput",
                Refused::Store(_) => "DependencyError",
            },
            message: err.to_string(),
        }
    }
}

/// The customer the authorizer admitted, from `requestContext.authorizer`.
fn customer(request: &ApiGatewayWebsocketProxyRequest) -> Option<UserId> {
    let fields = &request.request_context.authorizer.fields;
    let sub = fields
        .get(CONTEXT_SUB)
        .or_else(|| fields.get("principalId"))
        .and_then(Value::as_str)?;
    UserId::parse(sub).ok()
}

/// Stores or forgets the connection of `request` (routes `$connect`, `$disconnect`).
pub async fn handle(
    connections: &DynamoConnections,
    request: &ApiGatewayWebsocketProxyRequest,
    now: DateTime<Utc>,
) -> Result<ApiGatewayProxyResponse, Refused> {
    let context = &request.request_context;
    let connection = context
        .connection_id
        .as_deref()
        .ok_or(Refused::NotAConnection("connection id"))?;
    match context.route_key.as_deref() {
        Some("$connect") => {
            let user = customer(request).ok_or(Refused::NotAConnection("customer"))?;
            let expires_at = now.timestamp() + CONNECTION_TTL_SECONDS;
            connections
                .open(connection, &user, expires_at)
                .await
                .map_err(Refused::Store)?;
            tracing::info!(connection, user = user.as_str(), "connected");
        }
        Some("$disconnect") => {
            connections
                .close(connection)
                .await
                .map_err(Refused::Store)?;
            tracing::info!(connection, "disconnected");
        }
        _ => return Err(Refused::NotAConnection("$connect or $disconnect route")),
    }
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    Ok(response)
}

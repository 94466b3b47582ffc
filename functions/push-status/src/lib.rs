//! push-status: the orders bus's push rule delivers each order event here, and it posts the
//! event's detail to every open WebSocket connection of the order's customer, and to
//! nobody else. A connection API Gateway says is gone (`GoneException`, 410) is removed
//! from the connections table. Any other failure fails the invocation, so EventBridge
//! retries the event (a connection that already had it gets it again; the app keeps the
//! highest `version` of an order).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use orders_aws::DynamoConnections;
use orders_core::events::OrderEvent;
use orders_core::{DependencyError, UserId};
use serde::Serialize;

/// Where the customers' connections are listed, and forgotten.
pub trait Directory {
    fn of_user(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<String>, DependencyError>> + Send;
    fn forget(&self, connection: &str) -> impl Future<Output = Result<(), DependencyError>> + Send;
}

impl Directory for DynamoConnections {
    async fn of_user(&self, user: &UserId) -> Result<Vec<String>, DependencyError> {
        DynamoConnections::of_user(self, user).await
    }
    async fn forget(&self, connection: &str) -> Result<(), DependencyError> {
        self.close(connection).await
    }
}

/// What became of a post to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The connection no longer exists.
    Gone,
}

/// The open connections, by id.
pub trait Sockets {
    fn post(
        &self,
        connection: &str,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<Delivery, DependencyError>> + Send;
}

/// The WebSocket stage's management API (`PostToConnection`).
#[derive(Clone, Debug)]
pub struct ManagementApi(pub aws_sdk_apigatewaymanagement::Client);

impl Sockets for ManagementApi {
    async fn post(&self, connection: &str, data: Vec<u8>) -> Result<Delivery, DependencyError> {
        match self
            .0
            .post_to_connection()
            .connection_id(connection)
            .data(Blob::new(data))
            .send()
            .await
        {
            Ok(_) => Ok(Delivery::Sent),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception()) =>
            {
                Ok(Delivery::Gone)
            }
            Err(err) => Err(DependencyError::new(
                "API Gateway",
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err).to_string(),
            )),
        }
    }
}

/// What one event did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub sent: usize,
    /// Connections found gone, and forgotten.
    pub gone: usize,
}

/// Posts `event`'s detail to its customer's connections.
pub async fn handle(
    directory: &impl Directory,
    sockets: &impl Sockets,
    event: EventBridgeEvent<OrderEvent>,
) -> Result<Pushed, DependencyError> {
    let detail = &event.detail;
    let data = serde_json::to_vec(detail)
        .map_err(|e| DependencyError::new("push-status", format!("cannot encode: {e}")))?;
    let connections = directory.of_user(&detail.user_id).await?;
    let posts = connections.iter().map(|connection| {
        let data = data.clone();
        async move { (connection, sockets.post(connection, data).await) }
    });
    let mut pushed = Pushed::default();
    let mut failed = None;
    for (connection, delivery) in futures_util::future::join_all(posts).await {
        match delivery {
            Ok(Delivery::Sent) => pushed.sent += 1,
            Ok(Delivery::Gone) => {
                directory.forget(connection).await?;
                pushed.gone += 1;
            }
            Err(err) => {
                tracing::warn!(connection, error = %err, "push failed");
                failed = Some(err);
            }
        }
    }
    match failed {
        Some(err) => Err(err),
        None => Ok(pushed),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Mutex;

    use super::*;

    /// Connections by user, and which of them are gone or failing.
    #[derive(Default)]
    struct World {
        stored: Mutex<BTreeMap<String, String>>,
        gone: BTreeSet<String>,
        failing: BTreeSet<String>,
        received: Mutex<Vec<(String, serde_json::Value)>>,
    }

    impl Directory for World {
        async fn of_user(&self, user: &UserId) -> Result<Vec<String>, DependencyError> {
            let stored = self.stored.lock().unwrap();
            Ok(stored
                .iter()
                .filter(|(_, owner)| owner.as_str() == user.as_str())
                .map(|(id, _)| id.clone())
                .collect())
        }
        async fn forget(&self, connection: &str) -> Result<(), DependencyError> {
            self.stored.lock().unwrap().remove(connection);
            Ok(())
        }
    }

    impl Sockets for World {
        async fn post(&self, connection: &str, data: Vec<u8>) -> Result<Delivery, DependencyError> {
            if self.gone.contains(connection) {
                return Ok(Delivery::Gone);
            }
            if self.failing.contains(connection) {
                return Err(DependencyError::new("test", "throttled"));
            }
            let value = serde_json::from_slice(&data).unwrap();
            self.received
                .lock()
                .unwrap()
                .push((connection.into(), value));
            Ok(Delivery::Sent)
        }
    }

    fn world(connections: &[(&str, &str)]) -> World {
        let world = World::default();
        world.stored.lock().unwrap().extend(
            connections
                .iter()
                .map(|(id, user)| (id.to_string(), user.to_string())),
        );
        world
    }

    fn event(user: &str) -> EventBridgeEvent<OrderEvent> {
        serde_json::from_value(serde_json::json!({
            "version": "0", "id": "e-1", "detail-type": "Order Status Changed",
            "source": "serverless-orders.orders", "account": "1", "time": "2026-12-06T08:00:00Z",
            "region": "eu-west-1", "resources": [],
            "detail": {"order_id": "o-1", "user_id": user, "restaurant_id": "r",
                       "status": "PAYMENT_OK", "version": 2, "at": "2026-12-06T08:00:00Z"}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn only_the_customers_connections_get_the_detail() {
        let world = world(&[("a1", "alice"), ("a2", "alice"), ("b1", "bob")]);
        let pushed = handle(&world, &world, event("alice")).await.unwrap();
        assert_eq!(pushed, Pushed { sent: 2, gone: 0 });
        let received = world.received.lock().unwrap();
        let to: BTreeSet<_> = received.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(to, BTreeSet::from(["a1", "a2"]));
        assert_eq!(received[0].1["order_id"], "o-1");
        assert_eq!(received[0].1["status"], "PAYMENT_OK");
        assert_eq!(received[0].1["version"], 2);
    }

    #[tokio::test]
    async fn a_gone_connection_is_forgotten_and_the_others_still_get_it() {
        let mut world = world(&[("a1", "alice"), ("a2", "alice")]);
        world.gone.insert("a1".into());
        let pushed = handle(&world, &world, event("alice")).await.unwrap();
        assert_eq!(pushed, Pushed { sent: 1, gone: 1 });
        assert!(!world.stored.lock().unwrap().contains_key("a1"));
        assert!(world.stored.lock().unwrap().contains_key("a2"));
    }

    #[tokio::test]
    async fn another_failure_fails_the_event_so_eventbridge_retries_it() {
        let mut world = world(&[("a1", "alice"), ("a2", "alice")]);
        world.failing.insert("a2".into());
        assert!(handle(&world, &world, event("alice")).await.is_err());
        // The failing connection is kept: it is not known to be gone.
        assert_eq!(world.stored.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_customer_without_connections_is_no_failure() {
        let world = world(&[("b1", "bob")]);
        let pushed = handle(&world, &world, event("alice")).await.unwrap();
        assert_eq!(pushed, Pushed::default());
        assert!(world.received.lock().unwrap().is_empty());
    }
}

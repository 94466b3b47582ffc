//! The blueprint of the system: every resource's name and settings, and the state machine
//! with its placeholders. The Pulumi program (`infra/`) and local mode (`local/`) both
//! build from here, so the cloud and the local pipeline cannot drift apart. (A Pulumi
//! *stack* is one deployment of this blueprint, configured by its `Pulumi.<stack>.yaml`.)

pub mod api;
pub mod auth;
pub mod workflow;

use orders_core::settings::env;

/// The ten functions, by the name of their crate (and of their zip).
pub const START_ORDER: &str = "start-order";
pub const MANAGE_ORDER_STATE: &str = "manage-order-state";
pub const PROCESS_PAYMENT: &str = "process-payment";
pub const SEND_ORDER: &str = "send-order";
pub const GET_ORDER: &str = "get-order";
pub const CANCEL_ORDER: &str = "cancel-order";
pub const ORDER_EVENTS: &str = "order-events";
pub const AUTHORIZE_SOCKET: &str = "authorize-socket";
pub const SOCKET_CONNECTIONS: &str = "socket-connections";
pub const PUSH_STATUS: &str = "push-status";

/// A Lambda function's deployment settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: &'static str,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// The environment variables its main reads, sorted; a deployment sets exactly these.
    pub environment: &'static [&'static str],
}

/// Rust functions start in milliseconds and run in a few MB: 128 MB suffices.
pub const FUNCTIONS: [FunctionSpec; 10] = [
    FunctionSpec {
        name: START_ORDER,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::STATE_MACHINE_ARN],
    },
    FunctionSpec {
        name: MANAGE_ORDER_STATE,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::NOTIFY_TOPIC_ARN, env::ORDERS_TABLE],
    },
    FunctionSpec {
        name: PROCESS_PAYMENT,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::PAYMENT_SUCCESS_PROBABILITY],
    },
    FunctionSpec {
        name: SEND_ORDER,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::ORDERS_TABLE, env::RESTAURANT_TOPIC_ARN],
    },
    FunctionSpec {
        name: GET_ORDER,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::ALLOWED_ORIGINS, env::ORDERS_TABLE],
    },
    FunctionSpec {
        name: CANCEL_ORDER,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::ALLOWED_ORIGINS, env::ORDERS_TABLE],
    },
    // The pipe's enrichment: reads its batch, calls nothing.
    FunctionSpec {
        name: ORDER_EVENTS,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[],
    },
    // The WebSocket API's `$connect` authorizer: reads the pool's keys, calls nothing else.
    FunctionSpec {
        name: AUTHORIZE_SOCKET,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::USER_POOL_CLIENT_ID, env::USER_POOL_ID],
    },
    // `$connect` and `$disconnect`: one write to the connections table.
    FunctionSpec {
        name: SOCKET_CONNECTIONS,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::CONNECTIONS_TABLE],
    },
    // The orders bus's push rule: one event, posted to its customer's connections.
    FunctionSpec {
        name: PUSH_STATUS,
        memory_mb: 128,
        timeout_seconds: 10,
        environment: &[env::CONNECTIONS_TABLE, env::SOCKET_ENDPOINT],
    },
];

pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Receives before SQS moves a message to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// The order queue's redrive policy (SQS's `RedrivePolicy` attribute): after
/// [`MAX_RECEIVE_COUNT`] receives, a message moves to the dead-letter queue.
pub fn redrive_policy(dead_letter_queue_arn: &str) -> String {
    serde_json::json!({
        "deadLetterTargetArn": dead_letter_queue_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    })
    .to_string()
}
/// The EventBridge pattern of the workflow's executions that may end without settling
/// their order: "Step Functions Execution Status Change" events of this state machine, with
/// one of the statuses `orders_core::execution::UNSETTLED` lists.
pub fn unsettled_executions_pattern(state_machine_arn: &str) -> String {
    use orders_core::execution::{DETAIL_TYPE, SOURCE, UNSETTLED};
    serde_json::json!({
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {
            "stateMachineArn": [state_machine_arn],
            "status": UNSETTLED.iter().map(|(status, _)| *status).collect::<Vec<_>>(),
        },
    })
    .to_string()
}

/// How EventBridge retries manage-order-state for one event before it goes to the rule's
/// dead-letter queue: its most attempts (185) over a day.
pub const UNSETTLED_RETRY_ATTEMPTS: u32 = 185;
pub const UNSETTLED_EVENT_AGE_SECONDS: u32 = 24 * 3600;

/// The order events: the pipe from the table's stream to the bus, the bus's archive and
/// its tap (`orders_core::events` holds the events' contract).
pub mod events {
    use orders_core::events::{DETAIL_TYPE, SOURCE};

    /// Records per enrichment call: the bus takes at most ten entries a `PutEvents`, and a
    /// pipe to a bus keeps its batches to that.
    pub const PIPE_BATCH_SIZE: u32 = 10;
    /// Attempts at a batch after its first failure before the pipe names it in its
    /// dead-letter queue and moves on.
    pub const PIPE_RETRY_ATTEMPTS: u32 = 10;
    /// No age limit: a record is retried for as long as the stream keeps it (24 hours).
    pub const PIPE_MAX_RECORD_AGE_SECONDS: i32 = -1;
    /// From the oldest record the stream holds, so a pipe created after the table misses
    /// none of its writes.
    pub const STARTING_POSITION: &str = "TRIM_HORIZON";
    /// How long the bus's archive keeps events for replay.
    pub const ARCHIVE_RETENTION_DAYS: u32 = 30;

    /// The pipe's filter: the writes (a deletion is never a status change).
    pub fn pipe_filter() -> String {
        serde_json::json!({"eventName": ["INSERT", "MODIFY"]}).to_string()
    }

    /// The tap rule's pattern: every order event.
    pub fn tap_pattern() -> String {
        serde_json::json!({"source": [SOURCE], "detail-type": [DETAIL_TYPE]}).to_string()
    }
}

/// Live status: the WebSocket API on which a signed-in customer gets every status change of
/// their own orders, and the browser app that uses it.
pub mod live {
    use orders_core::events::{DETAIL_TYPE, SOURCE};

    /// The connections table's keys, index and TTL attribute.
    pub use orders_core::table::connections as table;

    /// The query parameter `$connect` reads the ID token from: a browser cannot set headers
    /// on a WebSocket. The authorizer's identity source, as API Gateway spells it, is
    /// [`identity_source`].
    pub const TOKEN_PARAMETER: &str = "token";

    pub fn identity_source() -> String {
        format!("route.request.querystring.{TOKEN_PARAMETER}")
    }

    /// The WebSocket stage (part of its URL and of the management endpoint).
    pub const STAGE: &str = "live";

    /// A stored connection expires after API Gateway's longest connection, 2 hours ("Amazon
    /// API Gateway quotas for configuring and running a WebSocket API"); DynamoDB's TTL then
    /// removes one whose `$disconnect` never came.
    pub const CONNECTION_TTL_SECONDS: i64 = 2 * 3600;

    /// The WebSocket stage's throttle: connections and messages a second, and the burst.
    pub const THROTTLING_RATE_LIMIT: f64 = 50.0;
    pub const THROTTLING_BURST_LIMIT: u32 = 100;

    /// How EventBridge retries push-status for one event before the rule's dead-letter
    /// queue: a status a minute late is still worth showing, an hour late is not.
    pub const PUSH_RETRY_ATTEMPTS: u32 = 5;
    pub const PUSH_EVENT_AGE_SECONDS: u32 = 3600;

    /// The push rule's pattern: every order event (push-status finds each one's customer).
    pub fn push_pattern() -> String {
        serde_json::json!({"source": [SOURCE], "detail-type": [DETAIL_TYPE]}).to_string()
    }

    /// The key of the `$connect` authorizer's context that names the customer (their
    /// `sub`): authorize-socket sets it, socket-connections reads it.
    pub const CONTEXT_SUB: &str = "sub";

    /// The app's file the deployment writes: where the app finds the API, the WebSocket and
    /// the user pool.
    pub const CONFIG_FILE: &str = "config.json";

    /// What `config.json` holds (**contract** with `web/app.js`): the Pulumi program writes
    /// it for a stack, the runner for local mode.
    #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
    pub struct AppConfig {
        pub api_url: String,
        pub websocket_url: String,
        pub region: String,
        pub user_pool_id: String,
        pub client_id: String,
        /// Where the app signs in (Cognito's `InitiateAuth`): the region's Cognito endpoint,
        /// the emulator's locally.
        pub cognito_endpoint: String,
    }

    /// Cognito's endpoint in `region`.
    pub fn cognito_endpoint(region: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/")
    }
}

/// Records per consumer invocation.
pub const BATCH_SIZE: u32 = 10;
/// How long a received message stays hidden: AWS advises six times the consumer's timeout,
/// so a batch being retried inside the consumer is not received twice.
pub const QUEUE_VISIBILITY_TIMEOUT_SECONDS: u32 = 6 * 10;
/// Four days: time to notice and drain a backlog.
pub const QUEUE_RETENTION_SECONDS: u32 = 4 * 24 * 3600;
/// Fourteen days, the most SQS allows: time for a person to look at a poisoned order.
pub const DLQ_RETENTION_SECONDS: u32 = 14 * 24 * 3600;
/// The table's partition key.
pub const TABLE_KEY: &str = orders_core::table::KEY;

/// The table's index of each user's orders, newest last (`GET /orders` reads it backwards).
pub mod user_index {
    pub use orders_core::table::{
        USER_INDEX as NAME, USER_INDEX_HASH_KEY as HASH_KEY, USER_INDEX_RANGE_KEY as RANGE_KEY,
    };
    /// Every attribute: a page of orders is one query, with no read of the table after it.
    pub const PROJECTION: &str = "ALL";
}

/// The names of a stack's resources, all derived from one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn queue(&self) -> String {
        format!("{}-queue", self.prefix)
    }

    pub fn dead_letter_queue(&self) -> String {
        format!("{}-dlq", self.prefix)
    }

    pub fn table(&self) -> String {
        format!("{}-orders", self.prefix)
    }

    pub fn notification_topic(&self) -> String {
        format!("{}-notifications", self.prefix)
    }

    pub fn restaurant_topic(&self) -> String {
        format!("{}-restaurant-orders", self.prefix)
    }

    /// Operational alarms (the dead-letter queue filling up); carries no order data.
    pub fn alarm_topic(&self) -> String {
        format!("{}-alarms", self.prefix)
    }

    pub fn state_machine(&self) -> String {
        format!("{}-workflow", self.prefix)
    }

    /// The REST API (its `ApiName` in CloudWatch's metrics).
    pub fn api(&self) -> String {
        format!("{}-api", self.prefix)
    }

    /// The CloudWatch dashboard of the whole pipeline.
    pub fn dashboard(&self) -> String {
        format!("{}-pipeline", self.prefix)
    }

    /// The EventBridge rule on the workflow's executions that end unsettled.
    pub fn unsettled_rule(&self) -> String {
        format!("{}-execution-unsettled", self.prefix)
    }

    /// Where that rule's events go when manage-order-state cannot take them.
    pub fn unsettled_dead_letter_queue(&self) -> String {
        format!("{}-execution-unsettled-dlq", self.prefix)
    }

    /// The Cognito user pool of the API's customers.
    pub fn user_pool(&self) -> String {
        format!("{}-users", self.prefix)
    }

    /// The pool's app client through which customers sign in.
    pub fn user_pool_client(&self) -> String {
        format!("{}-app", self.prefix)
    }

    /// The API's Cognito authorizer.
    pub fn authorizer(&self) -> String {
        format!("{}-users", self.prefix)
    }

    pub fn function(&self, function: &str) -> String {
        format!("{}-{function}", self.prefix)
    }

    /// The orders event bus.
    pub fn event_bus(&self) -> String {
        format!("{}-orders", self.prefix)
    }

    /// Its archive (at most 48 characters).
    pub fn event_archive(&self) -> String {
        format!("{}-orders-archive", self.prefix)
    }

    /// The pipe from the table's stream to the bus.
    pub fn events_pipe(&self) -> String {
        format!("{}-events-pipe", self.prefix)
    }

    /// Where the pipe names the batches it gave up on.
    pub fn events_dead_letter_queue(&self) -> String {
        format!("{}-order-events-dlq", self.prefix)
    }

    /// The queue subscribed to every order event.
    pub fn events_tap_queue(&self) -> String {
        format!("{}-events-tap", self.prefix)
    }

    /// The rule that feeds it.
    pub fn events_tap_rule(&self) -> String {
        format!("{}-events-tap", self.prefix)
    }

    /// The WebSocket API of live status.
    pub fn socket_api(&self) -> String {
        format!("{}-live", self.prefix)
    }

    /// Its `$connect` authorizer.
    pub fn socket_authorizer(&self) -> String {
        format!("{}-live-token", self.prefix)
    }

    /// The open WebSocket connections, by customer.
    pub fn connections_table(&self) -> String {
        format!("{}-connections", self.prefix)
    }

    /// The rule on the orders bus that feeds push-status.
    pub fn push_rule(&self) -> String {
        format!("{}-push", self.prefix)
    }

    /// Where that rule's events go when push-status cannot take them.
    pub fn push_dead_letter_queue(&self) -> String {
        format!("{}-push-dlq", self.prefix)
    }

    /// The CloudFront origin access control of the app's bucket.
    pub fn app_origin_access(&self) -> String {
        format!("{}-app", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_redrive_policy_names_the_dlq_and_three_receives() {
        let policy: serde_json::Value =
            serde_json::from_str(&redrive_policy("arn:aws:sqs:eu-west-1:1:orders-dlq")).unwrap();
        assert_eq!(
            policy["deadLetterTargetArn"],
            "arn:aws:sqs:eu-west-1:1:orders-dlq"
        );
        assert_eq!(policy["maxReceiveCount"], 3);
    }

    use super::*;

    #[test]
    fn names_share_the_prefix_and_are_distinct() {
        let names = Names::new("orders-dev");
        let mut all = vec![
            names.queue(),
            names.dead_letter_queue(),
            names.table(),
            names.notification_topic(),
            names.restaurant_topic(),
            names.alarm_topic(),
            names.state_machine(),
            names.unsettled_rule(),
            names.unsettled_dead_letter_queue(),
            names.api(),
            names.dashboard(),
            names.user_pool(),
            names.user_pool_client(),
            names.event_archive(),
            names.events_pipe(),
            names.events_dead_letter_queue(),
            names.events_tap_queue(),
            names.socket_api(),
            names.socket_authorizer(),
            names.connections_table(),
            names.push_rule(),
            names.push_dead_letter_queue(),
        ];
        all.extend(FUNCTIONS.iter().map(|f| names.function(f.name)));
        assert!(all.iter().all(|n| n.starts_with("orders-dev-")));
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count);
        // Lambda function names: at most 64 characters.
        assert!(all.iter().all(|n| n.len() <= 64));
    }

    #[test]
    fn visibility_timeout_covers_six_consumer_timeouts() {
        let consumer = function(START_ORDER).unwrap();
        assert!(QUEUE_VISIBILITY_TIMEOUT_SECONDS >= 6 * consumer.timeout_seconds);
    }
}

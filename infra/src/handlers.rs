//! The ten functions, each with what it reads from its environment and what its role may
//! do: the workflow's three tasks, the queue's consumer, the API's reader and its
//! canceller, the events pipe's enrichment, and the three of live status (the WebSocket
//! authorizer, its connections, the push).

use crate::artifacts::{self, Artifact};
use crate::aws::lambda::event_source_mapping;
use crate::config::StackConfig;
use crate::functions::{self, Function, FunctionDef};
use crate::iam::Grant;
use crate::live::Socket;
use crate::notifications::Topics;
use crate::queue::Queues;
use crate::table::Table;
use crate::users::Users;
use crate::workflow::TaskFunctions;
use anyhow::Result;
use orders_blueprint::{
    AUTHORIZE_SOCKET, BATCH_SIZE, CANCEL_ORDER, GET_ORDER, MANAGE_ORDER_STATE, Names, ORDER_EVENTS,
    PROCESS_PAYMENT, PUSH_STATUS, SEND_ORDER, SOCKET_CONNECTIONS, START_ORDER,
};
use orders_core::settings::env;
use pulumi_gestalt_rust::{Context, Output};
use std::path::Path;

const FUNCTIONS: [&str; 10] = [
    START_ORDER,
    MANAGE_ORDER_STATE,
    PROCESS_PAYMENT,
    SEND_ORDER,
    GET_ORDER,
    CANCEL_ORDER,
    ORDER_EVENTS,
    AUTHORIZE_SOCKET,
    SOCKET_CONNECTIONS,
    PUSH_STATUS,
];

/// Every function's archive, built for the stack's architecture.
pub struct Built(Vec<Artifact>);

impl Built {
    /// Builds (unless the stack says not to) and packs the archives; `root` is the workspace.
    pub fn prepare(root: &Path, config: &StackConfig) -> Result<Self> {
        artifacts::prepare(
            root,
            &FUNCTIONS,
            config.architecture,
            config.build_functions,
        )
        .map(Self)
    }

    fn of(&self, name: &str) -> &Artifact {
        let index = FUNCTIONS
            .iter()
            .position(|f| *f == name)
            .expect("a known function");
        &self.0[index]
    }
}

/// What every function is made with.
pub struct Site<'a> {
    pub ctx: &'a Context,
    pub names: &'a Names,
    pub config: &'a StackConfig,
    pub built: &'a Built,
}

impl Site<'_> {
    fn function(
        &self,
        name: &str,
        description: &'static str,
        environment: Vec<(&'static str, Output<String>)>,
        grants: Vec<Grant>,
    ) -> Result<Function> {
        functions::create(
            self.ctx,
            self.names,
            self.config,
            FunctionDef {
                spec: orders_blueprint::function(name)
                    .expect("every function name has a spec in orders-blueprint"),
                description,
                environment,
                grants,
                artifact: self.built.of(name),
            },
        )
    }
}

/// The workflow's task functions.
pub struct Tasks {
    pub manage_order_state: Function,
    pub process_payment: Function,
    pub send_order: Function,
}

impl Tasks {
    pub fn arns(&self) -> TaskFunctions {
        TaskFunctions {
            manage_order_state_arn: self.manage_order_state.arn.clone(),
            process_payment_arn: self.process_payment.arn.clone(),
            send_order_arn: self.send_order.arn.clone(),
        }
    }
}

pub fn workflow_tasks(site: &Site, table: &Table, topics: &Topics) -> Result<Tasks> {
    let manage_order_state = site.function(
        MANAGE_ORDER_STATE,
        "Saves orders and their status changes, and tells the customer",
        vec![
            (env::ORDERS_TABLE, table.name.clone()),
            (env::NOTIFY_TOPIC_ARN, topics.notifications_arn.clone()),
        ],
        vec![
            Grant::new(
                "KeepOrders",
                &[
                    "dynamodb:PutItem",
                    "dynamodb:GetItem",
                    "dynamodb:UpdateItem",
                ],
                vec![table.arn.clone()],
            ),
            Grant::new(
                "NotifyCustomers",
                &["sns:Publish"],
                vec![topics.notifications_arn.clone()],
            ),
        ],
    )?;
    let process_payment = site.function(
        PROCESS_PAYMENT,
        "Simulates a payment with a configurable success rate, and its refund",
        vec![(
            env::PAYMENT_SUCCESS_PROBABILITY,
            Output::new(site.config.payment_success_probability.to_string()),
        )],
        // Touches nothing but its logs.
        vec![],
    )?;
    let send_order = site.function(
        SEND_ORDER,
        "Hands a paid order to the restaurant",
        vec![
            (env::ORDERS_TABLE, table.name.clone()),
            (env::RESTAURANT_TOPIC_ARN, topics.restaurant_arn.clone()),
        ],
        vec![
            Grant::new(
                "ReadAndMarkOrders",
                &["dynamodb:GetItem", "dynamodb:UpdateItem"],
                vec![table.arn.clone()],
            ),
            Grant::new(
                "TellRestaurants",
                &["sns:Publish"],
                vec![topics.restaurant_arn.clone()],
            ),
        ],
    )?;
    Ok(Tasks {
        manage_order_state,
        process_payment,
        send_order,
    })
}

/// start-order, fed by the order queue in batches (the event source mapping).
pub fn queue_consumer(
    site: &Site,
    queues: &Queues,
    state_machine_arn: &Output<String>,
) -> Result<()> {
    let start_order = site.function(
        START_ORDER,
        "Starts one order workflow per queued order",
        vec![(env::STATE_MACHINE_ARN, state_machine_arn.clone())],
        vec![
            Grant::new(
                "StartWorkflows",
                &["states:StartExecution"],
                vec![state_machine_arn.clone()],
            ),
            // What the event source mapping does with the function's role.
            Grant::new(
                "ConsumeOrderQueue",
                &[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                ],
                vec![queues.queue_arn.clone()],
            ),
        ],
    )?;
    event_source_mapping::create(
        site.ctx,
        "order-queue-consumer",
        event_source_mapping::EventSourceMappingArgs::builder()
            .event_source_arn(queues.queue_arn.clone())
            .function_name(start_order.name.clone())
            .batch_size(BATCH_SIZE as i32)
            .maximum_batching_window_in_seconds(1)
            // Failed records come back one by one; the rest of the batch is deleted.
            .function_response_types(vec!["ReportBatchItemFailures".to_string()])
            .enabled(true)
            .build_struct(),
    );
    Ok(())
}

/// get-order, behind the API's two read routes; it names an admitted browser origin.
pub fn order_reader(site: &Site, table: &Table, origins: &Output<String>) -> Result<Function> {
    site.function(
        GET_ORDER,
        "Answers GET /orders and GET /orders/{id}",
        vec![
            (env::ORDERS_TABLE, table.name.clone()),
            (env::ALLOWED_ORIGINS, origins.clone()),
        ],
        vec![
            Grant::new("ReadOrders", &["dynamodb:GetItem"], vec![table.arn.clone()]),
            // Listing reads the index of users' orders, not the table.
            Grant::new(
                "ListUsersOrders",
                &["dynamodb:Query"],
                vec![
                    table
                        .arn
                        .map(|arn| format!("{arn}/index/{}", orders_blueprint::user_index::NAME)),
                ],
            ),
        ],
    )
}

/// cancel-order, behind `POST /orders/{id}/cancel`: reads an order and cancels it with one
/// conditional write.
pub fn order_canceller(site: &Site, table: &Table, origins: &Output<String>) -> Result<Function> {
    site.function(
        CANCEL_ORDER,
        "Answers POST /orders/{id}/cancel",
        vec![
            (env::ORDERS_TABLE, table.name.clone()),
            (env::ALLOWED_ORIGINS, origins.clone()),
        ],
        vec![Grant::new(
            "CancelOrders",
            &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            vec![table.arn.clone()],
        )],
    )
}

/// order-events, the enrichment of the pipe from the table's stream to the orders bus: it
/// turns a batch of stream records into events, and touches nothing but its logs (the pipe
/// reads the stream and puts the events on the bus).
pub fn events_enrichment(site: &Site) -> Result<Function> {
    site.function(
        ORDER_EVENTS,
        "Turns the orders table's stream records into order events",
        vec![],
        vec![],
    )
}

/// authorize-socket, the WebSocket API's `$connect` authorizer: it reads the pool's public
/// keys over HTTPS and touches nothing else.
pub fn socket_authorizer(site: &Site, users: &Users) -> Result<Function> {
    site.function(
        AUTHORIZE_SOCKET,
        "Checks the ID token of a WebSocket connection to live status",
        vec![
            (env::USER_POOL_ID, users.user_pool_id.clone()),
            (env::USER_POOL_CLIENT_ID, users.client_id.clone()),
        ],
        vec![],
    )
}

/// socket-connections, behind `$connect` and `$disconnect`: one write to the connections
/// table each.
pub fn socket_connections(site: &Site, connections: &Table) -> Result<Function> {
    site.function(
        SOCKET_CONNECTIONS,
        "Keeps the open WebSocket connections of live status",
        vec![(env::CONNECTIONS_TABLE, connections.name.clone())],
        vec![Grant::new(
            "KeepConnections",
            &["dynamodb:PutItem", "dynamodb:DeleteItem"],
            vec![connections.arn.clone()],
        )],
    )
}

/// push-status, the push rule's target: finds the customer's connections, posts to them,
/// and forgets a gone one.
pub fn status_pusher(site: &Site, connections: &Table, socket: &Socket) -> Result<Function> {
    site.function(
        PUSH_STATUS,
        "Pushes every order event to its customer's open WebSocket connections",
        vec![
            (env::CONNECTIONS_TABLE, connections.name.clone()),
            (env::SOCKET_ENDPOINT, socket.management_endpoint.clone()),
        ],
        vec![
            Grant::new(
                "FindConnections",
                &["dynamodb:Query"],
                vec![connections.arn.map(|arn| {
                    format!("{arn}/index/{}", orders_blueprint::live::table::USER_INDEX)
                })],
            ),
            Grant::new(
                "ForgetGoneConnections",
                &["dynamodb:DeleteItem"],
                vec![connections.arn.clone()],
            ),
            Grant::new(
                "PostToConnections",
                &["execute-api:ManageConnections"],
                vec![
                    socket
                        .execution_arn
                        .map(|arn| crate::live::manage_connections_arn(&arn)),
                ],
            ),
        ],
    )
}

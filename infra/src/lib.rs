//! The Pulumi program of Serverless Orders (on `pulumi_gestalt_rust`). The engine harness
//! that runs it with no cloud is the `orders-engine` crate.
//!
//! [`program`] reads like the architecture: topics and table, the task functions, the state
//! machine and what settles its unsettled executions, the queue and its consumer, then the
//! API in front of it all. Names and settings
//! come from `orders-blueprint`, as in the local runner.

pub mod api;
pub mod artifacts;
pub mod config;
pub mod functions;
pub mod iam;
pub mod logs;
pub mod monitoring;
pub mod notifications;
pub mod outputs;
pub mod queue;
pub mod table;
pub mod unsettled;
pub mod users;
pub mod workflow;

/// Typed resources generated from `schema/aws.json` (see build.rs).
pub mod aws {
    pulumi_gestalt_rust::include_provider!("aws");
}

use crate::aws::lambda::event_source_mapping;
use crate::functions::FunctionDef;
use crate::iam::Grant;
use anyhow::{Context as _, Result};
use orders_blueprint::{
    BATCH_SIZE, GET_ORDER, MANAGE_ORDER_STATE, Names, PROCESS_PAYMENT, SEND_ORDER, START_ORDER,
};
use orders_core::settings::env;
use pulumi_gestalt_rust::{Context, Output};
use std::path::PathBuf;

/// The stack outputs.
pub const OUTPUTS: [&str; 11] = [
    "apiUrl",
    "tableName",
    "queueUrl",
    "dlqUrl",
    "stateMachineArn",
    "topicArn",
    "restaurantTopicArn",
    "alarmTopicArn",
    "unsettledDlqUrl",
    "userPoolId",
    "userPoolClientId",
];

fn spec(name: &str) -> &'static orders_blueprint::FunctionSpec {
    orders_blueprint::function(name).expect("every function name has a spec in orders-blueprint")
}

pub fn program(ctx: &Context) -> Result<()> {
    let config = config::StackConfig::from_env()?;
    let names = Names::new(&config.prefix);
    let root = PathBuf::from(
        std::env::var("PULUMI_ROOT_DIRECTORY").context("PULUMI_ROOT_DIRECTORY is not set")?,
    );
    let functions = [
        START_ORDER,
        MANAGE_ORDER_STATE,
        PROCESS_PAYMENT,
        SEND_ORDER,
        GET_ORDER,
    ];
    let built = artifacts::prepare(
        &root,
        &functions,
        config.architecture,
        config.build_functions,
    )?;
    let artifact = |name: &str| {
        let index = functions
            .iter()
            .position(|f| *f == name)
            .expect("a known function");
        &built[index]
    };

    let topics = notifications::create(ctx, &names, &config);
    let table = table::create(ctx, &names);

    let manage_order_state = functions::create(
        ctx,
        &names,
        &config,
        FunctionDef {
            spec: spec(MANAGE_ORDER_STATE),
            description: "Saves orders and their status changes, and tells the customer",
            environment: vec![
                (env::ORDERS_TABLE, table.name.clone()),
                (env::NOTIFY_TOPIC_ARN, topics.notifications_arn.clone()),
            ],
            grants: vec![
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
            artifact: artifact(MANAGE_ORDER_STATE),
        },
    )?;
    let process_payment = functions::create(
        ctx,
        &names,
        &config,
        FunctionDef {
            spec: spec(PROCESS_PAYMENT),
            description: "Simulates a payment with a configurable success rate",
            environment: vec![(
                env::PAYMENT_SUCCESS_PROBABILITY,
                Output::new(config.payment_success_probability.to_string()),
            )],
            // Touches nothing but its logs.
            grants: vec![],
            artifact: artifact(PROCESS_PAYMENT),
        },
    )?;
    let send_order = functions::create(
        ctx,
        &names,
        &config,
        FunctionDef {
            spec: spec(SEND_ORDER),
            description: "Hands a paid order to the restaurant",
            environment: vec![
                (env::ORDERS_TABLE, table.name.clone()),
                (env::RESTAURANT_TOPIC_ARN, topics.restaurant_arn.clone()),
            ],
            grants: vec![
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
            artifact: artifact(SEND_ORDER),
        },
    )?;

    let state_machine_arn = workflow::create(
        ctx,
        &names,
        &config,
        &workflow::TaskFunctions {
            manage_order_state_arn: manage_order_state.arn.clone(),
            process_payment_arn: process_payment.arn,
            send_order_arn: send_order.arn,
        },
    )?;

    let unsettled_dlq_url = unsettled::create(
        ctx,
        &names,
        unsettled::Inputs {
            state_machine_arn: &state_machine_arn,
            manage_order_state: &manage_order_state,
        },
    );

    let queues = queue::create(ctx, &names);
    let start_order = functions::create(
        ctx,
        &names,
        &config,
        FunctionDef {
            spec: spec(START_ORDER),
            description: "Starts one order workflow per queued order",
            environment: vec![(env::STATE_MACHINE_ARN, state_machine_arn.clone())],
            grants: vec![
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
            artifact: artifact(START_ORDER),
        },
    )?;
    event_source_mapping::create(
        ctx,
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

    let get_order =
        functions::create(
            ctx,
            &names,
            &config,
            FunctionDef {
                spec: spec(GET_ORDER),
                description: "Answers GET /orders and GET /orders/{id}",
                environment: vec![(env::ORDERS_TABLE, table.name.clone())],
                grants: vec![
                    Grant::new("ReadOrders", &["dynamodb:GetItem"], vec![table.arn.clone()]),
                    // Listing reads the index of users' orders, not the table.
                    Grant::new(
                        "ListUsersOrders",
                        &["dynamodb:Query"],
                        vec![table.arn.map(|arn| {
                            format!("{arn}/index/{}", orders_blueprint::user_index::NAME)
                        })],
                    ),
                ],
                artifact: artifact(GET_ORDER),
            },
        )?;

    let users = users::create(ctx, &names, &config);
    let api_url = api::create(
        ctx,
        &names,
        &config,
        api::ApiInputs {
            queue_arn: &queues.queue_arn,
            queue_name: names.queue(),
            get_order: &get_order,
            user_pool_arn: &users.user_pool_arn,
        },
    );

    monitoring::create(
        ctx,
        &names,
        monitoring::Watched {
            region: &config.region,
            state_machine_arn: &state_machine_arn,
            stage: api::stage::STAGE,
            alarm_topic_arn: &topics.alarms_arn,
        },
    );

    ctx.add_export("apiUrl", &api_url);
    ctx.add_export("tableName", &table.name);
    ctx.add_export("queueUrl", &queues.queue_url);
    ctx.add_export("dlqUrl", &queues.dlq_url);
    ctx.add_export("stateMachineArn", &state_machine_arn);
    ctx.add_export("topicArn", &topics.notifications_arn);
    ctx.add_export("restaurantTopicArn", &topics.restaurant_arn);
    ctx.add_export("alarmTopicArn", &topics.alarms_arn);
    ctx.add_export("unsettledDlqUrl", &unsettled_dlq_url);
    ctx.add_export("userPoolId", &users.user_pool_id);
    ctx.add_export("userPoolClientId", &users.client_id);
    Ok(())
}

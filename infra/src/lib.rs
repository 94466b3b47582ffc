//! The Pulumi program of Serverless Orders (on `pulumi_gestalt_rust`). The engine harness
//! that runs it with no cloud is the `orders-engine` crate.
//!
//! [`program`] reads like the architecture: topics and table, the task functions, the state
//! machine and what settles its unsettled executions, the queue and its consumer, then the
//! API in front of it all, and the alarms over everything. What each function reads and may
//! do is in [`handlers`]. Names and settings come from `orders-blueprint`, as in the local
//! runner.

pub mod api;
pub mod app;
pub mod artifacts;
pub mod config;
pub mod delivery;
pub mod events;
pub mod functions;
pub mod handlers;
pub mod iam;
pub mod live;
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

use anyhow::{Context as _, Result};
use orders_blueprint::Names;
use pulumi_gestalt_rust::{Context, Output};
use std::path::PathBuf;

/// The stack outputs.
pub const OUTPUTS: [&str; 15] = [
    "apiUrl",
    "appUrl",
    "websocketUrl",
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
    "eventBusName",
    "eventsTapQueueUrl",
];

pub fn program(ctx: &Context) -> Result<()> {
    let config = config::StackConfig::from_env()?;
    let names = Names::new(&config.prefix);
    let root = PathBuf::from(
        std::env::var("PULUMI_ROOT_DIRECTORY").context("PULUMI_ROOT_DIRECTORY is not set")?,
    );
    let built = handlers::Built::prepare(&root, &config)?;
    let site = handlers::Site {
        ctx,
        names: &names,
        config: &config,
        built: &built,
    };

    // Where orders and the news of them are kept.
    let topics = notifications::create(ctx, &names, &config);
    let table = table::create(ctx, &names);

    // The workflow, its task functions, and what settles an execution that ends unsettled.
    let tasks = handlers::workflow_tasks(&site, &table, &topics)?;
    let workflow = workflow::create(ctx, &names, &config, &tasks.arns())?;
    let state_machine_arn = workflow.arn;
    let unsettled_dlq_url = unsettled::create(
        ctx,
        &names,
        unsettled::Inputs {
            state_machine_arn: &state_machine_arn,
            manage_order_state: &tasks.manage_order_state,
        },
    );

    // The queue in front of the workflow, and its consumer.
    let queues = queue::create(ctx, &names);
    handlers::queue_consumer(&site, &queues, &state_machine_arn)?;

    // The customer app's hosting first: its URL is the origin the API admits.
    let app = app::create(ctx, &names);
    let origins: Output<Vec<String>> = match &config.allowed_origins {
        Some(origins) => Output::new(origins.as_slice().to_vec()),
        None => app.url.map(|url| vec![url]),
    };
    let origin_list = origins.map(|origins| origins.join(","));

    // The API in front of it all: sign-in, writes to the queue, reads through get-order,
    // cancels through cancel-order.
    let get_order = handlers::order_reader(&site, &table, &origin_list)?;
    let cancel_order = handlers::order_canceller(&site, &table, &origin_list)?;
    let users = users::create(ctx, &names, &config);
    let api_url = api::create(
        ctx,
        &names,
        &config,
        api::ApiInputs {
            queue_arn: &queues.queue_arn,
            queue_name: names.queue(),
            get_order: &get_order,
            cancel_order: &cancel_order,
            user_pool_arn: &users.user_pool_arn,
            origins: &origins,
        },
    );

    // Every committed status change, on the orders event bus.
    let enrichment = handlers::events_enrichment(&site)?;
    let events = events::create(ctx, &names, &table, &enrichment);

    // Live status: the WebSocket API, its connections, and the push of every order event.
    let connections = live::connections_table(ctx, &names);
    let authorize = handlers::socket_authorizer(&site, &users)?;
    let connect = handlers::socket_connections(&site, &connections)?;
    let socket = live::socket_api(ctx, &names, &config.region, &authorize, &connect);
    let push = handlers::status_pusher(&site, &connections, &socket)?;
    live::push_rule(ctx, &names, &events.bus_name, &push);

    // The app's files, and the config that points them at this stack.
    let region = config.region.clone();
    let app_config = pulumi_gestalt_rust::pulumi_combine!(
        api_url.clone(),
        socket.url.clone(),
        users.user_pool_id.clone(),
        users.client_id.clone()
    )
    .map(move |(api_url, websocket_url, user_pool_id, client_id)| {
        orders_blueprint::live::AppConfig {
            api_url,
            websocket_url,
            cognito_endpoint: orders_blueprint::live::cognito_endpoint(&region),
            region: region.clone(),
            user_pool_id,
            client_id,
        }
    });
    app.publish(ctx, app::files(&root.join("web"))?, app_config);

    // Alarms and a dashboard over all of it.
    monitoring::create(
        ctx,
        &names,
        monitoring::Watched {
            region: &config.region,
            state_machine_arn: &state_machine_arn,
            workflow_log_group: &workflow.log_group_name,
            stage: api::stage::STAGE,
            alarm_topic_arn: &topics.alarms_arn,
            socket_api_id: &socket.api_id,
        },
    );

    ctx.add_export("apiUrl", &api_url);
    ctx.add_export("appUrl", &app.url);
    ctx.add_export("websocketUrl", &socket.url);
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
    ctx.add_export("eventBusName", &events.bus_name);
    ctx.add_export("eventsTapQueueUrl", &events.tap_queue_url);
    Ok(())
}

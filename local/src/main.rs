//! `orders-local`: the whole order pipeline on this machine, no AWS, no Docker.
//!
//! It starts the AWS-API emulator (DynamoDB, SQS with the DLQ redrive, SNS, Step Functions
//! executing `asl/order.asl.json`, and Cognito user pools), creates the stack's resources
//! from `orders-blueprint` with two demo users, and serves what the emulator cannot: the HTTP
//! API behind its Cognito authorizer, the queue → consumer event source mapping, and a Lambda
//! host running the real handlers.

mod api;
mod app;
mod authorizer;
mod config;
mod consumer;
mod faults;
mod invocation;
mod lambda_host;
mod live;
mod pipe;
mod progress;
mod provision;
mod watcher;

use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use orders_aws::{DynamoOrderStore, SfnWorkflows, SnsDispatcher, SnsNotifier};
use orders_blueprint::Names;
use orders_emulator::Emulator;
use orders_local::ready::Ready;

use crate::config::Config;

/// The prefix of every local resource name.
const PREFIX: &str = "orders-local";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orders-local: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let throttle = api::Throttle::new(config.throttling_rate_limit, config.throttling_burst_limit)
        .with_context(|| {
            format!(
                "environment variable {}",
                orders_local::env::THROTTLING_RATE_LIMIT
            )
        })?;
    let api_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (set ORDERS_PORT)",
                config.port
            )
        })?;
    // Port 0 asks the system for a free one; the banner and the ready report tell which.
    let api_port = api_listener.local_addr()?.port();
    let bind = |port: u16, setting: &'static str| async move {
        tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port} (set {setting})"))
    };
    let app_listener = bind(config.app_port, orders_local::env::APP_PORT).await?;
    let socket_listener = bind(config.socket_port, orders_local::env::SOCKET_PORT).await?;
    let app_url = format!("http://127.0.0.1:{}", app_listener.local_addr()?.port());
    let socket_base = format!(
        "127.0.0.1:{}/{}",
        socket_listener.local_addr()?.port(),
        orders_blueprint::live::STAGE
    );
    let websocket_url = format!("ws://{socket_base}");
    // The app's origin first: the one a gateway response names.
    let mut origins = orders_core::cors::AllowedOrigins::default();
    origins.push(&app_url)?;
    for origin in config.allowed_origins.as_slice() {
        origins.push(origin)?;
    }
    // The emulator must know where the functions live before it starts.
    let host_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let host_port = host_listener.local_addr()?.port();
    let emulator_command = config.emulator.clone();
    // The emulator's own output, kept for when it misbehaves.
    let emulator_log =
        std::env::temp_dir().join(format!("orders-local-emulator-{}.log", std::process::id()));
    let log = emulator_log.clone();
    let emulator = tokio::task::spawn_blocking(move || {
        Emulator::start_with_lambda_port(&emulator_command, host_port, &log)
    })
    .await??;
    reqwest::Client::new()
        .post(format!("{}/moto-api/config", emulator.endpoint()))
        .body(r#"{"stepfunctions": {"execute_state_machine": true}}"#)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("switch on state machine execution in the emulator")?;

    let sdk = emulator.sdk_config().await;
    let stack = provision::create(
        &sdk,
        Names::new(PREFIX),
        &provision::Settings {
            wait_seconds: config.wait_seconds,
            execution_timeout_seconds: config.execution_timeout_seconds,
            visibility_timeout_seconds: config.visibility_timeout_seconds,
        },
    )
    .await?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.table);
    let functions = Arc::new(lambda_host::Functions {
        names: stack.names.clone(),
        store: store.clone(),
        notifier: SnsNotifier::new(
            aws_sdk_sns::Client::new(&sdk),
            &stack.notification_topic_arn,
        ),
        dispatcher: SnsDispatcher::new(aws_sdk_sns::Client::new(&sdk), &stack.restaurant_topic_arn),
        workflows: SfnWorkflows::new(aws_sdk_sfn::Client::new(&sdk), &stack.state_machine_arn),
        payments: process_payment::SimulatedPayments {
            success: config.payment_success,
        },
        faults: config.faults.clone(),
    });

    let host = lambda_host::router(functions.clone(), emulator.endpoint());
    tokio::spawn(async move { axum::serve(host_listener, host).await });
    for _ in 0..config.consumers {
        let consumer = consumer::Consumer {
            sqs: sqs.clone(),
            queue_url: stack.queue_url.clone(),
            functions: functions.clone(),
        };
        tokio::spawn(consumer.run());
    }
    tokio::spawn(
        watcher::Watcher {
            sfn: aws_sdk_sfn::Client::new(&sdk),
            state_machine_arn: stack.state_machine_arn.clone(),
            functions: functions.clone(),
        }
        .run(),
    );
    tokio::spawn(
        pipe::Pipe {
            streams: aws_sdk_dynamodbstreams::Client::new(&sdk),
            events: aws_sdk_eventbridge::Client::new(&sdk),
            sqs: sqs.clone(),
            functions: functions.clone(),
            stream_arn: stack.table_stream_arn.clone(),
            bus_name: stack.events.bus_name.clone(),
            dead_letter_queue_url: stack.events.dead_letter_queue_url.clone(),
        }
        .run(),
    );
    tokio::spawn(consumer::watch_inbox(
        sqs.clone(),
        stack.notification_inbox_url.clone(),
        false,
    ));
    tokio::spawn(consumer::watch_inbox(
        sqs.clone(),
        stack.restaurant_inbox_url.clone(),
        true,
    ));

    let sign_in = stack.sign_in.clone();
    let authorizer = authorizer::Authorizer::fetch(
        &sign_in.endpoint,
        &sign_in.region,
        &sign_in.user_pool_id,
        &sign_in.client_id,
    )
    .await?;
    let authorizer = Arc::new(authorizer);
    let connections = orders_aws::DynamoConnections::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &stack.connections_table,
    );
    let gateway = Arc::new(live::Gateway {
        authorizer: authorizer.clone(),
        connections: connections.clone(),
        method_arn: format!(
            "arn:aws:execute-api:{}:{}:local/{}/$connect",
            orders_emulator::REGION,
            orders_emulator::ACCOUNT,
            orders_blueprint::live::STAGE
        ),
        open: Default::default(),
    });
    tokio::spawn(async move { axum::serve(socket_listener, live::router(gateway)).await });
    tokio::spawn(
        live::Pusher {
            sqs: sqs.clone(),
            queue_url: stack.events.push_queue_url.clone(),
            connections,
            sockets: push_status::ManagementApi(aws_sdk_apigatewaymanagement::Client::from_conf(
                aws_sdk_apigatewaymanagement::config::Builder::from(&sdk)
                    .endpoint_url(format!("http://{socket_base}"))
                    .build(),
            )),
        }
        .run(),
    );
    let app = app::router(orders_blueprint::live::AppConfig {
        api_url: format!("http://127.0.0.1:{api_port}"),
        websocket_url: websocket_url.clone(),
        region: sign_in.region.clone(),
        user_pool_id: sign_in.user_pool_id.clone(),
        client_id: sign_in.client_id.clone(),
        cognito_endpoint: sign_in.endpoint.clone(),
    });
    tokio::spawn(async move { axum::serve(app_listener, app).await });
    let api = api::router(Arc::new(api::Api {
        sqs,
        queue_url: stack.queue_url.clone(),
        store,
        throttle,
        queue_timeout: config.integration_timeout,
        authorizer,
        origins,
    }));
    println!(
        "Serverless Orders, local mode: wait {}s, payment success {}, emulator {}{}",
        config.wait_seconds,
        config.payment_success.value(),
        emulator.endpoint(),
        if config.faults.is_empty() {
            ""
        } else {
            ", faults injected"
        },
    );
    println!(
        "  queue {}  dead letters {}",
        stack.queue_url, stack.dead_letter_queue_url
    );
    println!("  emulator log {}", emulator_log.display());
    println!(
        "Open the app: {app_url}  (a demo user below signs in; live status on {websocket_url})"
    );
    println!(
        "Orders API listening on http://127.0.0.1:{api_port}  (POST /orders, GET /orders, GET /orders/{{id}}, POST /orders/{{id}}/cancel; Ctrl-C stops)"
    );
    println!(
        "  order events: bus {}, every event also in the tap queue {}",
        stack.events.bus_name, stack.events.tap_queue_url
    );
    // tests/token.sh finds the pool by the API's port.
    let sign_in_file = orders_local::sign_in::file(api_port);
    sign_in.write(&sign_in_file)?;
    println!(
        "  sign in: user pool {} (client {}); demo users {} with password {}",
        sign_in.user_pool_id,
        sign_in.client_id,
        sign_in
            .users
            .iter()
            .map(|user| user.email.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        orders_local::sign_in::DEMO_PASSWORD,
    );
    println!(
        "  a token: TOKEN=$(tests/token.sh http://127.0.0.1:{api_port} alice), then curl -H \"Authorization: $TOKEN\" ..."
    );
    if let Some(path) = &config.ready_file {
        // The listener is bound: requests wait in its backlog until serving starts.
        Ready {
            api_url: format!("http://127.0.0.1:{api_port}"),
            app_url: app_url.clone(),
            websocket_url: websocket_url.clone(),
            emulator_url: emulator.endpoint(),
            table: stack.table.clone(),
            queue_url: stack.queue_url.clone(),
            dead_letter_queue_url: stack.dead_letter_queue_url.clone(),
            state_machine_arn: stack.state_machine_arn.clone(),
            notification_topic_arn: stack.notification_topic_arn.clone(),
            restaurant_topic_arn: stack.restaurant_topic_arn.clone(),
            event_bus_name: stack.events.bus_name.clone(),
            events_tap_url: stack.events.tap_queue_url.clone(),
            events_dead_letter_queue_url: stack.events.dead_letter_queue_url.clone(),
            connections_table: stack.connections_table.clone(),
            sign_in: sign_in.clone(),
        }
        .write(path)?;
    }
    axum::serve(api_listener, api)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("stopping");
    let _ = std::fs::remove_file(&sign_in_file);
    drop(emulator);
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}

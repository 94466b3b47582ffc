//! Runs each real `bootstrap` as Lambda would, against the harness's Runtime API:
//! cold starts (process start → ready for work, and → first answer) and peak memory
//! after many invocations with real I/O against the emulator.

use orders_core::settings::env;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::runtime_api::RuntimeApi;
use orders_core::{OrderId, OrderMessage, OrderRequest, UserId};
use orders_local::client::percentile;

/// The resources the functions talk to, in the emulator.
pub struct Backing {
    pub endpoint: String,
    pub table: String,
    pub topic_arn: String,
    pub state_machine_arn: String,
    /// The open WebSocket connections; OWNER holds [`CONNECTION`].
    pub connections_table: String,
    /// A user pool and its app client, whose keys authorize-socket reads at start-up, and
    /// an ID token of OWNER's for its working event.
    pub user_pool_id: String,
    pub client_id: String,
    pub id_token: String,
}

impl Backing {
    /// A table and a state machine in `emulator` for the functions to work on.
    pub async fn provision(emulator: &orders_emulator::Emulator) -> anyhow::Result<Self> {
        let config = emulator.sdk_config().await;
        let table = "bench-orders";
        orders_emulator::provision::orders_table(&config, table).await?;
        let state_machine_arn =
            orders_emulator::provision::stub_state_machine(&config, "bench").await?;
        // The order cancel-order's working event cancels (the first time; then it finds
        // it cancelled), apart from the one the others work on.
        let store =
            orders_aws::DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), table);
        let to_cancel = orders_core::NewOrder {
            user_id: UserId::parse(OWNER)?,
            restaurant_id: "r".into(),
            quantity: 1,
            note: None,
        };
        orders_core::service::create_order(
            &store,
            &OrderId::parse(CANCELLED_ORDER)?,
            to_cancel,
            chrono::Utc::now(),
        )
        .await?;
        let connections_table = "bench-connections";
        orders_emulator::provision::connections_table(&config, connections_table).await?;
        orders_aws::DynamoConnections::new(
            aws_sdk_dynamodb::Client::new(&config),
            connections_table,
        )
        .open(CONNECTION, &UserId::parse(OWNER)?, i64::MAX / 2)
        .await?;
        let (user_pool_id, client_id, id_token) = signed_in_owner(&config).await?;
        Ok(Self {
            connections_table: connections_table.into(),
            user_pool_id,
            client_id,
            id_token,
            endpoint: emulator.endpoint(),
            table: table.into(),
            topic_arn: format!(
                "arn:aws:sns:{}:{}:bench",
                orders_emulator::REGION,
                orders_emulator::ACCOUNT
            ),
            state_machine_arn,
        })
    }
}

/// A user pool with one user, signed in: (pool id, client id, ID token).
async fn signed_in_owner(
    config: &aws_config::SdkConfig,
) -> anyhow::Result<(String, String, String)> {
    use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, MessageActionType};
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let pool = cognito
        .create_user_pool()
        .pool_name("bench")
        .send()
        .await?
        .user_pool
        .and_then(|pool| pool.id)
        .context("a pool without an id")?;
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("bench")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await?
        .user_pool_client
        .and_then(|client| client.client_id)
        .context("a client without an id")?;
    let (user, password) = ("bench@example.com", "Bench-password-1");
    cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username(user)
        .message_action(MessageActionType::Suppress)
        .send()
        .await?;
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username(user)
        .password(password)
        .permanent(true)
        .send()
        .await?;
    let tokens = orders_local::sign_in::password_sign_in(&cognito, &client, user, password).await?;
    Ok((pool, client, tokens.id))
}

/// One function under test.
pub struct Subject {
    pub name: &'static str,
    /// An event answered without any network call: what the cold start measures.
    pub quick_event: Value,
    /// An event that does the function's real I/O: what the memory run repeats.
    pub working_event: Value,
    /// What the function answers every working event (see [`crate::runtime_api::outcome_of`]):
    /// a run that answers anything else measured another path than the one meant.
    pub intended: &'static str,
}

/// The bare function every cold start is compared with (crate `orders-baseline`).
pub const BASELINE: &str = "orders-baseline";

/// The user every working event acts for: the order the benchmark reads is theirs.
const OWNER: &str = "bench-user";

/// The order cancel-order's working event cancels.
const CANCELLED_ORDER: &str = "bench-cancel";

/// OWNER's open WebSocket connection, which push-status' working event posts to.
const CONNECTION: &str = "bench-connection";

/// The functions, and the events they are measured with; `id_token` is OWNER's
/// ([`Backing::id_token`]), which authorize-socket's working event carries.
pub fn subjects(id_token: &str) -> Vec<Subject> {
    let message = OrderMessage {
        order_id: OrderId::parse("bench-1").expect("an order id"),
        user_id: UserId::parse(OWNER).expect("a user id"),
        order: OrderRequest {
            restaurant_id: "r".into(),
            quantity: 2,
            note: None,
        },
    };
    let body = serde_json::to_string(&message).expect("an order message");
    vec![
        Subject {
            name: BASELINE,
            quick_event: json!({}),
            working_event: json!({}),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::START_ORDER,
            quick_event: json!({"Records": []}),
            // The same message every time: the first starts the execution, the others find
            // it started with the same input (idempotent), and none is reported failed.
            working_event: json!({"Records": [{"messageId": "m-1", "body": body}]}),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::MANAGE_ORDER_STATE,
            // A payment status without its payment: refused before any call.
            quick_event: json!({"action": "set_status", "order_id": "bench-1", "status": "PAYMENT_OK"}),
            // Saves the order get-order reads below (then finds it saved, as a retry does).
            working_event: json!({"action": "create", "order_id": "bench-1", "order": {"user_id": OWNER, "restaurant_id": "r", "quantity": 2}}),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::PROCESS_PAYMENT,
            quick_event: json!({"action": "charge", "order_id": "bench-1", "quantity": 2}),
            working_event: json!({"action": "charge", "order_id": "bench-1", "quantity": 2}),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::SEND_ORDER,
            quick_event: json!({"order_id": "not an id"}),
            // Its I/O is the consistent read that finds no such order (OrderNotFound): the
            // hand-off itself would need a paid order and a topic for every invocation.
            working_event: json!({"order_id": "bench-missing"}),
            intended: "OrderNotFound",
        },
        Subject {
            name: orders_blueprint::GET_ORDER,
            // A bad id is answered 400 with no read; a good one is read from the table, by
            // the signed-in customer who placed it.
            quick_event: get_order_request("not an id", OWNER),
            working_event: get_order_request("bench-1", OWNER),
            intended: "200",
        },
        Subject {
            name: orders_blueprint::CANCEL_ORDER,
            // A bad id is answered 400 with no read; a good one is read and cancelled by
            // its owner with a conditional write (202), and found cancelled after (202).
            quick_event: cancel_order_request("not an id", OWNER),
            working_event: cancel_order_request(CANCELLED_ORDER, OWNER),
            intended: "202",
        },
        Subject {
            name: orders_blueprint::ORDER_EVENTS,
            // An empty batch; a full one (ten writes of one order's life) to turn into
            // events. It calls nothing: its cost is decoding the images.
            quick_event: json!([]),
            working_event: stream_batch(),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::AUTHORIZE_SOCKET,
            // No token: refused with no work; a valid ID token: its signature checked with
            // the keys read at start-up, and an Allow answered. It calls nothing per event.
            quick_event: connect_request(None),
            working_event: connect_request(Some(id_token)),
            intended: "ok",
        },
        Subject {
            name: orders_blueprint::SOCKET_CONNECTIONS,
            // A route it does not serve: refused with no call; `$connect`: one write.
            quick_event: socket_route("$default"),
            working_event: socket_route("$connect"),
            intended: "200",
        },
        Subject {
            name: orders_blueprint::PUSH_STATUS,
            // Not an order event: refused before any call; an order event of OWNER's: the
            // index read and one `PostToConnection` (the emulator's management API).
            quick_event: json!({"detail-type": "Order Status Changed"}),
            working_event: order_event(),
            intended: "ok",
        },
    ]
}

/// The authorizer's event of a `$connect` with the `token` parameter, if any.
fn connect_request(token: Option<&str>) -> Value {
    let query = token.map_or(json!({}), |token| json!({"token": token}));
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:bench/live/$connect",
        "queryStringParameters": query,
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": CONNECTION},
    })
}

/// A WebSocket route's event for the connection of OWNER's, as the authorizer admitted it
/// (the fields API Gateway always sends: "WebSocket API integration event format").
fn socket_route(route: &str) -> Value {
    json!({
        "headers": {"Host": "bench.execute-api.us-east-1.amazonaws.com"},
        "isBase64Encoded": false,
        "requestContext": {
            "routeKey": route,
            "eventType": "CONNECT",
            "messageDirection": "IN",
            "connectionId": CONNECTION,
            "connectedAt": 1_796_540_000_000i64,
            "requestTimeEpoch": 1_796_540_000_000i64,
            "requestId": "bench-request",
            "extendedRequestId": "bench-request",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "stage": "live",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"sub": OWNER, "principalId": OWNER},
        },
    })
}

/// An order event of OWNER's order, as the push rule delivers it.
fn order_event() -> Value {
    json!({
        "version": "0", "id": "bench-event", "detail-type": orders_core::events::DETAIL_TYPE,
        "source": orders_core::events::SOURCE, "account": orders_emulator::ACCOUNT,
        "time": "2026-12-06T08:00:00Z", "region": orders_emulator::REGION, "resources": [],
        "detail": {"order_id": "bench-1", "user_id": OWNER, "restaurant_id": "r",
                   "status": "PAYMENT_OK", "version": 2, "at": "2026-12-06T08:00:00Z"},
    })
}

/// Ten stream records as the pipe hands them to order-events: an order's writes from
/// its save to its hand-off, each status change and each write that changes none.
fn stream_batch() -> Value {
    use orders_core::{NewOrder, Order, OrderStatus};
    let new = NewOrder {
        user_id: UserId::parse(OWNER).expect("a user id"),
        restaurant_id: "r".into(),
        quantity: 2,
        note: None,
    };
    let mut order = Order::received(
        OrderId::parse("bench-1").expect("an order id"),
        new,
        chrono::Utc::now(),
    );
    let mut images = vec![order.clone()];
    for n in 1..10u32 {
        if n % 3 == 0 {
            order.status =
                [OrderStatus::PaymentOk, OrderStatus::SentToRestaurant][usize::from(n > 3)];
            order.version += 1;
        } else {
            order.updated_at = chrono::Utc::now();
        }
        images.push(order.clone());
    }
    let image = |order: &Order| {
        let item: serde_dynamo::Item = serde_dynamo::to_item(order).expect("an item");
        serde_json::to_value(item).expect("DynamoDB JSON")
    };
    let records: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(n, new)| {
            let mut change = json!({
                "Keys": {"order_id": {"S": "bench-1"}},
                "NewImage": image(new),
                "SequenceNumber": format!("{}", 100 + n),
                "SizeBytes": 300,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            });
            if n > 0 {
                change["OldImage"] = image(&images[n - 1]);
            }
            json!({
                "eventID": format!("e-{n}"),
                "eventName": if n == 0 { "INSERT" } else { "MODIFY" },
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": change,
            })
        })
        .collect();
    Value::Array(records)
}

/// `GET /orders/{id}` as API Gateway's proxy integration hands it to get-order once the
/// Cognito authorizer has let `user` through: their claims, every one a string.
fn get_order_request(id: &str, user: &str) -> Value {
    proxy_request("GET", "/orders/{id}", id, user)
}

/// `POST /orders/{id}/cancel` as the proxy integration hands it to cancel-order.
fn cancel_order_request(id: &str, user: &str) -> Value {
    proxy_request("POST", "/orders/{id}/cancel", id, user)
}

/// A proxy integration's event for `method` on `resource` with the order `id`, as the
/// Cognito authorizer passes `user` on.
fn proxy_request(method: &str, resource: &str, id: &str, user: &str) -> Value {
    json!({
        "resource": resource,
        "path": resource.replace("{id}", id),
        "httpMethod": method,
        "pathParameters": {"id": id},
        "requestContext": {
            "httpMethod": method,
            "resourcePath": resource,
            "stage": "v1",
            "authorizer": {"claims": {"sub": user, "token_use": "id"}},
        },
    })
}

/// The release binary that `cargo lambda build` zipped as `bootstrap`.
pub fn binary(name: &str) -> PathBuf {
    // From the workspace's root, wherever the benchmark or its test runs.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/x86_64-unknown-linux-gnu/release")
        .join(name)
}

async fn spawn(
    name: &str,
    api: &RuntimeApi,
    backing: &Backing,
) -> anyhow::Result<tokio::process::Child> {
    let program = binary(name);
    if !program.exists() {
        bail!("{} is missing: run `make zips` first", program.display());
    }
    tokio::process::Command::new(&program)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", orders_emulator::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &backing.endpoint)
        .env(env::ORDERS_TABLE, &backing.table)
        .env(env::NOTIFY_TOPIC_ARN, &backing.topic_arn)
        .env(env::RESTAURANT_TOPIC_ARN, &backing.topic_arn)
        .env(env::STATE_MACHINE_ARN, &backing.state_machine_arn)
        .env(env::ALLOWED_ORIGINS, "https://app.example")
        .env(env::CONNECTIONS_TABLE, &backing.connections_table)
        // The emulator serves the management API's PostToConnection.
        .env(env::SOCKET_ENDPOINT, &backing.endpoint)
        .env(env::USER_POOL_ID, &backing.user_pool_id)
        .env(env::USER_POOL_CLIENT_ID, &backing.client_id)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("start {}", program.display()))
}

#[derive(Debug, Serialize)]
pub struct ColdStart {
    pub starts: usize,
    pub ready_median_ms: f64,
    pub ready_p99_ms: f64,
    pub first_answer_median_ms: f64,
    pub first_answer_p99_ms: f64,
    /// Every start's time to ready, sorted: what the plots draw.
    pub ready_ms: Vec<f64>,
}

/// Starts the function once: from process start to its first request for work (what
/// Lambda reports as init), and to its first answer, in milliseconds.
pub async fn start_once(subject: &Subject, backing: &Backing) -> anyhow::Result<(f64, f64)> {
    let api = RuntimeApi::start(subject.quick_event.to_string().into_bytes(), 1).await?;
    let began = Instant::now();
    let mut child = spawn(subject.name, &api, backing).await?;
    tokio::time::timeout(Duration::from_secs(10), api.finished())
        .await
        .with_context(|| format!("{} did not answer within 10 s", subject.name))?;
    let outcome = api.outcome();
    let ready = ms(outcome.first_next.context("no request for work")? - began);
    let first = ms(outcome.answers[0] - began);
    child.kill().await?;
    Ok((ready, first))
}

/// Cold starts of every subject, side by side: each round starts every function once, so
/// whatever else the machine does in a moment weighs on all of them alike.
pub async fn cold_starts(
    subjects: &[Subject],
    backing: &Backing,
    rounds: usize,
) -> anyhow::Result<Vec<ColdStart>> {
    let mut samples = vec![(Vec::new(), Vec::new()); subjects.len()];
    for _ in 0..rounds {
        for (subject, (ready, first)) in subjects.iter().zip(samples.iter_mut()) {
            let (r, f) = start_once(subject, backing).await?;
            ready.push(r);
            first.push(f);
        }
    }
    Ok(samples
        .into_iter()
        .map(|(mut ready, mut first)| {
            ready.sort_by(f64::total_cmp);
            first.sort_by(f64::total_cmp);
            ColdStart {
                starts: rounds,
                ready_median_ms: percentile(&ready, 0.5),
                ready_p99_ms: percentile(&ready, 0.99),
                first_answer_median_ms: percentile(&first, 0.5),
                first_answer_p99_ms: percentile(&first, 0.99),
                ready_ms: ready,
            }
        })
        .collect())
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub invocations: usize,
    pub errors: usize,
    /// What the invocations answered: outcome → count (e.g. `{"200": 1000}`). The report
    /// shows it once, as the function's `answers`.
    #[serde(skip)]
    pub answers: std::collections::BTreeMap<String, usize>,
    pub peak_rss_mb: f64,
    pub mean_invocation_ms: f64,
}

/// Peak resident memory after `invocations` invocations doing real I/O.
pub async fn memory(
    subject: &Subject,
    backing: &Backing,
    invocations: usize,
) -> anyhow::Result<Memory> {
    let api =
        RuntimeApi::start(subject.working_event.to_string().into_bytes(), invocations).await?;
    let mut child = spawn(subject.name, &api, backing).await?;
    let pid = child.id().context("no pid")?;
    tokio::time::timeout(Duration::from_secs(300), api.finished())
        .await
        .with_context(|| format!("{} did not finish {invocations} invocations", subject.name))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc status")?;
    let outcome = api.outcome();
    let span = *outcome.answers.last().unwrap() - outcome.first_next.unwrap();
    child.kill().await?;
    Ok(Memory {
        invocations,
        errors: outcome.errors,
        answers: outcome.outcomes,
        peak_rss_mb: peak_kb / 1024.0,
        mean_invocation_ms: ms(span) / invocations as f64,
    })
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    fn fits<T: DeserializeOwned>(event: &Value) -> bool {
        serde_json::from_value::<T>(event.clone()).is_ok()
    }

    /// A working event that the runtime could not even parse would measure an error path.
    #[test]
    fn every_working_event_fits_its_functions_input() {
        for subject in subjects("header.claims.signature") {
            let event = &subject.working_event;
            let ok = match subject.name {
                BASELINE => event.is_object(),
                orders_blueprint::START_ORDER => {
                    fits::<aws_lambda_events::event::sqs::SqsEvent>(event)
                }
                orders_blueprint::MANAGE_ORDER_STATE => fits::<manage_order_state::Request>(event),
                orders_blueprint::PROCESS_PAYMENT => fits::<process_payment::Request>(event),
                orders_blueprint::SEND_ORDER => fits::<send_order::Request>(event),
                orders_blueprint::ORDER_EVENTS => {
                    fits::<Vec<aws_lambda_events::event::dynamodb::EventRecord>>(event)
                }
                orders_blueprint::AUTHORIZE_SOCKET => fits::<
                    aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest,
                >(event),
                orders_blueprint::SOCKET_CONNECTIONS => {
                    fits::<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest>(event)
                }
                orders_blueprint::PUSH_STATUS => fits::<
                    aws_lambda_events::eventbridge::EventBridgeEvent<
                        orders_core::events::OrderEvent,
                    >,
                >(event),
                orders_blueprint::GET_ORDER | orders_blueprint::CANCEL_ORDER => {
                    fits::<aws_lambda_events::apigw::ApiGatewayProxyRequest>(event)
                        && fits::<aws_lambda_events::apigw::ApiGatewayProxyRequest>(
                            &subject.quick_event,
                        )
                }
                other => panic!("no input type for {other}"),
            };
            assert!(ok, "{}: {event}", subject.name);
        }
    }

    /// Each working event, run a few times through the real release bootstrap (built by
    /// `make zips`) against the emulator, gets the answer it is meant to measure: get-order
    /// a 200 for its owner (not the 401 of a request without a user), the others theirs.
    /// The bare baseline is left out: it answers `{}` to anything.
    #[tokio::test]
    async fn every_working_event_gets_its_intended_answer() {
        let emulator =
            orders_emulator::Emulator::start(&orders_emulator::EmulatorCommand::from_env())
                .unwrap();
        let backing = Backing::provision(&emulator).await.unwrap();
        for subject in subjects(&backing.id_token)
            .iter()
            .filter(|s| s.name != BASELINE)
        {
            let memory = memory(subject, &backing, 3).await.unwrap();
            let intended = [(subject.intended.to_owned(), 3)].into();
            assert_eq!(memory.answers, intended, "{}", subject.name);
        }
    }
}

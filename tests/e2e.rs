//! End-to-end tests of local mode: the `orders-local` binary with its emulator, driven
//! over HTTP like a client, one runner per test. Each branch of the workflow is executed
//! for real (paid, declined, a task that fails, a task that fails and is retried), as
//! is `tests/smoke.sh`.

mod support;

use std::time::{Duration, Instant};

use orders_local::env;
use serde_json::Value;
use support::{
    Runner, USER, client, emails_once_a_later_order_is_emailed, final_order, good_order,
    post_order, wait_lines,
};

#[tokio::test]
async fn paid_order_waits_then_reaches_the_restaurant_and_one_email() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "2"),
    ]);
    let posted = Instant::now();
    let order_id = post_order(&runner, good_order()).await;
    let order = final_order(&runner, &order_id).await;
    assert!(
        posted.elapsed() >= Duration::from_secs(2),
        "the wait state was skipped"
    );
    assert_eq!(order["status"], "SENT_TO_RESTAURANT");
    assert_eq!(order["quantity"], 3);
    assert_eq!(order["payment"]["outcome"], "PAID");
    assert!(order["dispatch"]["reference"].is_string());
    assert_eq!(
        wait_lines(
            &runner,
            &order_id,
            "restaurant \"Restaurant 4\" received",
            1
        )
        .await
        .len(),
        1
    );
    let emails = wait_lines(&runner, &order_id, "customer email", 1).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert!(emails[0].contains("[SENT_TO_RESTAURANT]"));
    // Nothing more arrives later: by the time a later order is emailed, still one.
    assert_eq!(
        emails_once_a_later_order_is_emailed(&runner, &order_id).await,
        1
    );
}

#[tokio::test]
async fn declined_payment_ends_payment_failed_and_never_reaches_the_restaurant() {
    let runner = Runner::start(&[(env::PAYMENT_SUCCESS_PROBABILITY, "0")]);
    let order_id = post_order(&runner, good_order()).await;
    let order = final_order(&runner, &order_id).await;
    assert_eq!(order["status"], "PAYMENT_FAILED");
    assert_eq!(order["payment"]["outcome"], "DECLINED");
    assert!(order.get("dispatch").is_none());
    let emails = wait_lines(&runner, &order_id, "customer email", 1).await;
    assert_eq!(emails.len(), 1);
    assert!(emails[0].contains("[PAYMENT_FAILED]"));
    assert!(
        runner
            .lines_about(&order_id, "received the order")
            .is_empty()
    );
}

#[tokio::test]
async fn task_that_fails_for_good_ends_the_order_failed_with_its_reason() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::FAULTS, "send-order:fail"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    let order = final_order(&runner, &order_id).await;
    assert_eq!(order["status"], "FAILED");
    assert_eq!(order["failure"], "InjectedFault");
    // A permanent error is not retried: one attempt only.
    assert_eq!(runner.lines_about(&order_id, "injected fault").len(), 1);
    let emails = wait_lines(&runner, &order_id, "customer email", 1).await;
    assert_eq!(emails.len(), 1);
    assert!(emails[0].contains("[FAILED]"));
}

#[tokio::test]
async fn transient_failures_are_retried_and_the_order_completes() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::FAULTS, "process-payment:transient:2"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    let order = final_order(&runner, &order_id).await;
    assert_eq!(order["status"], "SENT_TO_RESTAURANT");
    let faults = runner.lines_about(&order_id, "process-payment: injected fault DependencyError");
    assert_eq!(faults.len(), 2, "{:?}", runner.output());
    assert_eq!(runner.lines_about(&order_id, "payment paid").len(), 1);
}

/// The ARN of the execution of `order_id` (its name), once it has started.
async fn execution_of(runner: &Runner, sfn: &aws_sdk_sfn::Client, order_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let executions = sfn
            .list_executions()
            .state_machine_arn(&runner.ready.state_machine_arn)
            .send()
            .await
            .unwrap()
            .executions;
        if let Some(found) = executions.into_iter().find(|e| e.name == order_id) {
            return found.execution_arn;
        }
        assert!(Instant::now() < deadline, "no execution for {order_id}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The order ended FAILED for `reason`, and its customer got exactly one email.
async fn assert_failed_once(runner: &Runner, order_id: &str, reason: &str) {
    let order = final_order(runner, order_id).await;
    assert_eq!(order["status"], "FAILED", "{order}");
    assert_eq!(order["failure"], reason, "{order}");
    let emails = wait_lines(runner, order_id, "customer email", 1).await;
    assert!(emails[0].contains("[FAILED]"), "{emails:?}");
    assert_eq!(
        emails_once_a_later_order_is_emailed(runner, order_id).await,
        1
    );
}

#[tokio::test]
async fn an_execution_stopped_by_hand_ends_its_order_failed_with_one_email() {
    let runner = Runner::start(&[(env::WAIT_SECONDS, "60")]);
    let order_id = post_order(&runner, good_order()).await;
    let sfn = aws_sdk_sfn::Client::new(&runner.sdk().await);
    let execution = execution_of(&runner, &sfn, &order_id).await;
    // Stopped while it waits for the payment, as an operator would.
    wait_lines(&runner, &order_id, "payment", 1).await;
    sfn.stop_execution()
        .execution_arn(&execution)
        .cause("stopped by an operator")
        .send()
        .await
        .unwrap();
    assert_failed_once(&runner, &order_id, "ExecutionAborted").await;
    assert_eq!(
        runner
            .lines_about(&order_id, "its execution ended ABORTED: status FAILED")
            .len(),
        1
    );
}

#[tokio::test]
async fn an_execution_that_times_out_ends_its_order_failed_with_one_email() {
    let runner = Runner::start(&[
        (env::WAIT_SECONDS, "60"),
        (env::EXECUTION_TIMEOUT_SECONDS, "3"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    assert_failed_once(&runner, &order_id, "ExecutionTimedOut").await;
}

/// `tests/contract/answers.json`, every row, through the same checker `tests/smoke.sh` runs
/// against a deployed stack.
#[tokio::test]
async fn every_row_of_the_answer_table_holds_in_local_mode() {
    let runner = Runner::start(&[]);
    let checker = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/contract/check.py");
    let output = tokio::process::Command::new("python3")
        .arg(checker)
        .arg(runner.url(""))
        .arg("--all")
        .arg("--origin")
        .arg(&runner.ready.app_url)
        .env("ORDERS_TOKEN", runner.token(USER).await)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("skipped"), "every row runs here: {stdout}");

    // The orders the table expects queued, and no other, went through the workflow.
    let table: Value = serde_json::from_str(include_str!("contract/answers.json")).unwrap();
    let queuing_rows: Vec<&str> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["queues"] == true)
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    let accepted: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("accepted "))
        .collect();
    assert_eq!(accepted.len(), queuing_rows.len(), "{stdout}");
    for order_id in &accepted {
        let order = final_order(&runner, order_id).await;
        assert!(order["final"] == true, "{order}");
    }
    let duplicate = queuing_rows
        .iter()
        .position(|name| name.contains("duplicate key"))
        .unwrap();
    let duplicate = final_order(&runner, accepted[duplicate]).await;
    assert_eq!(duplicate["quantity"], 2, "the last of two keys counts");
    // Once the pipeline is idle, the table and the DLQ hold what was queued: those orders.
    let settled = runner.settle(accepted.len(), Duration::from_secs(60)).await;
    let stored: Vec<&str> = settled.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(settled.dead_letters, 0);
    assert_eq!(stored.len(), accepted.len(), "{stored:?}");
    assert!(accepted.iter().all(|id| stored.contains(id)));
}

#[tokio::test]
async fn each_method_has_its_own_token_bucket_and_an_empty_one_answers_429() {
    let runner = Runner::start(&[
        (env::THROTTLING_RATE_LIMIT, "0.5"),
        (env::THROTTLING_BURST_LIMIT, "3"),
    ]);
    let http = runner.signed_in(USER).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = http.get(runner.url("/orders/o-1")).send().await.unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].is_string(), "{answer}");
        statuses.push(status);
    }
    // A full bucket of three, then one token every two seconds: the next three wait.
    assert_eq!(statuses, [404, 404, 404, 429, 429, 429]);
    // POST has a bucket of its own, still full.
    let order_id = post_order(&runner, good_order()).await;
    assert!(!order_id.is_empty());
    // The app's browser reads the 429 too: a gateway response names the app's origin.
    let response = http
        .get(runner.url("/orders/o-1"))
        .header("Origin", &runner.ready.app_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        runner.ready.app_url.as_str()
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["message"], "too many requests; slow down");
}

#[tokio::test]
async fn smoke_script_passes_against_local_mode() {
    let runner = Runner::start(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smoke.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .arg(runner.url(""))
        .env("SMOKE_TIMEOUT_SECONDS", "60")
        // The CORS rows, with the app's origin.
        .env("ORDERS_APP_ORIGIN", &runner.ready.app_url)
        // The order's events too, from the local tap, read with boto3 (in the venv) at the
        // emulator as any SDK reads it.
        .env("ORDERS_EVENTS_TAP_URL", &runner.ready.events_tap_url)
        .env("AWS_ENDPOINT_URL", &runner.ready.emulator_url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", orders_emulator::REGION)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "smoke.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("smoke: PASS"), "{stdout}");
    assert!(stdout.contains("every row held"), "{stdout}");
    assert!(!stdout.contains("skipped"), "{stdout}");
    assert!(stdout.contains("reached"), "{stdout}");
    assert!(
        stdout.contains("its events came: versions 1 to"),
        "{stdout}"
    );
}

#[tokio::test]
async fn smoke_script_fails_when_nothing_answers() {
    let port = orders_emulator::free_port().unwrap();
    let output = tokio::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smoke.sh"))
        .arg(format!("http://127.0.0.1:{port}"))
        .env("ORDERS_TOKEN", "header.claims.signature")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("smoke: FAIL: cannot reach"));
}

#[test]
fn interrupt_stops_the_runner_and_its_emulator() {
    let mut runner = Runner::start(&[]);
    let emulator_port: u16 = runner
        .ready
        .emulator_url
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let status = runner.terminate("-INT");
    assert!(status.success(), "{status}");
    assert!(runner.output().iter().any(|l| l == "stopping"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", emulator_port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the emulator outlived the runner"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(std::net::TcpStream::connect(("127.0.0.1", runner.port)).is_err());
    // tests/token.sh no longer finds a pool for a runner that is gone.
    assert!(!orders_local::sign_in::file(runner.port).exists());
}

#[tokio::test]
async fn poison_message_reaches_the_dlq_after_three_receives_without_delaying_others() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::VISIBILITY_TIMEOUT_SECONDS, "1"),
    ]);
    let sqs = aws_sdk_sqs::Client::new(&runner.sdk().await);
    let (queue, dlq) = (
        runner.ready.queue_url.clone(),
        runner.ready.dead_letter_queue_url.clone(),
    );
    let mut poison_ids = Vec::new();
    for poison in [
        "not json",
        r#"{"order_id": "p-1", "order": {"quantity": 0}}"#,
    ] {
        let sent = sqs
            .send_message()
            .queue_url(&queue)
            .message_body(poison)
            .send()
            .await
            .unwrap();
        poison_ids.push(sent.message_id.unwrap());
    }
    let order_id = post_order(&runner, good_order()).await;
    let order = final_order(&runner, &order_id).await;
    assert_eq!(order["status"], "SENT_TO_RESTAURANT");

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut dead = Vec::new();
    while dead.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "poison messages did not reach the DLQ: {dead:?}"
        );
        let received = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        dead.extend(
            received
                .messages
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.body),
        );
    }
    dead.sort();
    let expected = [
        "not json",
        r#"{"order_id": "p-1", "order": {"quantity": 0}}"#,
    ];
    assert_eq!(dead, expected);
    // Each was received exactly three times (the redrive's maxReceiveCount) before it moved.
    for id in &poison_ids {
        let receives: Vec<String> = runner
            .output()
            .iter()
            .filter(|l| l.contains(&format!("message {id}  refused by start-order")))
            .map(|l| l.rsplit("(receive ").next().unwrap().to_string())
            .collect();
        assert_eq!(receives, ["1 of 3)", "2 of 3)", "3 of 3)"], "message {id}");
    }
}

/// `GET path` as `user`: the status and the JSON answer.
async fn read_as(runner: &Runner, user: &str, path: &str) -> (u16, Value) {
    let response = runner
        .signed_in(user)
        .await
        .get(runner.url(path))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Every order id of `user`'s list, page after page of `limit`.
async fn listed(runner: &Runner, user: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/orders?limit={limit}");
    loop {
        let (status, page) = read_as(runner, user, &path).await;
        assert_eq!(status, 200, "{page}");
        let orders = page["orders"].as_array().unwrap();
        assert!(orders.len() <= limit);
        ids.extend(
            orders
                .iter()
                .map(|o| o["order_id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => path = format!("/orders?limit={limit}&cursor={next}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn each_user_orders_follows_and_lists_only_their_own_orders() {
    let runner = Runner::start(&[(env::PAYMENT_SUCCESS_PROBABILITY, "1")]);
    let mut alices = Vec::new();
    for quantity in 1..=3 {
        let body = serde_json::json!({"restaurant_id": "r-1", "quantity": quantity});
        alices.push(post_order(&runner, body).await);
    }
    let bob = runner.signed_in("bob").await;
    let response = bob
        .post(runner.url("/orders"))
        .json(&good_order())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let bobs = response.headers()["x-order-id"]
        .to_str()
        .unwrap()
        .to_owned();
    for id in &alices {
        final_order(&runner, id).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while read_as(&runner, "bob", &format!("/orders/{bobs}")).await.0 != 200 {
        assert!(Instant::now() < deadline, "bob's order was not stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The user of an order is who signed in, as the token says.
    let stored = runner.stored_orders().await;
    for order in &stored {
        let owner = if order.order_id.as_str() == bobs {
            "bob"
        } else {
            "alice"
        };
        assert_eq!(order.user_id.as_str(), runner.user_id(owner));
    }
    // Another user's order is answered as one that does not exist.
    let (status, theirs) = read_as(&runner, "bob", &format!("/orders/{}", alices[0])).await;
    let (_, unknown) = read_as(&runner, "bob", "/orders/no-such-order").await;
    assert_eq!(status, 404);
    assert_eq!(theirs, unknown);
    let (status, mine) = read_as(&runner, "alice", &format!("/orders/{}", alices[0])).await;
    assert_eq!(status, 200);
    assert_eq!(mine["user_id"], runner.user_id("alice"));
    assert_eq!(
        read_as(&runner, "alice", &format!("/orders/{bobs}"))
            .await
            .0,
        404
    );

    // Each list holds its user's orders only, newest first (by when the workflow stored
    // them, which consumers working side by side need not do in posting order), across
    // pages.
    let mut stored_alices: Vec<_> = stored
        .iter()
        .filter(|o| alices.contains(&o.order_id.to_string()))
        .collect();
    stored_alices.sort_by_key(|o| std::cmp::Reverse(o.created_at));
    let newest_first: Vec<String> = stored_alices
        .iter()
        .map(|o| o.order_id.to_string())
        .collect();
    assert_eq!(newest_first.len(), 3);
    assert_eq!(listed(&runner, "alice", 2).await, newest_first);
    assert_eq!(listed(&runner, "bob", 50).await, [bobs]);

    // A body cannot name another user.
    let response = runner
        .signed_in("alice")
        .await
        .post(runner.url("/orders"))
        .json(&serde_json::json!({"user_id": runner.user_id("bob"), "restaurant_id": "r", "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(runner.stored_orders().await.len(), 4);
}

/// Signs `claims` with the emulator's own pool key (moto's, read from the installed
/// package): a token the pool could have issued, with whatever claims a test needs.
fn signed_by_the_pool(claims: &Value) -> String {
    let script = r#"
import gzip, json, os, sys, moto
from joserfc import jwt
from joserfc.jwk import RSAKey
raw = json.load(gzip.open(os.path.join(os.path.dirname(moto.__file__), "cognitoidp/resources/jwks-private.json.gz")))
print(jwt.encode({"alg": "RS256", "kid": raw["kid"]}, json.loads(sys.argv[1]), RSAKey.import_key(raw)))
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script, &claims.to_string()])
        .output()
        .expect("python3 of the project's virtualenv");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let claims = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

/// An ID token of a user of a pool the API does not know, made in the same emulator.
async fn token_of_another_pool(runner: &Runner) -> String {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&runner.sdk().await);
    let pool = cognito
        .create_user_pool()
        .pool_name("another-pool")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = app_client(&cognito, &pool, "another-client").await;
    let password = orders_local::sign_in::DEMO_PASSWORD;
    cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username("mallory")
        .send()
        .await
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool)
        .username("mallory")
        .password(password)
        .permanent(true)
        .send()
        .await
        .unwrap();
    id_token(&cognito, &client, "mallory", password).await
}

/// alice's ID token, but from another app client of the same pool.
async fn token_of_another_client(runner: &Runner) -> String {
    let sign_in = &runner.ready.sign_in;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&runner.sdk().await);
    let client = app_client(&cognito, &sign_in.user_pool_id, "another-app").await;
    let alice = sign_in.user("alice").unwrap();
    id_token(&cognito, &client, &alice.email, &alice.password).await
}

/// A new app client of `pool` that signs users in with a password; its id.
async fn app_client(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    name: &str,
) -> String {
    use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
    cognito
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name(name)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap()
}

/// Signs a user in through `client`: their ID token.
async fn id_token(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client: &str,
    username: &str,
    password: &str,
) -> String {
    orders_local::sign_in::password_sign_in(cognito, client, username, password)
        .await
        .unwrap_or_else(|err| panic!("{err:#}"))
        .id
}

#[tokio::test]
async fn tokens_the_authorizer_refuses_get_401_and_nothing_is_queued_or_read() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let runner = Runner::start(&[]);
    let good = runner.token(USER).await;
    let claims = claims_of(&good);
    let now = chrono::Utc::now().timestamp();

    // The control: the same claims signed by the pool's key are taken, so each refusal
    // below is for what the test changed, not for how it signed.
    let resigned = signed_by_the_pool(&claims);
    let http = client();
    let order = |token: &str| {
        http.post(runner.url("/orders"))
            .header("Authorization", token)
            .json(&good_order())
            .send()
    };
    let response = order(&resigned).await.unwrap();
    assert_eq!(response.status(), 204);
    let order_id = response.headers()["x-order-id"]
        .to_str()
        .unwrap()
        .to_owned();
    final_order(&runner, &order_id).await;

    let mut expired = claims.clone();
    expired["iat"] = (now - 3700).into();
    expired["auth_time"] = (now - 3700).into();
    expired["exp"] = (now - 100).into();
    let mut no_token_use = claims.clone();
    no_token_use.as_object_mut().unwrap().remove("token_use");
    let [header, body, signature] =
        <[&str; 3]>::try_from(good.split('.').collect::<Vec<_>>()).unwrap();
    let forged: Vec<u8> = b64
        .decode(signature)
        .unwrap()
        .iter()
        .map(|b| b ^ 0x5a)
        .collect();
    let access = runner.ready.sign_in.tokens(USER).await.unwrap().access;
    assert_eq!(claims_of(&access)["token_use"], "access");

    let refused: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        ("not a token", "Bearer not-a-token".into()),
        ("a token of two parts", format!("{header}.{body}")),
        (
            "alg none",
            format!(
                "{}.{body}.",
                b64.encode(br#"{"alg":"none","typ":"JWT","kid":"dummy"}"#)
            ),
        ),
        (
            "a forged signature",
            format!("{header}.{body}.{}", b64.encode(forged)),
        ),
        ("claims changed after signing", {
            let mut bob = claims.clone();
            bob["sub"] = runner.user_id("bob").into();
            format!("{header}.{}.{signature}", b64.encode(bob.to_string()))
        }),
        ("an expired token", signed_by_the_pool(&expired)),
        (
            "a token without token_use",
            signed_by_the_pool(&no_token_use),
        ),
        ("an access token", access),
        (
            "a token of another app client",
            token_of_another_client(&runner).await,
        ),
        (
            "a token of another pool",
            token_of_another_pool(&runner).await,
        ),
    ];
    for (case, token) in &refused {
        let mut answers = vec![order(token).await.unwrap()];
        for path in ["/orders".to_string(), format!("/orders/{order_id}")] {
            answers.push(
                http.get(runner.url(&path))
                    .header("Authorization", token)
                    .send()
                    .await
                    .unwrap(),
            );
        }
        for answer in answers {
            assert_eq!(answer.status(), 401, "{case}");
            let message: Value = answer.json().await.unwrap();
            assert_eq!(
                message["message"],
                orders_blueprint::api::message::UNAUTHORIZED,
                "{case}"
            );
        }
    }
    // Nothing was queued: a good order after them, then the pipeline idle; the table
    // holds the two good orders only, and the DLQ nothing.
    let sentinel = post_order(&runner, good_order()).await;
    let settled = runner.settle(2, Duration::from_secs(60)).await;
    let mut stored: Vec<&str> = settled.orders.iter().map(|o| o.order_id.as_str()).collect();
    stored.sort_unstable();
    let mut expected = [order_id.as_str(), sentinel.as_str()];
    expected.sort_unstable();
    assert_eq!(stored, expected);
    assert_eq!(settled.dead_letters, 0);
}

//! End-to-end tests of local mode: the `orders-local` binary with its emulator, driven
//! over HTTP like a client, one runner per test. Each branch of the workflow is executed
//! for real (paid, declined, a task that fails, a task that fails and is retried), as
//! is `tests/smoke.sh`.

mod support;

use std::time::{Duration, Instant};

use orders_local::env;
use serde_json::Value;
use support::{Runner, client, final_order, good_order, post_order, wait_lines};

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
    // Nothing more arrives later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(runner.lines_about(&order_id, "customer email").len(), 1);
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

#[tokio::test]
async fn api_answers_like_api_gateway_and_queues_nothing_it_refuses() {
    let runner = Runner::start(&[]);
    let http = client();
    let post = |body: &'static str, content_type: &'static str| {
        http.post(runner.url("/orders"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases = [
        ("not json", "application/json", 400, "not valid JSON"),
        (
            r#"{"user_id":"u","restaurant_id":"r","quantity":101}"#,
            "application/json",
            400,
            "`quantity` must be",
        ),
        (
            r#"{"user_id":"u","quantity":1}"#,
            "application/json",
            400,
            "missing required field `restaurant_id`",
        ),
        (
            r#"{"user_id":"u","restaurant_id":"r","quantity":1,"x":1}"#,
            "application/json",
            400,
            "unknown field `x`",
        ),
        (
            r#"{"user_id":"u","restaurant_id":"r","quantity":1}"#,
            "text/plain",
            415,
            "application/json",
        ),
    ];
    for (body, content_type, status, message) in cases {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{body}: {answer}"
        );
    }
    let huge = format!(
        r#"{{"user_id":"{}","restaurant_id":"r","quantity":1}}"#,
        "u".repeat(20_000)
    );
    let response = http
        .post(runner.url("/orders"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    for (path, status) in [
        ("/orders/no-such-order", 404),
        ("/orders/bad%20id", 400),
        ("/admin", 404),
    ] {
        let response = http.get(runner.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["message"].is_string(), "{path}: {answer}");
    }
    let response = http.delete(runner.url("/orders")).send().await.unwrap();
    assert_eq!(response.status(), 405);

    // Nothing refused reached the queue.
    assert_eq!(runner.queue_depth("orders-local-queue").await, 0);
    assert!(
        runner
            .output()
            .iter()
            .all(|l| !l.contains("accepted by the API"))
    );
}

#[tokio::test]
async fn smoke_script_passes_against_local_mode() {
    let runner = Runner::start(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smoke.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .arg(runner.url(""))
        .env("SMOKE_TIMEOUT_SECONDS", "60")
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
    assert!(stdout.contains("bad body refused with 400"), "{stdout}");
}

#[tokio::test]
async fn smoke_script_fails_when_nothing_answers() {
    let port = orders_emulator::free_port().unwrap();
    let output = tokio::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smoke.sh"))
        .arg(format!("http://127.0.0.1:{port}"))
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
}

#[tokio::test]
async fn poison_message_reaches_the_dlq_after_three_receives_without_delaying_others() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::VISIBILITY_TIMEOUT_SECONDS, "1"),
    ]);
    let sqs = aws_sdk_sqs::Client::new(&runner.sdk().await);
    let (queue, dlq) = (
        runner.queue_url("orders-local-queue").await,
        runner.queue_url("orders-local-dlq").await,
    );
    for poison in [
        "not json",
        r#"{"order_id": "p-1", "order": {"quantity": 0}}"#,
    ] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(poison)
            .send()
            .await
            .unwrap();
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
}

//! Reliability of the local pipeline: load, faults and bad input. The promise under test:
//! every order that got a 204 ends in the table with a final status and exactly one
//! notification, or sits in the DLQ; never lost, never processed twice.
//!
//! `ORDERS_LOAD_ORDERS` (default 500) and `ORDERS_LOAD_CONCURRENCY` (default 32) size the
//! load test. Figures are printed and written to `target/tmp/reliability-*.json`.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use order_core::{Order, OrderStatus};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{Runner, client, final_order, good_order, post_order};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn write_report(name: &str, report: &Value) {
    let path = format!("{}/reliability-{name}.json", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&path, serde_json::to_string_pretty(report).unwrap()).unwrap();
    println!("{name}: {report}\n(written to {path})");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Waits until every accepted order is final and notified, or the rest are in the DLQ.
async fn settle(runner: &Runner, accepted: usize, limit: Duration) -> Vec<Order> {
    let deadline = Instant::now() + limit;
    loop {
        let orders = runner.stored_orders().await;
        let finals = orders
            .iter()
            .filter(|o| o.status.is_final() && o.notified_status == Some(o.status))
            .count();
        let dead = runner.queue_depth("orders-local-dlq").await as usize;
        if finals + dead >= accepted {
            return orders;
        }
        assert!(
            Instant::now() < deadline,
            "after {limit:?}: {finals} final and notified + {dead} dead of {accepted} accepted"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Each order's notifications as the runner showed them, by order id.
fn emails_by_order(runner: &Runner) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in runner
        .output()
        .iter()
        .filter(|l| l.contains("customer email:"))
    {
        let id = line.split_whitespace().nth(2).unwrap().to_owned();
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// Waits until every final order has been emailed, or until no new email has come for 30 s
/// (a loaded machine drains the inbox slowly, but steadily), then a little longer for strays.
async fn settled_emails(runner: &Runner, finals: usize) -> BTreeMap<String, usize> {
    let mut seen = 0;
    let mut last_new = Instant::now();
    loop {
        let count = emails_by_order(runner).len();
        if count >= finals {
            break;
        }
        if count > seen {
            (seen, last_new) = (count, Instant::now());
        } else if last_new.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    emails_by_order(runner)
}

/// The checks every scenario ends with: each accepted order stored once, final, started
/// once, emailed once; the stored outcome agrees with itself.
async fn assert_nothing_lost_or_doubled(runner: &Runner, accepted: &[String], orders: &[Order]) {
    let dead = runner.queue_depth("orders-local-dlq").await as usize;
    let stored: HashSet<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(stored.len(), orders.len(), "an order id is stored twice");
    assert_eq!(
        orders.len() + dead,
        accepted.len(),
        "accepted = stored + dead letters"
    );
    for id in accepted {
        assert!(
            stored.contains(id.as_str()) || dead > 0,
            "order {id} was lost"
        );
    }
    let names = runner.execution_names().await;
    let unique: HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "an order was executed twice");
    assert_eq!(
        names.len(),
        accepted.len(),
        "one execution per accepted order"
    );
    for order in orders {
        assert!(
            order.status.is_final(),
            "{} is {}",
            order.order_id,
            order.status
        );
        match order.status {
            OrderStatus::SentToRestaurant => {
                assert!(order.payment.as_ref().unwrap().is_paid());
                assert!(order.dispatch.is_some());
            }
            OrderStatus::PaymentFailed => {
                assert!(!order.payment.as_ref().unwrap().is_paid());
                assert!(order.dispatch.is_none());
            }
            _ => assert!(order.failure.is_some()),
        }
        assert_eq!(order.notified_status, Some(order.status));
    }
    let emails = settled_emails(runner, orders.len()).await;
    assert_eq!(emails.len(), orders.len(), "every final order is emailed");
    let doubled: Vec<_> = emails.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "emailed more than once: {doubled:?}");
}

#[tokio::test]
async fn load_every_accepted_order_ends_exactly_once() {
    let total = env_number("ORDERS_LOAD_ORDERS", 500);
    let concurrency = env_number("ORDERS_LOAD_CONCURRENCY", 32);
    let runner = Runner::start(&[("ORDERS_CONSUMERS", "4")]);
    let http = client();
    let started = Instant::now();
    let results: Vec<(u16, Option<String>, SystemTime)> = futures_util::stream::iter(0..total)
        .map(|i| {
            let http = http.clone();
            let url = runner.url("/orders");
            async move {
                let body = json!({"user_id": format!("load-{i}"), "restaurant_id": "r-1", "quantity": i % 100 + 1});
                let response = http.post(url).json(&body).send().await.unwrap();
                let id = response.headers().get("x-order-id").map(|v| v.to_str().unwrap().to_owned());
                (response.status().as_u16(), id, SystemTime::now())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let posting = started.elapsed();
    let accepted: Vec<String> = results
        .iter()
        .filter(|r| r.0 == 204)
        .filter_map(|r| r.1.clone())
        .collect();
    assert_eq!(accepted.len(), total, "every valid order is accepted");
    let unique: HashSet<&String> = accepted.iter().collect();
    assert_eq!(unique.len(), total, "order ids are unique");

    let orders = settle(&runner, total, Duration::from_secs(600)).await;
    let settled = started.elapsed();
    assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;

    let accepted_at: BTreeMap<&str, SystemTime> = results
        .iter()
        .filter_map(|r| Some((r.1.as_deref()?, r.2)))
        .collect();
    let mut latencies: Vec<f64> = orders
        .iter()
        .map(|o| {
            let finished: SystemTime = o.updated_at.into();
            finished
                .duration_since(accepted_at[o.order_id.as_str()])
                .unwrap_or_default()
                .as_secs_f64()
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let by_status = |s: OrderStatus| orders.iter().filter(|o| o.status == s).count();
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    for failure in orders.iter().filter_map(|o| o.failure.as_ref()) {
        *failures.entry(failure.error.as_str()).or_default() += 1;
    }
    write_report(
        "load",
        &json!({
            "orders": total,
            "concurrency": concurrency,
            "accepted": accepted.len(),
            "accepted_per_second": (total as f64 / posting.as_secs_f64()).round(),
            "all_final_after_seconds": settled.as_secs_f64(),
            "post_to_final_p50_seconds": percentile(&latencies, 0.5),
            "post_to_final_p99_seconds": percentile(&latencies, 0.99),
            "sent_to_restaurant": by_status(OrderStatus::SentToRestaurant),
            "payment_failed": by_status(OrderStatus::PaymentFailed),
            "failed": by_status(OrderStatus::Failed),
            "failure_reasons": failures,
            "dead_letters": runner.queue_depth("orders-local-dlq").await,
            "lost": 0,
        }),
    );
}

#[tokio::test]
async fn emulator_outage_loses_no_accepted_order() {
    let runner = Runner::start(&[("ORDERS_PAYMENT_SUCCESS_PROBABILITY", "1")]);
    let mut accepted = Vec::new();
    for _ in 0..10 {
        accepted.push(post_order(&runner, good_order()).await);
    }
    // The emulator stops answering (frozen, as a partition looks), while orders keep coming.
    let pid = runner.emulator_pid();
    assert!(
        std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let during: Vec<_> = (0..10)
        .map(|_| {
            let http = client();
            let url = runner.url("/orders");
            tokio::spawn(async move { http.post(url).json(&good_order()).send().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        std::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut refused = 0;
    for request in during {
        match request.await.unwrap() {
            Ok(response) if response.status() == 204 => accepted.push(
                response.headers()["x-order-id"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            ),
            Ok(response) => {
                assert_eq!(
                    response.status(),
                    500,
                    "an order the queue did not take is a 500"
                );
                refused += 1;
            }
            Err(err) => panic!("the API stopped answering: {err}"),
        }
    }
    let orders = settle(&runner, accepted.len(), Duration::from_secs(120)).await;
    assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;
    write_report(
        "outage",
        &json!({"accepted": accepted.len(), "refused_with_500": refused, "frozen_seconds": 4, "lost": 0}),
    );
}

#[tokio::test]
async fn order_whose_task_always_fails_ends_failed_and_the_others_are_unharmed() {
    let runner = Runner::start(&[
        ("ORDERS_PAYMENT_SUCCESS_PROBABILITY", "1"),
        ("ORDERS_FAULTS", "process-payment:fail@quantity=42"),
    ]);
    let mut accepted = Vec::new();
    for quantity in [1, 42, 2, 3] {
        let body = json!({"user_id": "u", "restaurant_id": "r", "quantity": quantity});
        accepted.push(post_order(&runner, body).await);
    }
    let doomed = final_order(&runner, &accepted[1]).await;
    assert_eq!(doomed["status"], "FAILED");
    assert_eq!(doomed["failure"], "InjectedFault");
    let orders = settle(&runner, accepted.len(), Duration::from_secs(60)).await;
    assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;
    let sent = orders
        .iter()
        .filter(|o| o.status == OrderStatus::SentToRestaurant)
        .count();
    assert_eq!(sent, 3);
}

#[tokio::test]
async fn lost_answers_are_retried_and_nothing_is_done_twice() {
    // The consumer dies after starting its batch, before deleting it; the final status is
    // written and emailed but the workflow never hears so; the restaurant gets the order
    // but send-order's answer is lost. Each is tried again.
    let runner = Runner::start(&[
        ("ORDERS_PAYMENT_SUCCESS_PROBABILITY", "1"),
        ("ORDERS_VISIBILITY_TIMEOUT_SECONDS", "2"),
        (
            "ORDERS_FAULTS",
            "start-order:lost:1,manage-order-state:lost:2@status=SENT_TO_RESTAURANT,send-order:lost:2",
        ),
    ]);
    let mut accepted = Vec::new();
    for _ in 0..3 {
        accepted.push(post_order(&runner, good_order()).await);
    }
    let orders = settle(&runner, accepted.len(), Duration::from_secs(90)).await;
    assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;
    let lost = runner
        .output()
        .iter()
        .filter(|l| l.contains("injected fault Lambda.ServiceException"))
        .count();
    assert!(lost >= 5, "the faults fired: {lost}");
    let deliveries = runner
        .output()
        .iter()
        .filter(|l| l.contains("received the order"))
        .count();
    assert_eq!(deliveries, 3, "one hand-off per order");
}

/// Bodies of every wrong kind.
fn bad_bodies() -> impl Strategy<Value = (Vec<u8>, &'static str)> {
    let leaf = prop_oneof![
        5 => order_core::arbitrary::json_scalar(),
        1 => (0usize..200_000).prop_map(|n| Value::from("x".repeat(n))),
    ];
    let json = order_core::arbitrary::body_like(leaf, 4);
    prop_oneof![
        4 => json.prop_map(|v| (v.to_string().into_bytes(), "application/json")),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(|b| (b, "application/json")),
        1 => (1usize..50_000).prop_map(|depth| ("[".repeat(depth).into_bytes(), "application/json")),
        1 => (0u8..100).prop_map(|q| (format!(r#"{{"user_id":"u","restaurant_id":"r","quantity":{q}}}"#).into_bytes(), "text/plain")),
        1 => Just((br#"{"user_id":"u","restaurant_id":"r","quantity":1}"#.to_vec(), "application/x-www-form-urlencoded")),
    ]
}

/// What no error body may carry.
fn leaks(body: &str) -> bool {
    [
        "arn:",
        "123456789012",
        "panicked",
        ".rs:",
        "/root",
        "/work",
        "aws_sdk",
        "Traceback",
    ]
    .iter()
    .any(|needle| body.contains(needle))
}

#[test]
fn fuzzed_bodies_get_a_clear_4xx_and_nothing_is_queued() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let runner = Runner::start(&[]);
    let http = client();
    let cases = env_number("ORDERS_FUZZ_CASES", 300) as u32;
    // The property closure is `Fn`; the tallies live in cells.
    let statuses = std::cell::RefCell::new(BTreeMap::<u16, usize>::new());
    let accepted = std::cell::Cell::new(0usize);
    let mut fuzz = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    fuzz.run(&bad_bodies(), |(body, content_type)| {
        let (status, text) = runtime.block_on(async {
            let response = http
                .post(runner.url("/orders"))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        *statuses.borrow_mut().entry(status).or_default() += 1;
        if status == 204 {
            // A generated body can be a valid order; it must then be one.
            let value: Value = serde_json::from_slice(&body).unwrap();
            prop_assert!(order_core::validation::validate(&value).is_ok());
            accepted.set(accepted.get() + 1);
            return Ok(());
        }
        prop_assert!(
            [400, 413, 415].contains(&status),
            "status {} for {:?}",
            status,
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        let answer: Value = serde_json::from_str(&text).unwrap();
        let message = answer["message"].as_str().unwrap_or_default();
        prop_assert!(!message.is_empty(), "no message: {}", text);
        prop_assert!(!leaks(&text), "leaks internals: {}", text);
        Ok(())
    })
    .unwrap();
    runtime.block_on(async {
        // Still serving, and only the valid bodies went through.
        let id = post_order(&runner, good_order()).await;
        // The runner's lines reach this test through a pipe: wait for the last one.
        let deadline = Instant::now() + Duration::from_secs(10);
        while runner.lines_about(&id, "accepted by the API").is_empty() && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let shown = runner
            .output()
            .iter()
            .filter(|l| l.contains("accepted by the API"))
            .count();
        assert_eq!(shown, accepted.get() + 1);
    });
    write_report(
        "bad-input",
        &json!({
            "bodies_tried": statuses.borrow().values().sum::<usize>(),
            "statuses": *statuses.borrow(),
            "valid_by_chance": accepted.get(),
            "queued_by_mistake": 0,
        }),
    );
}

#[tokio::test]
async fn only_the_documented_routes_answer_and_no_answer_leaks_internals() {
    let runner = Runner::start(&[]);
    let http = client();
    let probes = [
        ("GET", "/", 404),
        ("GET", "/orders", 405),
        ("PUT", "/orders", 405),
        ("DELETE", "/orders/abc", 405),
        ("POST", "/orders/abc", 405),
        ("GET", "/orders/abc/items", 404),
        ("GET", "/orders/..%2F..%2Fetc%2Fpasswd", 400),
        ("GET", "/moto-api/data.json", 404),
        ("POST", "/moto-api/config", 404),
        (
            "POST",
            "/2015-03-31/functions/orders-local-get-order/invocations",
            404,
        ),
        ("GET", "/123456789012/orders-local-queue", 404),
        ("GET", &format!("/orders/{}", "a".repeat(81)), 400),
    ];
    for (method, path, expected) in probes {
        let response = http
            .request(method.parse().unwrap(), runner.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        let text = response.text().await.unwrap();
        let answer: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
        assert!(answer["message"].is_string(), "{method} {path}: {text}");
        assert!(!leaks(&text), "{method} {path} leaks: {text}");
    }
}

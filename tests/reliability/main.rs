//! Reliability of the local pipeline: load, faults and bad input. The promise under test:
//! every order that got a 204 ends in the table with a final status and exactly one
//! notification, or sits in the DLQ; never lost, never processed twice.
//!
//! `ORDERS_LOAD_ORDERS` (default 500) and `ORDERS_LOAD_CONCURRENCY` (default 32) size the
//! load test. Figures are printed and written to `target/tmp/reliability-*.json`.

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod input;
mod load;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use orders_core::{Order, OrderStatus};
use orders_local::client::{percentile, post_orders, post_to_final_seconds};
use orders_local::env;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{Runner, USER, client, final_order, good_order, post_order};

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
/// once, emailed once; the stored outcome agrees with itself. Returns how many accepted
/// orders are neither in the table nor accounted for by a dead letter, counted from what
/// the emulator holds (the checks fail before that count can be other than 0).
async fn assert_nothing_lost_or_doubled(
    runner: &Runner,
    accepted: &[String],
    orders: &[Order],
) -> usize {
    let dead = runner.queue_depth("orders-local-dlq").await as usize;
    let stored: HashSet<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
    let missing = accepted
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .count();
    let lost = missing.saturating_sub(dead);
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
    lost
}

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

/// What the emulator holds once the pipeline is idle, matched per accepted order id: each
/// one is either final in the table (executed once, its outcome consistent, emailed once)
/// or a dead letter carrying that id. Every figure is counted here, before any assertion,
/// so a report can say what went wrong; [`Audit::violations`] then says whether anything
/// did.
#[derive(Debug, Default)]
struct Audit {
    accepted: usize,
    /// Accepted ids with a final, notified order in the table.
    settled: usize,
    /// Accepted ids whose message is in the dead-letter queue.
    dead_letters: usize,
    /// Accepted ids neither in the table nor in the dead-letter queue.
    lost: Vec<String>,
    /// Stored orders and dead letters that no client was told about.
    unknown: Vec<String>,
    /// Stored but not final, or final without the customer told.
    unsettled: Vec<String>,
    /// A final status its payment and hand-off contradict.
    inconsistent: Vec<String>,
    /// Accepted ids executed other than once (dead letters: never).
    executed_wrongly: Vec<(String, usize)>,
    /// Final orders emailed other than once, and emails of orders not stored.
    emailed_wrongly: Vec<(String, usize)>,
    /// Orders handed to their restaurant other than once if sent there, or at all if not
    /// (read from the restaurant topic's publications).
    handed_off_wrongly: Vec<(String, usize)>,
    /// Cancels answered 202 whose order did not end `CANCELLED`, and cancels answered 409
    /// whose order did.
    cancels_broken: Vec<String>,
    /// Stored orders whose events on the bus (read from the tap) are not versions 1 to the
    /// order's, one status each, the last its final status.
    events_incomplete: Vec<String>,
    /// Every stored order, for the scenario's own figures.
    orders: Vec<Order>,
}

impl Audit {
    /// `cancels`: the answer each cancel got, by order id (none if nothing was cancelled).
    async fn of(
        runner: &Runner,
        accepted: &[String],
        settled: orders_local::client::Settled,
        cancels: &BTreeMap<String, u16>,
    ) -> Self {
        let orders = settled.orders;
        let dead = runner.dead_letter_orders().await;
        let emails = runner.emails_by_order().await;
        let handoffs = runner.handoffs_by_order().await;
        let events = events_once_published(runner, &orders).await;
        let stored: BTreeMap<&str, &Order> =
            orders.iter().map(|o| (o.order_id.as_str(), o)).collect();
        let dead_ids: HashSet<&str> = dead.iter().flatten().map(String::as_str).collect();
        let accepted_ids: HashSet<&str> = accepted.iter().map(String::as_str).collect();
        let mut executions: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &settled.executions {
            *executions.entry(name.as_str()).or_default() += 1;
        }
        let mut audit = Audit {
            accepted: accepted.len(),
            ..Audit::default()
        };
        for id in accepted {
            let runs = executions.get(id.as_str()).copied().unwrap_or(0);
            match (stored.get(id.as_str()), dead_ids.contains(id.as_str())) {
                (Some(order), _) => {
                    if orders_local::client::has_settled(order) {
                        audit.settled += 1;
                    } else {
                        audit.unsettled.push(id.clone());
                    }
                    if !outcome_is_consistent(order) {
                        audit.inconsistent.push(id.clone());
                    }
                    let sent = emails.get(id.as_str()).copied().unwrap_or(0);
                    if sent != 1 {
                        audit.emailed_wrongly.push((id.clone(), sent));
                    }
                    let handed = handoffs.get(id.as_str()).copied().unwrap_or(0);
                    let expected = usize::from(order.status == OrderStatus::SentToRestaurant);
                    if handed != expected {
                        audit.handed_off_wrongly.push((id.clone(), handed));
                    }
                    if !events_are_complete(order, events.get(id.as_str())) {
                        audit.events_incomplete.push(id.clone());
                    }
                    let cancelled = order.status == OrderStatus::Cancelled;
                    match cancels.get(id.as_str()) {
                        Some(202) if !cancelled => audit.cancels_broken.push(id.clone()),
                        Some(409) | None if cancelled => audit.cancels_broken.push(id.clone()),
                        _ => {}
                    }
                    if runs != 1 {
                        audit.executed_wrongly.push((id.clone(), runs));
                    }
                }
                (None, true) => {
                    audit.dead_letters += 1;
                    if runs != 0 {
                        audit.executed_wrongly.push((id.clone(), runs));
                    }
                }
                (None, false) => audit.lost.push(id.clone()),
            }
        }
        audit.unknown = stored
            .keys()
            .copied()
            .chain(dead_ids.iter().copied())
            .filter(|id| !accepted_ids.contains(id))
            .map(str::to_owned)
            .collect();
        audit.emailed_wrongly.extend(
            emails
                .iter()
                .filter(|(id, _)| !stored.contains_key(id.as_str()))
                .map(|(id, n)| (id.clone(), *n)),
        );
        audit.orders = orders;
        audit
    }

    /// The figures, for the report.
    fn figures(&self) -> Value {
        json!({
            "accepted": self.accepted,
            "settled": self.settled,
            "dead_letters": self.dead_letters,
            "lost": self.lost.len(),
            "unknown": self.unknown.len(),
            "unsettled": self.unsettled.len(),
            "inconsistent": self.inconsistent.len(),
            "executed_other_than_once": self.executed_wrongly.len(),
            "emailed_other_than_once": self.emailed_wrongly.len(),
            "handed_off_wrongly": self.handed_off_wrongly.len(),
            "cancels_broken": self.cancels_broken.len(),
            "events_incomplete": self.events_incomplete.len(),
        })
    }

    /// What broke the promise, one line a kind; empty when nothing did.
    fn violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        // A count and the first few ids: enough to look one up.
        let mut check = |what: &str, ids: &dyn std::fmt::Debug, count: usize| {
            if count > 0 {
                let mut listed = format!("{ids:?}");
                if listed.len() > 400 {
                    listed = format!("{}…", listed.chars().take(400).collect::<String>());
                }
                found.push(format!("{count} {what}: {listed}"));
            }
        };
        check("lost", &self.lost, self.lost.len());
        check("unknown", &self.unknown, self.unknown.len());
        check("unsettled", &self.unsettled, self.unsettled.len());
        check("inconsistent", &self.inconsistent, self.inconsistent.len());
        check(
            "executed other than once",
            &self.executed_wrongly,
            self.executed_wrongly.len(),
        );
        check(
            "emailed other than once",
            &self.emailed_wrongly,
            self.emailed_wrongly.len(),
        );
        check(
            "handed to the restaurant wrongly",
            &self.handed_off_wrongly,
            self.handed_off_wrongly.len(),
        );
        check(
            "cancels not kept",
            &self.cancels_broken,
            self.cancels_broken.len(),
        );
        check(
            "with incomplete events",
            &self.events_incomplete,
            self.events_incomplete.len(),
        );
        found
    }

    fn assert_kept(&self) {
        let violations = self.violations();
        assert!(violations.is_empty(), "{violations:#?}");
    }
}

/// The tapped events of each order, read until every stored order's events have reached
/// its version (the pipe follows the table a moment behind) or a minute has passed.
async fn events_once_published(
    runner: &Runner,
    orders: &[Order],
) -> BTreeMap<String, Vec<(u64, String)>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = runner.events_by_order().await;
        let caught_up = orders.iter().all(|order| {
            events.get(order.order_id.as_str()).is_some_and(|seen| {
                seen.iter()
                    .any(|(version, _)| *version >= u64::from(order.version))
            })
        });
        if caught_up || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Versions 1 to the order's, each with one status (a repeat of a version is a repeated
/// delivery, allowed), `RECEIVED` first and the order's status last.
fn events_are_complete(order: &Order, events: Option<&Vec<(u64, String)>>) -> bool {
    let mut statuses: BTreeMap<u64, &str> = BTreeMap::new();
    for (version, status) in events.into_iter().flatten() {
        if statuses
            .insert(*version, status)
            .is_some_and(|seen| seen != status)
        {
            return false;
        }
    }
    let versions: Vec<u64> = statuses.keys().copied().collect();
    versions == (1..=u64::from(order.version)).collect::<Vec<_>>()
        && statuses.get(&1) == Some(&"RECEIVED")
        && statuses.get(&u64::from(order.version)) == Some(&order.status.as_str())
}

/// A final status that its payment, hand-off and refund agree with.
fn outcome_is_consistent(order: &Order) -> bool {
    let paid = order.payment.as_ref().map(|p| p.is_paid());
    let refunded = order.refund.is_some() || order.refund_failure.is_some();
    match order.status {
        OrderStatus::SentToRestaurant => {
            paid == Some(true) && order.dispatch.is_some() && !refunded
        }
        OrderStatus::PaymentFailed => paid == Some(false) && order.dispatch.is_none(),
        OrderStatus::Failed => order.failure.is_some(),
        // Never handed off; a charge recorded on it is refunded (or its refund's failure
        // recorded), and a refund gives back that very charge.
        OrderStatus::Cancelled => {
            order.handoff_at.is_none()
                && order.dispatch.is_none()
                && (paid != Some(true) || refunded)
                && order.refund.as_ref().is_none_or(|refund| {
                    order
                        .payment
                        .as_ref()
                        .is_some_and(|p| p.is_paid() && p.payment_id == refund.payment_id)
                })
        }
        _ => false,
    }
}

//! Many orders at once: every one accepted ends exactly once; the figures of the run. And
//! the checker itself, shown catching the consumer bug it exists for.

use super::*;

/// One load run: `total` orders posted `concurrency` at a time by alice and bob, with
/// `faults` injected, and every `cancel_every`-th order (0: none) cancelled by its poster
/// at a moment spread over the first `cancel_within` of its life, until the pipeline is
/// idle. The report (`reliability-{name}.json`) is written from what the emulator holds
/// before anything is asserted.
async fn run_load(
    name: &str,
    total: usize,
    concurrency: usize,
    env: &[(&str, &str)],
    cancel_every: usize,
    cancel_within: Duration,
) -> Audit {
    let runner = Runner::start(&[env, &env::UNTHROTTLED[..]].concat());
    let started = Instant::now();
    let bodies = (0..total)
        .map(|i| json!({"restaurant_id": format!("r-{}", i % 7), "quantity": i % 100 + 1}));
    // Two customers ordering at once, each with their own token.
    let (alice, bob) = (runner.signed_in(USER).await, runner.signed_in("bob").await);
    let (alice_http, bob_http) = (alice.clone(), bob.clone());
    let (bodies_a, bodies_b): (Vec<_>, Vec<_>) = bodies.enumerate().partition(|(i, _)| i % 2 == 0);
    let unpair = |pairs: Vec<(usize, Value)>| pairs.into_iter().map(|(_, body)| body);
    let half = (concurrency / 2).max(1);
    let (posted_a, posted_b) = tokio::join!(
        post_orders(&alice, &runner.ready.api_url, unpair(bodies_a), half),
        post_orders(&bob, &runner.ready.api_url, unpair(bodies_b), half),
    );
    let (posted_a, posted_b) = (posted_a.unwrap(), posted_b.unwrap());
    let of_alice: HashSet<String> = posted_a.iter().filter_map(|p| p.order_id.clone()).collect();
    let posted: Vec<_> = [posted_a, posted_b].concat();
    let posting = started.elapsed();
    let accepted: Vec<String> = posted
        .iter()
        .filter(|p| p.status == 204)
        .filter_map(|p| p.order_id.clone())
        .collect();

    let to_cancel: Vec<&orders_local::client::Posted> = posted
        .iter()
        .filter(|p| p.status == 204)
        .step_by(cancel_every.max(1))
        .take(if cancel_every == 0 { 0 } else { total })
        .collect();
    let cancel_clients = (alice_http, bob_http);
    let cancels: BTreeMap<String, u16> =
        futures_util::future::join_all(to_cancel.iter().enumerate().map(|(n, posted)| {
            let order_id = posted
                .order_id
                .clone()
                .expect("an accepted order has an id");
            let http = if of_alice.contains(&order_id) {
                &cancel_clients.0
            } else {
                &cancel_clients.1
            };
            // Spread evenly (golden ratio steps) over the window, from the order's 204.
            let share = (n as f64 * 0.618_034).fract();
            let due = posted.at + cancel_within.mul_f64(share);
            let url = runner.url(&format!("/orders/{order_id}/cancel"));
            async move {
                if let Ok(wait) = due.duration_since(std::time::SystemTime::now()) {
                    tokio::time::sleep(wait).await;
                }
                // 404 until the workflow has stored the order: ask again.
                loop {
                    let status = http.post(&url).send().await.unwrap().status().as_u16();
                    if status != 404 {
                        return (order_id, status);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }))
        .await
        .into_iter()
        .collect();

    let settled = runner
        .settle(accepted.len(), Duration::from_secs(600))
        .await;
    let idle_after = started.elapsed();
    let audit = Audit::of(&runner, &accepted, settled, &cancels).await;
    let cancel_answers = |status: u16| cancels.values().filter(|s| **s == status).count();
    let orders = &audit.orders;
    // Each order is its poster's, from their token.
    let (alice, bob) = (runner.user_id(USER), runner.user_id("bob"));
    let not_the_posters = orders
        .iter()
        .filter(|o| {
            let poster = if of_alice.contains(o.order_id.as_str()) {
                &alice
            } else {
                &bob
            };
            o.user_id.as_str() != poster
        })
        .count();
    let latencies = post_to_final_seconds(&posted, orders);
    let by_status = |s: OrderStatus| orders.iter().filter(|o| o.status == s).count();
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    for failure in orders.iter().filter_map(|o| o.failure.as_ref()) {
        *failures.entry(failure.error.as_str()).or_default() += 1;
    }
    let unique: HashSet<&String> = accepted.iter().collect();
    let mut report = json!({
        "orders": total,
        "concurrency": concurrency,
        "accepted": accepted.len(),
        "distinct_order_ids": unique.len(),
        "stored_for_another_user": not_the_posters,
        "accepted_per_second": (accepted.len() as f64 / posting.as_secs_f64()).round(),
        "idle_after_seconds": idle_after.as_secs_f64(),
        "post_to_final_p50_seconds": percentile(&latencies, 0.5),
        "post_to_final_p99_seconds": percentile(&latencies, 0.99),
        "sent_to_restaurant": by_status(OrderStatus::SentToRestaurant),
        "payment_failed": by_status(OrderStatus::PaymentFailed),
        "failed": by_status(OrderStatus::Failed),
        "cancelled": by_status(OrderStatus::Cancelled),
        "refunded": orders.iter().filter(|o| o.refund.is_some()).count(),
        "failure_reasons": failures,
        "cancels_sent": cancels.len(),
        "cancels_accepted": cancel_answers(202),
        "cancels_too_late": cancel_answers(409),
    });
    report["faults"] = json!(env.iter().find(|(k, _)| *k == env::FAULTS).map(|(_, v)| *v));
    let figures = audit.figures();
    report
        .as_object_mut()
        .unwrap()
        .extend(figures.as_object().unwrap().clone());
    write_report(name, &report);

    assert_eq!(accepted.len(), total, "every valid order is accepted");
    assert_eq!(unique.len(), total, "order ids are unique");
    assert_eq!(
        orders.len() + audit.dead_letters + audit.lost.len(),
        total,
        "each accepted order is stored, dead or lost, once"
    );
    assert_eq!(not_the_posters, 0, "an order stored for another user");
    audit
}

/// `ORDERS_LOAD_ORDERS` and `ORDERS_LOAD_CONCURRENCY` size it; `ORDERS_FAULTS` is passed on
/// to the runner, so the checker can be shown a broken pipeline:
/// `ORDERS_FAULTS=start-order:first-record-only cargo test --test reliability load` fails,
/// its report counting the orders lost.
#[tokio::test]
async fn load_every_accepted_order_ends_exactly_once() {
    let total = env_number("ORDERS_LOAD_ORDERS", 500);
    let concurrency = env_number("ORDERS_LOAD_CONCURRENCY", 32);
    let faults = std::env::var(env::FAULTS).ok().filter(|f| !f.is_empty());
    let mut settings = vec![(env::CONSUMERS, "4")];
    settings.extend(faults.as_deref().map(|f| (env::FAULTS, f)));
    // The pipeline under load, not the stage's throttle (its own test is in e2e).
    let audit = run_load("load", total, concurrency, &settings, 0, Duration::ZERO).await;
    audit.assert_kept();
}

/// Customers cancel every fourth order, at moments spread over a minute from its
/// acceptance: under this load an order waits in the queue and the workflow for most of
/// that minute, so the cancels fall before, during and after the hand-off. Every accepted
/// order still ends final, exactly once; a cancel answered
/// 202 ends `CANCELLED` and never reaches the restaurant, one answered 409 does not end
/// cancelled; every charge of a cancelled order is refunded.
#[tokio::test]
async fn load_with_cancels_mixed_in_keeps_every_promise() {
    let total = env_number("ORDERS_LOAD_ORDERS", 500).min(200);
    let audit = run_load(
        "load-with-cancels",
        total,
        32,
        &[
            (env::CONSUMERS, "4"),
            (env::WAIT_SECONDS, "2"),
            (env::PAYMENT_SUCCESS_PROBABILITY, "0.8"),
        ],
        4,
        Duration::from_secs(60),
    )
    .await;
    let cancelled = audit
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Cancelled)
        .count();
    assert!(
        cancelled > 0,
        "no cancel took effect: {:?}",
        audit.figures()
    );
    audit.assert_kept();
}

/// The article's consumer started only the first record of each batch and reported the
/// whole batch done. Reintroduced as a fault, the same run must count the orders it lost
/// (never stored, never a dead letter) and the checker must refuse it.
#[tokio::test]
async fn the_checker_catches_a_consumer_that_starts_only_the_first_record() {
    // One poller, so that orders posted faster than it starts them share batches.
    let audit = run_load(
        "first-record-only",
        40,
        16,
        &[
            (env::CONSUMERS, "1"),
            (env::FAULTS, "start-order:first-record-only"),
        ],
        0,
        Duration::ZERO,
    )
    .await;
    assert!(
        !audit.lost.is_empty(),
        "no order was lost: {:?}",
        audit.figures()
    );
    assert_eq!(
        audit.settled + audit.lost.len(),
        audit.accepted,
        "what the bug does not lose, it completes"
    );
    let violations = audit.violations();
    assert!(
        violations.iter().any(|v| v.contains("lost")),
        "the checker lets it pass: {violations:?}"
    );
}

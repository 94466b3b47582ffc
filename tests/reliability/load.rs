//! Many orders at once: every one accepted ends exactly once; the figures of the run.

use super::*;

#[tokio::test]
async fn load_every_accepted_order_ends_exactly_once() {
    let total = env_number("ORDERS_LOAD_ORDERS", 500);
    let concurrency = env_number("ORDERS_LOAD_CONCURRENCY", 32);
    // The pipeline under load, not the stage's throttle (its own test is in e2e).
    let runner = Runner::start(&[&[(env::CONSUMERS, "4")], &env::UNTHROTTLED[..]].concat());
    let started = Instant::now();
    let bodies = (0..total)
        .map(|i| json!({"restaurant_id": format!("r-{}", i % 7), "quantity": i % 100 + 1}));
    // Two customers ordering at once, each with their own token.
    let (alice, bob) = (runner.signed_in(USER).await, runner.signed_in("bob").await);
    let (bodies_a, bodies_b): (Vec<_>, Vec<_>) = bodies.enumerate().partition(|(i, _)| i % 2 == 0);
    let unpair = |pairs: Vec<(usize, Value)>| pairs.into_iter().map(|(_, body)| body);
    let (posted_a, posted_b) = tokio::join!(
        post_orders(
            &alice,
            &runner.ready.api_url,
            unpair(bodies_a),
            concurrency / 2
        ),
        post_orders(
            &bob,
            &runner.ready.api_url,
            unpair(bodies_b),
            concurrency / 2
        ),
    );
    let posted: Vec<_> = [posted_a.unwrap(), posted_b.unwrap()].concat();
    let posting = started.elapsed();
    let accepted: Vec<String> = posted
        .iter()
        .filter(|p| p.status == 204)
        .filter_map(|p| p.order_id.clone())
        .collect();
    assert_eq!(accepted.len(), total, "every valid order is accepted");
    let unique: HashSet<&String> = accepted.iter().collect();
    assert_eq!(unique.len(), total, "order ids are unique");

    let orders = runner.settle(total, Duration::from_secs(600)).await;
    let settled = started.elapsed();
    // Each order is its poster's: half alice's, half bob's, from their tokens.
    let of_alice = orders
        .iter()
        .filter(|o| o.user_id.as_str() == runner.user_id(USER))
        .count();
    assert_eq!(of_alice, total.div_ceil(2));
    let lost = assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;

    let latencies = post_to_final_seconds(&posted, &orders);
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
            "lost": lost,
        }),
    );
}

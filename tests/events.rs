//! The order events in local mode, end to end: what reaches the orders bus's tap queue
//! (`events_tap_url` in the ready report) as orders move, are cancelled, and as functions
//! lose their answers after their writes. Events are checked against
//! `schema/order-event.schema.json` by a validator of another author (Ajv).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use orders_local::env;
use serde_json::{Value, json};
use support::{Runner, USER, final_order, good_order, post_order};

#[path = "../tools/oracles/node.rs"]
mod node;

/// Reads the tap until `order_id` has events up to `version`; its (version, status) pairs.
async fn events_until(runner: &Runner, order_id: &str, version: u64) -> Vec<(u64, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = runner
            .events_by_order()
            .await
            .remove(order_id)
            .unwrap_or_default();
        if events.iter().any(|(v, _)| *v >= version) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "order {order_id}: events up to version {version} did not come: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each order's versions, once each (a repeated delivery of one version is allowed, and
/// must carry the same status): the statuses by version.
fn by_version(events: &[(u64, String)]) -> BTreeMap<u64, String> {
    let mut statuses = BTreeMap::new();
    for (version, status) in events {
        if let Some(seen) = statuses.insert(*version, status.clone()) {
            assert_eq!(&seen, status, "version {version} came with two statuses");
        }
    }
    statuses
}

/// What Ajv says of each event against the checked-in schema.
fn schema_verdicts(events: &[Value]) -> Vec<Value> {
    let schema: Value = serde_json::from_str(include_str!("../schema/order-event.schema.json"))
        .expect("the event schema is JSON");
    let bodies: Vec<String> = events.iter().map(Value::to_string).collect();
    let verdicts = node::run("schema.mjs", &json!({"schema": schema, "bodies": bodies}));
    verdicts.as_array().unwrap().clone()
}

#[tokio::test]
async fn every_status_change_is_published_once_per_version_and_fits_the_schema() {
    let runner = Runner::start(&[(env::PAYMENT_SUCCESS_PROBABILITY, "1")]);
    let order_id = post_order(&runner, good_order()).await;
    let delivered = final_order(&runner, &order_id).await;
    assert_eq!(delivered["status"], "SENT_TO_RESTAURANT");
    let events = events_until(&runner, &order_id, 3).await;
    assert_eq!(
        by_version(&events),
        BTreeMap::from([
            (1, "RECEIVED".to_owned()),
            (2, "PAYMENT_OK".to_owned()),
            (3, "SENT_TO_RESTAURANT".to_owned()),
        ]),
        "{events:?}"
    );

    // Each event as delivered fits the schema, and its detail is the order's.
    let tapped: Vec<Value> = runner
        .tapped_events()
        .await
        .into_iter()
        .filter(|e| e["detail"]["order_id"] == order_id.as_str())
        .collect();
    for (event, verdict) in tapped.iter().zip(schema_verdicts(&tapped)) {
        assert_eq!(verdict["valid"], true, "{event}: {verdict}");
        assert_eq!(event["source"], orders_core::events::SOURCE);
        assert_eq!(event["detail-type"], orders_core::events::DETAIL_TYPE);
        assert_eq!(event["detail"]["user_id"], delivered["user_id"]);
        assert_eq!(event["detail"]["restaurant_id"], delivered["restaurant_id"]);
        assert!(!event["detail"].to_string().contains("arn:"), "{event}");
    }
    let last = tapped.iter().find(|e| e["detail"]["version"] == 3).unwrap();
    assert_eq!(last["detail"]["at"], delivered["updated_at"]);

    // The oracle refuses what the schema forbids (an internal field, a version 0).
    let mut leaky = last.clone();
    leaky["detail"]["failure_cause"] = json!("arn:aws:lambda:eu-west-1:123456789012:function:x");
    let mut unversioned = last.clone();
    unversioned["detail"]["version"] = json!(0);
    for verdict in schema_verdicts(&[leaky, unversioned]) {
        assert_eq!(verdict["valid"], false, "{verdict}");
    }
}

#[tokio::test]
async fn a_cancelled_order_publishes_received_then_cancelled() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "15"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    events_until(&runner, &order_id, 1).await;
    let response = runner
        .signed_in(USER)
        .await
        .post(runner.url(&format!("/orders/{order_id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let events = events_until(&runner, &order_id, 2).await;
    assert_eq!(
        by_version(&events),
        BTreeMap::from([(1, "RECEIVED".to_owned()), (2, "CANCELLED".to_owned())])
    );
}

/// Functions that die after their writes (manage-order-state's answers lost, so each
/// status change is written and then tried again) and an enrichment that fails now and
/// then: every order's events still come as versions 1..k with no gap, one status each,
/// ending with the order's final status.
#[tokio::test]
async fn events_come_without_gaps_when_writers_die_after_their_writes() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "0.5"),
        (
            env::FAULTS,
            "manage-order-state:lost:6,order-events:transient:3",
        ),
    ]);
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(post_order(&runner, good_order()).await);
    }
    for order_id in &orders {
        let order = final_order(&runner, order_id).await;
        let version = order["version"].as_u64().unwrap();
        let events = events_until(&runner, order_id, version).await;
        let statuses = by_version(&events);
        let versions: Vec<u64> = statuses.keys().copied().collect();
        assert_eq!(
            versions,
            (1..=version).collect::<Vec<_>>(),
            "{order_id}: {events:?}"
        );
        assert_eq!(statuses[&1], "RECEIVED");
        assert_eq!(statuses[&version], order["status"].as_str().unwrap());
    }
    let faults = runner
        .output()
        .iter()
        .filter(|l| l.contains("injected fault"))
        .count();
    assert!(faults >= 9, "the faults were not all injected: {faults}");
}

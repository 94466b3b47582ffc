//! Cancelling in local mode, end to end: `POST /orders/{id}/cancel` against the running
//! pipeline. What each test asserts about refunds, emails and hand-offs is read from the
//! emulator (the table through the API, the topics' recorded publications), not from the
//! runner's log lines.

mod support;

use std::time::Duration;

use orders_local::env;
use serde_json::Value;
use support::{
    Runner, USER, emails_once_a_later_order_is_emailed, final_order, good_order, order_when,
    post_order,
};

/// `POST /orders/{id}/cancel` as `user`: the status and the JSON answer.
async fn cancel_as(runner: &Runner, user: &str, order_id: &str) -> (u16, Value) {
    let response = runner
        .signed_in(user)
        .await
        .post(runner.url(&format!("/orders/{order_id}/cancel")))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `GET /orders/{id}` as [`USER`], once the workflow has stored the order.
async fn stored(runner: &Runner, order_id: &str) -> Value {
    order_when(runner, order_id, |_| true).await
}

#[tokio::test]
async fn a_cancel_during_the_wait_is_at_once_refunded_once_and_never_handed_off() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "15"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    let placed = stored(&runner, &order_id).await;
    assert_eq!(
        (placed["status"].as_str(), placed["version"].as_u64()),
        (Some("RECEIVED"), Some(1))
    );

    // Another customer cannot cancel it, and learns nothing of it.
    let (status, theirs) = cancel_as(&runner, "bob", &order_id).await;
    let (_, unknown) = cancel_as(&runner, "bob", "no-such-order").await;
    assert_eq!(status, 404);
    assert_eq!(theirs, unknown);
    assert_eq!(stored(&runner, &order_id).await["status"], "RECEIVED");

    // The owner cancels: the order reads as cancelled from the answer on.
    let (status, answer) = cancel_as(&runner, USER, &order_id).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer,
        serde_json::json!({"order_id": order_id, "status": "CANCELLED"})
    );
    let cancelled = stored(&runner, &order_id).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["final"], true);
    assert_eq!(cancelled["version"], 2);
    // A repeat answers the same and changes nothing.
    let (status, again) = cancel_as(&runner, USER, &order_id).await;
    assert_eq!((status, &again), (202, &answer));

    // The charge is refunded by the workflow, which sees the cancel during its wait.
    let refunded = order_when(&runner, &order_id, |order| order.get("refund").is_some()).await;
    assert_eq!(refunded["status"], "CANCELLED");
    assert_eq!(refunded["version"], 2, "a refund is no status change");
    assert_eq!(refunded["payment"]["outcome"], "PAID");
    assert_eq!(
        refunded["refund"]["payment_id"],
        refunded["payment"]["payment_id"]
    );
    assert!(refunded.get("dispatch").is_none());
    assert_eq!(
        emails_once_a_later_order_is_emailed(&runner, &order_id).await,
        1,
        "one email for the cancel"
    );
    assert_eq!(runner.handoffs_by_order().await.get(&order_id), None);
    let email = runner.lines_about(&order_id, "customer email");
    assert!(
        email.iter().any(|line| line.contains("[CANCELLED]")),
        "{email:?}"
    );
}

#[tokio::test]
async fn a_cancel_after_the_hand_off_or_the_end_is_409_and_changes_nothing() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "0"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    let delivered = final_order(&runner, &order_id).await;
    assert_eq!(delivered["status"], "SENT_TO_RESTAURANT");
    assert_eq!(
        delivered["version"], 3,
        "RECEIVED, PAYMENT_OK, SENT_TO_RESTAURANT"
    );
    let (status, answer) = cancel_as(&runner, USER, &order_id).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("handed to its restaurant"),
        "{answer}"
    );
    assert_eq!(stored(&runner, &order_id).await, delivered);
    assert_eq!(runner.handoffs_by_order().await.get(&order_id), Some(&1));
}

#[tokio::test]
async fn a_declined_order_is_final_and_cannot_be_cancelled() {
    let runner = Runner::start(&[(env::PAYMENT_SUCCESS_PROBABILITY, "0")]);
    let order_id = post_order(&runner, good_order()).await;
    let declined = final_order(&runner, &order_id).await;
    assert_eq!(declined["status"], "PAYMENT_FAILED");
    let (status, answer) = cancel_as(&runner, USER, &order_id).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("PAYMENT_FAILED"),
        "{answer}"
    );
}

/// Cancels timed across the end of the wait, one per order, from well before the end to
/// well after it: whichever comes first of the cancel and the hand-off wins, and nothing
/// ever ends both cancelled and dispatched.
#[tokio::test]
async fn cancels_racing_the_hand_off_have_exactly_one_winner_each() {
    const ORDERS: u32 = 24;
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "2"),
    ]);
    let mut racers = Vec::new();
    for n in 0..ORDERS {
        let order_id = post_order(&runner, good_order()).await;
        // From 1 s to about 4.5 s after the order was accepted; its wait ends near 2 s.
        let due = tokio::time::Instant::now() + Duration::from_millis(1000 + u64::from(n) * 150);
        let runner = &runner;
        racers.push(async move {
            tokio::time::sleep_until(due).await;
            let (status, answer) = cancel_as(runner, USER, &order_id).await;
            (order_id, status, answer)
        });
    }
    let answers = futures_util::future::join_all(racers).await;

    // Every order's end, read back once it has ended (a cancelled one once refunded), and
    // the restaurant topic's hand-offs: the figures first, then the assertions.
    let mut ends = Vec::new();
    for (order_id, status, answer) in &answers {
        let order = final_order(&runner, order_id).await;
        let order = if order["status"] == "CANCELLED" {
            order_when(&runner, order_id, |o| o.get("refund").is_some()).await
        } else {
            order
        };
        ends.push((order_id, *status, answer, order));
    }
    let handoffs = runner.handoffs_by_order().await;
    let count = |status: u16| answers.iter().filter(|(_, s, _)| *s == status).count();
    let (won, too_late) = (count(202), count(409));
    // A cancel that won must end CANCELLED and undispatched, never handed to the restaurant;
    // one that lost must end delivered, handed over once.
    let broken: Vec<String> = ends
        .iter()
        .filter(|(order_id, status, _, order)| {
            let handed = handoffs.get(order_id.as_str()).copied().unwrap_or(0);
            match status {
                202 => {
                    order["status"] != "CANCELLED" || order.get("dispatch").is_some() || handed != 0
                }
                409 => order["status"] != "SENT_TO_RESTAURANT" || handed != 1,
                _ => true,
            }
        })
        .map(|(order_id, status, answer, order)| {
            format!("{order_id}: {status} {answer} then {order}")
        })
        .collect();
    let report = serde_json::json!({
        "orders": ORDERS,
        "cancels_won": won,
        "cancels_too_late": too_late,
        "broken": broken.len(),
        "handed_off": handoffs.values().sum::<usize>(),
    });
    let path = format!("{}/cancel-race.json", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("cancels across the end of the wait: {report}");
    assert!(broken.is_empty(), "{broken:#?}");
    assert_eq!(
        won + too_late,
        ORDERS as usize,
        "every cancel is a 202 or a 409"
    );
    assert!(
        won > 0 && too_late > 0,
        "the cancels did not straddle the hand-off: {won} won, {too_late} too late"
    );
}

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
    let mut won = 0;
    let mut too_late = 0;
    for (order_id, status, answer) in &answers {
        let order = final_order(&runner, order_id).await;
        let order = if order["status"] == "CANCELLED" {
            order_when(&runner, order_id, |o| o.get("refund").is_some()).await
        } else {
            order
        };
        match status {
            202 => {
                won += 1;
                assert_eq!(order["status"], "CANCELLED", "{order_id}: 202 then {order}");
                assert!(order.get("dispatch").is_none(), "{order_id}: {order}");
            }
            409 => {
                too_late += 1;
                assert_eq!(
                    order["status"], "SENT_TO_RESTAURANT",
                    "{order_id}: 409 then {order}"
                );
            }
            other => panic!("{order_id}: cancel answered {other} {answer}"),
        }
    }
    // Read back from the emulator once every order has ended: the restaurant got exactly
    // the orders that were not cancelled, each once.
    let handoffs = runner.handoffs_by_order().await;
    for (order_id, status, _) in &answers {
        let expected = if *status == 202 { None } else { Some(&1) };
        assert_eq!(handoffs.get(order_id), expected, "{order_id} ({status})");
    }
    println!("cancels across the end of the wait: {won} won, {too_late} too late");
    assert!(
        won > 0 && too_late > 0,
        "the cancels did not straddle the hand-off: {won} won, {too_late} too late"
    );
}

//! Faults: the emulator frozen, a task that always fails, answers lost after the work.

use super::*;

#[tokio::test]
async fn emulator_outage_loses_no_accepted_order() {
    let runner = Runner::start(&[(env::PAYMENT_SUCCESS_PROBABILITY, "1")]);
    let mut accepted = Vec::new();
    for _ in 0..10 {
        accepted.push(post_order(&runner, good_order()).await);
    }
    // The emulator stops answering (frozen, as a partition looks), while orders keep coming.
    let pid = runner.emulator_pid();
    let frozen = Instant::now();
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
    let frozen_seconds = frozen.elapsed().as_secs_f64();
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
    let orders = runner
        .settle(accepted.len(), Duration::from_secs(120))
        .await;
    let lost = assert_nothing_lost_or_doubled(&runner, &accepted, &orders).await;
    write_report(
        "outage",
        &json!({"accepted": accepted.len(), "refused_with_500": refused, "frozen_seconds": frozen_seconds, "lost": lost}),
    );
}

#[tokio::test]
async fn order_whose_task_always_fails_ends_failed_and_the_others_are_unharmed() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::FAULTS, "process-payment:fail@quantity=42"),
    ]);
    let mut accepted = Vec::new();
    for quantity in [1, 42, 2, 3] {
        let body = json!({"user_id": "u", "restaurant_id": "r", "quantity": quantity});
        accepted.push(post_order(&runner, body).await);
    }
    let doomed = final_order(&runner, &accepted[1]).await;
    assert_eq!(doomed["status"], "FAILED");
    assert_eq!(doomed["failure"], "InjectedFault");
    let orders = runner.settle(accepted.len(), Duration::from_secs(60)).await;
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
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::VISIBILITY_TIMEOUT_SECONDS, "2"),
        (
            env::FAULTS,
            "start-order:lost:1,manage-order-state:lost:2@status=SENT_TO_RESTAURANT,send-order:lost:2",
        ),
    ]);
    let mut accepted = Vec::new();
    for _ in 0..3 {
        accepted.push(post_order(&runner, good_order()).await);
    }
    let orders = runner.settle(accepted.len(), Duration::from_secs(90)).await;
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

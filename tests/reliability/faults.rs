//! Faults: the emulator frozen, a task that always fails, answers lost after the work.

use super::*;

/// The integration timeout of the outage test: shorter than the freeze.
const QUEUE_TIMEOUT: Duration = Duration::from_millis(1500);
const FREEZE: Duration = Duration::from_secs(4);

#[tokio::test]
async fn emulator_outage_loses_no_accepted_order() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (
            env::INTEGRATION_TIMEOUT_MS,
            &QUEUE_TIMEOUT.as_millis().to_string(),
        ),
    ]);
    let mut accepted = Vec::new();
    for _ in 0..10 {
        accepted.push(post_order(&runner, good_order()).await);
    }
    // The emulator stops answering (frozen, as a partition looks), while orders keep coming.
    let pid = runner.emulator_pid();
    let signal = |name: &str| {
        assert!(
            std::process::Command::new("kill")
                .args([name, &pid])
                .status()
                .unwrap()
                .success()
        )
    };
    let frozen = Instant::now();
    signal("-STOP");
    let http = runner.signed_in(USER).await;
    let during: Vec<_> = (0..10)
        .map(|_| {
            let http = http.clone();
            let url = runner.url("/orders");
            let app = runner.ready.app_url.clone();
            tokio::spawn(async move {
                // From the app: its browser must be able to read the 504 and its order id.
                let response = http
                    .post(url)
                    .header("Origin", app)
                    .json(&good_order())
                    .send()
                    .await;
                (response, Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(FREEZE).await;
    let thawed = Instant::now();
    signal("-CONT");

    // Every request sent during the freeze was still waiting on the queue when its time
    // ran out: a 504 before the thaw, naming the id its order would have.
    let mut timed_out = Vec::new();
    for request in during {
        let (response, answered) = request.await.unwrap();
        let response = response.expect("the API keeps answering");
        assert_eq!(
            response.status(),
            504,
            "a queue that does not answer is a 504"
        );
        assert!(answered < thawed, "answered after the freeze");
        let headers = response.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            runner.ready.app_url.as_str()
        );
        assert!(
            headers["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("x-amz-apigw-id"),
            "the app cannot read the id of the order it must look up"
        );
        timed_out.push(
            response.headers()["x-amz-apigw-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("x-amz-apigw-id"),
            "{answer}"
        );
    }

    // A 504 does not say whether the queue took the order (the request may have reached it
    // before the answer was given up on, in AWS as here): an order it took must then run
    // to its end like any other, and nothing else may appear: once the pipeline is idle
    // (nothing queued or running, read from the emulator rather than waited for), nothing
    // else can.
    let settled = runner
        .settle(accepted.len() + timed_out.len(), Duration::from_secs(120))
        .await;
    let stored: HashSet<&str> = settled.orders.iter().map(|o| o.order_id.as_str()).collect();
    let taken_after_timeout: Vec<String> = timed_out
        .iter()
        .filter(|id| stored.contains(id.as_str()))
        .cloned()
        .collect();
    let mut told = accepted.clone();
    told.extend(taken_after_timeout.iter().cloned());
    // Every order the queue took was told to its client, as accepted or as a 504; an order
    // whose 504 it did not take is neither stored nor lost.
    let audit = Audit::of(&runner, &told, settled, &BTreeMap::new()).await;
    write_report(
        "outage",
        &json!({
            "accepted": accepted.len(),
            "timed_out": timed_out.len(),
            "taken_after_timeout": taken_after_timeout.len(),
            "queue_timeout_seconds": QUEUE_TIMEOUT.as_secs_f64(),
            "frozen_seconds": (thawed - frozen).as_secs_f64(),
            "audit": audit.figures(),
        }),
    );
    audit.assert_kept();
}

#[tokio::test]
async fn order_whose_task_always_fails_ends_failed_and_the_others_are_unharmed() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::FAULTS, "process-payment:fail@quantity=42"),
    ]);
    let mut accepted = Vec::new();
    for quantity in [1, 42, 2, 3] {
        let body = json!({"restaurant_id": "r", "quantity": quantity});
        accepted.push(post_order(&runner, body).await);
    }
    let doomed = final_order(&runner, &accepted[1]).await;
    assert_eq!(doomed["status"], "FAILED");
    assert_eq!(doomed["failure"], "InjectedFault");
    let settled = runner.settle(accepted.len(), Duration::from_secs(60)).await;
    let audit = Audit::of(&runner, &accepted, settled, &BTreeMap::new()).await;
    audit.assert_kept();
    let sent = audit
        .orders
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
    let settled = runner.settle(accepted.len(), Duration::from_secs(90)).await;
    Audit::of(&runner, &accepted, settled, &BTreeMap::new())
        .await
        .assert_kept();
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

#[tokio::test]
async fn dead_letters_redriven_once_their_fault_is_gone_complete_once() {
    // start-order fails its first three calls, as a broken deploy would: the order's
    // message is received three times and moves to the DLQ. Then the fault is spent, as
    // a fix ends it, and the operator redrives the order, leaving a poison message be.
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::VISIBILITY_TIMEOUT_SECONDS, "1"),
        (env::FAULTS, "start-order:fail:3"),
    ]);
    let order_id = post_order(&runner, good_order()).await;
    let sqs = aws_sdk_sqs::Client::new(&runner.sdk().await);
    let dlq = runner.ready.dead_letter_queue_url.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    while runner.queue_depth(&dlq).await < 1 {
        assert!(Instant::now() < deadline, "the order never reached the DLQ");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let poison = sqs
        .send_message()
        .queue_url(&dlq)
        .message_body("not an order")
        .send()
        .await
        .unwrap()
        .message_id
        .unwrap();

    let dead = orders_admin::DeadLetterQueue::new(sqs.clone(), dlq.clone());
    let letters = dead.list().await.unwrap();
    assert_eq!(letters.len(), 2, "{letters:?}");
    let letter = letters
        .iter()
        .find(|l| l.order_id.as_deref() == Some(order_id.as_str()))
        .expect("the order's message is listed with its order id");
    assert!(letter.receive_count.unwrap() >= 3, "{letter:?}");
    // Listing leaves the messages where they are.
    assert_eq!(dead.list().await.unwrap().len(), 2);

    let source = dead.source_queue().await.unwrap();
    assert_eq!(source, runner.ready.queue_url);
    let redriven = dead
        .redrive(
            &[letter.message_id.clone(), "no-such-message".into()],
            &source,
        )
        .await
        .unwrap();
    assert_eq!(redriven.moved, std::slice::from_ref(&letter.message_id));
    assert_eq!(redriven.not_found, ["no-such-message"]);

    let order = final_order(&runner, &order_id).await;
    assert_eq!(order["status"], "SENT_TO_RESTAURANT");
    let left = dead.list().await.unwrap();
    assert_eq!(
        left.iter()
            .map(|l| l.message_id.as_str())
            .collect::<Vec<_>>(),
        [poison.as_str()],
        "only the poison message stays"
    );
    // Once: one stored order, one execution, one email, all counted from the emulator. The
    // poison message, which is no order, stays where it is and is not counted as one.
    let settled = runner.settle(1, Duration::from_secs(60)).await;
    let audit = Audit::of(
        &runner,
        std::slice::from_ref(&order_id),
        settled,
        &BTreeMap::new(),
    )
    .await;
    write_report(
        "redrive",
        &json!({
            "dead_letters_before": letters.len(),
            "redriven": redriven.moved.len(),
            "completed": audit.orders.iter().filter(|o| o.status.is_final()).count(),
            "dead_letters_after": left.len(),
            "audit": audit.figures(),
        }),
    );
    audit.assert_kept();
}

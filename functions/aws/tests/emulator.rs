//! The AWS adapters against a real AWS-API emulator: real requests, real conditional
//! writes, real topics and queues. Assertions read what the emulator holds afterwards.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use orders_aws::{DynamoOrderStore, SfnWorkflows, SnsDispatcher, SnsNotifier};
use orders_core::{
    Dispatch, Inserted, NewOrder, Order, OrderId, OrderReader, OrderStatus, OrderStore,
    OrderSubmission, Payment, PaymentOutcome, Started, StatusChange, UserId, WorkflowStarter,
    service,
};
use orders_emulator::Emulator;
use serde_json::{Value, json};

const TABLE: &str = "Orders";

async fn create_table(config: &aws_config::SdkConfig) {
    orders_emulator::provision::orders_table(config, TABLE)
        .await
        .expect("create the table");
}

/// A topic with a queue subscribed to it, so a test can read what was published.
async fn topic_with_queue(config: &aws_config::SdkConfig, name: &str) -> (String, Inbox) {
    use orders_emulator::provision;
    let topic_arn = provision::topic(config, name).await.unwrap();
    let queue_url = provision::inbox(config, &topic_arn, &format!("{name}-inbox"))
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(config);
    (topic_arn, Inbox { sqs, queue_url })
}

struct Inbox {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Inbox {
    /// Every SNS envelope delivered so far.
    async fn drain(&self) -> Vec<Value> {
        let mut envelopes = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return envelopes;
            }
            for message in messages {
                envelopes.push(serde_json::from_str(message.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn order_id(raw: &str) -> OrderId {
    OrderId::parse(raw).unwrap()
}

fn new_order(quantity: u8) -> NewOrder {
    NewOrder {
        user_id: UserId::parse("Burger_20").unwrap(),
        restaurant_id: "Restaurant 4".into(),
        quantity,
        note: Some("no onions".into()),
    }
}

fn payment(outcome: PaymentOutcome) -> Option<Payment> {
    Some(Payment {
        payment_id: "pay_1".into(),
        outcome,
    })
}

/// Saves an order of `quantity` and records its payment: an order ready to hand off.
async fn paid(store: &DynamoOrderStore, notifier: &SnsNotifier, id: &OrderId, quantity: u8) {
    service::create_order(store, id, new_order(quantity), Utc::now())
        .await
        .unwrap();
    let paid = StatusChange {
        status: OrderStatus::PaymentOk,
        at: Utc::now(),
        payment: payment(PaymentOutcome::Paid),
        failure: None,
    };
    service::set_status(store, notifier, id, paid)
        .await
        .unwrap();
}

async fn scan(
    client: &aws_sdk_dynamodb::Client,
) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    client
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

#[tokio::test]
async fn store_keeps_the_first_create_and_guards_every_update() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&config).await;
    let store = DynamoOrderStore::new(client.clone(), TABLE);
    let id = order_id("o-1");

    let first = Order::received(id.clone(), new_order(2), Utc::now());
    assert_eq!(store.insert(&first).await.unwrap(), Inserted::New);
    let second = Order::received(id.clone(), new_order(9), Utc::now());
    match store.insert(&second).await.unwrap() {
        Inserted::AlreadyExists(stored) => assert_eq!(*stored, first),
        Inserted::New => panic!("a second create must not overwrite"),
    }
    let items = scan(&client).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["quantity"], AttributeValue::N("2".into()));
    assert_eq!(items[0]["status"], AttributeValue::S("RECEIVED".into()));
    assert_eq!(items[0]["order_id"], AttributeValue::S("o-1".into()));

    let paid = StatusChange {
        status: OrderStatus::PaymentOk,
        at: Utc::now(),
        payment: payment(PaymentOutcome::Paid),
        failure: None,
    };
    let updated = store
        .update_status(&id, OrderStatus::Received, &paid)
        .await
        .unwrap()
        .expect("RECEIVED -> PAYMENT_OK applies");
    assert_eq!(updated.status, OrderStatus::PaymentOk);
    assert_eq!(updated.payment, paid.payment);
    assert_eq!(
        store
            .update_status(&id, OrderStatus::Received, &paid)
            .await
            .unwrap(),
        None,
        "the condition on the current status holds"
    );
    assert_eq!(
        store
            .update_status(&order_id("ghost"), OrderStatus::Received, &paid)
            .await
            .unwrap(),
        None
    );

    let dispatch = Dispatch {
        reference: "ref-1".into(),
        sent_at: Utc::now(),
    };
    assert!(store.record_dispatch(&id, &dispatch).await.unwrap());
    let other = Dispatch {
        reference: "ref-2".into(),
        sent_at: Utc::now(),
    };
    assert!(!store.record_dispatch(&id, &other).await.unwrap());
    assert!(
        store
            .mark_notified(&id, OrderStatus::SentToRestaurant)
            .await
            .unwrap()
    );
    assert!(!store.mark_notified(&id, OrderStatus::Failed).await.unwrap());
    assert!(
        !store
            .mark_notified(&order_id("ghost"), OrderStatus::Failed)
            .await
            .unwrap()
    );

    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.dispatch, Some(dispatch));
    assert_eq!(stored.notified_status, Some(OrderStatus::SentToRestaurant));
    assert_eq!(stored.quantity, 2);
    assert_eq!(stored.note.as_deref(), Some("no onions"));
    assert_eq!(
        scan(&client).await.len(),
        1,
        "nothing created by a failed condition"
    );
    assert_eq!(store.get(&order_id("ghost")).await.unwrap(), None);
}

#[tokio::test]
async fn final_status_publishes_one_notification_with_filterable_attributes() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&config).await;
    let (topic_arn, inbox) = topic_with_queue(&config, "order-notifications").await;
    let store = DynamoOrderStore::new(client, TABLE);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic_arn);
    let id = order_id("o-2");

    service::create_order(&store, &id, new_order(3), Utc::now())
        .await
        .unwrap();
    let declined = StatusChange {
        status: OrderStatus::PaymentFailed,
        at: Utc::now(),
        payment: payment(PaymentOutcome::Declined),
        failure: None,
    };
    for _ in 0..3 {
        service::set_status(&store, &notifier, &id, declined.clone())
            .await
            .unwrap();
    }

    let envelopes = inbox.drain().await;
    assert_eq!(
        envelopes.len(),
        1,
        "one notification for one final status: {envelopes:?}"
    );
    let envelope = &envelopes[0];
    assert_eq!(envelope["Subject"], "[PAYMENT_FAILED] Order o-2");
    assert!(envelope["Message"].as_str().unwrap().contains("Order o-2"));
    assert_eq!(
        envelope["MessageAttributes"]["user_id"]["Value"],
        "Burger_20"
    );
    assert_eq!(
        envelope["MessageAttributes"]["status"]["Value"],
        "PAYMENT_FAILED"
    );
    let stored = store.get(&id).await.unwrap().unwrap();
    assert_eq!(stored.notified_status, Some(OrderStatus::PaymentFailed));
}

#[tokio::test]
async fn paid_order_is_handed_to_its_restaurant_once() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&config).await;
    let (notify_arn, _) = topic_with_queue(&config, "order-notifications").await;
    let (restaurant_arn, restaurant) = topic_with_queue(&config, "restaurant-orders").await;
    let store = DynamoOrderStore::new(client, TABLE);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), notify_arn);
    let dispatcher = SnsDispatcher::new(aws_sdk_sns::Client::new(&config), restaurant_arn);
    let id = order_id("o-3");

    paid(&store, &notifier, &id, 5).await;
    let first = service::send_to_restaurant(&store, &dispatcher, &id, Utc::now())
        .await
        .unwrap();
    let again = service::send_to_restaurant(&store, &dispatcher, &id, Utc::now())
        .await
        .unwrap();
    assert_eq!(first, again);

    let envelopes = restaurant.drain().await;
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0]["MessageId"], first.reference.as_str());
    assert_eq!(
        envelopes[0]["MessageAttributes"]["restaurant_id"]["Value"],
        "Restaurant 4"
    );
    let message: Value = serde_json::from_str(envelopes[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        message,
        json!({"order_id": "o-3", "restaurant_id": "Restaurant 4", "quantity": 5, "note": "no onions"})
    );
    assert_eq!(store.get(&id).await.unwrap().unwrap().dispatch, Some(first));
}

/// Cancels and hand-off claims sent together, many times over, against the emulator's
/// conditional writes: each order is either cancelled or claimed, never both, and its
/// version counts its status changes.
#[tokio::test]
async fn a_cancel_and_the_hand_off_claim_racing_each_other_have_one_winner() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&config).await;
    let store = DynamoOrderStore::new(client, TABLE);
    let (notify_arn, _) = topic_with_queue(&config, "order-notifications").await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&config), notify_arn);
    let customer = UserId::parse("Burger_20").unwrap();
    let (mut cancelled, mut claimed) = (0, 0);
    for n in 0..20 {
        let id = order_id(&format!("race-{n}"));
        paid(&store, &notifier, &id, 1).await;
        let (cancel, claim) = tokio::join!(
            service::cancel_order(&store, &customer, &id, Utc::now()),
            store.claim_handoff(&id, Utc::now()),
        );
        let (cancel, claim) = (cancel.unwrap(), claim.unwrap());
        let stored = store.get(&id).await.unwrap().unwrap();
        match (&cancel, claim) {
            (service::Cancel::Cancelled(_), false) => {
                cancelled += 1;
                assert_eq!((stored.status, stored.version), (OrderStatus::Cancelled, 3));
                assert!(stored.handoff_at.is_none());
            }
            (service::Cancel::TooLate(_), true) => {
                claimed += 1;
                assert_eq!((stored.status, stored.version), (OrderStatus::PaymentOk, 2));
                assert!(stored.handoff_at.is_some());
            }
            other => panic!("order {id}: cancel and claim both won or both lost: {other:?}"),
        }
    }
    assert_eq!(cancelled + claimed, 20);
}

#[tokio::test]
async fn a_users_orders_are_listed_newest_first_from_the_index_page_by_page() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_table(&config).await;
    let store = DynamoOrderStore::new(client.clone(), TABLE);
    let alice = UserId::parse("alice-sub").unwrap();
    let bob = UserId::parse("bob-sub").unwrap();
    // Times that sort wrongly as plain RFC 3339 text ("…00Z" after "…00.5Z").
    let start: chrono::DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap();
    let offsets_ms = [0, 500, 1000, 1001, 2500];
    for (i, ms) in offsets_ms.iter().enumerate() {
        let at = start + chrono::Duration::milliseconds(*ms);
        for user in [&alice, &bob] {
            let mut new = new_order(1);
            new.user_id = user.clone();
            let id = order_id(&format!("{}-{i}", &user.as_str()[..1]));
            store.insert(&Order::received(id, new, at)).await.unwrap();
        }
    }

    let mut listed = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store.list(&alice, 2, after.as_ref()).await.unwrap();
        pages += 1;
        assert!(page.orders.len() <= 2);
        assert!(page.orders.iter().all(|o| o.user_id == alice));
        listed.extend(page.orders.iter().map(|o| o.order_id.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, ["a-4", "a-3", "a-2", "a-1", "a-0"]);
    assert_eq!(pages, 3, "the last page says it is the last");
    // Read back from the index: the orders whole, as stored.
    let newest = store.list(&bob, 1, None).await.unwrap();
    assert_eq!(newest.orders[0].order_id.as_str(), "b-4");
    assert_eq!(
        Some(&newest.orders[0]),
        store
            .get(&newest.orders[0].order_id)
            .await
            .unwrap()
            .as_ref()
    );
}

#[tokio::test]
async fn workflow_starts_once_per_order() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let arn = orders_emulator::provision::stub_state_machine(&config, "order")
        .await
        .unwrap();
    let workflows = SfnWorkflows::new(sfn.clone(), &arn);
    let submission = OrderSubmission {
        order_id: order_id("o-4"),
        order: new_order(1),
    };

    assert_eq!(workflows.start(&submission).await.unwrap(), Started::New);
    // Redelivery of the same message: same name, same input.
    workflows.start(&submission).await.unwrap();
    // A different message claiming the same order id.
    let mut other = submission.clone();
    other.order.quantity = 7;
    assert_eq!(
        workflows.start(&other).await.unwrap(),
        Started::AlreadyStarted
    );

    let executions = sfn
        .list_executions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .executions;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].name, "o-4");
    let described = sfn
        .describe_execution()
        .execution_arn(&executions[0].execution_arn)
        .send()
        .await
        .unwrap();
    let input: Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(input, serde_json::to_value(&submission).unwrap());
}

#[tokio::test]
async fn unreachable_service_is_a_dependency_error() {
    let emulator =
        Emulator::start(&orders_emulator::EmulatorCommand::from_env()).expect("start the emulator");
    let config = emulator.sdk_config().await;
    drop(emulator);
    let store = DynamoOrderStore::new(aws_sdk_dynamodb::Client::new(&config), TABLE);
    let err = store.get(&order_id("o-5")).await.unwrap_err();
    assert_eq!(err.service, "DynamoDB");
    let err = orders_core::OrderError::from(err);
    assert_eq!(err.name(), "DependencyError");
    assert!(err.is_transient());
}

//! What each handler costs in our own code: in-memory adapters, so no network time is
//! counted, and validation of a typical body. `make bench` runs these and the report
//! quotes them.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use orders_core::memory::{MemoryStore, MemoryWorkflows, RecordingDispatcher, RecordingNotifier};
use orders_core::{OrderId, OrderMessage, UserId};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn next_id(counter: &AtomicU64) -> String {
    format!("bench-{}", counter.fetch_add(1, Ordering::Relaxed))
}

fn validation(c: &mut Criterion) {
    let body = json!({"restaurant_id": "Restaurant 4", "quantity": "3"});
    c.bench_function("validate_typical_body", |b| {
        b.iter(|| orders_core::validation::validate(std::hint::black_box(&body)).unwrap())
    });
}

fn start_order(c: &mut Criterion) {
    let rt = runtime();
    let workflows = MemoryWorkflows::default();
    let counter = AtomicU64::new(0);
    c.bench_function("start_order_batch_of_10", |b| {
        b.to_async(&rt).iter(|| {
            let mut event = SqsEvent::default();
            event.records = (0..10)
                .map(|i| {
                    let mut record = SqsMessage::default();
                    record.message_id = Some(format!("m-{i}"));
                    let message = OrderMessage {
                        order_id: OrderId::parse(&next_id(&counter)).unwrap(),
                        user_id: UserId::parse("u").unwrap(),
                        order: json!({"restaurant_id": "r", "quantity": "3"}),
                    };
                    record.body = Some(serde_json::to_string(&message).unwrap());
                    record
                })
                .collect();
            let workflows = &workflows;
            async move { start_order::handle(workflows, event).await.unwrap() }
        })
    });
}

fn manage_order_state(c: &mut Criterion) {
    let rt = runtime();
    let (store, notifier) = (MemoryStore::default(), RecordingNotifier::default());
    let counter = AtomicU64::new(0);
    c.bench_function("manage_order_state_create_then_final_status", |b| {
        b.to_async(&rt).iter(|| {
            let id = next_id(&counter);
            let create: manage_order_state::Request = serde_json::from_value(json!({
                "action": "create", "order_id": id,
                "order": {"user_id": "u", "restaurant_id": "r", "quantity": 3}
            }))
            .unwrap();
            let declined: manage_order_state::Request = serde_json::from_value(json!({
                "action": "set_status", "order_id": id, "status": "PAYMENT_FAILED",
                "payment": {"payment_id": "p", "outcome": "DECLINED"}
            }))
            .unwrap();
            let (store, notifier) = (&store, &notifier);
            async move {
                manage_order_state::handle(store, notifier, create, Utc::now())
                    .await
                    .unwrap();
                manage_order_state::handle(store, notifier, declined, Utc::now())
                    .await
                    .unwrap()
            }
        })
    });
}

fn process_payment(c: &mut Criterion) {
    let rt = runtime();
    let payments = process_payment::SimulatedPayments {
        success: process_payment::SuccessProbability::DEFAULT,
    };
    c.bench_function("process_payment", |b| {
        b.to_async(&rt).iter(|| async {
            let request: process_payment::Request = serde_json::from_value(
                json!({"action": "charge", "order_id": "o-1", "quantity": 3}),
            )
            .unwrap();
            process_payment::handle(&payments, request).await.unwrap()
        })
    });
}

fn send_and_get(c: &mut Criterion) {
    let rt = runtime();
    let (store, notifier, dispatcher) = (
        MemoryStore::default(),
        RecordingNotifier::default(),
        RecordingDispatcher::default(),
    );
    let counter = AtomicU64::new(0);
    c.bench_function("send_order_paid_order", |b| {
        b.to_async(&rt).iter(|| {
            let id = next_id(&counter);
            let (store, notifier, dispatcher) = (&store, &notifier, &dispatcher);
            async move {
                let create = serde_json::from_value(json!({
                    "action": "create", "order_id": id,
                    "order": {"user_id": "u", "restaurant_id": "r", "quantity": 3}
                }))
                .unwrap();
                manage_order_state::handle(store, notifier, create, Utc::now())
                    .await
                    .unwrap();
                let paid = serde_json::from_value(json!({
                    "action": "set_status", "order_id": id, "status": "PAYMENT_OK",
                    "payment": {"payment_id": "p", "outcome": "PAID"}
                }))
                .unwrap();
                manage_order_state::handle(store, notifier, paid, Utc::now())
                    .await
                    .unwrap();
                let request = serde_json::from_value(json!({"order_id": id})).unwrap();
                send_order::handle(store, dispatcher, request, Utc::now())
                    .await
                    .unwrap()
            }
        })
    });
    // Read by the customer who placed it, as the authorizer passes them on; the answer is
    // checked once, so the figure is the 200's, not a 401's or a 404's.
    let mut request = ApiGatewayProxyRequest::default();
    request
        .path_parameters
        .insert("id".into(), "bench-0".into());
    request
        .request_context
        .authorizer
        .fields
        .insert("claims".into(), json!({"sub": "u", "token_use": "id"}));
    let answer = rt.block_on(get_order::handle(&store, &request));
    assert_eq!(answer.status_code, 200, "{:?}", answer.body);
    c.bench_function("get_order_found", |b| {
        b.to_async(&rt).iter(|| get_order::handle(&store, &request))
    });
}

criterion_group!(
    benches,
    validation,
    start_order,
    manage_order_state,
    process_payment,
    send_and_get
);
criterion_main!(benches);

//! What a million orders cost on AWS with the deployed configuration, from list prices
//! (us-east-1, free tiers left out) and this project's own counts: state transitions of
//! `asl/order.asl.json`, invocations, table reads and writes, publishes, order events and
//! their push to the customer's screen. Lambda durations are the means measured here
//! against the emulator; on AWS, DynamoDB and SNS calls take a few milliseconds too, so
//! they are the right order of magnitude.

use std::collections::BTreeMap;

use std::fmt::Write as _;

use serde_json::{Value, json};

/// Share of payments that go through (the stack's default).
const PAID: f64 = orders_core::SuccessProbability::DEFAULT.value();

// List prices, USD, us-east-1, as AWS publishes them (check before relying on them).
const STANDARD_PER_TRANSITION: f64 = 25.0 / 1e6;
const EXPRESS_PER_REQUEST: f64 = 1.0 / 1e6;
const EXPRESS_PER_GB_SECOND: f64 = 0.000_016_67;
const LAMBDA_PER_REQUEST: f64 = 0.20 / 1e6;
const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
const API_GATEWAY_REST_PER_REQUEST: f64 = 3.50 / 1e6;
const SQS_PER_REQUEST: f64 = 0.40 / 1e6;
const DYNAMODB_PER_WRITE_UNIT: f64 = 0.625 / 1e6;
const DYNAMODB_PER_READ_UNIT: f64 = 0.125 / 1e6;
const SNS_PER_PUBLISH: f64 = 0.50 / 1e6;
const SNS_PER_EMAIL: f64 = 2.00 / 100_000.0;
const EVENTBRIDGE_PER_EVENT: f64 = 1.00 / 1e6;
const PIPES_PER_REQUEST: f64 = 0.40 / 1e6;
const WEBSOCKET_PER_MESSAGE: f64 = 1.00 / 1e6;
const WEBSOCKET_PER_CONNECTION_MINUTE: f64 = 0.25 / 1e6;

/// How long a customer watches an order in the app: its life, the default wait and a
/// little more.
const WATCHED_MINUTES: f64 = 1.0;

/// `lambda_ms`: each function's mean invocation time, by name (cancels are left out: an
/// order costs what it costs when nobody cancels it).
pub fn per_million_orders(lambda_ms: &BTreeMap<String, f64>) -> Value {
    let orders = 1e6;
    // The wait is watched for a cancel: a look (task and Choice) after each nap (a Wait)
    // and one more once it is over.
    let wait = f64::from(orders_core::WaitSeconds::DEFAULT.value());
    let every = f64::from(orders_blueprint::workflow::CANCEL_CHECK_EVERY_SECONDS);
    let naps = (wait / every).ceil();
    let looks = naps + 1.0;
    let waiting = 1.0 + naps * 3.0 + 2.0;
    // States entered: SaveOrder, ProcessPayment, the wait (StartWaiting, the looks and
    // naps), PaymentOk?, then paid: MarkPaid, SendOrder, MarkSent; declined:
    // MarkPaymentFailed.
    let transitions = 2.0 + waiting + 1.0 + PAID * 3.0 + (1.0 - PAID);
    // Writes of the orders table: create, status (2 paid: PAYMENT_OK and SENT; 1
    // declined), the hand-off's claim and its record (paid), notified mark.
    let order_writes = 1.0 + PAID * 2.0 + (1.0 - PAID) + PAID * 2.0 + 1.0;
    // Order events: one per status, RECEIVED included.
    let events = 1.0 + PAID * 2.0 + (1.0 - PAID);
    // The pipe's batches hold up to ten records (one each at worst, as for the consumer).
    let pipe_batches = order_writes / f64::from(orders_blueprint::events::PIPE_BATCH_SIZE);
    // Invocations per order: the consumer takes batches of up to ten, manage-order-state
    // saves, looks and marks (2 marks paid, 1 declined), one payment, one hand-off when
    // paid, one status read by the app, the pipe's enrichment per batch; and live status:
    // the app's one connection (authorized, stored, forgotten) and a push per event.
    let invocations = [
        (
            orders_blueprint::START_ORDER,
            1.0 / orders_blueprint::BATCH_SIZE as f64,
        ),
        (
            orders_blueprint::MANAGE_ORDER_STATE,
            1.0 + looks + PAID * 2.0 + (1.0 - PAID),
        ),
        (orders_blueprint::PROCESS_PAYMENT, 1.0),
        (orders_blueprint::SEND_ORDER, PAID),
        (orders_blueprint::GET_ORDER, 1.0),
        (orders_blueprint::ORDER_EVENTS, pipe_batches),
        (orders_blueprint::AUTHORIZE_SOCKET, 1.0),
        (orders_blueprint::SOCKET_CONNECTIONS, 2.0),
        (orders_blueprint::PUSH_STATUS, events),
    ];
    let memory_gb = 128.0 / 1024.0;
    let lambda_requests: f64 = invocations.iter().map(|(_, n)| n).sum();
    let lambda_gb_seconds: f64 = invocations
        .iter()
        .map(|(function, n)| {
            let ms = lambda_ms.get(*function).copied().unwrap_or(0.0);
            n * (ms.ceil() / 1000.0) * memory_gb
        })
        .sum();
    // Writes: the orders table's, and the connection stored and deleted. Reads: a
    // consistent read per status change, look and hand-off, and the GET; and push-status'
    // query of the connections index per event (eventually consistent: half a unit).
    let writes = order_writes + 2.0;
    let reads = PAID * 3.0 + (1.0 - PAID) * 2.0 + looks + PAID + 1.0 + events * 0.5;
    let publishes = 1.0 + PAID;
    // SendMessage, plus receive and delete for each batch of ten.
    let sqs_requests = 1.0 + 2.0 / orders_blueprint::BATCH_SIZE as f64;
    // Express bills the whole run, the wait included, in 64 MB chunks and 100 ms steps.
    let express_seconds = orders_core::WaitSeconds::DEFAULT.value() as f64 + 0.2;

    let items = [
        (
            "Step Functions Standard (state transitions)",
            transitions * STANDARD_PER_TRANSITION,
        ),
        ("SNS email to the customer", SNS_PER_EMAIL),
        (
            "API Gateway REST (POST and one GET)",
            2.0 * API_GATEWAY_REST_PER_REQUEST,
        ),
        (
            "DynamoDB on demand",
            writes * DYNAMODB_PER_WRITE_UNIT + reads * DYNAMODB_PER_READ_UNIT,
        ),
        ("Lambda requests", lambda_requests * LAMBDA_PER_REQUEST),
        (
            "Lambda duration (128 MB arm64)",
            lambda_gb_seconds * LAMBDA_ARM64_PER_GB_SECOND,
        ),
        ("SNS publishes", publishes * SNS_PER_PUBLISH),
        ("SQS", sqs_requests * SQS_PER_REQUEST),
        (
            "Order events (bus events, pipe requests)",
            events * EVENTBRIDGE_PER_EVENT + order_writes * PIPES_PER_REQUEST,
        ),
        (
            "Live status (WebSocket messages and connection minutes)",
            events * WEBSOCKET_PER_MESSAGE + WATCHED_MINUTES * WEBSOCKET_PER_CONNECTION_MINUTE,
        ),
    ];
    let standard_total: f64 = items.iter().map(|(_, c)| c * orders).sum();
    let workflow_standard = items[0].1 * orders;
    let workflow_express =
        (EXPRESS_PER_REQUEST + express_seconds.ceil() * 0.0625 * EXPRESS_PER_GB_SECOND) * orders;
    json!({
        "orders": orders,
        "assumptions": {
            "paid_share": PAID,
            "state_transitions_per_order": transitions,
            "lambda_invocations_per_order": lambda_requests,
            "dynamodb_writes_per_order": writes,
            "dynamodb_reads_per_order": reads,
            "order_events_per_order": events,
            "wait_seconds": orders_core::WaitSeconds::DEFAULT.value(),
        },
        "standard_items_usd": items.iter().map(|(name, c)| json!({"item": name, "usd": c * orders})).collect::<Vec<_>>(),
        "standard_total_usd": standard_total,
        "workflow_standard_usd": workflow_standard,
        "workflow_express_usd": workflow_express,
        "express_total_usd": standard_total - workflow_standard + workflow_express,
    })
}

pub fn markdown(cost: &Value) -> String {
    let mut out = String::new();
    let a = &cost["assumptions"];
    let _ = writeln!(
        out,
        "## Cost per million orders (list prices, us-east-1, no free tier)\n"
    );
    let _ = writeln!(
        out,
        "Assumptions: {:.0}% paid, {:.1} state transitions, {:.1} Lambda invocations, {:.1} table writes and {:.1} reads, {:.1} order events each pushed to one open connection per order, a {} s wait.\n",
        a["paid_share"].as_f64().unwrap_or(0.0) * 100.0,
        a["state_transitions_per_order"].as_f64().unwrap_or(0.0),
        a["lambda_invocations_per_order"].as_f64().unwrap_or(0.0),
        a["dynamodb_writes_per_order"].as_f64().unwrap_or(0.0),
        a["dynamodb_reads_per_order"].as_f64().unwrap_or(0.0),
        a["order_events_per_order"].as_f64().unwrap_or(0.0),
        a["wait_seconds"]
    );
    let _ = writeln!(out, "| item (Standard workflow) | USD |\n| --- | --- |");
    let total = cost["standard_total_usd"].as_f64().unwrap_or(1.0);
    for item in cost["standard_items_usd"].as_array().into_iter().flatten() {
        let usd = item["usd"].as_f64().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "| {} | {:.2} ({:.0}%) |",
            item["item"].as_str().unwrap_or(""),
            usd,
            usd / total * 100.0
        );
    }
    let _ = writeln!(out, "| **total** | **{total:.2}** |\n");
    let _ = writeln!(
        out,
        "The workflow dominates: ${:.2} per million on Standard. On Express it would be ${:.2} (one request and {}+ s of 64 MB each, the wait included), for a total of ${:.2}. Express gives up what this design leans on: at-least-once execution and no execution-name idempotency, so a redelivered message could run an order twice (the conditional writes would still keep the table and the emails right), and no 90-day execution history.\n",
        cost["workflow_standard_usd"].as_f64().unwrap_or(0.0),
        cost["workflow_express_usd"].as_f64().unwrap_or(0.0),
        a["wait_seconds"],
        cost["express_total_usd"].as_f64().unwrap_or(0.0)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_workflow_dominates_and_express_is_cheaper_for_it() {
        let ms = orders_blueprint::FUNCTIONS
            .iter()
            .map(|f| (f.name.to_string(), 5.0))
            .collect();
        let cost = per_million_orders(&ms);
        let items = cost["standard_items_usd"].as_array().unwrap();
        let largest = items
            .iter()
            .max_by(|a, b| a["usd"].as_f64().partial_cmp(&b["usd"].as_f64()).unwrap())
            .unwrap();
        assert_eq!(
            largest["item"],
            "Step Functions Standard (state transitions)"
        );
        // 17.6 transitions at $25 per million: 2 before the wait, 12 in it (a 30 s wait
        // watched every 10 s: start, 3 looks with their Choice and nap, a last look and
        // Choice), the Choice after it, 3 states paid and 1 declined.
        let transitions = cost["assumptions"]["state_transitions_per_order"].as_f64();
        assert!((transitions.unwrap() - 17.6).abs() < 1e-9);
        assert!((cost["workflow_standard_usd"].as_f64().unwrap() - 440.0).abs() < 1e-6);
        assert!(cost["workflow_express_usd"].as_f64().unwrap() < 440.0);
        // 2.8 events an order: RECEIVED, then PAYMENT_OK and SENT_TO_RESTAURANT (80%) or
        // PAYMENT_FAILED; each one a bus event and a WebSocket message.
        let events = cost["assumptions"]["order_events_per_order"]
            .as_f64()
            .unwrap();
        assert!((events - 2.8).abs() < 1e-9);
    }

    #[test]
    fn each_function_is_billed_its_own_duration() {
        let mut ms: BTreeMap<String, f64> = orders_blueprint::FUNCTIONS
            .iter()
            .map(|f| (f.name.to_string(), 1.0))
            .collect();
        let base = per_million_orders(&ms);
        let duration = |cost: &Value| {
            cost["standard_items_usd"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["item"] == "Lambda duration (128 MB arm64)")
                .unwrap()["usd"]
                .as_f64()
                .unwrap()
        };
        // push-status runs 2.8 times an order: 100 ms more each is 0.28 s an order.
        ms.insert(orders_blueprint::PUSH_STATUS.to_string(), 101.0);
        let slower = per_million_orders(&ms);
        let extra = duration(&slower) - duration(&base);
        let expected = 2.8 * 0.1 * (128.0 / 1024.0) * LAMBDA_ARM64_PER_GB_SECOND * 1e6;
        assert!((extra - expected).abs() < 1e-6, "{extra} vs {expected}");
    }
}

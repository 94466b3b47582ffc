//! Lambda entry point of order-events, the pipe's enrichment. No environment: it reads a
//! batch of stream records and answers the events.

use aws_lambda_events::event::dynamodb::EventRecord;
use orders_aws::{init_tracing, serve};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    serve(
        |records: &Vec<EventRecord>| tracing::info_span!("invocation", records = records.len()),
        |records| async move {
            let events = order_events::handle(records)?;
            tracing::info!(events = events.len(), "events derived");
            Ok::<_, orders_core::OrderError>(events)
        },
    )
    .await
}

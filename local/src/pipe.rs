//! The pipe from the orders table's stream to the orders event bus, as EventBridge Pipes
//! runs it in the cloud (the emulator serves Pipes' API but runs no pipe): read the stream
//! in order, a batch at a time; hand the batch to order-events (the enrichment); put its
//! events on the bus; only then move past the batch. A batch that keeps failing is retried
//! [`orders_blueprint::events::PIPE_RETRY_ATTEMPTS`] times, then named in the pipe's
//! dead-letter queue and passed over, as the cloud's pipe does.
//!
//! Nothing is published by the function that wrote: a write that committed is in the
//! stream, so its event comes, at least once, whatever happened to the writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use orders_blueprint::events::{PIPE_BATCH_SIZE, PIPE_RETRY_ATTEMPTS};
use orders_core::events::{DETAIL_TYPE, OrderEvent, SOURCE};
use serde_json::{Value, json};

use crate::lambda_host::Functions;

pub struct Pipe {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub functions: Arc<Functions>,
    pub stream_arn: String,
    pub bus_name: String,
    pub dead_letter_queue_url: String,
}

/// Where the pipe stands in each shard: the last record it is done with.
type Positions = HashMap<String, String>;

impl Pipe {
    pub async fn run(self) {
        let mut positions = Positions::new();
        loop {
            match self.poll_once(&mut positions).await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(err) => {
                    tracing::warn!(error = %err, "reading the orders table's stream failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One batch from each shard that has one; whether any had.
    async fn poll_once(&self, positions: &mut Positions) -> anyhow::Result<bool> {
        let described = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await?;
        let shards = described
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default();
        let mut busy = false;
        for shard in shards {
            let Some(shard_id) = shard.shard_id else {
                continue;
            };
            let records = self.read(&shard_id, positions.get(&shard_id)).await?;
            let Some(last) = records.last().and_then(|r| r.dynamodb.as_ref()) else {
                continue;
            };
            let last = last.sequence_number.clone().unwrap_or_default();
            busy = true;
            self.deliver(&records).await;
            positions.insert(shard_id, last);
        }
        Ok(busy)
    }

    /// Up to a batch of the records after `after` (from the stream's start without one).
    async fn read(&self, shard_id: &str, after: Option<&String>) -> anyhow::Result<Vec<Record>> {
        // A fresh iterator each time: one that was read to the end is not read again.
        let request = self
            .streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard_id);
        let request = match after {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let Some(iterator) = request.send().await?.shard_iterator else {
            return Ok(Vec::new());
        };
        let output = self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(PIPE_BATCH_SIZE as i32)
            .send()
            .await?;
        Ok(output.records.unwrap_or_default())
    }

    /// Publishes a batch's events, trying again until the retries are spent; then the
    /// batch is named in the dead-letter queue.
    async fn deliver(&self, records: &[Record]) {
        let mut last_error = String::new();
        for attempt in 0..=PIPE_RETRY_ATTEMPTS {
            if attempt > 0 {
                let pause = Duration::from_millis(100 * 2u64.pow(attempt.min(5)));
                tokio::time::sleep(pause).await;
            }
            match self.publish(records).await {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(attempt, error = %err, "the pipe could not deliver a batch");
                    last_error = err.to_string();
                }
            }
        }
        let sequence = |r: Option<&Record>| {
            r.and_then(|r| r.dynamodb.as_ref())
                .and_then(|d| d.sequence_number.clone())
        };
        let letter = json!({
            "stream": self.stream_arn,
            "firstSequenceNumber": sequence(records.first()),
            "lastSequenceNumber": sequence(records.last()),
            "records": records.len(),
            "error": last_error,
        });
        if let Err(err) = self
            .sqs
            .send_message()
            .queue_url(&self.dead_letter_queue_url)
            .message_body(letter.to_string())
            .send()
            .await
        {
            tracing::error!(error = %err, batch = %letter, "a batch the pipe gave up on could not be dead-lettered");
        }
    }

    /// Enriches the batch and puts its events on the bus; an error if either failed.
    async fn publish(&self, records: &[Record]) -> anyhow::Result<()> {
        let batch = records
            .iter()
            .map(|record| as_pipe_record(record, &self.stream_arn))
            .collect::<anyhow::Result<Vec<EventRecord>>>()?;
        let events: Vec<OrderEvent> =
            self.functions.order_events(batch).await.map_err(|err| {
                anyhow::anyhow!("order-events failed: {}: {}", err.name, err.message)
            })?;
        if events.is_empty() {
            return Ok(());
        }
        let mut request = self.events.put_events();
        for event in &events {
            request = request.entries(
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus_name)
                    .source(SOURCE)
                    .detail_type(DETAIL_TYPE)
                    .detail(serde_json::to_string(event)?)
                    .build(),
            );
        }
        let output = request.send().await?;
        let failed = output.failed_entry_count;
        anyhow::ensure!(
            failed == 0,
            "the bus refused {failed} of {} events",
            events.len()
        );
        for event in &events {
            crate::progress::event(event);
        }
        Ok(())
    }
}

/// A stream record as a pipe hands it to its enrichment: the DynamoDB Streams record in
/// its JSON form, with the stream's ARN.
fn as_pipe_record(record: &Record, stream_arn: &str) -> anyhow::Result<EventRecord> {
    let change = record
        .dynamodb
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("a stream record without its change"))?;
    let image = |image: Option<
        &HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >|
     -> anyhow::Result<Value> {
        match image {
            Some(image) => Ok(serde_json::to_value(serde_dynamo::Item::from(
                image.clone(),
            ))?),
            None => Ok(Value::Null),
        }
    };
    let value = json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version,
        "eventSource": record.event_source,
        "awsRegion": record.aws_region,
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": change
                .approximate_creation_date_time
                .map(|t| t.as_secs_f64()),
            "Keys": image(change.keys.as_ref())?,
            "NewImage": image(change.new_image.as_ref())?,
            "OldImage": image(change.old_image.as_ref())?,
            "SequenceNumber": change.sequence_number,
            "SizeBytes": change.size_bytes,
            "StreamViewType": change.stream_view_type.as_ref().map(|v| v.as_str()),
        },
    });
    Ok(serde_json::from_value(value)?)
}

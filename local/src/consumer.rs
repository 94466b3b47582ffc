//! The SQS → start-order event source mapping, as Lambda runs it: receive batches of up
//! to ten, invoke the consumer, delete what succeeded, and leave the reported failures
//! (or the whole batch, if the invocation failed) to become visible again. After
//! `maxReceiveCount` receives the queue's redrive moves a message to the DLQ.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};

use crate::lambda_host::Functions;
use crate::progress;

pub struct Consumer {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub functions: Arc<Functions>,
}

impl Consumer {
    pub async fn run(self) {
        loop {
            if let Err(err) = self.poll_once().await {
                tracing::warn!(error = %err, "polling the order queue failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn poll_once(&self) -> anyhow::Result<()> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(orders_blueprint::BATCH_SIZE as i32)
            .wait_time_seconds(1)
            // Lambda's SQS events carry the receive count among the record's attributes.
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| {
                let mut record = SqsMessage::default();
                record.message_id = m.message_id.clone();
                record.receipt_handle = m.receipt_handle.clone();
                record.body = m.body.clone();
                record.event_source = Some("aws:sqs".into());
                record.attributes = m
                    .attributes
                    .iter()
                    .flatten()
                    .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                    .collect();
                record
            })
            .collect();
        let failed: Vec<String> = match self.functions.start_order(event).await {
            Ok(response) => response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            // The whole batch comes back after the visibility timeout.
            Err(err) => {
                tracing::warn!(
                    error = err.name,
                    message = err.message,
                    "the consumer failed; the batch will be received again"
                );
                return Ok(());
            }
        };
        for refused in messages
            .iter()
            .filter(|m| m.message_id.as_ref().is_some_and(|id| failed.contains(id)))
        {
            let receive_count = refused
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .map_or("?", String::as_str);
            progress::message_refused(refused.message_id().unwrap_or("-"), receive_count);
        }
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .filter(|m| m.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone()?)
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty() {
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(done))
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                })?;
        }
        Ok(())
    }
}

/// Shows what the topics delivered: the customer's emails and the restaurants' orders.
pub async fn watch_inbox(sqs: aws_sdk_sqs::Client, queue_url: String, restaurant: bool) {
    loop {
        let received = match sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
        {
            Ok(received) => received,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for message in received.messages.unwrap_or_default() {
            if let Some(envelope) = message
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            {
                show(&envelope, restaurant);
            }
            if let Some(handle) = message.receipt_handle {
                let _ = sqs
                    .delete_message()
                    .queue_url(&queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
        }
    }
}

fn show(envelope: &serde_json::Value, restaurant: bool) {
    let attribute = |name: &str| {
        envelope["MessageAttributes"][name]["Value"]
            .as_str()
            .unwrap_or("-")
            .to_owned()
    };
    if restaurant {
        progress::restaurant_received(&attribute("order_id"), &attribute("restaurant_id"));
    } else {
        progress::notified(
            &attribute("order_id"),
            envelope["Subject"].as_str().unwrap_or(""),
        );
    }
}

//! The dead letters of a dead-letter queue, for an operator: list them, show one, and put
//! them back on the queue they came from once their cause is fixed.
//!
//! Works against AWS and against local mode alike: the SDK configuration is the usual one
//! (`AWS_PROFILE`, `AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` for local mode's
//! emulator). A redrive sends each message to its source queue, body and attributes
//! unchanged, and deletes it from the dead-letter queue only once the send succeeded: a
//! failure in between leaves a message in both queues (the pipeline is idempotent on the
//! order id, so it still runs once), never in neither.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};

/// How long a message read by this tool stays hidden from other readers: long enough to
/// list a queue or redrive its messages.
const HOLD: Duration = Duration::from_secs(60);

/// One dead letter as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub message_id: String,
    /// The order it carries, if its body is an order message.
    pub order_id: Option<String>,
    /// How many times it was received before it was moved here.
    pub receive_count: Option<u32>,
    /// How long ago it was first sent.
    pub age: Option<Duration>,
    pub body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    receipt_handle: String,
}

/// What a redrive did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Redriven {
    /// Sent back to the source queue and deleted from the dead-letter queue.
    pub moved: Vec<String>,
    /// Asked for, but not in the dead-letter queue.
    pub not_found: Vec<String>,
}

pub struct DeadLetterQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

/// The SDK configuration from the environment and the profile, as the AWS CLI reads them.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .load()
        .await
}

impl DeadLetterQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            sqs,
            url: url.into(),
        }
    }

    /// Every message of the queue, each read once, and left in it as it was.
    pub async fn list(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let letters = self.read().await?;
        self.release(&letters).await?;
        Ok(letters)
    }

    /// Makes messages read here visible again at once.
    async fn release<'a>(
        &self,
        letters: impl IntoIterator<Item = &'a DeadLetter>,
    ) -> anyhow::Result<()> {
        for letter in letters {
            self.sqs
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(&letter.receipt_handle)
                .visibility_timeout(0)
                .send()
                .await
                .context("leaving a message in the dead-letter queue")?;
        }
        Ok(())
    }

    /// Every message of the queue, each read once and hidden from other readers for a
    /// minute, so that none is read twice.
    async fn read(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let mut letters: Vec<DeadLetter> = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .visibility_timeout(HOLD.as_secs() as i32)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .context("reading the dead-letter queue")?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok(letters);
            }
            for message in messages {
                let letter = dead_letter(message, SystemTime::now())?;
                if !letters.iter().any(|l| l.message_id == letter.message_id) {
                    letters.push(letter);
                }
            }
        }
    }

    /// The queues that send this one their dead letters (one for this stack's queues).
    pub async fn source_queue(&self) -> anyhow::Result<String> {
        let sources = self
            .sqs
            .list_dead_letter_source_queues()
            .queue_url(&self.url)
            .send()
            .await
            .context("finding the queue the dead letters came from")?
            .queue_urls;
        match sources.as_slice() {
            [one] => Ok(one.clone()),
            [] => bail!(
                "no queue redrives to {}; give the source queue with --to",
                self.url
            ),
            _ => bail!(
                "several queues redrive to {}: {sources:?}; choose one with --to",
                self.url
            ),
        }
    }

    /// Sends the chosen dead letters (all when `chosen` is empty) back to `source`, then
    /// deletes each from this queue once its send succeeded.
    pub async fn redrive(&self, chosen: &[String], source: &str) -> anyhow::Result<Redriven> {
        let letters = self.read().await?;
        let wanted = |letter: &DeadLetter| chosen.is_empty() || chosen.contains(&letter.message_id);
        self.release(letters.iter().filter(|l| !wanted(l))).await?;
        let mut done = Redriven::default();
        for id in chosen {
            if !letters.iter().any(|l| &l.message_id == id) {
                done.not_found.push(id.clone());
            }
        }
        for letter in letters.iter().filter(|l| wanted(l)) {
            self.sqs
                .send_message()
                .queue_url(source)
                .message_body(&letter.body)
                .set_message_attributes(
                    (!letter.attributes.is_empty()).then(|| letter.attributes.clone()),
                )
                .send()
                .await
                .with_context(|| format!("sending {} back; it stays here", letter.message_id))?;
            self.sqs
                .delete_message()
                .queue_url(&self.url)
                .receipt_handle(&letter.receipt_handle)
                .send()
                .await
                .with_context(|| {
                    format!(
                        "{} was sent back but is still here: delete it by hand",
                        letter.message_id
                    )
                })?;
            done.moved.push(letter.message_id.clone());
        }
        Ok(done)
    }
}

fn dead_letter(message: Message, now: SystemTime) -> anyhow::Result<DeadLetter> {
    let system = message.attributes.unwrap_or_default();
    let number = |name: MessageSystemAttributeName| -> Option<u64> {
        system.get(&name).and_then(|value| value.parse().ok())
    };
    let sent = number(MessageSystemAttributeName::SentTimestamp)
        .map(|millis| UNIX_EPOCH + Duration::from_millis(millis));
    let body = message.body.unwrap_or_default();
    Ok(DeadLetter {
        message_id: message.message_id.context("a message without an id")?,
        order_id: order_id_of(&body),
        receive_count: number(MessageSystemAttributeName::ApproximateReceiveCount)
            .map(|count| count as u32),
        age: sent.and_then(|sent| now.duration_since(sent).ok()),
        body,
        attributes: message.message_attributes.unwrap_or_default(),
        receipt_handle: message
            .receipt_handle
            .context("a message without a receipt handle")?,
    })
}

/// The order id a message body carries: an order message's `order_id`, or an execution
/// event's `detail.name`.
pub fn order_id_of(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value
        .get("order_id")
        .or_else(|| value.get("detail")?.get("name"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_shows_its_order_receive_count_and_age() {
        let now = SystemTime::now();
        let sent = now - Duration::from_secs(90);
        let millis = sent.duration_since(UNIX_EPOCH).unwrap().as_millis();
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("r-1")
            .body(r#"{"order_id":"Jl-yYG0uIAMFeWQ=","order":{}}"#)
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .attributes(
                MessageSystemAttributeName::SentTimestamp,
                millis.to_string(),
            )
            .build();
        let letter = dead_letter(message, now).unwrap();
        assert_eq!(letter.order_id.as_deref(), Some("Jl-yYG0uIAMFeWQ="));
        assert_eq!(letter.receive_count, Some(3));
        assert_eq!(letter.age.unwrap().as_secs(), 90);
    }

    #[test]
    fn order_ids_come_from_order_messages_and_execution_events() {
        assert_eq!(order_id_of(r#"{"order_id":"o-1"}"#).as_deref(), Some("o-1"));
        assert_eq!(
            order_id_of(r#"{"detail-type":"x","detail":{"name":"o-2"}}"#).as_deref(),
            Some("o-2")
        );
        assert_eq!(order_id_of("not json"), None);
    }
}

//! start-order: the consumer of the order queue.
//!
//! For every record of an SQS batch it reads the queue message, checks it, and starts the
//! order workflow with the order id as execution name. Failures are reported per record
//! (`ReportBatchItemFailures`): a failed record stays on the queue and is received again,
//! and after three receives the queue's redrive moves it to the dead-letter queue. Records
//! that succeeded are deleted; no record can block or drop its neighbours.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use orders_aws::HandlerError;
use orders_core::{OrderMessage, OrderSubmission, Started, WorkflowStarter};
use tracing::Instrument;

/// Why one record failed.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// The message can never succeed (not JSON, wrong shape, invalid order). It is still
    /// reported as failed, never deleted, so the redrive keeps it in the DLQ for a person.
    #[error("unusable message: {0}")]
    Poison(String),
    #[error(transparent)]
    Start(#[from] orders_core::DependencyError),
}

/// Handles a batch; the response lists exactly the records to receive again.
pub async fn handle(
    starter: &impl WorkflowStarter,
    event: SqsEvent,
) -> Result<SqsBatchResponse, HandlerError> {
    let outcomes = join_all(event.records.iter().map(|record| process(starter, record))).await;
    let mut response = SqsBatchResponse::default();
    for (record, outcome) in event.records.iter().zip(outcomes) {
        if outcome.is_ok() {
            continue;
        }
        // Without its id a failed record cannot be named; failing the whole invocation
        // puts every record of the batch back on the queue rather than losing this one.
        let Some(message_id) = record.message_id.clone() else {
            return Err(HandlerError {
                name: "MissingMessageId",
                message: "a failed record has no messageId; the whole batch is retried".into(),
            });
        };
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = message_id;
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

async fn process(starter: &impl WorkflowStarter, record: &SqsMessage) -> Result<(), RecordError> {
    let message_id = record.message_id.as_deref().unwrap_or("<none>");
    let result = async {
        let body = record
            .body
            .as_deref()
            .ok_or_else(|| RecordError::Poison("the record has no body".into()))?;
        let message: OrderMessage =
            serde_json::from_str(body).map_err(|e| RecordError::Poison(e.to_string()))?;
        let submission = OrderSubmission::from(message);
        let span = tracing::info_span!("order", order_id = %submission.order_id);
        async {
            match starter.start(&submission).await? {
                Started::New => tracing::info!("workflow started"),
                Started::AlreadyStarted => {
                    tracing::info!("workflow already started; nothing to do")
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
    .await;
    match &result {
        Ok(()) => {}
        Err(err @ RecordError::Poison(_)) => {
            tracing::error!(message_id, error = %err, "record refused; it will reach the DLQ")
        }
        Err(err @ RecordError::Start(_)) => {
            tracing::warn!(message_id, error = %err, "record left on the queue for another try")
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::memory::MemoryWorkflows;
    use orders_core::{OrderId, UserId};
    use serde_json::json;

    fn record(message_id: &str, body: &str) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = Some(message_id.to_owned());
        record.body = Some(body.to_owned());
        record
    }

    /// A message as the API queues it: the body as the client sent it.
    fn order_message(order_id: &str) -> String {
        serde_json::to_string(&OrderMessage {
            order_id: OrderId::parse(order_id).unwrap(),
            user_id: UserId::parse("Burger_20").unwrap(),
            order: json!({"restaurant_id": "Restaurant 4", "quantity": "3"}),
        })
        .unwrap()
    }

    fn batch(records: Vec<SqsMessage>) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = records;
        event
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn batch_of_ten_with_one_bad_record_starts_nine_and_reports_the_bad_one() {
        let workflows = MemoryWorkflows::default();
        let records = (0..10)
            .map(|i| {
                let body = if i == 6 {
                    r#"{"order_id":"o-6","user_id":"u","order":{"restaurant_id":"r","quantity":0}}"#
                        .to_owned()
                } else {
                    order_message(&format!("o-{i}"))
                };
                record(&format!("m-{i}"), &body)
            })
            .collect();
        let response = handle(&workflows, batch(records)).await.unwrap();
        assert_eq!(failed_ids(&response), vec!["m-6"]);
        let started: Vec<String> = workflows
            .executions()
            .keys()
            .map(|id| id.to_string())
            .collect();
        assert_eq!(started.len(), 9);
        assert!(!started.contains(&"o-6".to_owned()));
    }

    #[tokio::test]
    async fn duplicate_message_starts_one_execution() {
        let workflows = MemoryWorkflows::default();
        let body = order_message("o-1");
        let first = handle(&workflows, batch(vec![record("m-1", &body)]))
            .await
            .unwrap();
        // The queue redelivers the same message (same id) and a copy (new id) in one batch.
        let again = handle(
            &workflows,
            batch(vec![record("m-1", &body), record("m-2", &body)]),
        )
        .await
        .unwrap();
        assert!(first.batch_item_failures.is_empty());
        assert!(
            again.batch_item_failures.is_empty(),
            "already started is success"
        );
        assert_eq!(workflows.executions().len(), 1);
    }

    #[tokio::test]
    async fn execution_input_is_the_normalised_message() {
        let workflows = MemoryWorkflows::default();
        handle(
            &workflows,
            batch(vec![record("m-1", &order_message("o-1"))]),
        )
        .await
        .unwrap();
        let execution = &workflows.executions()[&OrderId::parse("o-1").unwrap()];
        assert_eq!(
            serde_json::to_value(execution).unwrap(),
            json!({"order_id": "o-1", "order": {"user_id": "Burger_20", "restaurant_id": "Restaurant 4", "quantity": 3}})
        );
    }

    #[tokio::test]
    async fn poison_records_are_reported_not_dropped() {
        let workflows = MemoryWorkflows::default();
        let mut no_body = record("m-3", "");
        no_body.body = None;
        let records = vec![
            record("m-1", "not json"),
            record("m-2", r#"{"order": {}}"#),
            no_body,
            record(
                "m-4",
                r#"{"order_id":"has space","user_id":"u","order":{"restaurant_id":"r","quantity":1}}"#,
            ),
            record(
                "m-5",
                r#"{"order_id":"o-5","user_id":"u","order":{"restaurant_id":"r","quantity":1},"extra":1}"#,
            ),
            // No user: the API never queues an order without one.
            record(
                "m-6",
                r#"{"order_id":"o-6","order":{"restaurant_id":"r","quantity":1}}"#,
            ),
            record("m-ok", &order_message("o-ok")),
        ];
        let response = handle(&workflows, batch(records)).await.unwrap();
        assert_eq!(
            failed_ids(&response),
            vec!["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]
        );
        assert_eq!(workflows.executions().len(), 1);
    }

    #[tokio::test]
    async fn transient_start_failure_leaves_only_that_record_for_retry() {
        let workflows = MemoryWorkflows::default();
        let flaky = OrderId::parse("o-2").unwrap();
        workflows.fail_for(&flaky);
        let records: Vec<_> = (1..=3)
            .map(|i| record(&format!("m-{i}"), &order_message(&format!("o-{i}"))))
            .collect();
        let response = handle(&workflows, batch(records.clone())).await.unwrap();
        assert_eq!(failed_ids(&response), vec!["m-2"]);
        // The queue delivers it again once the service is back.
        workflows.heal(&flaky);
        let response = handle(&workflows, batch(vec![records[1].clone()]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(workflows.executions().len(), 3);
    }

    #[tokio::test]
    async fn failed_record_without_message_id_fails_the_whole_batch() {
        let workflows = MemoryWorkflows::default();
        let mut anonymous = record("x", "not json");
        anonymous.message_id = None;
        let err = handle(&workflows, batch(vec![anonymous]))
            .await
            .unwrap_err();
        assert_eq!(err.name, "MissingMessageId");
    }

    #[tokio::test]
    async fn empty_batch_reports_nothing() {
        let response = handle(&MemoryWorkflows::default(), batch(vec![]))
            .await
            .unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
}

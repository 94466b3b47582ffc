//! order-events: the enrichment step of the pipe from the orders table's stream to the
//! orders event bus. It gets a batch of stream records (the table's writes, in order) and
//! answers the events to publish: one per write that changed an order's status
//! (`orders_core::events`). The pipe puts each on the bus; an empty answer publishes
//! nothing. It reads and writes nothing itself, so a retried batch gives the same events.

use aws_lambda_events::event::dynamodb::EventRecord;
use orders_core::events::OrderEvent;
use orders_core::{Order, OrderError};

/// The events of a batch of stream records, in the records' order.
pub fn handle(records: Vec<EventRecord>) -> Result<Vec<OrderEvent>, OrderError> {
    let mut events = Vec::new();
    for record in records {
        let old = match record.event_name.as_str() {
            "INSERT" => None,
            "MODIFY" => Some(order(&record, record.change.old_image.clone(), "old")?),
            // An order is never deleted by the pipeline; a deletion is no status change.
            "REMOVE" => continue,
            other => {
                return Err(OrderError::InvalidInput(format!(
                    "record {}: unknown event name {other:?}",
                    record.event_id
                )));
            }
        };
        let new = order(&record, record.change.new_image.clone(), "new")?;
        events.extend(OrderEvent::of_change(old.as_ref(), &new));
    }
    Ok(events)
}

fn order(
    record: &EventRecord,
    image: serde_dynamo::Item,
    which: &str,
) -> Result<Order, OrderError> {
    serde_dynamo::from_item(image).map_err(|e| {
        OrderError::InvalidInput(format!(
            "record {}: its {which} image is not an order (is the stream's view NEW_AND_OLD_IMAGES?): {e}",
            record.event_id
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::{NewOrder, OrderId, OrderStatus, UserId};
    use serde_json::{Value, json};

    fn order(status: OrderStatus, version: u32) -> Order {
        let new = NewOrder {
            user_id: UserId::parse("u-1").unwrap(),
            restaurant_id: "r-1".into(),
            quantity: 2,
            note: None,
        };
        let mut order = Order::received(OrderId::parse("o-1").unwrap(), new, chrono::Utc::now());
        order.status = status;
        order.version = version;
        order
    }

    /// A stream record as the pipe hands it over: DynamoDB JSON images.
    fn record(name: &str, old: Option<&Order>, new: &Order) -> Value {
        let image = |order: &Order| -> Value {
            let item: serde_dynamo::Item = serde_dynamo::to_item(order).unwrap();
            serde_json::to_value(item).unwrap()
        };
        let mut change = json!({
            "ApproximateCreationDateTime": 1_764_244_800.0,
            "Keys": {"order_id": {"S": "o-1"}},
            "NewImage": image(new),
            "SequenceNumber": "100",
            "SizeBytes": 200,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        });
        if let Some(old) = old {
            change["OldImage"] = image(old);
        }
        json!({
            "eventID": format!("e-{}", new.version),
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": change,
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-dev-orders/stream/2026-12-06T00:00:00.000",
        })
    }

    fn records(values: Vec<Value>) -> Vec<EventRecord> {
        serde_json::from_value(Value::Array(values)).unwrap()
    }

    #[test]
    fn every_status_change_is_an_event_and_nothing_else_is() {
        let received = order(OrderStatus::Received, 1);
        let paid = order(OrderStatus::PaymentOk, 2);
        let mut claimed = paid.clone();
        claimed.handoff_at = Some(chrono::Utc::now());
        let sent = order(OrderStatus::SentToRestaurant, 3);
        let mut notified = sent.clone();
        notified.notified_status = Some(OrderStatus::SentToRestaurant);
        let batch = records(vec![
            record("INSERT", None, &received),
            record("MODIFY", Some(&received), &paid),
            record("MODIFY", Some(&paid), &claimed),
            record("MODIFY", Some(&claimed), &sent),
            record("MODIFY", Some(&sent), &notified),
        ]);
        let events = handle(batch).unwrap();
        let seen: Vec<(OrderStatus, u32)> = events.iter().map(|e| (e.status, e.version)).collect();
        assert_eq!(
            seen,
            [
                (OrderStatus::Received, 1),
                (OrderStatus::PaymentOk, 2),
                (OrderStatus::SentToRestaurant, 3)
            ]
        );
    }

    #[test]
    fn a_batch_without_a_status_change_publishes_nothing() {
        let paid = order(OrderStatus::PaymentOk, 2);
        let mut claimed = paid.clone();
        claimed.handoff_at = Some(chrono::Utc::now());
        let mut removed = record("REMOVE", Some(&paid), &paid);
        removed["dynamodb"]
            .as_object_mut()
            .unwrap()
            .remove("NewImage");
        let batch = records(vec![record("MODIFY", Some(&paid), &claimed), removed]);
        assert!(handle(batch).unwrap().is_empty());
    }

    #[test]
    fn an_image_that_is_not_an_order_fails_the_batch_with_its_record_named() {
        let mut broken = record("INSERT", None, &order(OrderStatus::Received, 1));
        broken["dynamodb"]["NewImage"] = json!({"order_id": {"S": "o-1"}});
        let err = handle(records(vec![broken])).unwrap_err();
        assert_eq!(err.name(), "InvalidInput");
        assert!(err.to_string().contains("e-1"), "{err}");
    }
}

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use orders_core::{DependencyError, Dispatcher, Notification, Notifier, Order};
use serde::Serialize;

use crate::dependency_error;

const SERVICE: &str = "SNS";

fn string_attribute(value: &str) -> Result<MessageAttributeValue, DependencyError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| dependency_error(SERVICE, e))
}

/// Customer notifications: one publish per final status, to the topic the customer's
/// email subscription listens on. `user_id`, `status` and `order_id` are message
/// attributes so a subscription can filter on them.
#[derive(Clone, Debug)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), DependencyError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notification.subject)
            .message(&notification.message)
            .message_attributes("user_id", string_attribute(notification.user_id.as_str())?)
            .message_attributes("status", string_attribute(notification.status.as_str())?)
            .message_attributes(
                "order_id",
                string_attribute(notification.order_id.as_str())?,
            )
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        Ok(())
    }
}

/// What a restaurant receives for a paid order (**contract** of the restaurant topic).
#[derive(Debug, Serialize)]
struct RestaurantOrder<'a> {
    order_id: &'a str,
    restaurant_id: &'a str,
    quantity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// The restaurant hand-off: a JSON message on the restaurant topic, with the
/// `restaurant_id` attribute so each restaurant can subscribe to its own orders.
/// The reference is SNS's message id.
#[derive(Clone, Debug)]
pub struct SnsDispatcher {
    client: Client,
    topic_arn: String,
}

impl SnsDispatcher {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Dispatcher for SnsDispatcher {
    async fn dispatch(&self, order: &Order) -> Result<String, DependencyError> {
        let message = serde_json::to_string(&RestaurantOrder {
            order_id: order.order_id.as_str(),
            restaurant_id: &order.restaurant_id,
            quantity: order.quantity,
            note: order.note.as_deref(),
        })
        .map_err(|e| DependencyError::new(SERVICE, e.to_string()))?;
        let output = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message)
            .message_attributes("restaurant_id", string_attribute(&order.restaurant_id)?)
            .message_attributes("order_id", string_attribute(order.order_id.as_str())?)
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        output
            .message_id
            .ok_or_else(|| DependencyError::new(SERVICE, "publish returned no message id"))
    }
}

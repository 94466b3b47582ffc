use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use orders_core::table::{KEY, USER_INDEX, USER_INDEX_HASH_KEY, USER_INDEX_RANGE_KEY};
use orders_core::{
    DependencyError, Dispatch, Failure, Inserted, Order, OrderId, OrderPage, OrderReader,
    OrderStatus, OrderStore, Position, Refund, StatusChange, UserId,
};
use serde::Serialize;

use crate::{dependency_error, is_service_error};

const SERVICE: &str = "DynamoDB";
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// The `Orders` table: one item per order, partition key `order_id` (S).
#[derive(Clone, Debug)]
pub struct DynamoOrderStore {
    client: Client,
    table: String,
}

impl DynamoOrderStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn key(id: &OrderId) -> AttributeValue {
        AttributeValue::S(id.as_str().to_owned())
    }

    /// An update of the order `id`, to be given its condition and expressions.
    fn update(
        &self,
        id: &OrderId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(KEY, Self::key(id))
    }
}

fn value(value: &impl Serialize) -> Result<AttributeValue, DependencyError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| DependencyError::new(SERVICE, format!("cannot encode a value: {e}")))
}

type UpdateResult = Result<
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
>;

/// A conditional update's outcome: its output, or `None` if its condition did not hold.
fn conditional(
    result: UpdateResult,
) -> Result<Option<aws_sdk_dynamodb::operation::update_item::UpdateItemOutput>, DependencyError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(err) if is_service_error(&err, CONDITION_FAILED) => Ok(None),
        Err(err) => Err(dependency_error(SERVICE, err)),
    }
}

/// The order an `ALL_NEW` update returned; `None` if its condition did not hold.
fn updated_order(result: UpdateResult) -> Result<Option<Order>, DependencyError> {
    match conditional(result)? {
        Some(output) => output
            .attributes
            .map(decode)
            .transpose()?
            .map(Some)
            .ok_or_else(|| DependencyError::new(SERVICE, "update returned no item")),
        None => Ok(None),
    }
}

fn decode(
    item: std::collections::HashMap<String, AttributeValue>,
) -> Result<Order, DependencyError> {
    serde_dynamo::from_item(item)
        .map_err(|e| DependencyError::new(SERVICE, format!("stored order is malformed: {e}")))
}

impl OrderReader for DynamoOrderStore {
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, DependencyError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, Self::key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        output.item.map(decode).transpose()
    }

    async fn list(
        &self,
        user: &UserId,
        limit: usize,
        after: Option<&Position>,
    ) -> Result<OrderPage, DependencyError> {
        // One more than asked: whether it comes back says whether there is a next page.
        let asked = i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USER_INDEX)
            .key_condition_expression("#user = :user")
            .expression_attribute_names("#user", USER_INDEX_HASH_KEY)
            .expression_attribute_values(":user", AttributeValue::S(user.to_string()))
            .scan_index_forward(false)
            .limit(asked);
        if let Some(after) = after {
            // The index's key and the table's: where the previous page stopped.
            let created_at = serde_dynamo::to_attribute_value(OrderTime(after.created_at))
                .map_err(|e| DependencyError::new(SERVICE, format!("cannot encode a time: {e}")))?;
            query = query.set_exclusive_start_key(Some(
                [
                    (
                        USER_INDEX_HASH_KEY.to_owned(),
                        AttributeValue::S(user.to_string()),
                    ),
                    (USER_INDEX_RANGE_KEY.to_owned(), created_at),
                    (KEY.to_owned(), Self::key(&after.order_id)),
                ]
                .into(),
            ));
        }
        let output = query
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        let orders = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        // A page cut short by DynamoDB's 1 MB limit has a next page too.
        Ok(OrderPage::cut(
            orders,
            limit,
            output.last_evaluated_key.is_some(),
        ))
    }
}

/// A creation time as the table stores it (the order's own field, so the same width).
#[derive(Serialize)]
struct OrderTime(#[serde(with = "orders_core::stored_time")] chrono::DateTime<chrono::Utc>);

impl OrderStore for DynamoOrderStore {
    async fn insert(&self, order: &Order) -> Result<Inserted, DependencyError> {
        let item = serde_dynamo::to_item(order)
            .map_err(|e| DependencyError::new(SERVICE, format!("cannot encode the order: {e}")))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(order_id)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Inserted::New),
            Err(err) if is_service_error(&err, CONDITION_FAILED) => {
                let stored = self.get(&order.order_id).await?.ok_or_else(|| {
                    DependencyError::new(SERVICE, "the order existed, then vanished")
                })?;
                Ok(Inserted::AlreadyExists(Box::new(stored)))
            }
            Err(err) => Err(dependency_error(SERVICE, err)),
        }
    }

    async fn update_status(
        &self,
        id: &OrderId,
        from: OrderStatus,
        change: &StatusChange,
    ) -> Result<Option<Order>, DependencyError> {
        // `status` is a DynamoDB reserved word; every name goes through a placeholder.
        // The version moves with the status, in the same write.
        let mut set = vec![
            "#status = :to",
            "#version = #version + :one",
            "#updated_at = :at",
        ];
        let mut request = self
            .update(id)
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":to", value(&change.status)?)
            .expression_attribute_values(":from", value(&from)?)
            .expression_attribute_values(":at", value(&change.at)?)
            .return_values(ReturnValue::AllNew);
        if let Some(payment) = &change.payment {
            set.push("#payment = :payment");
            request = request
                .expression_attribute_names("#payment", "payment")
                .expression_attribute_values(":payment", value(payment)?);
        }
        if let Some(failure) = &change.failure {
            set.push("#failure = :failure");
            request = request
                .expression_attribute_names("#failure", "failure")
                .expression_attribute_values(":failure", value(failure)?);
        }
        updated_order(
            request
                .update_expression(format!("SET {}", set.join(", ")))
                .send()
                .await,
        )
    }

    async fn cancel(
        &self,
        id: &OrderId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Order>, DependencyError> {
        let [received, paid] = OrderStatus::CANCELLABLE;
        let update = self
            .update(id)
            // The one write that decides a cancel against the hand-off's claim.
            .condition_expression(
                "#status IN (:received, :paid) AND attribute_not_exists(#handoff_at)",
            )
            .update_expression(
                "SET #status = :cancelled, #version = #version + :one, #cancelled_at = :at, #updated_at = :at",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#handoff_at", "handoff_at")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#cancelled_at", "cancelled_at")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_values(":received", value(&received)?)
            .expression_attribute_values(":paid", value(&paid)?)
            .expression_attribute_values(":cancelled", value(&OrderStatus::Cancelled)?)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":at", value(&at)?)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        updated_order(update)
    }

    async fn claim_handoff(
        &self,
        id: &OrderId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, DependencyError> {
        let update = self
            .update(id)
            .condition_expression("#status = :paid AND attribute_not_exists(#handoff_at)")
            .update_expression("SET #handoff_at = :at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#handoff_at", "handoff_at")
            .expression_attribute_values(":paid", value(&OrderStatus::PaymentOk)?)
            .expression_attribute_values(":at", value(&at)?)
            .send()
            .await;
        Ok(conditional(update)?.is_some())
    }

    async fn record_refund(
        &self,
        id: &OrderId,
        payment: &orders_core::Payment,
        refund: &Refund,
    ) -> Result<bool, DependencyError> {
        let update = self
            .update(id)
            .condition_expression("attribute_exists(#id) AND attribute_not_exists(#refund)")
            .update_expression("SET #refund = :refund, #payment = :payment")
            .expression_attribute_names("#id", KEY)
            .expression_attribute_names("#refund", "refund")
            .expression_attribute_names("#payment", "payment")
            .expression_attribute_values(":refund", value(refund)?)
            .expression_attribute_values(":payment", value(payment)?)
            .send()
            .await;
        Ok(conditional(update)?.is_some())
    }

    async fn record_refund_failure(
        &self,
        id: &OrderId,
        failure: &Failure,
    ) -> Result<bool, DependencyError> {
        self.set_once(id, "refund_failure", value(failure)?, None)
            .await
    }

    async fn record_dispatch(
        &self,
        id: &OrderId,
        dispatch: &Dispatch,
    ) -> Result<bool, DependencyError> {
        self.set_once(
            id,
            "dispatch",
            value(dispatch)?,
            Some(value(&dispatch.sent_at)?),
        )
        .await
    }

    async fn mark_notified(
        &self,
        id: &OrderId,
        status: OrderStatus,
    ) -> Result<bool, DependencyError> {
        self.set_once(id, "notified_status", value(&status)?, None)
            .await
    }
}

impl DynamoOrderStore {
    /// Sets `attribute` on an existing order unless it is set already; `false` if it was.
    async fn set_once(
        &self,
        id: &OrderId,
        attribute: &str,
        new_value: AttributeValue,
        updated_at: Option<AttributeValue>,
    ) -> Result<bool, DependencyError> {
        let mut request = self
            .update(id)
            .condition_expression("attribute_exists(#id) AND attribute_not_exists(#attr)")
            .expression_attribute_names("#id", KEY)
            .expression_attribute_names("#attr", attribute)
            .expression_attribute_values(":value", new_value);
        request = match updated_at {
            Some(at) => request
                .update_expression("SET #attr = :value, #updated_at = :at")
                .expression_attribute_names("#updated_at", "updated_at")
                .expression_attribute_values(":at", at),
            None => request.update_expression("SET #attr = :value"),
        };
        Ok(conditional(request.send().await)?.is_some())
    }
}

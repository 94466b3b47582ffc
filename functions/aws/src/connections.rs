//! The connections table of live status: who holds which open WebSocket connection.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use orders_core::table::connections::{EXPIRES_AT, KEY, USER, USER_INDEX};
use orders_core::{DependencyError, UserId};

use crate::dependency_error;

const SERVICE: &str = "DynamoDB";

#[derive(Clone, Debug)]
pub struct DynamoConnections {
    client: Client,
    table: String,
}

impl DynamoConnections {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Stores `connection` as `user`'s until `expires_at` (seconds since the epoch).
    pub async fn open(
        &self,
        connection: &str,
        user: &UserId,
        expires_at: i64,
    ) -> Result<(), DependencyError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(connection.to_owned()))
            .item(USER, AttributeValue::S(user.as_str().to_owned()))
            .item(EXPIRES_AT, AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        Ok(())
    }

    /// Forgets `connection` (nothing happens if it is not stored).
    pub async fn close(&self, connection: &str) -> Result<(), DependencyError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(connection.to_owned()))
            .send()
            .await
            .map_err(|e| dependency_error(SERVICE, e))?;
        Ok(())
    }

    /// The connections `user` holds, every page of them.
    pub async fn of_user(&self, user: &UserId) -> Result<Vec<String>, DependencyError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USER_INDEX)
            .key_condition_expression("#user = :user")
            .expression_attribute_names("#user", USER)
            .expression_attribute_values(":user", AttributeValue::S(user.as_str().to_owned()))
            .into_paginator()
            .items()
            .send();
        let mut connections = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| dependency_error(SERVICE, e))?;
            if let Some(AttributeValue::S(id)) = item.get(KEY) {
                connections.push(id.clone());
            }
        }
        Ok(connections)
    }
}

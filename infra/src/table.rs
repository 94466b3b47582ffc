//! The Orders table: on demand, point-in-time recovery, encrypted at rest, with an index of
//! each user's orders by creation time (what `GET /orders` reads) and a stream of its
//! writes (what the order events come from).

use crate::aws::dynamodb::table;
use crate::aws::types::dynamodb::{
    TableAttribute, TableGlobalSecondaryIndex, TableGlobalSecondaryIndexKeySchema,
    TablePointInTimeRecovery, TableServerSideEncryption,
};
use orders_blueprint::{Names, TABLE_KEY, user_index};
use pulumi_gestalt_rust::{Context, Output};

pub struct Table {
    pub arn: Output<String>,
    pub name: Output<String>,
    /// Its stream of every write, old and new item (what the order events come from).
    pub stream_arn: Output<String>,
}

pub fn create(ctx: &Context, names: &Names) -> Table {
    let table = table::create(
        ctx,
        "orders-table",
        table::TableArgs::builder()
            .name(names.table())
            .billing_mode("PAY_PER_REQUEST")
            .hash_key(TABLE_KEY)
            .attributes(string_keys(&[
                TABLE_KEY,
                user_index::HASH_KEY,
                user_index::RANGE_KEY,
            ]))
            .global_secondary_indexes(vec![
                TableGlobalSecondaryIndex::builder()
                    .name(user_index::NAME.to_string())
                    .key_schemas(vec![
                        index_key(user_index::HASH_KEY, "HASH"),
                        index_key(user_index::RANGE_KEY, "RANGE"),
                    ])
                    .projection_type(user_index::PROJECTION.to_string())
                    .build_struct(),
            ])
            .point_in_time_recovery(
                TablePointInTimeRecovery::builder()
                    .enabled(true)
                    .build_struct(),
            )
            // A KMS key owned by DynamoDB encrypts every table; `enabled` switches to the
            // account's AWS-managed key, whose use CloudTrail records.
            .server_side_encryption(
                TableServerSideEncryption::builder()
                    .enabled(true)
                    .build_struct(),
            )
            // Every committed write, with the item before and after it: the order events
            // are derived from it (`events`).
            .stream_enabled(true)
            .stream_view_type("NEW_AND_OLD_IMAGES")
            .build_struct(),
    );
    Table {
        arn: table.arn,
        name: table.name,
        stream_arn: table.stream_arn,
    }
}

/// The declared attributes of a table whose keys are `names`: only key attributes are
/// declared, and every key here is a string.
pub fn string_keys(names: &[&str]) -> Vec<TableAttribute> {
    names
        .iter()
        .map(|name| {
            TableAttribute::builder()
                .name(name.to_string())
                .type_("S".to_string())
                .build_struct()
        })
        .collect()
}

/// One key of an index: `kind` is `HASH` or `RANGE`.
pub fn index_key(attribute: &str, kind: &str) -> TableGlobalSecondaryIndexKeySchema {
    TableGlobalSecondaryIndexKeySchema::builder()
        .attribute_name(attribute.to_string())
        .key_type(kind.to_string())
        .build_struct()
}

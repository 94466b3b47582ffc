//! The Orders table: on demand, point-in-time recovery, encrypted at rest.

use crate::aws::dynamodb::table;
use crate::aws::types::dynamodb::{
    TableAttribute, TablePointInTimeRecovery, TableServerSideEncryption,
};
use orders_blueprint::{Names, TABLE_KEY};
use pulumi_gestalt_rust::{Context, Output};

pub struct Table {
    pub arn: Output<String>,
    pub name: Output<String>,
}

pub fn create(ctx: &Context, names: &Names) -> Table {
    let table = table::create(
        ctx,
        "orders-table",
        table::TableArgs::builder()
            .name(names.table())
            .billing_mode("PAY_PER_REQUEST")
            .hash_key(TABLE_KEY)
            .attributes(vec![
                TableAttribute::builder()
                    .name(TABLE_KEY.to_string())
                    .type_("S".to_string())
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
            .build_struct(),
    );
    Table {
        arn: table.arn,
        name: table.name,
    }
}

//! Log groups: created by the stack (not on first write) so they have a retention.

use crate::aws::cloudwatch::log_group;
use pulumi_gestalt_rust::{Context, Input, Output};

pub struct LogGroup {
    pub arn: Output<String>,
    pub name: Output<String>,
}

pub fn create(
    ctx: &Context,
    logical_name: &str,
    name: impl Into<Input<Option<String>>>,
    retention_days: u32,
) -> LogGroup {
    let group = log_group::create(
        ctx,
        logical_name,
        log_group::LogGroupArgs::builder()
            .name(name)
            .retention_in_days(retention_days as i32)
            .build_struct(),
    );
    LogGroup {
        arn: group.arn,
        name: group.name,
    }
}

/// The ARN pattern of a group's log streams (what CreateLogStream and PutLogEvents act on).
pub fn streams_of(group_arn: &Output<String>) -> Output<String> {
    group_arn.map(|arn| format!("{arn}:*"))
}

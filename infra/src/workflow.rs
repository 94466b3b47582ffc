//! The order state machine: `asl/order.asl.json` with the function ARNs and the wait
//! substituted, its role, and execution logging to its own log group.

use crate::aws::sfn::state_machine;
use crate::aws::types::sfn::{StateMachineLoggingConfiguration, StateMachineTracingConfiguration};
use crate::config::StackConfig;
use crate::iam::{self, Grant, role_with_policy};
use crate::logs;
use anyhow::{Context as _, Result};
use orders_blueprint::Names;
use orders_blueprint::workflow::{Substitutions, render};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};

pub struct TaskFunctions {
    pub manage_order_state_arn: Output<String>,
    pub process_payment_arn: Output<String>,
    pub send_order_arn: Output<String>,
}

/// The state machine, and the log group of its executions.
pub struct Workflow {
    pub arn: Output<String>,
    pub log_group_name: Output<String>,
}

pub fn create(
    ctx: &Context,
    names: &Names,
    config: &StackConfig,
    tasks: &TaskFunctions,
) -> Result<Workflow> {
    let wait_seconds = config.wait_seconds;
    // Render once with stand-in ARNs, so a broken definition fails here with its reason
    // instead of inside an output callback.
    render(&Substitutions {
        manage_order_state_arn: "arn:check".into(),
        process_payment_arn: "arn:check".into(),
        send_order_arn: "arn:check".into(),
        wait_seconds,
        execution_timeout_seconds: None,
    })
    .context("asl/order.asl.json cannot be rendered")?;

    let name = names.state_machine();
    // Step Functions advises the /aws/vendedlogs/ prefix: it keeps the account's log
    // resource policy small.
    let log_group = logs::create(
        ctx,
        "workflow-logs",
        format!("/aws/vendedlogs/states/{name}"),
        config.log_retention_days,
    );

    let role_arn = role_with_policy(
        ctx,
        "workflow-role",
        format!("{name}-role"),
        "Runs the order state machine's tasks",
        "states.amazonaws.com",
        vec![
            Grant::new(
                "InvokeTaskFunctions",
                &["lambda:InvokeFunction"],
                vec![
                    tasks.manage_order_state_arn.clone(),
                    tasks.process_payment_arn.clone(),
                    tasks.send_order_arn.clone(),
                ],
            ),
            Grant::on_any_resource("DeliverExecutionLogs", iam::DELIVER_LOGS),
            Grant::on_any_resource("SendTraces", iam::WRITE_TRACES),
            Grant::on_any_resource("SampleTraces", iam::READ_SAMPLING_RULES),
        ],
    );

    let definition = pulumi_combine!(
        tasks.manage_order_state_arn.clone(),
        tasks.process_payment_arn.clone(),
        tasks.send_order_arn.clone()
    )
    .map(
        move |(manage_order_state_arn, process_payment_arn, send_order_arn)| {
            render(&Substitutions {
                manage_order_state_arn,
                process_payment_arn,
                send_order_arn,
                wait_seconds,
                execution_timeout_seconds: None,
            })
            .expect("the definition rendered with stand-in ARNs above")
        },
    );

    let machine = state_machine::create(
        ctx,
        "workflow",
        state_machine::StateMachineArgs::builder()
            .name(name)
            .type_("STANDARD")
            .role_arn(role_arn)
            .definition(definition)
            .logging_configuration(log_group.arn.map(|arn| {
                StateMachineLoggingConfiguration::builder()
                    .level("ALL".to_string())
                    .include_execution_data(true)
                    // Step Functions wants the group's ARN with its streams wildcard.
                    .log_destination(format!("{arn}:*"))
                    .build_struct()
            }))
            .tracing_configuration(
                StateMachineTracingConfiguration::builder()
                    .enabled(true)
                    .build_struct(),
            )
            .build_struct(),
    );
    Ok(Workflow {
        arn: machine.arn,
        log_group_name: log_group.name,
    })
}

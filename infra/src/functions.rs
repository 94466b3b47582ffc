//! A Lambda function with everything it needs: its log group, its role (its own grants plus
//! logging and tracing) and the function itself.

use crate::artifacts::Artifact;
use crate::aws::lambda::function;
use crate::aws::types::lambda::{
    FunctionEnvironment, FunctionLoggingConfig, FunctionTracingConfig,
};
use crate::config::StackConfig;
use crate::iam::{self, Grant, role_with_policy};
use crate::logs;
use orders_blueprint::{FunctionSpec, Names};
use pulumi_gestalt_rust::{Context, Output};
use std::collections::HashMap;

pub struct Function {
    pub arn: Output<String>,
    pub name: Output<String>,
    pub invoke_arn: Output<String>,
}

/// What differs from one function to the next.
pub struct FunctionDef<'a> {
    pub spec: &'static FunctionSpec,
    pub description: &'static str,
    pub environment: Vec<(&'static str, Output<String>)>,
    pub grants: Vec<Grant>,
    pub artifact: &'a Artifact,
}

/// Fails if `def` sets other environment variables than the function reads.
pub fn create(
    ctx: &Context,
    names: &Names,
    config: &StackConfig,
    def: FunctionDef,
) -> anyhow::Result<Function> {
    let spec = def.spec;
    let mut set: Vec<&str> = def.environment.iter().map(|(key, _)| *key).collect();
    set.sort_unstable();
    anyhow::ensure!(
        set == spec.environment,
        "{} reads {:?} from its environment, the program sets {set:?}",
        spec.name,
        spec.environment
    );
    let function_name = names.function(spec.name);
    let log_group = logs::create(
        ctx,
        &format!("{}-logs", spec.name),
        format!("/aws/lambda/{function_name}"),
        config.log_retention_days,
    );

    let mut grants = def.grants;
    grants.push(Grant::new(
        "WriteOwnLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![logs::streams_of(&log_group.arn)],
    ));
    grants.push(Grant::on_any_resource("SendTraces", iam::WRITE_TRACES));
    let role_arn = role_with_policy(
        ctx,
        &format!("{}-role", spec.name),
        format!("{function_name}-role"),
        &format!("Runs the {} function", spec.name),
        "lambda.amazonaws.com",
        grants,
    );

    let (keys, values): (Vec<&'static str>, Vec<Output<String>>) =
        def.environment.into_iter().unzip();
    let environment = crate::outputs::all(values).map(move |values| {
        let variables: HashMap<String, String> =
            keys.iter().map(|key| key.to_string()).zip(values).collect();
        FunctionEnvironment::builder()
            .variables(variables)
            .build_struct()
    });
    let logging = log_group.name.map(|group| {
        FunctionLoggingConfig::builder()
            .log_format("JSON".to_string())
            .log_group(group)
            .application_log_level("INFO".to_string())
            .system_log_level("WARN".to_string())
            .build_struct()
    });

    let function = function::create(
        ctx,
        spec.name,
        function::FunctionArgs::builder()
            .name(function_name)
            .description(def.description)
            .role(role_arn)
            .runtime("provided.al2023")
            .handler("bootstrap")
            .architectures(vec![config.architecture.lambda_name().to_string()])
            .memory_size(spec.memory_mb as i32)
            .timeout(spec.timeout_seconds as i32)
            .code(def.artifact.as_pulumi_archive())
            .environment(environment)
            .tracing_config(
                FunctionTracingConfig::builder()
                    .mode("Active".to_string())
                    .build_struct(),
            )
            .logging_config(logging)
            .build_struct(),
    );
    Ok(Function {
        arn: function.arn,
        name: function.name,
        invoke_arn: function.invoke_arn,
    })
}

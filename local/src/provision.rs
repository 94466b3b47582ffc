//! Creates the stack's resources in the emulator, with the names and settings of
//! `orders-blueprint`, the definition the Pulumi program deploys from.

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use orders_blueprint::Names;
use orders_blueprint::workflow::{self, Substitutions};
use orders_emulator::provision;

/// Where everything is, once created.
#[derive(Debug, Clone)]
pub struct Stack {
    pub names: Names,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
    pub table: String,
    pub notification_topic_arn: String,
    pub restaurant_topic_arn: String,
    pub state_machine_arn: String,
    /// Local only: queues subscribed to the topics, so the runner can show what a
    /// customer's email and a restaurant would receive.
    pub notification_inbox_url: String,
    pub restaurant_inbox_url: String,
}

pub struct Settings {
    pub wait_seconds: orders_core::WaitSeconds,
    /// The execution timeout; `None`: the stack's (the wait and an hour).
    pub execution_timeout_seconds: Option<u32>,
    pub visibility_timeout_seconds: u32,
}

/// The ARN a function has in the emulator's account; the Lambda host answers for it.
pub fn function_arn(names: &Names, function: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{}",
        orders_emulator::REGION,
        orders_emulator::ACCOUNT,
        names.function(function)
    )
}

pub async fn create(
    config: &SdkConfig,
    names: Names,
    settings: &Settings,
) -> anyhow::Result<Stack> {
    let dead_letter_queue_url = provision::queue(
        config,
        &names.dead_letter_queue(),
        &[(
            QueueAttributeName::MessageRetentionPeriod,
            orders_blueprint::DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let dead_letter_arn = provision::queue_arn(config, &dead_letter_queue_url).await?;
    let queue_url = provision::queue(
        config,
        &names.queue(),
        &[
            (
                QueueAttributeName::RedrivePolicy,
                orders_blueprint::redrive_policy(&dead_letter_arn),
            ),
            (
                QueueAttributeName::VisibilityTimeout,
                settings.visibility_timeout_seconds.to_string(),
            ),
            (
                QueueAttributeName::MessageRetentionPeriod,
                orders_blueprint::QUEUE_RETENTION_SECONDS.to_string(),
            ),
        ],
    )
    .await?;

    let table = names.table();
    provision::orders_table(config, &table).await?;

    let notification_topic_arn = provision::topic(config, &names.notification_topic()).await?;
    let restaurant_topic_arn = provision::topic(config, &names.restaurant_topic()).await?;
    let notification_inbox_url = provision::inbox(
        config,
        &notification_topic_arn,
        &format!("{}-email-inbox", names.prefix),
    )
    .await?;
    let restaurant_inbox_url = provision::inbox(
        config,
        &restaurant_topic_arn,
        &format!("{}-restaurant-inbox", names.prefix),
    )
    .await?;

    let definition = workflow::render(&Substitutions {
        manage_order_state_arn: function_arn(&names, orders_blueprint::MANAGE_ORDER_STATE),
        process_payment_arn: function_arn(&names, orders_blueprint::PROCESS_PAYMENT),
        send_order_arn: function_arn(&names, orders_blueprint::SEND_ORDER),
        wait_seconds: settings.wait_seconds,
        execution_timeout_seconds: settings.execution_timeout_seconds,
    })?;
    let state_machine_arn =
        provision::state_machine(config, &names.state_machine(), &definition).await?;

    Ok(Stack {
        names,
        queue_url,
        dead_letter_queue_url,
        table,
        notification_topic_arn,
        restaurant_topic_arn,
        state_machine_arn,
        notification_inbox_url,
        restaurant_inbox_url,
    })
}

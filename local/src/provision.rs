//! Creates the stack's resources in the emulator, with the names and settings of
//! `order-stack`, the definition the Pulumi program deploys from.

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use order_stack::workflow::{self, Substitutions};
use order_stack::{Names, TABLE_KEY};
use serde_json::json;

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
    pub wait_seconds: order_core::WaitSeconds,
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
    let sqs = aws_sdk_sqs::Client::new(config);
    let sns = aws_sdk_sns::Client::new(config);

    let dead_letter_queue_url = create_queue(
        &sqs,
        &names.dead_letter_queue(),
        &[(
            QueueAttributeName::MessageRetentionPeriod,
            order_stack::DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let dead_letter_arn = queue_arn(&sqs, &dead_letter_queue_url).await?;
    let redrive = json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": order_stack::MAX_RECEIVE_COUNT,
    });
    let queue_url = create_queue(
        &sqs,
        &names.queue(),
        &[
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                settings.visibility_timeout_seconds.to_string(),
            ),
            (
                QueueAttributeName::MessageRetentionPeriod,
                order_stack::QUEUE_RETENTION_SECONDS.to_string(),
            ),
        ],
    )
    .await?;

    let table = names.table();
    create_table(&aws_sdk_dynamodb::Client::new(config), &table).await?;

    let notification_topic_arn = create_topic(&sns, &names.notification_topic()).await?;
    let restaurant_topic_arn = create_topic(&sns, &names.restaurant_topic()).await?;
    let notification_inbox_url = subscribed_inbox(
        &sqs,
        &sns,
        &notification_topic_arn,
        &format!("{}-email-inbox", names.prefix),
    )
    .await?;
    let restaurant_inbox_url = subscribed_inbox(
        &sqs,
        &sns,
        &restaurant_topic_arn,
        &format!("{}-restaurant-inbox", names.prefix),
    )
    .await?;

    let definition = workflow::render(&Substitutions {
        manage_order_state_arn: function_arn(&names, order_stack::MANAGE_ORDER_STATE),
        process_payment_arn: function_arn(&names, order_stack::PROCESS_PAYMENT),
        send_order_arn: function_arn(&names, order_stack::SEND_ORDER),
        wait_seconds: settings.wait_seconds,
    })?;
    let state_machine_arn = aws_sdk_sfn::Client::new(config)
        .create_state_machine()
        .name(names.state_machine())
        .definition(definition)
        .role_arn(format!(
            "arn:aws:iam::{}:role/{}-workflow",
            orders_emulator::ACCOUNT,
            names.prefix
        ))
        .send()
        .await
        .context("create the state machine")?
        .state_machine_arn;

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

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> anyhow::Result<String> {
    let mut request = sqs.create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes(key.clone(), value);
    }
    request
        .send()
        .await
        .with_context(|| format!("create queue {name}"))?
        .queue_url
        .with_context(|| format!("queue {name} has no URL"))
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .context("read a queue's ARN")?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .context("the queue has no ARN")
}

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(TABLE_KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(TABLE_KEY)
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("create table {table}"))?;
    Ok(())
}

async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> anyhow::Result<String> {
    sns.create_topic()
        .name(name)
        .send()
        .await
        .with_context(|| format!("create topic {name}"))?
        .topic_arn
        .with_context(|| format!("topic {name} has no ARN"))
}

async fn subscribed_inbox(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    name: &str,
) -> anyhow::Result<String> {
    let url = create_queue(sqs, name, &[]).await?;
    let arn = queue_arn(sqs, &url).await?;
    sns.subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .with_context(|| format!("subscribe {name}"))?;
    Ok(url)
}

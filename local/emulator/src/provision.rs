//! Creating resources in the emulator, once for everyone who needs them: the local runner
//! (the whole stack), the benchmark and the adapter tests (the pieces they use). Names and
//! settings come from `orders-blueprint`, as in the Pulumi program.

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use orders_blueprint::TABLE_KEY;
use orders_blueprint::user_index::{HASH_KEY, NAME as USER_INDEX, PROJECTION, RANGE_KEY};

fn key(name: &str, kind: KeyType) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()?)
}

/// An Orders table (key `order_id`, on demand, with the index of each user's orders and a
/// stream of its writes, old and new item) named `name`; the stream's ARN.
pub async fn orders_table(config: &SdkConfig, name: &str) -> anyhow::Result<String> {
    let mut request = aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()?,
        )
        .key_schema(key(TABLE_KEY, KeyType::Hash)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(USER_INDEX)
                .key_schema(key(HASH_KEY, KeyType::Hash)?)
                .key_schema(key(RANGE_KEY, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(PROJECTION))
                        .build(),
                )
                .build()?,
        );
    // Every key is a string.
    for attribute in [TABLE_KEY, HASH_KEY, RANGE_KEY] {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    let created = request
        .send()
        .await
        .with_context(|| format!("create table {name}"))?;
    created
        .table_description
        .and_then(|table| table.latest_stream_arn)
        .with_context(|| format!("table {name} was created without its stream"))
}

/// A connections table (key `connection_id`, on demand, with the index of each user's
/// connections, keys only, and the TTL on `expires_at`), as the stack makes it.
pub async fn connections_table(config: &SdkConfig, name: &str) -> anyhow::Result<()> {
    use orders_blueprint::live::table::{EXPIRES_AT, KEY, USER, USER_INDEX};
    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    let mut request = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(KEY, KeyType::Hash)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(USER_INDEX)
                .key_schema(key(USER, KeyType::Hash)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()?,
        );
    for attribute in [KEY, USER] {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    request
        .send()
        .await
        .with_context(|| format!("create table {name}"))?;
    dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("switch on the TTL of {name}"))?;
    Ok(())
}

/// A queue with the given attributes; its URL.
pub async fn queue(
    config: &SdkConfig,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> anyhow::Result<String> {
    let mut request = aws_sdk_sqs::Client::new(config)
        .create_queue()
        .queue_name(name);
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

pub async fn queue_arn(config: &SdkConfig, url: &str) -> anyhow::Result<String> {
    aws_sdk_sqs::Client::new(config)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .context("read a queue's ARN")?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .context("the queue has no ARN")
}

/// A topic; its ARN.
pub async fn topic(config: &SdkConfig, name: &str) -> anyhow::Result<String> {
    aws_sdk_sns::Client::new(config)
        .create_topic()
        .name(name)
        .send()
        .await
        .with_context(|| format!("create topic {name}"))?
        .topic_arn
        .with_context(|| format!("topic {name} has no ARN"))
}

/// A queue `name` subscribed to a topic, to read what the topic delivers (the emails and
/// hand-offs the cloud would send); the queue's URL.
pub async fn inbox(config: &SdkConfig, topic_arn: &str, name: &str) -> anyhow::Result<String> {
    let url = queue(config, name, &[]).await?;
    let arn = queue_arn(config, &url).await?;
    aws_sdk_sns::Client::new(config)
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .with_context(|| format!("subscribe {name}"))?;
    Ok(url)
}

/// A state machine running `definition` (JSON); its ARN.
pub async fn state_machine(
    config: &SdkConfig,
    name: &str,
    definition: &str,
) -> anyhow::Result<String> {
    Ok(aws_sdk_sfn::Client::new(config)
        .create_state_machine()
        .name(name)
        .definition(definition)
        // The emulator checks no role; the name says whose it would be.
        .role_arn(format!("arn:aws:iam::{}:role/{name}-role", crate::ACCOUNT))
        .send()
        .await
        .with_context(|| format!("create state machine {name}"))?
        .state_machine_arn)
}

/// A state machine that does nothing: for what only needs executions to start.
pub async fn stub_state_machine(config: &SdkConfig, name: &str) -> anyhow::Result<String> {
    let definition = r#"{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}"#;
    state_machine(config, name, definition).await
}

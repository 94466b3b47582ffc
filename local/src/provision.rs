//! Creates the stack's resources in the emulator, with the names and settings of
//! `orders-blueprint`, the definition the Pulumi program deploys from.

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, AttributeType, ExplicitAuthFlowsType, MessageActionType,
    PasswordPolicyType, PreventUserExistenceErrorTypes, UserPoolPolicyType, UsernameAttributeType,
    VerifiedAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use orders_blueprint::Names;
use orders_blueprint::auth;
use orders_blueprint::workflow::{self, Substitutions};
use orders_emulator::provision;
use orders_local::sign_in::{DEMO_PASSWORD, DEMO_USERS, DemoUser, SignIn, demo_email};

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
    /// The user pool, its app client and the demo users.
    pub sign_in: SignIn,
    /// The table's stream, which the runner's pipe reads.
    pub table_stream_arn: String,
    pub events: Events,
    /// The open WebSocket connections of live status.
    pub connections_table: String,
}

/// The order events: the bus, where the pipe names what it gave up on, and the tap.
#[derive(Debug, Clone)]
pub struct Events {
    pub bus_name: String,
    pub dead_letter_queue_url: String,
    pub tap_queue_url: String,
    /// Local only: where the push rule's events wait for push-status.
    pub push_queue_url: String,
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
    let table_stream_arn = provision::orders_table(config, &table).await?;
    let events = order_events(config, &names).await?;
    let connections_table = names.connections_table();
    provision::connections_table(config, &connections_table).await?;

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

    let sign_in = user_pool(config, &names).await?;

    Ok(Stack {
        sign_in,
        names,
        queue_url,
        dead_letter_queue_url,
        table,
        notification_topic_arn,
        restaurant_topic_arn,
        state_machine_arn,
        notification_inbox_url,
        restaurant_inbox_url,
        table_stream_arn,
        events,
        connections_table,
    })
}

/// The bus and its archive, the pipe's dead-letter queue, and the tap: a queue that a rule
/// on the bus sends every order event to, as the stack makes them. The pipe itself is the
/// runner's (`crate::pipe`): the emulator serves Pipes' API but runs no pipe.
async fn order_events(config: &SdkConfig, names: &Names) -> anyhow::Result<Events> {
    use orders_blueprint::events::{ARCHIVE_RETENTION_DAYS, tap_pattern};
    let bridge = aws_sdk_eventbridge::Client::new(config);
    let bus_name = names.event_bus();
    let bus_arn = bridge
        .create_event_bus()
        .name(&bus_name)
        .send()
        .await
        .context("create the orders event bus")?
        .event_bus_arn
        .context("the orders event bus has no ARN")?;
    bridge
        .create_archive()
        .archive_name(names.event_archive())
        .event_source_arn(&bus_arn)
        .retention_days(ARCHIVE_RETENTION_DAYS as i32)
        .send()
        .await
        .context("create the orders event archive")?;
    let keep = [(
        QueueAttributeName::MessageRetentionPeriod,
        orders_blueprint::DLQ_RETENTION_SECONDS.to_string(),
    )];
    let dead_letter_queue_url =
        provision::queue(config, &names.events_dead_letter_queue(), &keep).await?;
    let tap_queue_url = provision::queue(config, &names.events_tap_queue(), &keep).await?;
    rule_to_queue(
        config,
        &bus_name,
        &names.events_tap_rule(),
        &tap_pattern(),
        &tap_queue_url,
    )
    .await?;
    // The stack's push rule targets push-status; the emulator invokes no function from a
    // rule, so here its events wait in a queue the runner reads (`crate::live`).
    let push_queue_url = provision::queue(config, &names.push_rule(), &[]).await?;
    rule_to_queue(
        config,
        &bus_name,
        &names.push_rule(),
        &orders_blueprint::live::push_pattern(),
        &push_queue_url,
    )
    .await?;
    Ok(Events {
        bus_name,
        dead_letter_queue_url,
        tap_queue_url,
        push_queue_url,
    })
}

/// A rule on `bus_name` that sends the events matching `pattern` to the queue at `queue_url`.
async fn rule_to_queue(
    config: &SdkConfig,
    bus_name: &str,
    rule: &str,
    pattern: &str,
    queue_url: &str,
) -> anyhow::Result<()> {
    let bridge = aws_sdk_eventbridge::Client::new(config);
    let queue_arn = provision::queue_arn(config, queue_url).await?;
    bridge
        .put_rule()
        .name(rule)
        .event_bus_name(bus_name)
        .event_pattern(pattern)
        .send()
        .await
        .with_context(|| format!("create the rule {rule}"))?;
    let added = bridge
        .put_targets()
        .rule(rule)
        .event_bus_name(bus_name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(queue_arn)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("point the rule {rule} at its queue"))?;
    anyhow::ensure!(
        added.failed_entry_count == 0,
        "the rule {rule} refused its queue: {:?}",
        added.failed_entries
    );
    Ok(())
}

/// The user pool and its app client, as the stack makes them, and the demo users, signed up
/// as an administrator does it (the pool lets nobody sign themselves up).
async fn user_pool(config: &SdkConfig, names: &Names) -> anyhow::Result<SignIn> {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let pool = cognito
        .create_user_pool()
        .pool_name(names.user_pool())
        .username_attributes(UsernameAttributeType::from(auth::USERNAME_ATTRIBUTE))
        .auto_verified_attributes(VerifiedAttributeType::from(auth::USERNAME_ATTRIBUTE))
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(auth::PASSWORD_MIN_LENGTH as i32)
                        .require_lowercase(true)
                        .require_uppercase(true)
                        .require_numbers(true)
                        .require_symbols(true)
                        .temporary_password_validity_days(auth::TEMPORARY_PASSWORD_DAYS as i32)
                        .build(),
                )
                .build(),
        )
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(auth::ADMIN_CREATE_USER_ONLY)
                .build(),
        )
        .send()
        .await
        .context("create the user pool")?
        .user_pool
        .and_then(|pool| pool.id)
        .context("the user pool has no id")?;
    let mut client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name(names.user_pool_client())
        .generate_secret(false)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::from(
            auth::PREVENT_USER_EXISTENCE_ERRORS,
        ));
    for flow in auth::AUTH_FLOWS {
        client = client.explicit_auth_flows(ExplicitAuthFlowsType::from(flow));
    }
    let client_id = client
        .send()
        .await
        .context("create the app client")?
        .user_pool_client
        .and_then(|client| client.client_id)
        .context("the app client has no id")?;

    let mut users = Vec::new();
    for name in DEMO_USERS {
        let email = demo_email(name);
        let created = cognito
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&email)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&email)
                    .build()?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()?,
            )
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .with_context(|| format!("create the demo user {name}"))?;
        let sub = created
            .user
            .and_then(|user| user.attributes)
            .unwrap_or_default()
            .into_iter()
            .find(|attribute| attribute.name == "sub")
            .and_then(|attribute| attribute.value)
            .with_context(|| format!("the demo user {name} has no sub"))?;
        cognito
            .admin_set_user_password()
            .user_pool_id(&pool)
            .username(&email)
            .password(DEMO_PASSWORD)
            .permanent(true)
            .send()
            .await
            .with_context(|| format!("set {name}'s password"))?;
        users.push(DemoUser {
            name: name.to_owned(),
            email,
            password: DEMO_PASSWORD.to_owned(),
            sub,
        });
    }
    Ok(SignIn {
        region: config
            .region()
            .map(ToString::to_string)
            .unwrap_or_else(|| orders_emulator::REGION.to_owned()),
        endpoint: config.endpoint_url().unwrap_or_default().to_owned(),
        user_pool_id: pool,
        client_id,
        users,
    })
}

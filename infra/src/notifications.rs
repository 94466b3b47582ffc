//! The SNS topics: customer notifications (with the email subscription), the restaurant
//! hand-off, and operational alarms.

use crate::aws::sns::{topic, topic_subscription};
use crate::config::StackConfig;
use orders_blueprint::Names;
use pulumi_gestalt_rust::{Context, Output};

/// The AWS-managed SNS key: encrypted at rest, no key to administer. Publishers need no KMS
/// grant of their own, the key's policy admits SNS calls from the account.
const SNS_MANAGED_KEY: &str = "alias/aws/sns";

pub struct Topics {
    pub notifications_arn: Output<String>,
    pub restaurant_arn: Output<String>,
    pub alarms_arn: Output<String>,
}

pub fn create(ctx: &Context, names: &Names, config: &StackConfig) -> Topics {
    let notifications = topic::create(
        ctx,
        "notifications-topic",
        topic::TopicArgs::builder()
            .name(names.notification_topic())
            .kms_master_key_id(SNS_MANAGED_KEY)
            .build_struct(),
    );
    topic_subscription::create(
        ctx,
        "notifications-email",
        topic_subscription::TopicSubscriptionArgs::builder()
            .topic(notifications.arn.clone())
            .protocol("email")
            .endpoint(plain_or_secret(
                ctx,
                &config.notification_email,
                config.notification_email_secret,
            ))
            .build_struct(),
    );

    let restaurant = topic::create(
        ctx,
        "restaurant-topic",
        topic::TopicArgs::builder()
            .name(names.restaurant_topic())
            .kms_master_key_id(SNS_MANAGED_KEY)
            .build_struct(),
    );

    // CloudWatch alarms cannot publish to a topic under the AWS-managed key (its policy
    // does not admit CloudWatch), and alarms carry no order data: left unencrypted.
    let alarms = topic::create(
        ctx,
        "alarms-topic",
        topic::TopicArgs::builder()
            .name(names.alarm_topic())
            .build_struct(),
    );
    topic_subscription::create(
        ctx,
        "alarms-email",
        topic_subscription::TopicSubscriptionArgs::builder()
            .topic(alarms.arn.clone())
            .protocol("email")
            .endpoint(plain_or_secret(
                ctx,
                &config.alarm_email,
                config.alarm_email_secret,
            ))
            .build_struct(),
    );

    Topics {
        notifications_arn: notifications.arn,
        restaurant_arn: restaurant.arn,
        alarms_arn: alarms.arn,
    }
}

/// A configured value, a secret in the state if the stack holds it as one.
fn plain_or_secret(ctx: &Context, value: &str, secret: bool) -> Output<String> {
    let value = value.to_string();
    if secret {
        ctx.new_secret(&value)
    } else {
        Output::new(value)
    }
}

//! Data stores' protection and the stack's configuration, good and bad.

use super::*;

#[test]
fn the_data_stores_are_encrypted_and_recoverable() {
    let plan = update();
    let table = one(plan, "aws:dynamodb/table:Table", "orders-table");
    assert_eq!(text(table, "billingMode"), "PAY_PER_REQUEST");
    assert_eq!(text(table, "hashKey"), "order_id");
    assert_eq!(
        input(table, "attributes"),
        &json!([
            {"name": "order_id", "type": "S"},
            {"name": "user_id", "type": "S"},
            {"name": "created_at", "type": "S"}
        ])
    );
    // GET /orders: a user's orders by creation time, whole, from one index.
    assert_eq!(
        input(table, "globalSecondaryIndexes"),
        &json!([{
            "name": "by-user",
            "keySchemas": [
                {"attributeName": "user_id", "keyType": "HASH"},
                {"attributeName": "created_at", "keyType": "RANGE"}
            ],
            "projectionType": "ALL"
        }])
    );
    assert_eq!(table.inputs["pointInTimeRecovery"]["enabled"], true);
    assert_eq!(table.inputs["serverSideEncryption"]["enabled"], true);
    for name in ["notifications-topic", "restaurant-topic"] {
        assert_eq!(
            text(one(plan, "aws:sns/topic:Topic", name), "kmsMasterKeyId"),
            "alias/aws/sns"
        );
    }
    let email = one(
        plan,
        "aws:sns/topicSubscription:TopicSubscription",
        "notifications-email",
    );
    assert_eq!(text(email, "protocol"), "email");
    assert_eq!(text(email, "endpoint"), "orders@example.com");
    assert_eq!(
        text(email, "topic"),
        format!("arn:aws:sns:{REGION}:123456789012:orders-dev-notifications")
    );
    for group in plan.resources_of("aws:cloudwatch/logGroup:LogGroup") {
        assert_eq!(input(group, "retentionInDays"), 14, "{}", group.name);
    }
}

#[test]
fn a_stack_with_real_customers_can_keep_its_user_pool_from_deletion() {
    let run = run(Mode::Update, config(&[("protectUsers", Some("true"))]));
    assert!(run.success, "{}", run.stderr);
    let pool = one(&run.plan, "aws:cognito/userPool:UserPool", "user-pool");
    assert_eq!(text(pool, "deletionProtection"), "ACTIVE");
}

#[test]
fn the_account_wide_logging_role_can_be_left_alone() {
    let run = run(
        Mode::Update,
        config(&[("manageApiGatewayAccount", Some("false"))]),
    );
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.plan
            .resources_of("aws:apigateway/account:Account")
            .is_empty()
    );
    assert!(
        run.plan
            .resource("aws:iam/role:Role", "api-logs-role")
            .is_none()
    );
    assert!(
        run.plan
            .resource("aws:apigateway/stage:Stage", "api-stage")
            .is_some()
    );
}

#[test]
fn bad_config_fails_with_a_clear_message_and_creates_nothing() {
    let cases = [
        (
            config(&[("notificationEmail", None)]),
            "pulumi config set notificationEmail",
        ),
        (
            config(&[("aws:region", None)]),
            "pulumi config set aws:region",
        ),
        (config(&[("waitSeconds", Some("-1"))]), "waitSeconds"),
        // The archives here are x86_64: deploying them as arm64 would fail at the first call.
        (config(&[("architecture", Some("arm64"))]), "not arm64"),
    ];
    for (config, message) in cases {
        let run = run(Mode::Preview, config);
        assert!(!run.success, "expected a failure mentioning {message}");
        assert!(
            run.stderr.contains(message),
            "{message} not in:\n{}",
            run.stderr
        );
        assert!(
            run.plan.resources.is_empty(),
            "resources registered despite: {message}"
        );
    }
}

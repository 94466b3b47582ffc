//! Live status: a WebSocket API (API Gateway v2) on which a signed-in customer gets every
//! status change of their own orders. `$connect` is authorized by authorize-socket (the ID
//! token in the `token` query parameter: a browser cannot set headers on a WebSocket, and
//! Cognito authorizers do not serve WebSocket APIs); socket-connections keeps the open
//! connections in their table (TTL 2 hours, API Gateway's longest connection); a rule on the
//! orders bus gives every order event to push-status, which posts it to the customer's
//! connections and forgets a gone one. EventBridge retries push-status for an hour; an
//! event it could not deliver waits in a dead-letter queue that alarms.

use crate::aws::apigatewayv2::{api, authorizer, deployment, integration, route, stage};
use crate::aws::cloudwatch::event_rule;
use crate::aws::dynamodb::table;
use crate::aws::lambda::permission;
use crate::aws::types::apigatewayv2::StageDefaultRouteSettings;
use crate::aws::types::dynamodb::{TableGlobalSecondaryIndex, TableServerSideEncryption, TableTtl};
use crate::functions::Function;
use crate::outputs::{after, all};
use crate::table::Table;
use orders_blueprint::Names;
use orders_blueprint::live::{
    self, PUSH_EVENT_AGE_SECONDS, PUSH_RETRY_ATTEMPTS, STAGE, THROTTLING_BURST_LIMIT,
    THROTTLING_RATE_LIMIT, push_pattern,
};
use pulumi_gestalt_rust::{Context, Output, pulumi_combine};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The routes of the WebSocket API: both go to socket-connections.
pub const ROUTES: [&str; 2] = ["$connect", "$disconnect"];

/// API Gateway, as a principal.
const API_GATEWAY: &str = "apigateway.amazonaws.com";

/// The connections table: one item per open connection, the index of each customer's (keys
/// only: push-status needs the ids), and the TTL that removes what `$disconnect` missed.
pub fn connections_table(ctx: &Context, names: &Names) -> Table {
    use crate::table::{index_key, string_keys};
    use live::table::{EXPIRES_AT, KEY, USER, USER_INDEX};
    let connections = table::create(
        ctx,
        "connections-table",
        table::TableArgs::builder()
            .name(names.connections_table())
            .billing_mode("PAY_PER_REQUEST")
            .hash_key(KEY)
            .attributes(string_keys(&[KEY, USER]))
            .global_secondary_indexes(vec![
                TableGlobalSecondaryIndex::builder()
                    .name(USER_INDEX.to_string())
                    .key_schemas(vec![index_key(USER, "HASH")])
                    .projection_type("KEYS_ONLY".to_string())
                    .build_struct(),
            ])
            .ttl(
                TableTtl::builder()
                    .attribute_name(EXPIRES_AT.to_string())
                    .enabled(true)
                    .build_struct(),
            )
            .server_side_encryption(
                TableServerSideEncryption::builder()
                    .enabled(true)
                    .build_struct(),
            )
            .build_struct(),
    );
    Table {
        arn: connections.arn,
        name: connections.name,
        stream_arn: connections.stream_arn,
    }
}

/// The WebSocket API's ids: what push-status posts through and what the app connects to.
pub struct Socket {
    pub api_id: Output<String>,
    pub execution_arn: Output<String>,
    /// `wss://…/live`: where the app connects (with `?token=`).
    pub url: Output<String>,
    /// `https://…/live`: the management endpoint push-status posts to.
    pub management_endpoint: Output<String>,
}

/// The source ARN of a WebSocket route's invocations (any stage).
pub fn route_source_arn(execution_arn: &str, route: &str) -> String {
    format!("{execution_arn}/*/{route}")
}

/// What push-status may call: `PostToConnection` on this stage's connections
/// ("Use IAM authorization" for WebSocket APIs: `execute-api:ManageConnections` on
/// `…/stage/POST/@connections/*`).
pub fn manage_connections_arn(execution_arn: &str) -> String {
    format!("{execution_arn}/{STAGE}/POST/@connections/*")
}

/// A digest of what the deployment snapshots: a change is a new deployment.
pub fn definition_digest() -> String {
    let definition = json!({
        "routes": ROUTES,
        "identitySource": live::identity_source(),
        "routeSelection": ROUTE_SELECTION,
    });
    hex::encode(Sha256::digest(definition.to_string().as_bytes()))
}

/// The API has no message routes; the expression is required all the same.
const ROUTE_SELECTION: &str = "$request.body.action";

pub fn socket_api(
    ctx: &Context,
    names: &Names,
    region: &str,
    authorize: &Function,
    connections: &Function,
) -> Socket {
    let socket = api::create(
        ctx,
        "live-api",
        api::ApiArgs::builder()
            .name(names.socket_api())
            .description("Serverless Orders: live status of a customer's orders")
            .protocol_type("WEBSOCKET")
            .route_selection_expression(ROUTE_SELECTION)
            .build_struct(),
    );
    let token = authorizer::create(
        ctx,
        "live-authorizer",
        authorizer::AuthorizerArgs::builder()
            .api_id(socket.id.clone())
            .name(names.socket_authorizer())
            .authorizer_type("REQUEST")
            .authorizer_uri(authorize.invoke_arn.clone())
            // A missing or empty token is refused with 401 before the function runs.
            .identity_sources(vec![live::identity_source()])
            .build_struct(),
    );
    permission::create(
        ctx,
        "live-authorizer-permission",
        permission::PermissionArgs::builder()
            .statement_id("AllowLiveAuthorizer")
            .action("lambda:InvokeFunction")
            .function(authorize.name.clone())
            .principal(API_GATEWAY)
            .source_arn(
                pulumi_combine!(socket.execution_arn.clone(), token.id.clone())
                    .map(|(arn, id)| format!("{arn}/authorizers/{id}")),
            )
            .build_struct(),
    );
    let target = integration::create(
        ctx,
        "live-connections-integration",
        integration::IntegrationArgs::builder()
            .api_id(socket.id.clone())
            .integration_type("AWS_PROXY")
            .integration_method("POST")
            .integration_uri(connections.invoke_arn.clone())
            .build_struct(),
    );
    let mut routes = Vec::new();
    for key in ROUTES {
        let name = key.trim_start_matches('$');
        // Only `$connect` is authorized: the other routes ride on its connection.
        let connect = key == "$connect";
        let args = route::RouteArgs::builder()
            .api_id(socket.id.clone())
            .route_key(key)
            .target(target.id.map(|id| format!("integrations/{id}")))
            .maybe_authorization_type(connect.then_some("CUSTOM"))
            .maybe_authorizer_id(connect.then(|| token.id.clone()))
            .build_struct();
        let created = route::create(ctx, &format!("live-{name}-route"), args);
        routes.push(created.id);
        permission::create(
            ctx,
            &format!("live-{name}-permission"),
            permission::PermissionArgs::builder()
                .statement_id(format!("AllowLive{}", capitalised(name)))
                .action("lambda:InvokeFunction")
                .function(connections.name.clone())
                .principal(API_GATEWAY)
                .source_arn(
                    socket
                        .execution_arn
                        .map(move |arn| route_source_arn(&arn, key)),
                )
                .build_struct(),
        );
    }
    let deployed = deployment::create(
        ctx,
        "live-deployment",
        deployment::DeploymentArgs::builder()
            .api_id(after(&socket.id, &all(routes)))
            .description("Serverless Orders live status")
            .triggers(HashMap::from([(
                "definition".to_string(),
                definition_digest(),
            )]))
            .build_struct(),
    );
    let stage = stage::create(
        ctx,
        "live-stage",
        stage::StageArgs::builder()
            .api_id(socket.id.clone())
            .name(STAGE)
            .deployment_id(deployed.id)
            .default_route_settings(
                StageDefaultRouteSettings::builder()
                    .throttling_rate_limit(THROTTLING_RATE_LIMIT)
                    .throttling_burst_limit(THROTTLING_BURST_LIMIT as i32)
                    // Messages are customer data: kept out of the logs.
                    .data_trace_enabled(false)
                    .build_struct(),
            )
            .build_struct(),
    );
    let region = region.to_string();
    Socket {
        management_endpoint: after(&socket.id, &stage.id)
            .map(move |id| format!("https://{id}.execute-api.{region}.amazonaws.com/{STAGE}")),
        url: stage.invoke_url,
        api_id: socket.id,
        execution_arn: socket.execution_arn,
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The push rule on the orders bus, its target push-status, and the target's dead-letter
/// queue (the alarms watch it by name).
pub fn push_rule(ctx: &Context, names: &Names, bus_name: &Output<String>, push: &Function) {
    let rule = event_rule::create(
        ctx,
        "push-rule",
        event_rule::EventRuleArgs::builder()
            .name(names.push_rule())
            .description("Every order event, to its customer's open WebSocket connections")
            .event_bus_name(bus_name.clone())
            .event_pattern(push_pattern())
            .build_struct(),
    );
    crate::delivery::to_function(
        ctx,
        crate::delivery::Delivery {
            key: "push",
            rule_name: &rule.name,
            rule_arn: &rule.arn,
            bus_name: Some(bus_name),
            function: push,
            target_id: "push-status",
            statement_id: "AllowPushRule",
            dead_letter_sid: "PushEventsNotDelivered",
            dead_letter_queue: names.push_dead_letter_queue(),
            retry_attempts: PUSH_RETRY_ATTEMPTS,
            event_age_seconds: PUSH_EVENT_AGE_SECONDS,
        },
    );
}

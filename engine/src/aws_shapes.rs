//! What AWS answers when a resource is created: ids, ARNs and URLs in AWS's formats. The mock
//! engine's update mode and the stand-in provider both answer with these.

use serde_json::{Map, Value};

/// The account resources are made up in.
pub const ACCOUNT: &str = "123456789012";

/// The ids AWS makes up itself (the others derive from names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// An event source mapping's UUID.
    MappingUuid,
    /// A REST API's id (10 characters).
    RestApiId,
    /// The id of a REST API's root resource `/`.
    RootResourceId,
    /// Any other generated id (API Gateway resources, deployments, ...).
    Id,
}

/// What the provider reports after creating a resource: its id, and the inputs plus the
/// properties it computes, in AWS's formats. `fresh` mints the ids AWS generates.
pub fn created(
    region: &str,
    type_token: &str,
    logical_name: &str,
    inputs: &Map<String, Value>,
    fresh: &mut dyn FnMut(Generated) -> String,
) -> (String, Map<String, Value>) {
    let mut outputs = inputs.clone();
    let name = inputs
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(logical_name)
        .to_string();
    let input = |key: &str| {
        inputs
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut set = |key: &str, value: String| {
        outputs.insert(key.into(), Value::String(value));
    };
    let id = match type_token {
        "aws:sqs/queue:Queue" => {
            let url = format!("https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}");
            set("arn", format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}"));
            set("url", url.clone());
            set("name", name);
            url
        }
        "aws:cloudwatch/metricAlarm:MetricAlarm" => {
            set(
                "arn",
                format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"),
            );
            name
        }
        "aws:cloudwatch/logGroup:LogGroup" => {
            set(
                "arn",
                format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"),
            );
            set("name", name.clone());
            name
        }
        "aws:dynamodb/table:Table" => {
            let arn = format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}");
            // A stream's ARN is the table's with the stream's label, the time it was
            // enabled; a fixed label keeps plans reproducible.
            // Without a stream the provider reports an empty one.
            if inputs.get("streamEnabled") == Some(&Value::Bool(true)) {
                set("streamArn", format!("{arn}/stream/2026-01-01T00:00:00.000"));
            } else {
                set("streamArn", String::new());
            }
            set("arn", arn);
            set("name", name.clone());
            name
        }
        "aws:cloudwatch/eventBus:EventBus" => {
            set(
                "arn",
                format!("arn:aws:events:{region}:{ACCOUNT}:event-bus/{name}"),
            );
            set("name", name.clone());
            name
        }
        "aws:cloudwatch/eventArchive:EventArchive" => {
            set(
                "arn",
                format!("arn:aws:events:{region}:{ACCOUNT}:archive/{name}"),
            );
            name
        }
        "aws:pipes/pipe:Pipe" => {
            set(
                "arn",
                format!("arn:aws:pipes:{region}:{ACCOUNT}:pipe/{name}"),
            );
            set("name", name.clone());
            name
        }
        "aws:cloudwatch/logMetricFilter:LogMetricFilter" => name,
        "aws:sns/topic:Topic" => {
            let arn = format!("arn:aws:sns:{region}:{ACCOUNT}:{name}");
            set("arn", arn.clone());
            set("name", name);
            arn
        }
        "aws:sns/topicSubscription:TopicSubscription" => {
            let arn = format!("{}:{logical_name}-subscription", input("topic"));
            set("arn", arn.clone());
            arn
        }
        "aws:iam/role:Role" => {
            set("arn", format!("arn:aws:iam::{ACCOUNT}:role/{name}"));
            set("name", name.clone());
            name
        }
        "aws:iam/rolePolicy:RolePolicy" => {
            set("name", name.clone());
            format!("{}:{name}", input("role"))
        }
        "aws:lambda/function:Function" => {
            let arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}");
            set(
                "invokeArn",
                format!(
                    "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
                ),
            );
            set("arn", arn);
            set("name", name.clone());
            name
        }
        "aws:lambda/eventSourceMapping:EventSourceMapping" => {
            let uuid = fresh(Generated::MappingUuid);
            set("uuid", uuid.clone());
            uuid
        }
        "aws:apigateway/restApi:RestApi" => {
            let id = fresh(Generated::RestApiId);
            set("rootResourceId", fresh(Generated::RootResourceId));
            set(
                "executionArn",
                format!("arn:aws:execute-api:{region}:{ACCOUNT}:{id}"),
            );
            set(
                "arn",
                format!("arn:aws:apigateway:{region}::/restapis/{id}"),
            );
            id
        }
        "aws:apigateway/resource:Resource" => {
            set("path", format!("/{}", input("pathPart")));
            fresh(Generated::Id)
        }
        "aws:apigateway/stage:Stage" => {
            let api = input("restApi");
            let stage = input("stageName");
            set(
                "invokeUrl",
                format!("https://{api}.execute-api.{region}.amazonaws.com/{stage}"),
            );
            set(
                "arn",
                format!("arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}"),
            );
            set(
                "executionArn",
                format!("arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{stage}"),
            );
            format!("ags-{api}-{stage}")
        }
        // Dashboards are global: no region in the ARN.
        "aws:cloudwatch/dashboard:Dashboard" => {
            let name = input("dashboardName");
            set(
                "dashboardArn",
                format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"),
            );
            name
        }
        // A rule of a custom bus has the bus in its ARN and its id.
        "aws:cloudwatch/eventRule:EventRule" => {
            let bus = input("eventBusName");
            let path = match bus.as_str() {
                "" | "default" => name.clone(),
                bus => format!("{bus}/{name}"),
            };
            set(
                "arn",
                format!("arn:aws:events:{region}:{ACCOUNT}:rule/{path}"),
            );
            set("name", name.clone());
            path
        }
        // A target is known by its rule and its id in the rule.
        "aws:cloudwatch/eventTarget:EventTarget" => {
            format!("{}-{}", input("rule"), input("targetId"))
        }
        "aws:sqs/queuePolicy:QueuePolicy" => input("queueUrl"),
        // A pool's id is its region, `_` and a generated part.
        "aws:cognito/userPool:UserPool" => {
            let id = format!("{region}_{}", fresh(Generated::Id));
            set(
                "arn",
                format!("arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{id}"),
            );
            set(
                "endpoint",
                format!("cognito-idp.{region}.amazonaws.com/{id}"),
            );
            id
        }
        "aws:apigateway/authorizer:Authorizer" => {
            let id = fresh(Generated::Id);
            set(
                "arn",
                format!(
                    "arn:aws:apigateway:{region}::/restapis/{}/authorizers/{id}",
                    input("restApi")
                ),
            );
            id
        }
        "aws:sfn/stateMachine:StateMachine" => {
            let arn = format!("arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}");
            set("arn", arn.clone());
            set("name", name);
            arn
        }
        // API Gateway v2 (the WebSocket API): the API's id is like a REST API's.
        "aws:apigatewayv2/api:Api" => {
            let id = fresh(Generated::RestApiId);
            let scheme = match input("protocolType").as_str() {
                "WEBSOCKET" => "wss",
                _ => "https",
            };
            set(
                "apiEndpoint",
                format!("{scheme}://{id}.execute-api.{region}.amazonaws.com"),
            );
            set("arn", format!("arn:aws:apigateway:{region}::/apis/{id}"));
            set(
                "executionArn",
                format!("arn:aws:execute-api:{region}:{ACCOUNT}:{id}"),
            );
            id
        }
        "aws:apigatewayv2/stage:Stage" => {
            let api = input("apiId");
            set(
                "invokeUrl",
                format!("wss://{api}.execute-api.{region}.amazonaws.com/{name}"),
            );
            set(
                "arn",
                format!("arn:aws:apigateway:{region}::/apis/{api}/stages/{name}"),
            );
            set(
                "executionArn",
                format!("arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{name}"),
            );
            name
        }
        // A bucket named by a prefix gets a unique suffix (26 digits, the provider's).
        "aws:s3/bucket:Bucket" => {
            let bucket = match input("bucket") {
                given if !given.is_empty() => given,
                _ => format!("{}20260101000000000000000001", input("bucketPrefix")),
            };
            set("bucket", bucket.clone());
            set("arn", format!("arn:aws:s3:::{bucket}"));
            set(
                "bucketRegionalDomainName",
                format!("{bucket}.s3.{region}.amazonaws.com"),
            );
            bucket
        }
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
        | "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
        | "aws:s3/bucketPolicy:BucketPolicy" => input("bucket"),
        "aws:s3/bucketObjectv2:BucketObjectv2" => {
            use std::hash::{Hash, Hasher};
            // Any digest of the content does: the stand-in's ETag only has to follow it.
            let mut digest = std::collections::hash_map::DefaultHasher::new();
            input("content").hash(&mut digest);
            set("etag", format!("{:016x}", digest.finish()));
            set("key", input("key"));
            input("key")
        }
        // A distribution's id is upper case; its domain, the id in lower case.
        "aws:cloudfront/distribution:Distribution" => {
            let id = format!("E{}", fresh(Generated::Id).to_ascii_uppercase());
            set(
                "arn",
                format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{id}"),
            );
            set(
                "domainName",
                format!("d{}.cloudfront.net", id[1..].to_ascii_lowercase()),
            );
            id
        }
        _ => fresh(Generated::Id),
    };
    (id, outputs)
}

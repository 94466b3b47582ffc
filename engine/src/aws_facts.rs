//! What the stand-in provider knows of AWS, apart from the gRPC service that serves it:
//! which creates AWS refuses (names it keeps unique), which property changes it cannot make
//! in place (replacement), and which deletes it refuses. Each refusal names the API call,
//! the error AWS answers and where that is documented. The refusals are read from AWS's
//! documentation type by type, not from the rule `make destroy` orders deletes by
//! (`tools/record_dependencies.py`, "every reference is an edge"): AWS refuses far fewer
//! deletes than that rule orders, so a destroy that passes here passes for AWS's reasons.

use serde_json::Value;

use crate::account::LiveResource;

/// Types whose `name` AWS refuses to give twice (CreateRole: EntityAlreadyExists,
/// CreateFunction: ResourceConflictException, CreateLogGroup: ResourceAlreadyExistsException,
/// CreateTable: ResourceInUseException, CreateStateMachine: StateMachineAlreadyExists).
/// SQS and SNS answer a repeated create with the existing queue or topic instead.
pub const UNIQUE_NAMES: [&str; 5] = [
    "aws:iam/role:Role",
    "aws:lambda/function:Function",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:dynamodb/table:Table",
    "aws:sfn/stateMachine:StateMachine",
];

/// Properties AWS cannot change in place: the real provider replaces the resource when one
/// changes. Only properties the program's schema declares are listed; a dotted path names a
/// part of an object property (the provider replaces a pipe on a new starting position but
/// updates it on a new batch size). `make upstream` holds this table against the decisions of
/// terraform-provider-aws itself (the code pulumi-aws runs): every property the program sets,
/// changed one at a time, planned by the provider; target/upstream/report.json lists them side
/// by side.
pub const REPLACED_ON: &[(&str, &[&str])] = &[
    ("aws:sqs/queue:Queue", &["name"]),
    ("aws:sns/topic:Topic", &["name"]),
    (
        "aws:sns/topicSubscription:TopicSubscription",
        &["topic", "protocol", "endpoint"],
    ),
    ("aws:dynamodb/table:Table", &["name", "hashKey"]),
    ("aws:iam/role:Role", &["name"]),
    ("aws:iam/rolePolicy:RolePolicy", &["name", "role"]),
    ("aws:lambda/function:Function", &["name"]),
    (
        "aws:lambda/permission:Permission",
        &[
            "action",
            "function",
            "principal",
            "sourceArn",
            "statementId",
        ],
    ),
    (
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        &["eventSourceArn"],
    ),
    ("aws:cloudwatch/logGroup:LogGroup", &["name"]),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", &["name"]),
    ("aws:sfn/stateMachine:StateMachine", &["name", "type"]),
    ("aws:apigateway/resource:Resource", &["restApi"]),
    (
        "aws:apigateway/method:Method",
        &["restApi", "resourceId", "httpMethod"],
    ),
    // A new status code is an update for the provider (it was listed here until the check).
    (
        "aws:apigateway/methodResponse:MethodResponse",
        &["restApi", "resourceId", "httpMethod"],
    ),
    (
        "aws:apigateway/integration:Integration",
        &[
            "restApi",
            "resourceId",
            "httpMethod",
            "type",
            "integrationHttpMethod",
            "credentials",
            "passthroughBehavior",
        ],
    ),
    (
        "aws:apigateway/integrationResponse:IntegrationResponse",
        &["restApi", "resourceId", "httpMethod"],
    ),
    (
        "aws:apigateway/deployment:Deployment",
        &["restApi", "triggers"],
    ),
    ("aws:apigateway/stage:Stage", &["restApi", "stageName"]),
    (
        "aws:apigateway/methodSettings:MethodSettings",
        &["restApi", "stageName", "methodPath"],
    ),
    (
        "aws:apigateway/model:Model",
        &["restApi", "name", "contentType"],
    ),
    (
        "aws:apigateway/requestValidator:RequestValidator",
        &["restApi"],
    ),
    (
        "aws:apigateway/response:Response",
        &["restApiId", "responseType"],
    ),
    ("aws:cloudwatch/dashboard:Dashboard", &["dashboardName"]),
    (
        "aws:cloudwatch/eventRule:EventRule",
        &["name", "eventBusName"],
    ),
    (
        "aws:cloudwatch/eventTarget:EventTarget",
        &["rule", "targetId", "eventBusName"],
    ),
    ("aws:cloudwatch/eventBus:EventBus", &["name"]),
    (
        "aws:cloudwatch/eventArchive:EventArchive",
        &["name", "eventSourceArn"],
    ),
    (
        "aws:pipes/pipe:Pipe",
        &[
            "name",
            "source",
            "sourceParameters.dynamodbStreamParameters.startingPosition",
        ],
    ),
    (
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        &["name", "logGroupName"],
    ),
    ("aws:sqs/queuePolicy:QueuePolicy", &["queueUrl"]),
    // A new pool name is an update for the provider (its update sends PoolName).
    ("aws:cognito/userPool:UserPool", &["usernameAttributes"]),
    (
        "aws:cognito/userPoolClient:UserPoolClient",
        &["userPoolId", "generateSecret"],
    ),
    ("aws:apigateway/authorizer:Authorizer", &["restApi"]),
    ("aws:apigatewayv2/api:Api", &["protocolType"]),
    ("aws:apigatewayv2/authorizer:Authorizer", &["apiId"]),
    (
        "aws:apigatewayv2/integration:Integration",
        &["apiId", "integrationType"],
    ),
    ("aws:apigatewayv2/route:Route", &["apiId"]),
    (
        "aws:apigatewayv2/deployment:Deployment",
        &["apiId", "triggers"],
    ),
    ("aws:apigatewayv2/stage:Stage", &["apiId", "name"]),
    ("aws:s3/bucket:Bucket", &["bucket", "bucketPrefix"]),
    (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        &["bucket"],
    ),
    (
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        &["bucket"],
    ),
    ("aws:s3/bucketPolicy:BucketPolicy", &["bucket"]),
    ("aws:s3/bucketObjectv2:BucketObjectv2", &["bucket", "key"]),
];

pub fn replaced_on(type_token: &str) -> &'static [&'static str] {
    REPLACED_ON
        .iter()
        .find(|(token, _)| *token == type_token)
        .map_or(&[], |(_, properties)| properties)
}

/// What makes AWS refuse a delete.
#[derive(Debug, Clone, Copy)]
pub enum Blocker {
    /// A live resource of type `dependent` whose input `property` names the target (as
    /// its value, or as one of the values of its map).
    Dependent {
        dependent: &'static str,
        property: &'static str,
        by: By,
    },
    /// The target's own input `property` is `value`.
    Setting {
        property: &'static str,
        value: &'static str,
    },
}

/// How a dependent names the resource it blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Its id.
    Id,
    /// Its name, within the same REST API (a method names its models by name).
    NameInApi,
}

/// A delete AWS refuses.
#[derive(Debug, Clone, Copy)]
pub struct DeleteRefusal {
    pub target: &'static str,
    pub blocker: Blocker,
    /// The error AWS answers, as its API names it, and its message.
    pub error: &'static str,
    /// Where AWS documents it (or, where it does not, the reports of the error).
    pub source: &'static str,
}

/// Every delete refusal of the types the program uses. AWS allows every other delete, also
/// of a resource that others still name: a queue named in another queue's redrive policy
/// (DeleteQueue "regardless of the queue's contents"), a function that a mapping, a
/// permission, a target or a state machine names (DeleteFunction: "delete the trigger in
/// the service where you originally configured it"), a log group a function writes to, a
/// topic with subscriptions (DeleteTopic deletes them), a table an IAM policy names, a role
/// that functions use (DeleteRole lists its blockers: policies and instance profiles only).
pub const DELETE_REFUSALS: &[DeleteRefusal] = &[
    DeleteRefusal {
        target: "aws:iam/role:Role",
        blocker: Blocker::Dependent {
            dependent: "aws:iam/rolePolicy:RolePolicy",
            property: "role",
            by: By::Id,
        },
        error: "DeleteConflict: Cannot delete entity, must delete policies first.",
        source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html \
                 (inline policies must be deleted first; DeleteConflict, HTTP 409)",
    },
    DeleteRefusal {
        target: "aws:apigateway/deployment:Deployment",
        blocker: Blocker::Dependent {
            dependent: "aws:apigateway/stage:Stage",
            property: "deployment",
            by: By::Id,
        },
        error: "BadRequestException: Active stages pointing to this deployment must be moved or deleted",
        source: "https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteDeployment.html \
                 (succeeds only if no Stage is associated with it)",
    },
    DeleteRefusal {
        target: "aws:apigateway/authorizer:Authorizer",
        blocker: Blocker::Dependent {
            dependent: "aws:apigateway/method:Method",
            property: "authorizerId",
            by: By::Id,
        },
        error: "ConflictException: Cannot delete authorizer, is referenced in method",
        source: "not in the API reference; the 409 reported in \
                 hashicorp/terraform-provider-aws#14812 and hashicorp/terraform#6731",
    },
    DeleteRefusal {
        target: "aws:apigateway/model:Model",
        blocker: Blocker::Dependent {
            dependent: "aws:apigateway/method:Method",
            property: "requestModels",
            by: By::NameInApi,
        },
        error: "ConflictException: Cannot delete model, is referenced in method request",
        source: "not in the API reference; the 409 reported in \
                 amazon-archives/aws-apigateway-importer#89 and #113",
    },
    DeleteRefusal {
        target: "aws:apigateway/model:Model",
        blocker: Blocker::Dependent {
            dependent: "aws:apigateway/methodResponse:MethodResponse",
            property: "responseModels",
            by: By::NameInApi,
        },
        error: "ConflictException: Cannot delete model, is referenced in method response",
        source: "not in the API reference; the 409 reported in \
                 amazon-archives/aws-apigateway-importer#144",
    },
    DeleteRefusal {
        target: "aws:apigateway/requestValidator:RequestValidator",
        blocker: Blocker::Dependent {
            dependent: "aws:apigateway/method:Method",
            property: "requestValidatorId",
            by: By::Id,
        },
        error: "ConflictException: Cannot delete Request Validator, is referenced in method",
        source: "not in the API reference; LocalStack's maintainers, matching AWS \
                 (localstack/localstack#7846); the code is taken to be the 409 of its siblings",
    },
    DeleteRefusal {
        target: "aws:cloudwatch/eventRule:EventRule",
        blocker: Blocker::Dependent {
            dependent: "aws:cloudwatch/eventTarget:EventTarget",
            property: "rule",
            by: By::Id,
        },
        error: "ValidationException: Rule can't be deleted since it has targets.",
        source: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DeleteRule.html \
                 (remove all targets before deleting the rule)",
    },
    DeleteRefusal {
        target: "aws:cognito/userPool:UserPool",
        blocker: Blocker::Setting {
            property: "deletionProtection",
            value: "ACTIVE",
        },
        error: "InvalidParameterException: The user pool cannot be deleted because deletion \
                protection is activated. Deletion protection must be inactivated first.",
        source: "https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-deletion-protection.html",
    },
];

/// Why AWS would refuse to delete `target` while `live` exist: the rule and the resources
/// that block it; `None` if AWS deletes it.
pub fn delete_refusal<'a>(
    target: &LiveResource,
    live: impl Iterator<Item = &'a LiveResource> + Clone,
) -> Option<(&'static DeleteRefusal, Vec<String>)> {
    DELETE_REFUSALS
        .iter()
        .filter(|rule| rule.target == target.type_token)
        .find_map(|rule| {
            let blocking: Vec<String> = match rule.blocker {
                Blocker::Setting { property, value } => {
                    if target.inputs.get(property).and_then(Value::as_str) == Some(value) {
                        vec![target.urn.clone()]
                    } else {
                        vec![]
                    }
                }
                Blocker::Dependent {
                    dependent,
                    property,
                    by,
                } => {
                    let handle = match by {
                        By::Id => Some(target.id.as_str()),
                        By::NameInApi => target.inputs.get("name").and_then(Value::as_str),
                    };
                    live.clone()
                        .filter(|other| other.type_token == dependent && other.urn != target.urn)
                        .filter(|other| {
                            by == By::Id
                                || other.inputs.get("restApi") == target.inputs.get("restApi")
                        })
                        .filter(|other| {
                            handle.is_some_and(|h| holds(other.inputs.get(property), h))
                        })
                        .map(|other| other.urn.clone())
                        .collect()
                }
            };
            (!blocking.is_empty()).then_some((rule, blocking))
        })
}

/// Whether a property holds `id`: as its value, or as a value of its map.
fn holds(value: Option<&Value>, id: &str) -> bool {
    match value {
        Some(Value::String(text)) => text == id,
        Some(Value::Object(map)) => map.values().any(|v| v.as_str() == Some(id)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs_of(type_token: &str) -> Value {
        let schema: Value = serde_json::from_str(crate::schema::TEXT).unwrap();
        let inputs = schema["resources"][type_token]["inputProperties"].clone();
        assert!(inputs.is_object(), "{type_token} is not in the schema");
        inputs
    }

    #[test]
    fn every_replacement_property_is_an_input_of_its_type() {
        for (type_token, properties) in REPLACED_ON {
            let inputs = inputs_of(type_token);
            for property in *properties {
                let top = property.split('.').next().unwrap_or(property);
                assert!(inputs.get(top).is_some(), "{type_token} has no input {top}");
            }
        }
    }

    /// A refusal keyed on a property the program cannot set would never fire.
    #[test]
    fn every_refusal_reads_inputs_its_types_have() {
        for rule in DELETE_REFUSALS {
            let target = inputs_of(rule.target);
            match rule.blocker {
                Blocker::Setting { property, .. } => {
                    assert!(
                        target.get(property).is_some(),
                        "{}: {property}",
                        rule.target
                    );
                }
                Blocker::Dependent {
                    dependent,
                    property,
                    by,
                } => {
                    assert!(
                        inputs_of(dependent).get(property).is_some(),
                        "{dependent}: {property}"
                    );
                    if by == By::NameInApi {
                        assert!(target.get("name").is_some() && target.get("restApi").is_some());
                    }
                }
            }
            assert!(
                !rule.source.is_empty() && rule.error.contains(": "),
                "{rule:?}"
            );
        }
    }
}

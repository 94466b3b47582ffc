//! IAM documents, built as JSON values (never by string concatenation), and the roles.
//!
//! Every grant names its actions and the ARNs they apply to. The few actions AWS only
//! accepts on `*` are listed in the lists below with the reason; the preview
//! tests check every policy of the program against that list.

use crate::aws::iam::{role, role_policy};
use crate::outputs::all;
use pulumi_gestalt_rust::{Context, Output};
use serde_json::{Value, json};

// Actions without resource-level permissions: IAM accepts them only with `Resource: "*"`.
// These lists are the only grants the program may make on "*" (the preview tests check it).

/// X-Ray trace segments are not resources: writing traces needs "*".
pub const WRITE_TRACES: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords"];
/// Sampling rules are account-wide (Step Functions reads them when tracing).
pub const READ_SAMPLING_RULES: &[&str] = &["xray:GetSamplingRules", "xray:GetSamplingTargets"];
/// CloudWatch Logs "vended" log delivery, which Step Functions uses for execution logs:
/// these calls act on deliveries and the account's log resource policy, not on a log group.
pub const DELIVER_LOGS: &[&str] = &[
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
];
/// Listing log groups is account-wide by nature.
pub const LIST_LOG_GROUPS: &[&str] = &["logs:DescribeLogGroups"];
/// Listing DynamoDB streams is account-wide by nature (it takes no stream; EventBridge
/// Pipes asks for it with the three stream reads: "Event source permissions for Amazon
/// EventBridge Pipes").
pub const LIST_STREAMS: &[&str] = &["dynamodb:ListStreams"];

/// Whether AWS accepts `action` only on "*" (it is in one of the lists above).
pub fn wildcard_only(action: &str) -> bool {
    [
        WRITE_TRACES,
        READ_SAMPLING_RULES,
        DELIVER_LOGS,
        LIST_LOG_GROUPS,
        LIST_STREAMS,
    ]
    .iter()
    .any(|actions| actions.contains(&action))
}

/// One Allow statement: these actions on these resources.
#[derive(Clone)]
pub struct Grant {
    pub sid: &'static str,
    pub actions: &'static [&'static str],
    pub resources: Vec<Output<String>>,
}

impl Grant {
    pub fn new(
        sid: &'static str,
        actions: &'static [&'static str],
        resources: Vec<Output<String>>,
    ) -> Self {
        Self {
            sid,
            actions,
            resources,
        }
    }

    /// A grant AWS only accepts on "*": `actions` is one of the lists above.
    pub fn on_any_resource(sid: &'static str, actions: &'static [&'static str]) -> Self {
        debug_assert!(actions.iter().all(|a| wildcard_only(a)));
        Self::new(sid, actions, vec![Output::new("*".to_string())])
    }
}

/// The policy document of resolved grants.
pub fn policy_document(statements: &[(&str, &[&str], Vec<String>)]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": statements
            .iter()
            .map(|(sid, actions, resources)| json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }))
            .collect::<Vec<_>>(),
    })
}

/// The trust policy letting one AWS service (and nothing else) assume a role.
pub fn trust_policy(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
}

/// A role for `service` with one inline policy made of `grants`. Returns the role's ARN,
/// available only once the policy is attached too: AWS checks some permissions when a
/// resource using the role is created (an event source mapping, a logging state machine).
pub fn role_with_policy(
    ctx: &Context,
    logical_name: &str,
    name: String,
    description: &str,
    service: &str,
    grants: Vec<Grant>,
) -> Output<String> {
    let role = role::create(
        ctx,
        logical_name,
        role::RoleArgs::builder()
            .name(name.clone())
            .description(description)
            .assume_role_policy(trust_policy(service).to_string())
            .build_struct(),
    );

    let sids: Vec<(&'static str, &'static [&'static str])> =
        grants.iter().map(|g| (g.sid, g.actions)).collect();
    let resources: Vec<Output<Vec<String>>> =
        grants.into_iter().map(|g| all(g.resources)).collect();
    let document = all(resources).map(move |resources| {
        let statements: Vec<(&str, &[&str], Vec<String>)> = sids
            .iter()
            .zip(resources)
            .map(|((sid, actions), resources)| (*sid, *actions, resources))
            .collect();
        policy_document(&statements).to_string()
    });

    let policy = role_policy::create(
        ctx,
        &format!("{logical_name}-policy"),
        role_policy::RolePolicyArgs::builder()
            .name(format!("{name}-policy"))
            .role(role.name.clone())
            .policy(document)
            .build_struct(),
    );
    crate::outputs::after(&role.arn, &policy.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_document_lists_each_grant_as_one_allow_statement() {
        let document = policy_document(&[
            ("Read", &["dynamodb:GetItem"], vec!["arn:table".into()]),
            (
                "Tell",
                &["sns:Publish"],
                vec!["arn:a".into(), "arn:b".into()],
            ),
        ]);
        assert_eq!(
            document,
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": ["arn:table"]},
                    {"Sid": "Tell", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": ["arn:a", "arn:b"]},
                ]
            })
        );
    }

    #[test]
    fn a_trust_policy_names_one_service() {
        let document = trust_policy("lambda.amazonaws.com");
        assert_eq!(document["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(
            document["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );
        assert_eq!(document["Statement"][0]["Action"], "sts:AssumeRole");
    }

    #[test]
    fn wildcard_only_actions_are_named_not_wildcards() {
        for actions in [
            WRITE_TRACES,
            READ_SAMPLING_RULES,
            DELIVER_LOGS,
            LIST_LOG_GROUPS,
            LIST_STREAMS,
        ] {
            assert!(actions.iter().all(|a| !a.contains('*') && wildcard_only(a)));
        }
        assert!(!wildcard_only("sns:Publish"));
    }
}

//! A made-up AWS account, kept in a JSON file so that it outlives one engine run as a real
//! account does: what the stand-in provider has created, under which id and ARN, with which
//! inputs. It refuses what AWS refuses and the lifecycle cares about:
//! - deleting a resource while another live resource's inputs still name its id or ARN (AWS
//!   refuses to delete a role with policies, a deployment with a stage, ...; this rule is
//!   stricter than AWS, never looser, for the references the program makes);
//! - creating a second resource with a name AWS keeps unique (a role, a function, ...).

use crate::aws_shapes::{self, Generated};
use crate::wire::as_archive;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Types whose `name` AWS refuses to give twice (CreateRole: EntityAlreadyExists,
/// CreateFunction: ResourceConflictException, CreateLogGroup: ResourceAlreadyExistsException,
/// CreateTable: ResourceInUseException, CreateStateMachine: StateMachineAlreadyExists).
/// SQS and SNS answer a repeated create with the existing queue or topic instead.
const UNIQUE_NAMES: [&str; 5] = [
    "aws:iam/role:Role",
    "aws:lambda/function:Function",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:dynamodb/table:Table",
    "aws:sfn/stateMachine:StateMachine",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LiveResource {
    #[serde(rename = "type")]
    pub type_token: String,
    pub urn: String,
    pub id: String,
    pub inputs: Map<String, Value>,
    pub outputs: Map<String, Value>,
}

/// Types that name resources only as the dimensions of the metrics they watch: AWS keeps no
/// link from an alarm or a dashboard to a function or a queue, and deletes those freely.
const WATCHERS: [&str; 2] = [
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/dashboard:Dashboard",
];

/// Types whose `arn` property is another resource's: an EventBridge target's is the
/// resource it sends to. They have no ARN of their own.
const ARN_OF_ANOTHER: [&str; 1] = ["aws:cloudwatch/eventTarget:EventTarget"];

impl LiveResource {
    fn arn(&self) -> Option<&str> {
        if ARN_OF_ANOTHER.contains(&self.type_token.as_str()) {
            return None;
        }
        self.outputs.get("arn").and_then(Value::as_str)
    }

    fn name(&self) -> Option<&str> {
        self.inputs.get("name").and_then(Value::as_str)
    }

    /// Whether this resource's inputs name `other` by its id or ARN (also inside JSON
    /// documents such as policies, and as the start of a longer ARN: `table/x/index/*`).
    pub fn names(&self, other: &LiveResource) -> bool {
        if WATCHERS.contains(&self.type_token.as_str()) {
            return false;
        }
        let id = other.id.as_str();
        let arn = other.arn();
        let mut found = false;
        for value in self.inputs.values() {
            visit_strings(value, &mut |text| {
                found |= text == id
                    || arn.is_some_and(|arn| {
                        text == arn
                            || text
                                .strip_prefix(arn)
                                .is_some_and(|rest| rest.starts_with([':', '/']))
                    });
            });
        }
        found
    }
}

/// Calls `f` with every string in `value`, and in the JSON documents strings hold.
fn visit_strings(value: &Value, f: &mut dyn FnMut(&str)) {
    if as_archive(value).is_some() {
        return;
    }
    match value {
        Value::String(text) => {
            f(text);
            if text.starts_with(['{', '[']) {
                if let Ok(document) = serde_json::from_str::<Value>(text) {
                    visit_strings(&document, f);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| visit_strings(item, f)),
        Value::Object(object) => object.values().for_each(|item| visit_strings(item, f)),
        _ => {}
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Account {
    /// Counts every id minted, so that ids are never reused.
    minted: u64,
    /// By type and id (AWS ids are unique within a type: a queue policy's id is its
    /// queue's URL, as the queue's is).
    resources: BTreeMap<String, LiveResource>,
}

/// The account's key of a resource.
fn key(type_token: &str, id: &str) -> String {
    format!("{type_token} {id}")
}

/// Why a delete was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteConflict {
    pub urn: String,
    pub named_by: Vec<String>,
}

impl std::fmt::Display for DeleteConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeleteConflict: cannot delete {} while these still use it: {}",
            self.urn,
            self.named_by.join(", ")
        )
    }
}

impl Account {
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not an account file", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the whole account (to a temporary file first, so a crash leaves the old one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let temporary = PathBuf::from(format!("{}.tmp", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&temporary, serde_json::to_string_pretty(self)? + "\n")?;
        std::fs::rename(&temporary, path)?;
        Ok(())
    }

    pub fn resources(&self) -> impl Iterator<Item = &LiveResource> {
        self.resources.values()
    }

    pub fn get(&self, type_token: &str, id: &str) -> Option<&LiveResource> {
        self.resources.get(&key(type_token, id))
    }

    pub fn create(
        &mut self,
        region: &str,
        type_token: &str,
        urn: &str,
        logical_name: &str,
        inputs: &Map<String, Value>,
    ) -> Result<&LiveResource> {
        if UNIQUE_NAMES.contains(&type_token) {
            if let Some(name) = inputs.get("name").and_then(Value::as_str) {
                if let Some(existing) = self
                    .resources
                    .values()
                    .find(|r| r.type_token == type_token && r.name() == Some(name))
                {
                    bail!(
                        "{type_token} {name:?} already exists (created for {})",
                        existing.urn
                    );
                }
            }
        }
        let mut mint = |generated: Generated| {
            self.minted += 1;
            minted_id(generated, urn, self.minted)
        };
        let (id, outputs) =
            aws_shapes::created(region, type_token, logical_name, inputs, &mut mint);
        if self.resources.contains_key(&key(type_token, &id)) {
            bail!("{type_token} with id {id:?} already exists");
        }
        let resource = LiveResource {
            type_token: type_token.into(),
            urn: urn.into(),
            id: id.clone(),
            inputs: inputs.clone(),
            outputs,
        };
        Ok(self
            .resources
            .entry(key(type_token, &id))
            .or_insert(resource))
    }

    /// Replaces the inputs of a live resource in place; what AWS computed stays.
    pub fn update(
        &mut self,
        type_token: &str,
        id: &str,
        inputs: &Map<String, Value>,
    ) -> Result<&LiveResource> {
        let resource = self
            .resources
            .get_mut(&key(type_token, id))
            .with_context(|| format!("no {type_token} with id {id:?}"))?;
        for (key, value) in inputs {
            resource.outputs.insert(key.clone(), value.clone());
        }
        let removed: Vec<String> = resource
            .inputs
            .keys()
            .filter(|key| !inputs.contains_key(*key))
            .cloned()
            .collect();
        for key in removed {
            resource.outputs.remove(&key);
        }
        resource.inputs = inputs.clone();
        Ok(resource)
    }

    /// Deletes a resource unless another live resource still names it. Deleting one that is
    /// already gone succeeds, as a retried delete does in AWS.
    pub fn delete(&mut self, type_token: &str, id: &str) -> Result<(), DeleteConflict> {
        let Some(target) = self.resources.get(&key(type_token, id)) else {
            return Ok(());
        };
        let named_by: Vec<String> = self
            .resources
            .values()
            .filter(|other| other.urn != target.urn && other.names(target))
            .map(|other| other.urn.clone())
            .collect();
        if !named_by.is_empty() {
            return Err(DeleteConflict {
                urn: target.urn.clone(),
                named_by,
            });
        }
        self.resources.remove(&key(type_token, id));
        Ok(())
    }
}

/// An id in the form AWS gives it, unique through the counter.
fn minted_id(generated: Generated, urn: &str, counter: u64) -> String {
    let digest = hex::encode(Sha256::digest(format!("{urn}#{counter}").as_bytes()));
    match generated {
        Generated::MappingUuid => format!(
            "{}-{}-{}-{}-{}",
            &digest[0..8],
            &digest[8..12],
            &digest[12..16],
            &digest[16..20],
            &digest[20..32]
        ),
        Generated::RestApiId => digest[..10].to_string(),
        Generated::RootResourceId | Generated::Id => digest[..6].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    const ROLE: &str = "aws:iam/role:Role";
    const POLICY: &str = "aws:iam/rolePolicy:RolePolicy";

    fn role_and_policy(account: &mut Account) -> (String, String) {
        let role = account
            .create(
                "eu-west-1",
                "aws:iam/role:Role",
                "urn:role",
                "role",
                &inputs(json!({"name": "r"})),
            )
            .unwrap()
            .id
            .clone();
        let policy_document =
            json!({"Statement": [{"Resource": "arn:aws:iam::123456789012:role/r"}]});
        let policy = account
            .create(
                "eu-west-1",
                "aws:iam/rolePolicy:RolePolicy",
                "urn:policy",
                "policy",
                &inputs(json!({"role": role, "policy": policy_document.to_string()})),
            )
            .unwrap()
            .id
            .clone();
        (role, policy)
    }

    #[test]
    fn an_event_target_is_not_the_function_it_sends_to() {
        let mut account = Account::default();
        let function = "arn:aws:lambda:eu-west-1:123456789012:function:f";
        let target = account
            .create(
                "eu-west-1",
                "aws:cloudwatch/eventTarget:EventTarget",
                "urn:target",
                "target",
                &inputs(json!({"rule": "r", "targetId": "f", "arn": function})),
            )
            .unwrap()
            .id
            .clone();
        let document = json!({"Statement": [{"Resource": [function]}]}).to_string();
        account
            .create(
                "eu-west-1",
                POLICY,
                "urn:policy",
                "policy",
                &inputs(json!({"role": "r", "policy": document})),
            )
            .unwrap();
        // The policy names the function, not the target: the target goes first.
        account
            .delete("aws:cloudwatch/eventTarget:EventTarget", &target)
            .unwrap();
    }

    #[test]
    fn a_resource_still_named_by_another_cannot_be_deleted() {
        let mut account = Account::default();
        let (role, policy) = role_and_policy(&mut account);
        let conflict = account.delete(ROLE, &role).unwrap_err();
        assert_eq!(conflict.named_by, vec!["urn:policy".to_string()]);
        account.delete(POLICY, &policy).unwrap();
        account.delete(ROLE, &role).unwrap();
        assert_eq!(account.resources().count(), 0);
    }

    #[test]
    fn an_arn_inside_a_policy_document_or_a_longer_arn_is_a_reference() {
        let mut account = Account::default();
        let table = account
            .create(
                "eu-west-1",
                "aws:dynamodb/table:Table",
                "urn:table",
                "t",
                &inputs(json!({"name": "orders"})),
            )
            .unwrap()
            .clone();
        let index = format!("{}/index/by-user", table.outputs["arn"].as_str().unwrap());
        let document = json!({"Statement": [{"Resource": [index]}]}).to_string();
        let policy = LiveResource {
            type_token: "aws:iam/rolePolicy:RolePolicy".into(),
            urn: "urn:p".into(),
            id: "p".into(),
            inputs: inputs(json!({"policy": document})),
            outputs: Map::new(),
        };
        assert!(policy.names(&table));
        let unrelated = LiveResource {
            inputs: inputs(
                json!({"policy": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-archive"}),
            ),
            ..policy
        };
        assert!(!unrelated.names(&table));
    }

    #[test]
    fn unique_names_are_refused_twice_and_ids_are_never_reused() {
        let mut account = Account::default();
        role_and_policy(&mut account);
        let again = account.create(
            "eu-west-1",
            "aws:iam/role:Role",
            "urn:role2",
            "role",
            &inputs(json!({"name": "r"})),
        );
        assert!(again.is_err());
        let create_api = |account: &mut Account| {
            let api = "aws:apigateway/restApi:RestApi";
            let created = account.create("eu-west-1", api, "urn:api", "api", &Map::new());
            created.unwrap().id.clone()
        };
        let first = create_api(&mut account);
        account
            .delete("aws:apigateway/restApi:RestApi", &first)
            .unwrap();
        let second = create_api(&mut account);
        assert_ne!(first, second);
        assert_eq!(first.len(), 10);
    }

    #[test]
    fn the_account_survives_a_save_and_load() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("account.json");
        let mut account = Account::default();
        role_and_policy(&mut account);
        account.save(&path).unwrap();
        let loaded = Account::load(&path).unwrap();
        assert_eq!(loaded.resources().count(), 2);
        assert_eq!(loaded.minted, account.minted);
    }
}

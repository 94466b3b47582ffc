//! A made-up AWS account, kept in a JSON file so that it outlives one engine run as a real
//! account does: what the stand-in provider has created, under which id and ARN, with which
//! inputs. It refuses what AWS documents refusing ([`crate::aws_facts`]): deleting a role
//! that still has policies, a deployment a stage uses, a rule with targets, ...; and creating
//! a second resource with a name AWS keeps unique (a role, a function, ...).

use crate::aws_facts::{DeleteRefusal, UNIQUE_NAMES, delete_refusal};
use crate::aws_shapes::{self, Generated};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LiveResource {
    #[serde(rename = "type")]
    pub type_token: String,
    pub urn: String,
    pub id: String,
    pub inputs: Map<String, Value>,
    pub outputs: Map<String, Value>,
}

impl LiveResource {
    fn name(&self) -> Option<&str> {
        self.inputs.get("name").and_then(Value::as_str)
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

/// A delete AWS refuses: the error it answers, and what blocks the delete.
#[derive(Debug, Clone)]
pub struct Refused {
    pub urn: String,
    pub rule: &'static DeleteRefusal,
    pub blocked_by: Vec<String>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (deleting {}, blocked by {}; {})",
            self.rule.error,
            self.urn,
            self.blocked_by.join(", "),
            self.rule.source
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

    /// Deletes a resource unless AWS would refuse to. Deleting one that is already gone
    /// succeeds, as a retried delete does in AWS.
    pub fn delete(&mut self, type_token: &str, id: &str) -> Result<(), Refused> {
        let Some(target) = self.resources.get(&key(type_token, id)) else {
            return Ok(());
        };
        if let Some((rule, blocked_by)) = delete_refusal(target, self.resources.values()) {
            return Err(Refused {
                urn: target.urn.clone(),
                rule,
                blocked_by,
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
    fn a_role_with_a_policy_cannot_be_deleted_until_the_policy_is() {
        let mut account = Account::default();
        let (role, policy) = role_and_policy(&mut account);
        let refused = account.delete(ROLE, &role).unwrap_err();
        assert_eq!(refused.blocked_by, vec!["urn:policy".to_string()]);
        assert!(
            refused.to_string().starts_with("DeleteConflict"),
            "{refused}"
        );
        account.delete(POLICY, &policy).unwrap();
        account.delete(ROLE, &role).unwrap();
        assert_eq!(account.resources().count(), 0);
    }

    fn create(account: &mut Account, type_token: &str, urn: &str, value: Value) -> String {
        account
            .create("eu-west-1", type_token, urn, urn, &inputs(value))
            .unwrap()
            .id
            .clone()
    }

    /// AWS refuses these deletes while the dependent lives, and takes them after.
    #[test]
    fn documented_refusals_hold_until_the_dependent_is_gone() {
        let mut account = Account::default();
        let api = create(
            &mut account,
            "aws:apigateway/restApi:RestApi",
            "urn:api",
            json!({}),
        );
        let deployment = create(
            &mut account,
            "aws:apigateway/deployment:Deployment",
            "urn:deployment",
            json!({"restApi": api}),
        );
        let model = create(
            &mut account,
            "aws:apigateway/model:Model",
            "urn:model",
            json!({"restApi": api, "name": "Order"}),
        );
        let rule = create(
            &mut account,
            "aws:cloudwatch/eventRule:EventRule",
            "urn:rule",
            json!({"name": "unsettled"}),
        );
        let cases = [
            (
                "aws:apigateway/deployment:Deployment",
                deployment.clone(),
                "aws:apigateway/stage:Stage",
                json!({"restApi": api, "stageName": "v1", "deployment": deployment}),
                "BadRequestException",
            ),
            (
                "aws:apigateway/model:Model",
                model.clone(),
                "aws:apigateway/method:Method",
                json!({"restApi": api, "httpMethod": "POST", "requestModels": {"$default": "Order"}}),
                "ConflictException",
            ),
            (
                "aws:cloudwatch/eventRule:EventRule",
                rule.clone(),
                "aws:cloudwatch/eventTarget:EventTarget",
                json!({"rule": "unsettled", "targetId": "f", "arn": "arn:aws:lambda:eu-west-1:1:function:f"}),
                "ValidationException",
            ),
        ];
        for (i, (target_type, target, dependent_type, dependent_inputs, error)) in
            cases.into_iter().enumerate()
        {
            let urn = format!("urn:dependent-{i}");
            let dependent = create(&mut account, dependent_type, &urn, dependent_inputs);
            let refused = account.delete(target_type, &target).unwrap_err();
            assert!(refused.to_string().starts_with(error), "{refused}");
            assert_eq!(refused.blocked_by, vec![urn]);
            account.delete(dependent_type, &dependent).unwrap();
            account.delete(target_type, &target).unwrap();
        }
    }

    #[test]
    fn a_model_of_the_same_name_in_another_api_does_not_block() {
        let mut account = Account::default();
        let model = create(
            &mut account,
            "aws:apigateway/model:Model",
            "urn:model",
            json!({"restApi": "api-1", "name": "Order"}),
        );
        create(
            &mut account,
            "aws:apigateway/method:Method",
            "urn:method",
            json!({"restApi": "api-2", "requestModels": {"$default": "Order"}}),
        );
        account
            .delete("aws:apigateway/model:Model", &model)
            .unwrap();
    }

    #[test]
    fn a_protected_user_pool_is_refused_an_unprotected_one_deleted() {
        let mut account = Account::default();
        let pool = "aws:cognito/userPool:UserPool";
        let protected = create(
            &mut account,
            pool,
            "urn:protected",
            json!({"name": "p", "deletionProtection": "ACTIVE"}),
        );
        let refused = account.delete(pool, &protected).unwrap_err();
        assert!(refused.to_string().starts_with("InvalidParameterException"));
        let open = create(
            &mut account,
            pool,
            "urn:open",
            json!({"name": "o", "deletionProtection": "INACTIVE"}),
        );
        account.delete(pool, &open).unwrap();
    }

    /// What AWS deletes although others still name it: a dead-letter queue named in a
    /// redrive policy, a log group a function writes to, a function a mapping and a
    /// permission name, a table an IAM policy names, a role a function runs as.
    #[test]
    fn deletes_aws_allows_while_others_name_the_resource_go_through() {
        let mut account = Account::default();
        let dlq = account
            .create(
                "eu-west-1",
                "aws:sqs/queue:Queue",
                "urn:dlq",
                "dlq",
                &inputs(json!({"name": "dlq"})),
            )
            .unwrap()
            .clone();
        let dlq_arn = dlq.outputs["arn"]
            .as_str()
            .unwrap_or("arn:aws:sqs:eu-west-1:1:dlq")
            .to_owned();
        create(
            &mut account,
            "aws:sqs/queue:Queue",
            "urn:queue",
            json!({"name": "q", "redrivePolicy": json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}).to_string()}),
        );
        let logs = create(
            &mut account,
            "aws:cloudwatch/logGroup:LogGroup",
            "urn:logs",
            json!({"name": "/aws/lambda/f"}),
        );
        let role = create(&mut account, ROLE, "urn:role", json!({"name": "r"}));
        let function = create(
            &mut account,
            "aws:lambda/function:Function",
            "urn:function",
            json!({"name": "f", "role": "arn:aws:iam::123456789012:role/r", "loggingConfig": {"logGroup": "/aws/lambda/f"}}),
        );
        create(
            &mut account,
            "aws:lambda/eventSourceMapping:EventSourceMapping",
            "urn:mapping",
            json!({"functionName": "f", "eventSourceArn": "arn:aws:sqs:eu-west-1:1:q"}),
        );
        create(
            &mut account,
            "aws:lambda/permission:Permission",
            "urn:permission",
            json!({"function": "f", "principal": "events.amazonaws.com"}),
        );
        account.delete("aws:sqs/queue:Queue", &dlq.id).unwrap();
        account
            .delete("aws:cloudwatch/logGroup:LogGroup", &logs)
            .unwrap();
        account
            .delete("aws:lambda/function:Function", &function)
            .unwrap();
        account.delete(ROLE, &role).unwrap();
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

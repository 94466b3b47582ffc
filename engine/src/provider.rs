//! The stand-in `pulumi-resource-aws`: the provider service of the engine's protocol, for the
//! resource types of the program's schema, deploying into a made-up account ([`Account`]).
//!
//! It answers as the real provider does where the lifecycle depends on it: the plugin and
//! schema version, a required region, inputs checked against the schema, detailed diffs with
//! replacement where AWS cannot change a property in place, previews that leave computed
//! properties unknown, and deletes that AWS would refuse refused.

use crate::account::Account;
use crate::aws_facts::replaced_on;
use crate::schema::Schema;
use crate::wire::{UNKNOWN, as_archive, first_unknown, is_unknown, map_to_proto, struct_to_json};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::diff_response::DiffChanges;
use rpc::property_diff::Kind as DiffKind;
use rpc::resource_provider_server::ResourceProvider;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use tonic::{Request, Response, Status};

/// The environment variable naming the account file.
pub const ACCOUNT_FILE_VAR: &str = "ORDERS_FAKE_AWS_ACCOUNT";

pub struct Provider {
    account_file: Option<PathBuf>,
    region: Mutex<Option<String>>,
    /// Requests run concurrently; the account file is read and written under this lock.
    account: Mutex<()>,
}

impl Provider {
    pub fn from_env() -> Self {
        Self {
            account_file: std::env::var_os(ACCOUNT_FILE_VAR).map(PathBuf::from),
            region: Mutex::new(None),
            account: Mutex::new(()),
        }
    }

    /// Runs `change` on the account and saves it if `change` succeeded.
    fn with_account<T>(
        &self,
        change: impl FnOnce(&mut Account, &str) -> Result<T, Status>,
    ) -> Result<T, Status> {
        let region = self
            .region
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Status::failed_precondition("the provider is not configured"))?;
        let path = self.account_file.as_ref().ok_or_else(|| {
            Status::failed_precondition(format!(
                "the stand-in provider keeps its account in the file named by {ACCOUNT_FILE_VAR}, \
                 which is not set"
            ))
        })?;
        let _guard = self.account.lock().unwrap();
        let mut account = Account::load(path).map_err(internal)?;
        let result = change(&mut account, &region)?;
        account.save(path).map_err(internal)?;
        Ok(result)
    }
}

/// The type token in a resource's URN (`urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME`).
fn type_of(urn: &str) -> &str {
    let qualified = urn.split("::").nth(2).unwrap_or_default();
    qualified.rsplit('$').next().unwrap_or(qualified)
}

fn internal(error: anyhow::Error) -> Status {
    Status::internal(format!("{error:#}"))
}

fn object(value: Option<&prost_types::Struct>) -> Map<String, Value> {
    value.map(struct_to_json).unwrap_or_default()
}

fn region_of(config: &Map<String, Value>) -> Option<String> {
    config
        .get("region")
        .and_then(Value::as_str)
        .filter(|region| !region.is_empty() && !is_unknown(&Value::from(*region)))
        .map(str::to_string)
}

/// Whether a change of the top-level property `key` hits the replacement entry `entry`: the
/// property itself, or a dotted path inside it whose value changed.
fn hits_entry(entry: &str, key: &str, old: Option<&Value>, new: Option<&Value>) -> bool {
    match entry.strip_prefix(key) {
        Some("") => true,
        Some(rest) => match rest.strip_prefix('.') {
            Some(path) => part_of(old, path) != part_of(new, path),
            None => false,
        },
        None => false,
    }
}

fn part_of<'a>(value: Option<&'a Value>, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value?, |value, step| value.get(step))
        .filter(|value| !value.is_null())
}

/// Two input values are the same for AWS: archives by their contents' hash (the engine sends
/// it; a checkout elsewhere has another path to the same bytes), the rest as they are.
fn same(old: Option<&Value>, new: Option<&Value>) -> bool {
    match (old, new) {
        (Some(old), Some(new)) => match (as_archive(old), as_archive(new)) {
            (Some(old), Some(new)) => match (old.get("hash"), new.get("hash")) {
                (Some(old), Some(new)) => old == new,
                _ => old == new,
            },
            _ => !is_unknown(new) && old == new,
        },
        (None, None) => true,
        (Some(old), None) | (None, Some(old)) => old.is_null(),
    }
}

/// The properties the provider computes, unknown until the resource exists (preview).
fn with_computed_unknown(type_token: &str, inputs: &Map<String, Value>) -> Map<String, Value> {
    let mut outputs = inputs.clone();
    for property in Schema::embedded().output_properties(type_token) {
        outputs
            .entry(property)
            .or_insert_with(|| Value::String(UNKNOWN.into()));
    }
    outputs
}

fn check_failures(type_token: &str, inputs: &Map<String, Value>) -> Vec<rpc::CheckFailure> {
    Schema::embedded()
        .check(type_token, inputs)
        .into_iter()
        .map(|failure| rpc::CheckFailure {
            property: failure.property,
            reason: failure.reason,
        })
        .collect()
}

fn refuse_unknowns(inputs: &Map<String, Value>, what: &str) -> Result<(), Status> {
    match first_unknown(inputs) {
        Some(key) => Err(Status::invalid_argument(format!(
            "{what}: input {key} is still unknown"
        ))),
        None => Ok(()),
    }
}

#[tonic::async_trait]
impl ResourceProvider for Provider {
    async fn handshake(
        &self,
        _request: Request<rpc::ProviderHandshakeRequest>,
    ) -> Result<Response<rpc::ProviderHandshakeResponse>, Status> {
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: false,
            accept_resources: false,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn parameterize(
        &self,
        _request: Request<rpc::ParameterizeRequest>,
    ) -> Result<Response<rpc::ParameterizeResponse>, Status> {
        Err(Status::unimplemented("the stand-in takes no parameters"))
    }

    async fn get_schema(
        &self,
        _request: Request<rpc::GetSchemaRequest>,
    ) -> Result<Response<rpc::GetSchemaResponse>, Status> {
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: crate::schema::TEXT.into(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let request = request.into_inner();
        let news = request.news.unwrap_or_default();
        let mut failures = Vec::new();
        if region_of(&struct_to_json(&news)).is_none() {
            failures.push(rpc::CheckFailure {
                property: "region".into(),
                reason: "missing required configuration key \"aws:region\": set it with \
                         `pulumi config set aws:region <region>`"
                    .into(),
            });
        }
        Ok(Response::new(rpc::CheckResponse {
            inputs: Some(news),
            failures,
        }))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let request = request.into_inner();
        let old = region_of(&object(request.olds.as_ref()));
        let new = region_of(&object(request.news.as_ref()));
        let changed = old != new;
        Ok(Response::new(rpc::DiffResponse {
            changes: if changed {
                DiffChanges::DiffSome
            } else {
                DiffChanges::DiffNone
            } as i32,
            // Resources do not move between regions: a new region means new resources.
            replaces: if changed {
                vec!["region".into()]
            } else {
                vec![]
            },
            diffs: if changed {
                vec!["region".into()]
            } else {
                vec![]
            },
            ..Default::default()
        }))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let request = request.into_inner();
        let region = region_of(&object(request.args.as_ref()))
            .or_else(|| request.variables.get("aws:config:region").cloned())
            .ok_or_else(|| {
                Status::invalid_argument(
                    "missing required configuration key \"aws:region\": set it with \
                     `pulumi config set aws:region <region>`",
                )
            })?;
        *self.region.lock().unwrap() = Some(region);
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: false,
            supports_preview: true,
            accept_resources: false,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn invoke(
        &self,
        request: Request<rpc::InvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        Err(Status::unimplemented(format!(
            "the stand-in provider has no functions ({})",
            request.into_inner().tok
        )))
    }

    async fn call(
        &self,
        _request: Request<rpc::CallRequest>,
    ) -> Result<Response<rpc::CallResponse>, Status> {
        Err(Status::unimplemented(
            "the stand-in provider has no methods",
        ))
    }

    async fn check(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let request = request.into_inner();
        let news = object(request.news.as_ref());
        let failures = check_failures(&request.r#type, &news);
        Ok(Response::new(rpc::CheckResponse {
            inputs: Some(map_to_proto(&news)),
            failures,
        }))
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let request = request.into_inner();
        let news = object(request.news.as_ref());
        // What the program sent last time. Without it (older states), the outputs stand in
        // for the inputs they echo, for the properties the program still sets.
        let olds = match request.old_inputs.as_ref() {
            Some(old_inputs) if !old_inputs.fields.is_empty() => struct_to_json(old_inputs),
            _ => object(request.olds.as_ref())
                .into_iter()
                .filter(|(key, _)| news.contains_key(key))
                .collect(),
        };
        let replaced = replaced_on(&request.r#type);
        let mut keys: Vec<&String> = olds.keys().chain(news.keys()).collect();
        keys.sort();
        keys.dedup();

        let mut diffs = Vec::new();
        let mut replaces = Vec::new();
        let mut detailed_diff = HashMap::new();
        for key in keys {
            if request.ignore_changes.contains(key) || same(olds.get(key), news.get(key)) {
                continue;
            }
            let replace = replaced
                .iter()
                .any(|entry| hits_entry(entry, key, olds.get(key), news.get(key)));
            let kind = match (olds.contains_key(key), news.contains_key(key), replace) {
                (false, _, false) => DiffKind::Add,
                (false, _, true) => DiffKind::AddReplace,
                (true, false, false) => DiffKind::Delete,
                (true, false, true) => DiffKind::DeleteReplace,
                (true, true, false) => DiffKind::Update,
                (true, true, true) => DiffKind::UpdateReplace,
            };
            diffs.push(key.clone());
            if replace {
                replaces.push(key.clone());
            }
            detailed_diff.insert(
                key.clone(),
                rpc::PropertyDiff {
                    kind: kind as i32,
                    input_diff: true,
                },
            );
        }
        Ok(Response::new(rpc::DiffResponse {
            changes: if diffs.is_empty() {
                DiffChanges::DiffNone
            } else {
                DiffChanges::DiffSome
            } as i32,
            // A resource AWS names uniquely must go before its replacement can take the name.
            delete_before_replace: !replaces.is_empty() && news.contains_key("name"),
            replaces,
            diffs,
            detailed_diff,
            has_detailed_diff: true,
            stables: vec![],
        }))
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let request = request.into_inner();
        let inputs = object(request.properties.as_ref());
        if request.preview {
            return Ok(Response::new(rpc::CreateResponse {
                id: String::new(),
                properties: Some(map_to_proto(&with_computed_unknown(
                    &request.r#type,
                    &inputs,
                ))),
                refresh_before_update: false,
            }));
        }
        refuse_unknowns(&inputs, &request.urn)?;
        let logical_name = request
            .urn
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .to_string();
        let (id, outputs) = self.with_account(|account, region| {
            let created = account
                .create(
                    region,
                    &request.r#type,
                    &request.urn,
                    &logical_name,
                    &inputs,
                )
                .map_err(|error| Status::already_exists(format!("{error:#}")))?;
            Ok((created.id.clone(), created.outputs.clone()))
        })?;
        Ok(Response::new(rpc::CreateResponse {
            id,
            properties: Some(map_to_proto(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let request = request.into_inner();
        let type_token = type_of(&request.urn);
        let live =
            self.with_account(|account, _| Ok(account.get(type_token, &request.id).cloned()))?;
        // An empty id tells the engine the resource is gone.
        Ok(Response::new(match live {
            Some(live) => rpc::ReadResponse {
                id: live.id,
                properties: Some(map_to_proto(&live.outputs)),
                inputs: Some(map_to_proto(&live.inputs)),
                refresh_before_update: false,
            },
            None => rpc::ReadResponse::default(),
        }))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let request = request.into_inner();
        let news = object(request.news.as_ref());
        if request.preview {
            let mut outputs = object(request.olds.as_ref());
            outputs.extend(news);
            return Ok(Response::new(rpc::UpdateResponse {
                properties: Some(map_to_proto(&outputs)),
                refresh_before_update: false,
            }));
        }
        refuse_unknowns(&news, &request.urn)?;
        let outputs = self.with_account(|account, _| {
            let updated = account
                .update(type_of(&request.urn), &request.id, &news)
                .map_err(|error| Status::not_found(format!("{error:#}")))?;
            Ok(updated.outputs.clone())
        })?;
        Ok(Response::new(rpc::UpdateResponse {
            properties: Some(map_to_proto(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        self.with_account(|account, _| {
            account
                .delete(type_of(&request.urn), &request.id)
                .map_err(|conflict| Status::failed_precondition(conflict.to_string()))
        })?;
        Ok(Response::new(()))
    }

    async fn construct(
        &self,
        _request: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        Err(Status::unimplemented(
            "the stand-in provider has no components",
        ))
    }

    async fn cancel(&self, _request: Request<()>) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    async fn get_plugin_info(
        &self,
        _request: Request<()>,
    ) -> Result<Response<rpc::PluginInfo>, Status> {
        Ok(Response::new(rpc::PluginInfo {
            version: Schema::embedded().version().into(),
        }))
    }

    async fn attach(&self, _request: Request<rpc::PluginAttach>) -> Result<Response<()>, Status> {
        Err(Status::unimplemented(
            "the stand-in provider cannot be attached",
        ))
    }

    async fn get_mapping(
        &self,
        _request: Request<rpc::GetMappingRequest>,
    ) -> Result<Response<rpc::GetMappingResponse>, Status> {
        // No conversion mappings: an empty answer, as providers without them give.
        Ok(Response::new(rpc::GetMappingResponse::default()))
    }

    async fn get_mappings(
        &self,
        _request: Request<rpc::GetMappingsRequest>,
    ) -> Result<Response<rpc::GetMappingsResponse>, Status> {
        Ok(Response::new(rpc::GetMappingsResponse::default()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_urn_names_its_type_also_under_a_parent() {
        assert_eq!(
            super::type_of("urn:pulumi:dev::serverless-orders::aws:sqs/queue:Queue::order-dlq"),
            "aws:sqs/queue:Queue"
        );
        assert_eq!(
            super::type_of(
                "urn:pulumi:dev::p::my:component:Thing$aws:sqs/queuePolicy:QueuePolicy::q"
            ),
            "aws:sqs/queuePolicy:QueuePolicy"
        );
    }

    use super::*;
    use crate::wire::{ARCHIVE_SIG, SIG_KEY};
    use serde_json::json;

    #[test]
    fn archives_compare_by_hash_not_path() {
        let here = json!({SIG_KEY: ARCHIVE_SIG, "hash": "abc", "path": "/a/f.zip"});
        let elsewhere = json!({SIG_KEY: ARCHIVE_SIG, "hash": "abc", "path": "/b/f.zip"});
        let changed = json!({SIG_KEY: ARCHIVE_SIG, "hash": "def", "path": "/a/f.zip"});
        assert!(same(Some(&here), Some(&elsewhere)));
        assert!(!same(Some(&here), Some(&changed)));
    }

    #[test]
    fn an_unknown_new_value_is_a_change() {
        assert!(!same(Some(&json!("x")), Some(&json!(UNKNOWN))));
        assert!(same(Some(&json!("x")), Some(&json!("x"))));
        assert!(same(None, Some(&Value::Null)));
    }

    async fn diff(
        type_token: &str,
        olds: Value,
        old_inputs: Value,
        news: Value,
    ) -> rpc::DiffResponse {
        let proto = |value: Value| Some(map_to_proto(value.as_object().unwrap()));
        Provider::from_env()
            .diff(Request::new(rpc::DiffRequest {
                r#type: type_token.into(),
                olds: proto(olds),
                old_inputs: proto(old_inputs),
                news: proto(news),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    #[tokio::test]
    async fn a_new_name_replaces_the_resource_deleting_it_first() {
        let queue = "aws:sqs/queue:Queue";
        let answer = diff(
            queue,
            json!({"name": "a", "arn": "arn:aws:sqs:eu-west-1:1:a"}),
            json!({"name": "a", "visibilityTimeoutSeconds": 60}),
            json!({"name": "b", "visibilityTimeoutSeconds": 60}),
        )
        .await;
        assert_eq!(answer.changes, DiffChanges::DiffSome as i32);
        assert_eq!(answer.replaces, vec!["name".to_string()]);
        assert!(answer.delete_before_replace);
        assert_eq!(
            answer.detailed_diff["name"].kind,
            DiffKind::UpdateReplace as i32
        );

        let answer = diff(
            queue,
            json!({}),
            json!({"name": "a", "visibilityTimeoutSeconds": 60}),
            json!({"name": "a", "visibilityTimeoutSeconds": 30}),
        )
        .await;
        assert_eq!(answer.replaces, Vec::<String>::new());
        assert_eq!(answer.diffs, vec!["visibilityTimeoutSeconds".to_string()]);
    }

    #[tokio::test]
    async fn without_old_inputs_computed_outputs_are_not_taken_for_removed_inputs() {
        let answer = diff(
            "aws:sqs/queue:Queue",
            json!({"name": "a", "arn": "arn:aws:sqs:eu-west-1:1:a", "url": "https://q"}),
            json!({}),
            json!({"name": "a"}),
        )
        .await;
        assert_eq!(answer.changes, DiffChanges::DiffNone as i32, "{answer:?}");
    }

    #[tokio::test]
    async fn a_pipe_is_replaced_for_a_new_starting_position_not_for_a_new_batch_size() {
        let pipe = "aws:pipes/pipe:Pipe";
        let inputs = |position: &str, batch: u32| {
            json!({"name": "p", "sourceParameters": {"dynamodbStreamParameters":
                {"startingPosition": position, "batchSize": batch}}})
        };
        let answer = diff(
            pipe,
            json!({}),
            inputs("TRIM_HORIZON", 10),
            inputs("TRIM_HORIZON", 20),
        )
        .await;
        assert_eq!(answer.diffs, vec!["sourceParameters".to_string()]);
        assert!(answer.replaces.is_empty(), "{answer:?}");

        let answer = diff(
            pipe,
            json!({}),
            inputs("TRIM_HORIZON", 10),
            inputs("LATEST", 10),
        )
        .await;
        assert_eq!(answer.replaces, vec!["sourceParameters".to_string()]);
    }
}

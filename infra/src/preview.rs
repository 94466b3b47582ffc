//! A mock Pulumi engine, to run the program with no `pulumi` CLI and no cloud.
//!
//! The program speaks gRPC to two services whose addresses it reads from the environment:
//! the ResourceMonitor (one `RegisterResource` per resource, then the stack outputs) and
//! the Engine (logging, root resource). This module serves both, records every request as
//! sent, and answers as the real engine does:
//! - preview (`PULUMI_DRY_RUN=true`): no id, and only the outputs known from the inputs,
//!   everything the provider computes (ARNs, URLs) left unknown;
//! - update: an id, and provider-computed outputs made up in the shape AWS gives them.

use anyhow::{Context as _, Result, bail};
use prost_types::value::Kind;
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::engine_server::{Engine, EngineServer};
use rpc::resource_monitor_server::{ResourceMonitor, ResourceMonitorServer};
use serde::Serialize;
use serde_json::{Map, Number, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// How the engine marks a value it does not know yet (preview).
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// The account the update mode pretends to deploy into.
pub const ACCOUNT: &str = "123456789012";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Preview,
    Update,
}

/// Everything the program asked the engine for.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub project: String,
    pub stack: String,
    pub mode: Mode,
    /// Sorted by type and name (the program registers them concurrently).
    pub resources: Vec<PlannedResource>,
    pub outputs: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedResource {
    #[serde(rename = "type")]
    pub type_token: String,
    pub name: String,
    /// The provider plugin version the engine would load.
    pub version: String,
    pub inputs: Map<String, Value>,
}

impl Plan {
    pub fn resources_of(&self, type_token: &str) -> Vec<&PlannedResource> {
        self.resources
            .iter()
            .filter(|r| r.type_token == type_token)
            .collect()
    }

    pub fn resource(&self, type_token: &str, name: &str) -> Option<&PlannedResource> {
        self.resources
            .iter()
            .find(|r| r.type_token == type_token && r.name == name)
    }
}

/// One run of the program against the mock engine.
pub struct RunOptions {
    pub program: PathBuf,
    pub mode: Mode,
    pub stack: String,
    /// `PULUMI_CONFIG`: `"project:key"` → value.
    pub config: BTreeMap<String, String>,
    /// Where `Pulumi.yaml` is (the workspace).
    pub root: PathBuf,
    pub timeout: Duration,
}

pub struct ProgramRun {
    pub plan: Plan,
    pub success: bool,
    pub stderr: String,
}

struct Recorder {
    mode: Mode,
    project: String,
    stack: String,
    region: String,
    resources: Mutex<Vec<PlannedResource>>,
    outputs: Mutex<BTreeMap<String, Value>>,
}

impl Recorder {
    fn urn(&self, type_token: &str, name: &str) -> String {
        format!(
            "urn:pulumi:{}::{}::{type_token}::{name}",
            self.stack, self.project
        )
    }
}

struct Monitor(Arc<Recorder>);
struct EngineService(Arc<Recorder>);

/// Runs `options.program` against a fresh mock engine and returns what it registered.
pub fn run(options: RunOptions) -> Result<ProgramRun> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_async(options))
}

async fn run_async(options: RunOptions) -> Result<ProgramRun> {
    let project = crate::config::PROJECT.to_string();
    let recorder = Arc::new(Recorder {
        mode: options.mode,
        project: project.clone(),
        stack: options.stack.clone(),
        region: options
            .config
            .get("aws:region")
            .cloned()
            .unwrap_or_else(|| "us-east-1".into()),
        resources: Mutex::new(Vec::new()),
        outputs: Mutex::new(BTreeMap::new()),
    });

    let monitor_listener = TcpListener::bind("127.0.0.1:0").await?;
    let engine_listener = TcpListener::bind("127.0.0.1:0").await?;
    let monitor_address = monitor_listener.local_addr()?;
    let engine_address = engine_listener.local_addr()?;
    let monitor = tonic::transport::Server::builder()
        .add_service(ResourceMonitorServer::new(Monitor(recorder.clone())))
        .serve_with_incoming(TcpListenerStream::new(monitor_listener));
    let engine = tonic::transport::Server::builder()
        .add_service(EngineServer::new(EngineService(recorder.clone())))
        .serve_with_incoming(TcpListenerStream::new(engine_listener));
    let monitor = tokio::spawn(monitor);
    let engine = tokio::spawn(engine);

    let child = tokio::process::Command::new(&options.program)
        .current_dir(&options.root)
        .env("PULUMI_MONITOR", monitor_address.to_string())
        .env("PULUMI_ENGINE", engine_address.to_string())
        .env("PULUMI_PROJECT", &project)
        .env("PULUMI_STACK", &options.stack)
        .env("PULUMI_ORGANIZATION", "organization")
        .env("PULUMI_ROOT_DIRECTORY", &options.root)
        .env(
            "PULUMI_DRY_RUN",
            if options.mode == Mode::Preview {
                "true"
            } else {
                "false"
            },
        )
        .env("PULUMI_CONFIG", serde_json::to_string(&options.config)?)
        .env("PULUMI_CONFIG_SECRET_KEYS", "[]")
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run {}", options.program.display()))?;
    let output = match tokio::time::timeout(options.timeout, child.wait_with_output()).await {
        Ok(output) => output?,
        Err(_) => bail!(
            "{} did not finish within {:?}",
            options.program.display(),
            options.timeout
        ),
    };
    monitor.abort();
    engine.abort();

    let mut resources = std::mem::take(&mut *recorder.resources.lock().unwrap());
    resources.sort_by(|a, b| (&a.type_token, &a.name).cmp(&(&b.type_token, &b.name)));
    let outputs = std::mem::take(&mut *recorder.outputs.lock().unwrap());
    Ok(ProgramRun {
        plan: Plan {
            project,
            stack: options.stack,
            mode: options.mode,
            resources,
            outputs,
        },
        success: output.status.success(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

fn to_json(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        // Integers as integers, so the plan reads as the program wrote it.
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9e15 => json!(*n as i64),
        Some(Kind::NumberValue(n)) => Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(to_json).collect()),
        Some(Kind::StructValue(object)) => Value::Object(struct_to_json(object)),
    }
}

fn struct_to_json(object: &prost_types::Struct) -> Map<String, Value> {
    object
        .fields
        .iter()
        .map(|(key, value)| (key.clone(), to_json(value)))
        .collect()
}

fn to_proto(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Object(object) => Kind::StructValue(map_to_proto(object)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn map_to_proto(object: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .iter()
            .map(|(key, value)| (key.clone(), to_proto(value)))
            .collect(),
    }
}

fn is_unknown(value: &Value) -> bool {
    value.as_str() == Some(UNKNOWN)
}

/// What the provider would report after creating the resource: the inputs, plus the
/// properties it computes, in AWS's formats.
fn computed_outputs(
    region: &str,
    type_token: &str,
    logical_name: &str,
    inputs: &Map<String, Value>,
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
            set(
                "arn",
                format!("arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"),
            );
            set("name", name.clone());
            name
        }
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
            let uuid = "3b8f5a2e-0c1d-4e6f-9a7b-8c9d0e1f2a3b".to_string();
            set("uuid", uuid.clone());
            uuid
        }
        "aws:apigateway/restApi:RestApi" => {
            let id = "a1b2c3d4e5".to_string();
            set("rootResourceId", "r00t1d".into());
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
            format!("{logical_name}-id")
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
        "aws:sfn/stateMachine:StateMachine" => {
            let arn = format!("arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}");
            set("arn", arn.clone());
            set("name", name);
            arn
        }
        _ => format!("{logical_name}-id"),
    };
    (id, outputs)
}

#[tonic::async_trait]
impl ResourceMonitor for Monitor {
    async fn register_resource(
        &self,
        request: Request<rpc::RegisterResourceRequest>,
    ) -> Result<Response<rpc::RegisterResourceResponse>, Status> {
        let request = request.into_inner();
        let recorder = &self.0;
        let urn = recorder.urn(&request.r#type, &request.name);
        if request.r#type == "pulumi:pulumi:Stack" {
            return Ok(Response::new(rpc::RegisterResourceResponse {
                urn,
                ..Default::default()
            }));
        }
        let inputs = request
            .object
            .as_ref()
            .map(struct_to_json)
            .unwrap_or_default();
        recorder.resources.lock().unwrap().push(PlannedResource {
            type_token: request.r#type.clone(),
            name: request.name.clone(),
            version: request.version.clone(),
            inputs: inputs.clone(),
        });

        let (id, object) = match recorder.mode {
            Mode::Preview => {
                // Known inputs come back as outputs; nothing the provider computes does.
                let known: Map<String, Value> = inputs
                    .into_iter()
                    .filter(|(_, value)| !is_unknown(value))
                    .collect();
                (String::new(), known)
            }
            Mode::Update => {
                if let Some((key, _)) = inputs.iter().find(|(_, value)| is_unknown(value)) {
                    return Err(Status::invalid_argument(format!(
                        "{} {}: input {key} is unknown during an update",
                        request.r#type, request.name
                    )));
                }
                computed_outputs(&recorder.region, &request.r#type, &request.name, &inputs)
            }
        };
        Ok(Response::new(rpc::RegisterResourceResponse {
            urn,
            id,
            object: Some(map_to_proto(&object)),
            ..Default::default()
        }))
    }

    async fn register_resource_outputs(
        &self,
        request: Request<rpc::RegisterResourceOutputsRequest>,
    ) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        if let Some(outputs) = request.outputs {
            let mut recorded = self.0.outputs.lock().unwrap();
            for (key, value) in struct_to_json(&outputs) {
                recorded.insert(key, value);
            }
        }
        Ok(Response::new(()))
    }

    async fn supports_feature(
        &self,
        _request: Request<rpc::SupportsFeatureRequest>,
    ) -> Result<Response<rpc::SupportsFeatureResponse>, Status> {
        Ok(Response::new(rpc::SupportsFeatureResponse {
            has_support: false,
        }))
    }

    async fn invoke(
        &self,
        request: Request<rpc::ResourceInvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        Err(unsupported("Invoke", &request.into_inner().tok))
    }

    async fn call(
        &self,
        request: Request<rpc::ResourceCallRequest>,
    ) -> Result<Response<rpc::CallResponse>, Status> {
        Err(unsupported("Call", &request.into_inner().tok))
    }

    async fn read_resource(
        &self,
        request: Request<rpc::ReadResourceRequest>,
    ) -> Result<Response<rpc::ReadResourceResponse>, Status> {
        Err(unsupported("ReadResource", &request.into_inner().r#type))
    }

    async fn register_stack_transform(
        &self,
        _request: Request<rpc::Callback>,
    ) -> Result<Response<()>, Status> {
        Err(unsupported("RegisterStackTransform", ""))
    }

    async fn register_stack_invoke_transform(
        &self,
        _request: Request<rpc::Callback>,
    ) -> Result<Response<()>, Status> {
        Err(unsupported("RegisterStackInvokeTransform", ""))
    }

    async fn register_resource_hook(
        &self,
        _request: Request<rpc::RegisterResourceHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(unsupported("RegisterResourceHook", ""))
    }

    async fn register_error_hook(
        &self,
        _request: Request<rpc::RegisterErrorHookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(unsupported("RegisterErrorHook", ""))
    }

    async fn register_package(
        &self,
        _request: Request<rpc::RegisterPackageRequest>,
    ) -> Result<Response<rpc::RegisterPackageResponse>, Status> {
        Err(unsupported("RegisterPackage", ""))
    }

    async fn signal_and_wait_for_shutdown(
        &self,
        _request: Request<()>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }
}

/// The program uses none of these; if it starts to, the preview must say so, not pass.
fn unsupported(call: &str, what: &str) -> Status {
    Status::unimplemented(format!(
        "the mock engine does not implement {call} ({what})"
    ))
}

#[tonic::async_trait]
impl Engine for EngineService {
    async fn log(&self, request: Request<rpc::LogRequest>) -> Result<Response<()>, Status> {
        let request = request.into_inner();
        eprintln!("[engine log] {}", request.message);
        Ok(Response::new(()))
    }

    async fn get_root_resource(
        &self,
        _request: Request<rpc::GetRootResourceRequest>,
    ) -> Result<Response<rpc::GetRootResourceResponse>, Status> {
        Ok(Response::new(rpc::GetRootResourceResponse {
            urn: self.0.urn(
                "pulumi:pulumi:Stack",
                &format!("{}-{}", self.0.project, self.0.stack),
            ),
        }))
    }

    async fn set_root_resource(
        &self,
        _request: Request<rpc::SetRootResourceRequest>,
    ) -> Result<Response<rpc::SetRootResourceResponse>, Status> {
        Ok(Response::new(rpc::SetRootResourceResponse {}))
    }

    async fn start_debugging(
        &self,
        _request: Request<rpc::StartDebuggingRequest>,
    ) -> Result<Response<()>, Status> {
        Err(unsupported("StartDebugging", ""))
    }

    async fn require_pulumi_version(
        &self,
        _request: Request<rpc::RequirePulumiVersionRequest>,
    ) -> Result<Response<rpc::RequirePulumiVersionResponse>, Status> {
        Ok(Response::new(rpc::RequirePulumiVersionResponse {}))
    }
}

//! A mock Pulumi engine, to run the program with no `pulumi` CLI and no cloud.
//!
//! The program speaks gRPC to two services whose addresses it reads from the environment:
//! the ResourceMonitor (one `RegisterResource` per resource, then the stack outputs) and
//! the Engine (logging, root resource). This module serves both, records every request as
//! sent, and answers as the real engine does:
//! - preview (`PULUMI_DRY_RUN=true`): no id, and only the outputs known from the inputs,
//!   everything the provider computes (ARNs, URLs) left unknown;
//! - update: an id, and provider-computed outputs made up in the shape AWS gives them.

use crate::aws_shapes::{self, Generated};
use crate::wire::{first_unknown, is_unknown, map_to_proto, struct_to_json};
use anyhow::{Context as _, Result, bail};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::engine_server::{Engine, EngineServer};
use rpc::resource_monitor_server::{ResourceMonitor, ResourceMonitorServer};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

pub use crate::aws_shapes::ACCOUNT;
pub use crate::wire::UNKNOWN;

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
    /// The project's name (`name:` in `Pulumi.yaml`).
    pub project: String,
    pub mode: Mode,
    pub stack: String,
    /// `PULUMI_CONFIG`: `"project:key"` → value.
    pub config: BTreeMap<String, String>,
    /// `PULUMI_CONFIG_SECRET_KEYS`: the keys of `config` the stack holds as secrets.
    pub secret_keys: BTreeSet<String>,
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
    let project = options.project.clone();
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
        .env(
            "PULUMI_CONFIG_SECRET_KEYS",
            serde_json::to_string(&options.secret_keys)?,
        )
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

/// The mock's generated ids are fixed, so its plans can be snapshotted.
fn fixed_id(generated: Generated, logical_name: &str) -> String {
    match generated {
        Generated::MappingUuid => "3b8f5a2e-0c1d-4e6f-9a7b-8c9d0e1f2a3b".into(),
        // Each API its own id: the REST API's as before, another's from its name.
        Generated::RestApiId if logical_name == "api" => "a1b2c3d4e5".into(),
        Generated::RestApiId => format!("{:x<10}", logical_name.replace('-', ""))[..10].to_string(),
        Generated::RootResourceId => "r00t1d".into(),
        Generated::Id => format!("{logical_name}-id"),
    }
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
                if let Some(key) = first_unknown(&inputs) {
                    return Err(Status::invalid_argument(format!(
                        "{} {}: input {key} is unknown during an update",
                        request.r#type, request.name
                    )));
                }
                aws_shapes::created(
                    &recorder.region,
                    &request.r#type,
                    &request.name,
                    &inputs,
                    &mut |generated| fixed_id(generated, &request.name),
                )
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

//! Offline preview tests: the program binary against the mock engine, in preview and in
//! update mode, with assertions on what it registers. No `pulumi` CLI, no cloud. One test
//! binary (the functions are built once for all), a module per concern.

mod api;
mod functions;
mod iam;
mod monitoring;
mod oracles;
mod plan;
mod queue;
mod settings;
mod unsettled;
mod workflow;

use orders_blueprint::{FUNCTIONS, MAX_RECEIVE_COUNT, Names};
use orders_core::settings::env;
use orders_engine::mock::{
    self as preview, Mode, Plan, PlannedResource, ProgramRun, RunOptions, UNKNOWN,
};
use orders_infra::iam::wildcard_only;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

const PROJECT: &str = orders_infra::config::PROJECT;
const REGION: &str = "eu-west-1";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The dev stack's settings, building nothing and deploying this machine's architecture
/// (the archives `make zips` / the build test leave in target/lambda).
fn config(changes: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    let mut config = BTreeMap::from([
        ("aws:region".to_string(), REGION.to_string()),
        (
            format!("{PROJECT}:notificationEmail"),
            "orders@example.com".to_string(),
        ),
        (format!("{PROJECT}:architecture"), "x86_64".to_string()),
        (format!("{PROJECT}:buildFunctions"), "false".to_string()),
    ]);
    for (key, value) in changes {
        let key = if key.contains(':') {
            key.to_string()
        } else {
            format!("{PROJECT}:{key}")
        };
        match value {
            Some(value) => config.insert(key, value.to_string()),
            None => config.remove(&key),
        };
    }
    config
}

fn run(mode: Mode, config: BTreeMap<String, String>) -> ProgramRun {
    built();
    run_program(mode, config)
}

fn run_program(mode: Mode, config: BTreeMap<String, String>) -> ProgramRun {
    preview::run(RunOptions {
        program: PathBuf::from(env!("CARGO_BIN_EXE_orders-infra")),
        project: PROJECT.into(),
        mode,
        stack: "dev".into(),
        config,
        secret_keys: Default::default(),
        root: root(),
        timeout: Duration::from_secs(1800),
    })
    .expect("the mock engine runs the program")
}

/// A preview that builds the functions itself (cargo-lambda, release, zip): the real path
/// of `pulumi up`. Run once; the other tests use the archives it leaves.
fn built() -> &'static ProgramRun {
    static BUILT: OnceLock<ProgramRun> = OnceLock::new();
    BUILT.get_or_init(|| run_program(Mode::Preview, config(&[("buildFunctions", Some("true"))])))
}

fn update() -> &'static Plan {
    static UPDATE: OnceLock<Plan> = OnceLock::new();
    UPDATE.get_or_init(|| {
        let run = run(Mode::Update, config(&[]));
        assert!(run.success, "the program failed:\n{}", run.stderr);
        run.plan
    })
}

fn input<'a>(resource: &'a PlannedResource, key: &str) -> &'a Value {
    resource.inputs.get(key).unwrap_or(&Value::Null)
}

fn text<'a>(resource: &'a PlannedResource, key: &str) -> &'a str {
    input(resource, key).as_str().unwrap_or_else(|| {
        panic!(
            "{} {}: {key} is not a string",
            resource.type_token, resource.name
        )
    })
}

fn one<'a>(plan: &'a Plan, type_token: &str, name: &str) -> &'a PlannedResource {
    plan.resource(type_token, name)
        .unwrap_or_else(|| panic!("no {type_token} named {name}"))
}

fn parse(json_text: &str) -> Value {
    serde_json::from_str(json_text).expect("valid JSON")
}

fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::String(s) => s == UNKNOWN,
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(map) => map.values().any(contains_unknown),
        _ => false,
    }
}

//! The Pulumi program's whole lifecycle under the real engine: the `pulumi` CLI built from its
//! Go module, the stand-in language host (which runs the program as pulumi-language-rust
//! 0.0.12 does: `cargo run` in the directory of Pulumi.yaml) and the stand-in AWS provider
//! (which deploys into a made-up account kept in a file, and refuses deletes AWS refuses).
//!
//! The commands are the README's deploy steps, run in two copies of the repository that share
//! one stack, as a laptop and CI do: stack init, config (one value a secret), preview, up,
//! outputs, no-change preview and up from both copies, a config change, then `make destroy`.
//! A plain `pulumi destroy` of a second deployment shows why `make destroy` records the
//! dependencies first. Figures go to `target/engine/report.json`, counted from what the CLI
//! printed, the state it kept and the made-up account.
//!
//! Needs `make engine-tools` (the CLI and the language host; ORDERS_PULUMI and
//! ORDERS_LANGUAGE_HOST name them) and `make zips` (the functions' archives).

use orders_engine::project;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const STACK: &str = "dev";
const PASSPHRASE: &str = "engine-lifecycle-passphrase";
/// Set as a secret: it must never appear in the state in plain text.
const SECRET_EMAIL: &str = "orders-engine-test@example.com";
const FUNCTIONS: [&str; 10] = [
    "start-order",
    "manage-order-state",
    "process-payment",
    "send-order",
    "get-order",
    "cancel-order",
    "order-events",
    "authorize-socket",
    "socket-connections",
    "push-status",
];

struct Harness {
    root: PathBuf,
    work: PathBuf,
    pulumi: PathBuf,
    timings: BTreeMap<String, f64>,
}

/// What one command printed, and how it ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The engine events of `--json` runs, one JSON object a line.
    fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with('{'))
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

fn required_path(variable: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var_os(variable).unwrap_or_else(|| {
        panic!("{variable} is not set: run this through `make engine` (it builds the tools)")
    }));
    assert!(
        path.is_file(),
        "{variable}={} does not exist: run `make engine-tools`",
        path.display()
    );
    path
}

impl Harness {
    fn new() -> Self {
        let root = project::root();
        let work = root.join("target/engine/run");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        Harness {
            pulumi: required_path("ORDERS_PULUMI"),
            root,
            work,
            timings: BTreeMap::new(),
        }
    }

    /// A command with the environment of a deployer's shell: no variables of the `cargo test`
    /// that runs this, the built CLI first on PATH, state and plugins under `work`.
    fn command(&self, directory: &Path, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command.args(args).current_dir(directory).env_clear();
        for kept in [
            "HOME",
            "USER",
            "LANG",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
        ] {
            if let Some(value) = std::env::var_os(kept) {
                command.env(kept, value);
            }
        }
        let mut path = vec![self.pulumi.parent().unwrap().to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        command
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("PULUMI_HOME", self.work.join("home"))
            .env("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
            .env("PULUMI_SKIP_UPDATE_CHECK", "true")
            .env("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
            .env(
                orders_engine::provider::ACCOUNT_FILE_VAR,
                self.account_file(),
            )
            // One build of the program for both checkouts' dependencies, apart from the
            // workspace's own target directory.
            .env("CARGO_TARGET_DIR", self.root.join("target/engine/cargo"))
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null());
        command
    }

    fn run(&mut self, step: &str, directory: &Path, program: &str, args: &[&str]) -> Ran {
        let started = Instant::now();
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .command(directory, program, args)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        let seconds = started.elapsed().as_secs_f64();
        *self.timings.entry(step.to_string()).or_default() += seconds;
        eprintln!(
            "[{seconds:6.1} s] {program} {} (in {})",
            args.join(" "),
            directory.display()
        );
        Ran {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs `pulumi ARGS` and insists that it succeeds.
    fn pulumi(&mut self, step: &str, directory: &Path, args: &[&str]) -> Ran {
        let pulumi = self.pulumi.display().to_string();
        let ran = self.run(step, directory, &pulumi, args);
        assert_eq!(
            ran.code,
            Some(0),
            "pulumi {} failed:\n{}\n{}",
            args.join(" "),
            ran.stdout,
            ran.stderr
        );
        ran
    }

    fn account_file(&self) -> PathBuf {
        self.work.join("account.json")
    }

    /// The made-up account's live resources.
    fn account(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.account_file()).unwrap_or_else(|_| "{}".into());
        let account: Value = serde_json::from_str(&text).unwrap();
        account["resources"]
            .as_object()
            .map(|resources| resources.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A checkout of the repository in `work/<name>`: the files git tracks or would track, as
    /// they are in the working tree, and the functions' archives `make zips` built (a build in
    /// another directory gives the same bytes; that is what the archives' hashes must show).
    fn checkout(&self, name: &str) -> PathBuf {
        let directory = self.work.join(name);
        let listed = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(&self.root)
            .output()
            .expect("git lists the repository's files");
        assert!(listed.status.success());
        for file in listed.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
            let file = Path::new(std::str::from_utf8(file).unwrap());
            let source = self.root.join(file);
            if !source.is_file() {
                continue; // deleted in the working tree
            }
            let target = directory.join(file);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&source, &target).unwrap();
        }
        for function in FUNCTIONS {
            let archive = format!("target/lambda/{function}/bootstrap.zip");
            let source = self.root.join(&archive);
            assert!(source.is_file(), "{archive} is missing: run `make zips`");
            let target = directory.join(&archive);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&source, &target).unwrap();
        }
        directory
    }

    fn export(&mut self, directory: &Path) -> Value {
        self.pulumi("export", directory, &["stack", "export"])
            .json()
    }
}

/// The type token in a URN (`urn:pulumi:stack::project::[parent$]type::name`).
fn urn_type(urn: &str) -> &str {
    let kind = urn.split("::").nth(2).unwrap_or_default();
    kind.rsplit('$').next().unwrap_or_default()
}

fn is_aws(urn: &str) -> bool {
    urn_type(urn).starts_with("aws:")
}

/// The AWS resources a `preview --json` plans to change, by operation.
fn planned(preview: &Value) -> BTreeMap<String, Vec<String>> {
    let mut by_op: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in preview["steps"].as_array().into_iter().flatten() {
        let urn = step["urn"].as_str().unwrap_or_default();
        if is_aws(urn) {
            by_op
                .entry(step["op"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push(urn.to_string());
        }
    }
    by_op
}

/// The AWS resources an `up --json` / `destroy --json` run changed, by operation, and the
/// ones whose operation failed.
fn applied(events: &[Value]) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut by_op: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failed = Vec::new();
    for event in events {
        if let Some(outputs) = event.get("resOutputsEvent") {
            let metadata = &outputs["metadata"];
            let urn = metadata["urn"].as_str().unwrap_or_default();
            if is_aws(urn) && !outputs["planning"].as_bool().unwrap_or(false) {
                by_op
                    .entry(metadata["op"].as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push(urn.to_string());
            }
        }
        if let Some(failure) = event.get("resOpFailedEvent") {
            failed.push(
                failure["metadata"]["urn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    (by_op, failed)
}

/// The engine's error diagnostics of the resources whose operation failed, by URN: those
/// the engine tied to the resource, or that name it.
fn failures(events: &[Value], failed: &[String]) -> BTreeMap<String, String> {
    let errors: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|event| event.get("diagnosticEvent"))
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["urn"].as_str().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    failed
        .iter()
        .filter_map(|urn| {
            let messages: Vec<&str> = errors
                .iter()
                .filter(|(about, message)| about == urn || message.contains(urn.as_str()))
                .map(|(_, message)| *message)
                .collect();
            (!messages.is_empty()).then(|| (urn.clone(), messages.join("\n")))
        })
        .collect()
}

/// The AWS error a failure message names, if it is one AWS documents for that type's delete.
fn documented_refusal(urn: &str, message: &str) -> Option<&'static str> {
    orders_engine::aws_facts::DELETE_REFUSALS
        .iter()
        .filter(|rule| rule.target == urn_type(urn))
        .map(|rule| rule.error)
        .find(|error| message.contains(error))
}

fn count(by_op: &BTreeMap<String, Vec<String>>, op: &str) -> usize {
    by_op.get(op).map_or(0, Vec::len)
}

/// Operations other than "same" (a no-change run has none).
fn changes(by_op: &BTreeMap<String, Vec<String>>) -> usize {
    by_op
        .iter()
        .filter(|(op, _)| op.as_str() != "same")
        .map(|(_, urns)| urns.len())
        .sum()
}

fn state_resources(export: &Value) -> Vec<Value> {
    export["deployment"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Where the mock engine (`make preview`, the offline preview tests) hears the program say
/// something else than the real engine does, in a preview of the same program with the same
/// stack settings: `type::name: what differs`. The real engine shows secrets as "[secret]" and
/// adds the hash of each archive; the rest must be the same, resource by resource.
fn mock_against_engine(h: &mut Harness, checkout: &Path, real_preview: &Value) -> Vec<String> {
    use orders_engine::mock::{self, Mode, RunOptions};
    use orders_engine::wire::{SIG_KEY, as_archive};
    const SECRET_SIG: &str = "1b47061264138c4ac30d75fd1eb44270";

    fn normalise(value: &mut Value) {
        if let Some(object) = value.as_object_mut() {
            if object.get(SIG_KEY).and_then(Value::as_str) == Some(SECRET_SIG) {
                *value = json!("[secret]");
                return;
            }
        }
        if as_archive(value).is_some() {
            value.as_object_mut().unwrap().remove("hash");
        }
        match value {
            Value::Array(items) => items.iter_mut().for_each(normalise),
            Value::Object(object) => object.values_mut().for_each(normalise),
            _ => {}
        }
    }

    let settings = h
        .pulumi("mock", checkout, &["config", "--json", "--show-secrets"])
        .json();
    let mut config = BTreeMap::new();
    let mut secret_keys = BTreeSet::new();
    for (key, setting) in settings.as_object().unwrap() {
        let value = match &setting["value"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        config.insert(key.clone(), value);
        if setting["secret"].as_bool() == Some(true) {
            secret_keys.insert(key.clone());
        }
    }
    let root = project::root();
    let run = mock::run(RunOptions {
        // What the preview's `cargo run` built.
        program: root.join("target/engine/cargo/debug/orders-infra"),
        project: project::project_name(checkout).unwrap(),
        mode: Mode::Preview,
        stack: STACK.into(),
        config,
        secret_keys,
        root: checkout.to_path_buf(),
        timeout: std::time::Duration::from_secs(600),
    })
    .expect("the mock engine runs the program");
    assert!(
        run.success,
        "the program failed under the mock:\n{}",
        run.stderr
    );

    let mut mocked: BTreeMap<String, Value> = run
        .plan
        .resources
        .iter()
        .map(|r| {
            (
                format!("{}::{}", r.type_token, r.name),
                Value::Object(r.inputs.clone()),
            )
        })
        .collect();
    let mut differences = Vec::new();
    for step in real_preview["steps"].as_array().into_iter().flatten() {
        let urn = step["urn"].as_str().unwrap_or_default();
        if !is_aws(urn) {
            continue;
        }
        let name = urn.rsplit("::").next().unwrap_or_default();
        let key = format!("{}::{name}", urn_type(urn));
        let mut real = step["newState"]["inputs"].clone();
        normalise(&mut real);
        match mocked.remove(&key) {
            None => differences.push(format!("{key}: not registered under the mock")),
            Some(mut mock) => {
                normalise(&mut mock);
                let (real, mock) = (real.as_object().unwrap(), mock.as_object().unwrap());
                for property in real.keys().chain(mock.keys()).collect::<BTreeSet<_>>() {
                    if real.get(property) != mock.get(property) {
                        differences.push(format!(
                            "{key}: {property} is {:?} under the engine, {:?} under the mock",
                            real.get(property),
                            mock.get(property)
                        ));
                    }
                }
            }
        }
    }
    differences.extend(
        mocked
            .keys()
            .map(|key| format!("{key}: registered under the mock only")),
    );
    differences
}

/// The CLI and the plugins where `pulumi plugin install` puts them, and a state backend of
/// files. Returns the CLI's version.
fn install_tools(h: &mut Harness, laptop: &Path, provider_version: &str) -> String {
    let provider = PathBuf::from(env!("CARGO_BIN_EXE_pulumi-resource-aws"));
    let language_host = required_path("ORDERS_LANGUAGE_HOST");
    let version = h
        .pulumi("tools", laptop, &["version"])
        .stdout
        .trim()
        .to_string();
    for (kind, name, version, file) in [
        ("resource", "aws", provider_version, &provider),
        ("language", "rust", "0.0.12", &language_host),
    ] {
        let file = file.display().to_string();
        let args = ["plugin", "install", kind, name, version, "--file", &file];
        h.pulumi("tools", laptop, &args);
    }
    // A directory that exists: `pulumi login` wants one.
    std::fs::create_dir_all(h.work.join("state")).unwrap();
    let state = format!("file://{}", h.work.join("state").display());
    h.pulumi("login", laptop, &["login", &state]);
    version
}

/// The stack and its settings, as the README says, its settings file shared by both
/// checkouts (it is committed). The secret must not be in that file in plain text.
fn init_stack(h: &mut Harness, laptop: &Path, ci: &Path) {
    let init = ["stack", "init", STACK, "--secrets-provider", "passphrase"];
    h.pulumi("stack", laptop, &init);
    let email = [
        "config",
        "set",
        "--secret",
        "notificationEmail",
        SECRET_EMAIL,
    ];
    h.pulumi("config", laptop, &email);
    // This machine's archives (arm64 is not built here), made by `make zips`.
    h.pulumi(
        "config",
        laptop,
        &["config", "set", "architecture", "x86_64"],
    );
    h.pulumi(
        "config",
        laptop,
        &["config", "set", "buildFunctions", "false"],
    );
    let settings = format!("Pulumi.{STACK}.yaml");
    let settings_text = std::fs::read_to_string(laptop.join(&settings)).unwrap();
    assert!(
        !settings_text.contains(SECRET_EMAIL),
        "the secret is in {settings} in plain text"
    );
    std::fs::write(ci.join(&settings), &settings_text).unwrap();
}

/// What the first preview and up did.
struct FirstDeploy {
    preview_plan: BTreeMap<String, Vec<String>>,
    mock_differences: Vec<String>,
    created: usize,
    live: usize,
    outputs: Value,
    secret_in_state: bool,
}

/// The first preview (checked against the mock engine's) and up; the outputs are the
/// deployed resources' as the account has them.
fn first_deploy(h: &mut Harness, laptop: &Path) -> FirstDeploy {
    let preview = h.pulumi("preview", laptop, &["preview", "--json"]).json();
    let preview_plan = planned(&preview);
    let mock_differences = mock_against_engine(h, laptop, &preview);
    let up = h.pulumi("up", laptop, &["up", "--yes", "--json"]);
    let (up_applied, up_failed) = applied(&up.events());
    assert!(up_failed.is_empty(), "failed on up: {up_failed:?}");
    let created: BTreeSet<&String> = up_applied.get("create").into_iter().flatten().collect();
    let previewed: BTreeSet<&String> = preview_plan.get("create").into_iter().flatten().collect();
    assert_eq!(created, previewed, "up created what the preview said");
    assert_eq!(
        changes(&up_applied),
        created.len(),
        "a first up only creates"
    );
    let live = h.account();
    assert_eq!(
        live.len(),
        created.len(),
        "the account holds what was created"
    );

    let outputs = h
        .pulumi("outputs", laptop, &["stack", "output", "--json"])
        .json();
    let live_of = |type_token: &str| -> Value {
        live.iter()
            .find(|r| r["type"] == type_token)
            .cloned()
            .unwrap_or_else(|| panic!("no {type_token} is live"))
    };
    let api = live_of("aws:apigateway/restApi:RestApi");
    let region = h
        .pulumi("config", laptop, &["config", "get", "aws:region"])
        .stdout
        .trim()
        .to_string();
    assert_eq!(
        outputs["apiUrl"],
        json!(format!(
            "https://{}.execute-api.{region}.amazonaws.com/v1",
            api["id"].as_str().unwrap()
        ))
    );
    let tables: Vec<&Value> = live
        .iter()
        .filter(|r| r["type"] == "aws:dynamodb/table:Table")
        .collect();
    assert!(
        tables
            .iter()
            .any(|table| outputs["tableName"] == table["outputs"]["name"]),
        "{:?} is not a live table",
        outputs["tableName"]
    );
    // The app's URL and the WebSocket's are the live distribution's and stage's.
    let distribution = live_of("aws:cloudfront/distribution:Distribution");
    assert_eq!(
        outputs["appUrl"],
        json!(format!(
            "https://{}",
            distribution["outputs"]["domainName"].as_str().unwrap()
        ))
    );
    let socket = live_of("aws:apigatewayv2/stage:Stage");
    assert_eq!(outputs["websocketUrl"], socket["outputs"]["invokeUrl"]);
    FirstDeploy {
        created: created.len(),
        live: live.len(),
        preview_plan,
        mock_differences,
        outputs,
        secret_in_state: h.export(laptop).to_string().contains(SECRET_EMAIL),
    }
}

/// A no-change preview and up from each checkout: the changes they planned or made.
fn no_change_runs(h: &mut Harness, laptop: &Path, ci: &Path) -> usize {
    h.pulumi("stack", ci, &["stack", "select", STACK]);
    let mut noop_changes = 0;
    for (step, directory) in [("noop-laptop", laptop), ("noop-ci", ci)] {
        let preview = ["preview", "--expect-no-changes", "--json"];
        noop_changes += changes(&planned(&h.pulumi(step, directory, &preview).json()));
        let up = h.pulumi(step, directory, &["up", "--yes", "--json"]);
        let (applied, failed) = applied(&up.events());
        assert!(failed.is_empty(), "failed on a no-change up: {failed:?}");
        noop_changes += changes(&applied);
    }
    noop_changes
}

/// What one setting changed (`waitSeconds` 30 → 5).
struct WaitChange {
    plan: BTreeMap<String, Vec<String>>,
    updates: Vec<String>,
    applied: BTreeMap<String, Vec<String>>,
}

fn change_the_wait(h: &mut Harness, laptop: &Path) -> WaitChange {
    h.pulumi("config", laptop, &["config", "set", "waitSeconds", "5"]);
    let plan = planned(
        &h.pulumi("wait-change", laptop, &["preview", "--json"])
            .json(),
    );
    let updates = plan.get("update").cloned().unwrap_or_default();
    let up = h.pulumi("wait-change", laptop, &["up", "--yes", "--json"]);
    let (applied, _) = applied(&up.events());
    let definition = h
        .account()
        .into_iter()
        .find(|r| r["type"] == "aws:sfn/stateMachine:StateMachine")
        .and_then(|r| r["inputs"]["definition"].as_str().map(str::to_owned))
        .expect("the state machine is live");
    let definition: Value = serde_json::from_str(&definition).unwrap();
    assert_eq!(
        definition["States"]["StartWaiting"]["Parameters"]["left"],
        json!(5)
    );
    WaitChange {
        plan,
        updates,
        applied,
    }
}

/// What a destroy did, from the CLI's events, the state and the account.
struct Destroyed {
    ran: Ran,
    before: usize,
    deleted: usize,
    refused: Vec<String>,
    /// The error of each refused delete, and the AWS error it names (if one AWS documents).
    errors: BTreeMap<String, (String, Option<&'static str>)>,
    left_in_state: usize,
    left_in_account: usize,
}

fn destroy(h: &mut Harness, laptop: &Path, step: &str, program: &str, args: &[&str]) -> Destroyed {
    let before = h.account().len();
    let ran = h.run(step, laptop, program, args);
    let events = ran.events();
    let (by_op, refused) = applied(&events);
    let errors = failures(&events, &refused)
        .into_iter()
        .map(|(urn, message)| {
            let documented = documented_refusal(&urn, &message);
            (urn, (message, documented))
        })
        .collect();
    Destroyed {
        before,
        deleted: count(&by_op, "delete"),
        refused,
        errors,
        left_in_state: state_resources(&h.export(laptop)).len(),
        left_in_account: h.account().len(),
        ran,
    }
}

/// `make destroy`, as the README says.
fn make_destroy(h: &mut Harness, laptop: &Path) -> Destroyed {
    let args = ["--no-print-directory", "destroy", "DESTROY_FLAGS=--json"];
    destroy(h, laptop, "destroy", "make", &args)
}

/// Why `make destroy` records the dependencies: a plain `pulumi destroy` of a second
/// deployment, deleting one at a time in whatever order the engine picks.
fn plain_destroy(h: &mut Harness, laptop: &Path) -> Destroyed {
    h.pulumi("redeploy", laptop, &["up", "--yes", "--json"]);
    let pulumi = h.pulumi.display().to_string();
    let args = ["destroy", "--yes", "--json", "--parallel", "1"];
    destroy(h, laptop, "plain-destroy", &pulumi, &args)
}

#[test]
fn the_program_lives_its_whole_life_under_the_real_engine() {
    let mut h = Harness::new();
    let provider_version = orders_engine::schema::Schema::embedded()
        .version()
        .to_string();
    let laptop = h.checkout("laptop");
    let ci = h.checkout("ci");

    let version = install_tools(&mut h, &laptop, &provider_version);
    init_stack(&mut h, &laptop, &ci);
    let first = first_deploy(&mut h, &laptop);
    let noop_changes = no_change_runs(&mut h, &laptop, &ci);
    let wait = change_the_wait(&mut h, &laptop);
    let made = make_destroy(&mut h, &laptop);
    let plain = plain_destroy(&mut h, &laptop);
    let cleanup = make_destroy(&mut h, &laptop);

    let plain_errors: BTreeMap<&String, Option<&str>> = plain
        .errors
        .iter()
        .map(|(urn, (_, documented))| (urn, *documented))
        .collect();
    let report = json!({
        "pulumi_version": version,
        "language_host": "stand-in for pulumi-language-rust 0.0.12 (engine/pulumi/language-rust)",
        "provider": format!("stand-in for pulumi-resource-aws {provider_version} (orders-engine)"),
        "preview_creates": count(&first.preview_plan, "create"),
        "mock_engine_differences": first.mock_differences,
        "up_created": first.created,
        "account_resources_after_up": first.live,
        "outputs": first.outputs,
        "secret_in_state_in_plain_text": first.secret_in_state,
        "noop_changes": noop_changes,
        "wait_change_updates": wait.updates,
        "wait_change_other_changes": changes(&wait.plan) - wait.updates.len(),
        "wait_change_applied": changes(&wait.applied),
        "destroy_exit_code": made.ran.code,
        "destroy_deleted": made.deleted,
        "destroy_refused": made.refused.len(),
        "account_resources_before_destroy": made.before,
        "account_resources_after_destroy": made.left_in_account,
        "state_resources_after_destroy": made.left_in_state,
        "plain_destroy_exit_code": plain.ran.code,
        "plain_destroy_refused": plain.refused,
        "plain_destroy_errors": plain_errors,
        "cleanup_exit_code": cleanup.ran.code,
        "account_resources_after_cleanup": cleanup.left_in_account,
        "seconds": h.timings,
    });
    let out = h.root.join("target/engine/report.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    eprintln!("report written to {}", out.display());

    // What the lifecycle must show.
    assert_eq!(
        first.mock_differences,
        Vec::<String>::new(),
        "the mock engine is off"
    );
    assert_eq!(
        count(&first.preview_plan, "create"),
        changes(&first.preview_plan),
        "a first preview only creates"
    );
    assert!(
        !first.secret_in_state,
        "the secret email is in the state in plain text"
    );
    assert_eq!(noop_changes, 0, "an unchanged program changed something");
    assert_eq!(wait.updates.len(), 1, "{:?}", wait.plan);
    assert_eq!(
        urn_type(&wait.updates[0]),
        "aws:sfn/stateMachine:StateMachine"
    );
    assert_eq!(
        changes(&wait.plan),
        1,
        "only the state machine changes: {:?}",
        wait.plan
    );
    assert_eq!(changes(&wait.applied), 1, "{:?}", wait.applied);
    let ran = &made.ran;
    assert_eq!(
        ran.code,
        Some(0),
        "make destroy failed:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    assert_eq!(made.refused, Vec::<String>::new());
    assert_eq!(made.deleted, made.before);
    assert_eq!(
        made.left_in_account, 0,
        "make destroy left resources in the account"
    );
    assert_eq!(
        made.left_in_state, 0,
        "make destroy left resources in the state"
    );
    assert_ne!(
        plain.ran.code,
        Some(0),
        "a plain destroy with no edges went through"
    );
    assert!(!plain.refused.is_empty());
    // Each delete the plain destroy could not make was refused with an error AWS documents
    // for that delete, not for any other reason.
    assert_eq!(
        plain.errors.len(),
        plain.refused.len(),
        "a failed delete without its error: {:?}",
        plain.refused
    );
    let undocumented: Vec<_> = plain
        .errors
        .iter()
        .filter(|(_, (_, documented))| documented.is_none())
        .collect();
    assert!(
        undocumented.is_empty(),
        "failed for another reason: {undocumented:?}"
    );
    let ran = &cleanup.ran;
    assert_eq!(ran.code, Some(0), "{}\n{}", ran.stdout, ran.stderr);
    assert_eq!(cleanup.left_in_account, 0);
}

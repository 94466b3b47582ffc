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
const FUNCTIONS: [&str; 5] = [
    "start-order",
    "manage-order-state",
    "process-payment",
    "send-order",
    "get-order",
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

/// The engine's error diagnostics of the resources whose operation failed, by URN.
fn failures(events: &[Value], failed: &[String]) -> BTreeMap<String, String> {
    events
        .iter()
        .filter_map(|event| event.get("diagnosticEvent"))
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| {
            let urn = d["urn"].as_str()?;
            failed.iter().any(|f| f == urn).then(|| {
                (
                    urn.to_owned(),
                    d["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
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

#[test]
fn the_program_lives_its_whole_life_under_the_real_engine() {
    let mut h = Harness::new();
    let provider = PathBuf::from(env!("CARGO_BIN_EXE_pulumi-resource-aws"));
    let language_host = required_path("ORDERS_LANGUAGE_HOST");
    let provider_version = orders_engine::schema::Schema::embedded()
        .version()
        .to_string();
    let laptop = h.checkout("laptop");
    let ci = h.checkout("ci");

    // Tools: the CLI, and the plugins where `pulumi plugin install` puts them.
    let version = h
        .pulumi("tools", &laptop, &["version"])
        .stdout
        .trim()
        .to_string();
    h.pulumi(
        "tools",
        &laptop,
        &[
            "plugin",
            "install",
            "resource",
            "aws",
            &provider_version,
            "--file",
            &provider.display().to_string(),
        ],
    );
    h.pulumi(
        "tools",
        &laptop,
        &[
            "plugin",
            "install",
            "language",
            "rust",
            "0.0.12",
            "--file",
            &language_host.display().to_string(),
        ],
    );
    // A state backend of files, in a directory that exists (`pulumi login` wants one).
    std::fs::create_dir_all(h.work.join("state")).unwrap();
    let state = format!("file://{}", h.work.join("state").display());
    h.pulumi("login", &laptop, &["login", &state]);

    // The stack and its settings, as the README says.
    h.pulumi(
        "stack",
        &laptop,
        &["stack", "init", STACK, "--secrets-provider", "passphrase"],
    );
    h.pulumi(
        "config",
        &laptop,
        &[
            "config",
            "set",
            "--secret",
            "notificationEmail",
            SECRET_EMAIL,
        ],
    );
    // This machine's archives (arm64 is not built here), made by `make zips`.
    h.pulumi(
        "config",
        &laptop,
        &["config", "set", "architecture", "x86_64"],
    );
    h.pulumi(
        "config",
        &laptop,
        &["config", "set", "buildFunctions", "false"],
    );
    let settings = format!("Pulumi.{STACK}.yaml");
    let settings_text = std::fs::read_to_string(laptop.join(&settings)).unwrap();
    assert!(
        !settings_text.contains(SECRET_EMAIL),
        "the secret is in {settings} in plain text"
    );
    // The stack's settings file is committed: both checkouts have the same.
    std::fs::write(ci.join(&settings), &settings_text).unwrap();

    // First preview and deployment.
    let preview = h.pulumi("preview", &laptop, &["preview", "--json"]).json();
    let preview_plan = planned(&preview);
    let mock_differences = mock_against_engine(&mut h, &laptop, &preview);
    let up = h.pulumi("up", &laptop, &["up", "--yes", "--json"]);
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
        .pulumi("outputs", &laptop, &["stack", "output", "--json"])
        .json();
    let exported = h.export(&laptop);
    let exported_text = exported.to_string();
    assert!(
        !exported_text.contains(SECRET_EMAIL),
        "the secret email is in the state in plain text"
    );
    // The outputs are the deployed resources' as the account has them.
    let live_of = |type_token: &str| -> Vec<Value> {
        live.iter()
            .filter(|r| r["type"] == type_token)
            .cloned()
            .collect()
    };
    let api = &live_of("aws:apigateway/restApi:RestApi")[0];
    let region = h
        .pulumi("config", &laptop, &["config", "get", "aws:region"])
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
    let table = &live_of("aws:dynamodb/table:Table")[0];
    assert_eq!(outputs["tableName"], table["outputs"]["name"]);

    // Nothing changed: no change, from this checkout and from the other.
    h.pulumi("stack", &ci, &["stack", "select", STACK]);
    let mut noop_changes = 0;
    for (step, directory) in [("noop-laptop", &laptop), ("noop-ci", &ci)] {
        let preview = h
            .pulumi(
                step,
                directory,
                &["preview", "--expect-no-changes", "--json"],
            )
            .json();
        noop_changes += changes(&planned(&preview));
        let up = h.pulumi(step, directory, &["up", "--yes", "--json"]);
        let (applied, failed) = applied(&up.events());
        assert!(failed.is_empty(), "failed on a no-change up: {failed:?}");
        noop_changes += changes(&applied);
    }

    // One setting changed: the state machine's definition and nothing else.
    h.pulumi("config", &laptop, &["config", "set", "waitSeconds", "5"]);
    let preview = h
        .pulumi("wait-change", &laptop, &["preview", "--json"])
        .json();
    let wait_plan = planned(&preview);
    let wait_change_updates = wait_plan.get("update").cloned().unwrap_or_default();
    let up = h.pulumi("wait-change", &laptop, &["up", "--yes", "--json"]);
    let (wait_applied, _) = applied(&up.events());
    let definition = h
        .account()
        .into_iter()
        .find(|r| r["type"] == "aws:sfn/stateMachine:StateMachine")
        .map(|r| {
            r["inputs"]["definition"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .expect("the state machine is live");
    let definition: Value = serde_json::from_str(&definition).unwrap();
    assert_eq!(definition["States"]["WaitForPayment"]["Seconds"], json!(5));

    // `make destroy`, as the README says.
    let before_destroy = h.account().len();
    let make = h.run(
        "destroy",
        &laptop,
        "make",
        &["--no-print-directory", "destroy", "DESTROY_FLAGS=--json"],
    );
    let (destroyed, destroy_refused) = applied(&make.events());
    let after_export = h.export(&laptop);
    let state_after_destroy = state_resources(&after_export).len();
    let account_after_destroy = h.account().len();

    // Why `make destroy` records the dependencies: a plain `pulumi destroy` of the same
    // deployment, deleting one at a time.
    h.pulumi("redeploy", &laptop, &["up", "--yes", "--json"]);
    let plain = h.run(
        "plain-destroy",
        &laptop,
        &h.pulumi.display().to_string(),
        &["destroy", "--yes", "--json", "--parallel", "1"],
    );
    let plain_events = plain.events();
    let (_, plain_refused) = applied(&plain_events);
    let plain_failures = failures(&plain_events, &plain_refused);
    let plain_errors: BTreeMap<&str, Option<&str>> = plain_failures
        .iter()
        .map(|(urn, message)| (urn.as_str(), documented_refusal(urn, message)))
        .collect();
    let cleanup = h.run(
        "destroy",
        &laptop,
        "make",
        &["--no-print-directory", "destroy"],
    );
    let account_after_cleanup = h.account().len();

    let report = json!({
        "pulumi_version": version,
        "language_host": "stand-in for pulumi-language-rust 0.0.12 (engine/pulumi/language-rust)",
        "provider": format!("stand-in for pulumi-resource-aws {provider_version} (orders-engine)"),
        "preview_creates": count(&preview_plan, "create"),
        "mock_engine_differences": mock_differences,
        "up_created": created.len(),
        "account_resources_after_up": live.len(),
        "outputs": outputs,
        "secret_in_state_in_plain_text": exported_text.contains(SECRET_EMAIL),
        "noop_changes": noop_changes,
        "wait_change_updates": wait_change_updates,
        "wait_change_other_changes": changes(&wait_plan) - wait_change_updates.len(),
        "wait_change_applied": changes(&wait_applied),
        "destroy_exit_code": make.code,
        "destroy_deleted": count(&destroyed, "delete"),
        "destroy_refused": destroy_refused.len(),
        "account_resources_before_destroy": before_destroy,
        "account_resources_after_destroy": account_after_destroy,
        "state_resources_after_destroy": state_after_destroy,
        "plain_destroy_exit_code": plain.code,
        "plain_destroy_refused": plain_refused,
        "plain_destroy_errors": plain_errors,
        "cleanup_exit_code": cleanup.code,
        "account_resources_after_cleanup": account_after_cleanup,
        "seconds": h.timings,
    });
    let out = h.root.join("target/engine/report.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    eprintln!("report written to {}", out.display());

    // What the lifecycle must show.
    assert_eq!(
        mock_differences,
        Vec::<String>::new(),
        "the mock engine is off"
    );
    assert_eq!(
        count(&preview_plan, "create"),
        changes(&preview_plan),
        "a first preview only creates"
    );
    assert_eq!(noop_changes, 0, "an unchanged program changed something");
    assert_eq!(wait_change_updates.len(), 1, "{wait_plan:?}");
    assert_eq!(
        urn_type(&wait_change_updates[0]),
        "aws:sfn/stateMachine:StateMachine"
    );
    assert_eq!(
        changes(&wait_plan),
        1,
        "only the state machine changes: {wait_plan:?}"
    );
    assert_eq!(changes(&wait_applied), 1, "{wait_applied:?}");
    assert_eq!(
        make.code,
        Some(0),
        "make destroy failed:\n{}\n{}",
        make.stdout,
        make.stderr
    );
    assert_eq!(destroy_refused, Vec::<String>::new());
    assert_eq!(count(&destroyed, "delete"), before_destroy);
    assert_eq!(
        account_after_destroy, 0,
        "make destroy left resources in the account"
    );
    assert_eq!(
        state_after_destroy, 0,
        "make destroy left resources in the state"
    );
    assert_ne!(
        plain.code,
        Some(0),
        "a plain destroy with no edges went through"
    );
    assert!(!plain_refused.is_empty());
    // Each resource the plain destroy could not delete was refused with an error AWS
    // documents for that delete, not for any other reason.
    assert_eq!(
        plain_errors.len(),
        plain_refused.len(),
        "a failed delete without its error: {plain_refused:?}"
    );
    let undocumented: Vec<_> = plain_failures
        .iter()
        .filter(|(urn, message)| documented_refusal(urn, message).is_none())
        .collect();
    assert!(
        undocumented.is_empty(),
        "failed for another reason: {undocumented:?}"
    );
    assert_eq!(
        cleanup.code,
        Some(0),
        "{}\n{}",
        cleanup.stdout,
        cleanup.stderr
    );
    assert_eq!(account_after_cleanup, 0);
}

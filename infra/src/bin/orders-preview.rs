//! `make preview`: runs the Pulumi program against the mock engine, with a stack's settings
//! (`Pulumi.<stack>.yaml`), and writes what it would create to `target/preview/plan.json`.
//!
//! Usage: orders-preview [--stack dev] [--update] [--set key=value]...

use anyhow::{Context, Result, bail};
use orders_infra::preview::{self, Mode, RunOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

fn main() {
    if let Err(error) = run() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let mut stack = "dev".to_string();
    let mut mode = Mode::Preview;
    let mut overrides = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next().context("--stack needs a name")?,
            "--update" => mode = Mode::Update,
            "--set" => overrides.push(args.next().context("--set needs key=value")?),
            other => bail!("unknown argument {other:?} (see the module doc)"),
        }
    }

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the crate has a parent directory")?
        .to_path_buf();
    let settings_file = root.join(format!("Pulumi.{stack}.yaml"));
    let mut config = stack_config(&settings_file)?;
    for assignment in overrides {
        let (key, value) = assignment
            .split_once('=')
            .with_context(|| format!("--set {assignment:?} is not key=value"))?;
        let key = if key.contains(':') {
            key.to_string()
        } else {
            format!("{}:{key}", orders_infra::config::PROJECT)
        };
        config.insert(key, value.to_string());
    }

    let program = std::env::current_exe()?.with_file_name("orders-infra");
    let run = preview::run(RunOptions {
        program,
        mode,
        stack,
        config,
        root: root.clone(),
        timeout: Duration::from_secs(1800),
    })?;
    eprint!("{}", run.stderr);
    if !run.success {
        bail!("the program failed (its messages are above)");
    }

    let out = root.join("target/preview/plan.json");
    std::fs::create_dir_all(out.parent().context("plan path has a parent")?)?;
    std::fs::write(&out, serde_json::to_string_pretty(&run.plan)? + "\n")?;

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for resource in &run.plan.resources {
        *counts.entry(resource.type_token.as_str()).or_default() += 1;
    }
    println!(
        "{} resources ({:?} mode):",
        run.plan.resources.len(),
        run.plan.mode
    );
    for (type_token, count) in counts {
        println!("  {count:>3}  {type_token}");
    }
    println!("outputs:");
    for (key, value) in &run.plan.outputs {
        let shown = match value.as_str() {
            Some(preview::UNKNOWN) => "(known after pulumi up)".to_string(),
            _ => value.to_string(),
        };
        println!("  {key} = {shown}");
    }
    println!("plan written to {}", out.display());
    Ok(())
}

/// The `config:` map of a stack settings file, as the engine would pass it.
fn stack_config(path: &std::path::Path) -> Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct StackSettings {
        #[serde(default)]
        config: BTreeMap<String, serde_yaml_ng::Value>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let settings: StackSettings = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not valid", path.display()))?;
    settings
        .config
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_yaml_ng::Value::String(s) => s,
                serde_yaml_ng::Value::Number(n) => n.to_string(),
                serde_yaml_ng::Value::Bool(b) => b.to_string(),
                other => bail!("{key}: only plain values are supported, not {other:?}"),
            };
            Ok((key, value))
        })
        .collect()
}

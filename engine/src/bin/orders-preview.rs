//! `make preview`: runs the Pulumi program against the mock engine, with a stack's settings
//! (`Pulumi.<stack>.yaml`), and writes what it would create to `target/preview/plan.json`.
//!
//! Usage: orders-preview [--stack dev] [--update] [--set key=value]... [--out plan.json]

use anyhow::{Context, Result, bail};
use orders_engine::mock::{self as preview, Mode, RunOptions};
use orders_engine::project;
use std::collections::BTreeMap;
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
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next().context("--stack needs a name")?,
            "--update" => mode = Mode::Update,
            "--set" => overrides.push(args.next().context("--set needs key=value")?),
            "--out" => out = Some(args.next().context("--out needs a path")?),
            other => bail!("unknown argument {other:?} (see the module doc)"),
        }
    }

    let root = project::root();
    let project = project::project_name(&root)?;
    let mut config = project::stack_config(&root, &stack)?;
    for assignment in overrides {
        let (key, value) = assignment
            .split_once('=')
            .with_context(|| format!("--set {assignment:?} is not key=value"))?;
        let key = if key.contains(':') {
            key.to_string()
        } else {
            format!("{project}:{key}")
        };
        config.insert(key, value.to_string());
    }

    // Built beside this binary (`make preview` builds both).
    let program = std::env::current_exe()?.with_file_name("orders-infra");
    let run = preview::run(RunOptions {
        program,
        project,
        mode,
        stack,
        config,
        secret_keys: Default::default(),
        root: root.clone(),
        timeout: Duration::from_secs(1800),
    })?;
    eprint!("{}", run.stderr);
    if !run.success {
        bail!("the program failed (its messages are above)");
    }

    let out = out.map_or_else(|| root.join("target/preview/plan.json"), Into::into);
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

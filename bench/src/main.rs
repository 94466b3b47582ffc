//! `orders-bench`: measures what a reviewer of a Rust-on-Lambda system asks about, on this
//! machine, and writes `target/bench/report.md` and `report.json`. Run it through
//! `make bench`, which builds the zips and the criterion handler benchmarks first.
//! Timing goals live here, never in the tests.

mod cost;
mod end_to_end;
mod functions;
mod plots;
mod runtime_api;

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

const ZIP_GOAL_BYTES: u64 = 3_000_000;
/// A function's median start to ready may exceed the bare baseline's by this much.
const OVER_BASELINE_GOAL_MS: f64 = 2.0;
const MEMORY_GOAL_MB: f64 = 32.0;

/// Where `make zips` and `make zips-arm64` leave each architecture's archives.
const ZIP_DIRS: [(&str, &str); 2] = [
    ("x86_64", "target/lambda"),
    ("arm64", "target/lambda-arm64"),
];

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let starts = setting("BENCH_COLD_STARTS", 100);
    let invocations = setting("BENCH_INVOCATIONS", 1000);
    let emulator = orders_emulator::Emulator::start(&orders_emulator::EmulatorCommand::from_env())?;
    let backing = functions::Backing::provision(&emulator).await?;

    let subjects = functions::subjects(&backing.id_token);
    eprintln!(
        "cold starts: {starts} rounds of {} functions…",
        subjects.len()
    );
    let cold_starts = functions::cold_starts(&subjects, &backing, starts).await?;
    let mut per_function = Vec::new();
    for (subject, cold) in subjects.iter().zip(cold_starts) {
        eprintln!("{}: memory…", subject.name);
        let mut zip_bytes = serde_json::Map::new();
        for (architecture, dir) in ZIP_DIRS {
            let zip = Path::new(dir).join(subject.name).join("bootstrap.zip");
            let bytes = std::fs::metadata(&zip).map(|m| m.len()).ok();
            if architecture == "x86_64" && bytes.is_none() {
                anyhow::bail!("{} is missing: run `make zips` first", zip.display());
            }
            zip_bytes.insert(architecture.into(), json!(bytes));
        }
        let binary_bytes = std::fs::metadata(functions::binary(subject.name))?.len();
        let memory = functions::memory(subject, &backing, invocations).await?;
        // Figures of another path than the one meant (a 401, an error) are no figures.
        let intended = [(subject.intended.to_owned(), invocations)].into();
        if memory.answers != intended {
            anyhow::bail!(
                "{} answered {:?} to its working event, not {:?}",
                subject.name,
                memory.answers,
                intended
            );
        }
        per_function.push(json!({
            "function": subject.name,
            "answers": memory.answers,
            "zip_bytes": zip_bytes,
            "bootstrap_bytes": binary_bytes,
            "cold_start": cold,
            "memory": memory,
        }));
    }
    drop(emulator);

    eprintln!("local end to end…");
    let end_to_end = end_to_end::run(
        setting("BENCH_E2E_ORDERS", 200),
        setting("BENCH_E2E_CONCURRENCY", 8),
    )
    .await?;
    let handlers = criterion_results();
    let lambda_ms: std::collections::BTreeMap<String, f64> = per_function
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap_or_default().to_string(),
                f["memory"]["mean_invocation_ms"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let cost = cost::per_million_orders(&lambda_ms);

    let report = json!({
        "machine": machine(),
        "date": chrono::Utc::now().to_rfc3339(),
        "functions": per_function,
        "handlers_ns": handlers,
        "end_to_end": end_to_end,
        "cost": cost,
    });
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/report.json",
        serde_json::to_string_pretty(&report)?,
    )?;
    plots::cold_starts(&report, Path::new("target/bench/cold-starts.svg"))?;
    plots::end_to_end(&report, Path::new("target/bench/end-to-end.svg"))?;
    plots::zips(&report, ZIP_GOAL_BYTES, Path::new("target/bench/zips.svg"))?;
    std::fs::write("target/bench/report.md", markdown(&report))?;
    println!("{}", markdown(&report));
    eprintln!("written: target/bench/report.md, report.json and three SVG figures");
    Ok(())
}

/// Mean time per iteration of each criterion benchmark, from its saved estimates.
fn criterion_results() -> Value {
    let mut results = serde_json::Map::new();
    let Ok(groups) = std::fs::read_dir("target/criterion") else {
        return Value::Object(results);
    };
    for group in groups.flatten() {
        let estimates = group.path().join("new/estimates.json");
        let Ok(text) = std::fs::read_to_string(&estimates) else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(mean) = value["mean"]["point_estimate"].as_f64() {
            results.insert(
                group.file_name().to_string_lossy().into_owned(),
                json!(mean),
            );
        }
    }
    Value::Object(results)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, x86_64 Linux")
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

/// What the working invocations answered, as `200 ×1000`.
fn answers(counts: &Value) -> String {
    let shown: Vec<String> = counts
        .as_object()
        .into_iter()
        .flatten()
        .map(|(outcome, count)| format!("{outcome} ×{count}"))
        .collect();
    shown.join(", ")
}

fn markdown(report: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Benchmark report\n\nMachine: {}  \nDate: {}\n",
        report["machine"].as_str().unwrap_or(""),
        report["date"].as_str().unwrap_or("")
    );
    let _ = writeln!(out, "## Artifacts, cold start, memory\n");
    let _ = writeln!(
        out,
        "Cold start: the real `bootstrap` started against a local Lambda Runtime API; *ready* is process start → first request for work (Lambda's init), *first answer* adds one invocation that needs no network. Memory: peak RSS after the invocations, each doing the function's real I/O against the emulator.\n"
    );
    let baseline = report["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["function"] == functions::BASELINE)
        .map(|f| &f["cold_start"]);
    let base = |key: &str| baseline.and_then(|b| b[key].as_f64()).unwrap_or(f64::NAN);
    let _ = writeln!(
        out,
        "The baseline (`{}`) is the Lambda runtime alone: no AWS client, no logging. *over baseline* is the difference of medians (and p99s), and their ratio; the goal is a median at most {OVER_BASELINE_GOAL_MS} ms over the baseline's.\n",
        functions::BASELINE
    );
    let _ = writeln!(
        out,
        "| function | zip x86_64 / arm64 (goal < 3 MB) | ready median / p99 | over baseline: median, p99 | first answer median / p99 | peak RSS (goal < 32 MB) | mean invocation | working event answered |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for f in report["functions"].as_array().into_iter().flatten() {
        let zip = |architecture: &str| f["zip_bytes"][architecture].as_u64();
        let zips_met = ZIP_DIRS
            .iter()
            .filter_map(|(a, _)| zip(a))
            .all(|bytes| bytes < ZIP_GOAL_BYTES);
        let shown = |bytes: Option<u64>| {
            bytes.map_or("not built".to_owned(), |b| {
                format!("{:.2} MB", b as f64 / 1e6)
            })
        };
        let cold = &f["cold_start"];
        let ready = cold["ready_median_ms"].as_f64().unwrap_or(f64::NAN);
        let ready_p99 = cold["ready_p99_ms"].as_f64().unwrap_or(f64::NAN);
        let over = ready - base("ready_median_ms");
        let comparison = if f["function"] == functions::BASELINE {
            "—".to_owned()
        } else {
            format!(
                "+{over:.2} ms ×{:.2}, +{:.2} ms ×{:.2} ({})",
                ready / base("ready_median_ms"),
                ready_p99 - base("ready_p99_ms"),
                ready_p99 / base("ready_p99_ms"),
                verdict(over <= OVER_BASELINE_GOAL_MS)
            )
        };
        let rss = f["memory"]["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "| {} | {} / {} ({}) | {:.2} / {:.2} ms | {} | {:.2} / {:.2} ms | {:.1} MB ({}) | {:.2} ms{} | {} |",
            f["function"].as_str().unwrap_or(""),
            shown(zip("x86_64")),
            shown(zip("arm64")),
            verdict(zips_met),
            ready,
            ready_p99,
            comparison,
            cold["first_answer_median_ms"].as_f64().unwrap_or(f64::NAN),
            cold["first_answer_p99_ms"].as_f64().unwrap_or(f64::NAN),
            rss,
            verdict(rss < MEMORY_GOAL_MB),
            f["memory"]["mean_invocation_ms"]
                .as_f64()
                .unwrap_or(f64::NAN),
            match f["memory"]["errors"].as_u64() {
                Some(0) | None => String::new(),
                Some(errors) => format!(" ({errors} answered with an error)"),
            },
            answers(&f["answers"]),
        );
    }
    let _ = writeln!(
        out,
        "\n![Cold starts against the baseline](cold-starts.svg)\n\n![Zip sizes against the goal](zips.svg)"
    );
    let _ = writeln!(
        out,
        "\n## Handler cost (criterion, in-memory adapters)\n\n| benchmark | mean |\n| --- | --- |"
    );
    for (name, ns) in report["handlers_ns"].as_object().into_iter().flatten() {
        let _ = writeln!(
            out,
            "| {name} | {:.2} µs |",
            ns.as_f64().unwrap_or(0.0) / 1000.0
        );
    }
    let e = &report["end_to_end"];
    let _ = writeln!(
        out,
        "\n## Local end to end (wait 0)\n\n{} orders, {} at a time: {:.1} orders/s accepted by the API; POST → final status p50 {:.2} s, p99 {:.2} s; all final after {:.1} s ({:.1} orders/s through the whole pipeline).\n\nWhere the time goes: the emulator used {:.1} s of CPU, the runner (API, consumer and every handler, our code) {:.1} s — {:.0}% of the pipeline's CPU is the emulator's.\n",
        e["orders"],
        e["concurrency"],
        e["accepted_per_second"].as_f64().unwrap_or(0.0),
        e["post_to_final_p50_s"].as_f64().unwrap_or(0.0),
        e["post_to_final_p99_s"].as_f64().unwrap_or(0.0),
        e["all_final_after_s"].as_f64().unwrap_or(0.0),
        e["completed_per_second"].as_f64().unwrap_or(0.0),
        e["emulator_cpu_s"].as_f64().unwrap_or(0.0),
        e["runner_cpu_s"].as_f64().unwrap_or(0.0),
        e["emulator_cpu_share"].as_f64().unwrap_or(0.0) * 100.0
    );
    let _ = writeln!(out, "![POST → final status](end-to-end.svg)\n");
    out.push_str(&cost::markdown(&report["cost"]));
    out
}

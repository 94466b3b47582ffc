//! The local pipeline under a fixed concurrency with the wait at 0: orders accepted per
//! second, POST → final status, and where the CPU goes (emulator vs our runner).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orders_local::client;
use orders_local::env;
use orders_local::ready::Ready;
use serde_json::{Value, json};

/// User + system CPU seconds a process has used.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("odd stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    let per_second: f64 =
        String::from_utf8(Command::new("getconf").arg("CLK_TCK").output()?.stdout)?
            .trim()
            .parse()?;
    Ok(ticks / per_second)
}

pub async fn run(orders: usize, concurrency: usize) -> anyhow::Result<Value> {
    let runner_binary = "target/debug/orders-local";
    if !std::path::Path::new(runner_binary).exists() {
        bail!("{runner_binary} is missing: `make bench` builds it");
    }
    let ready_file = std::env::temp_dir().join(format!("orders-bench-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&ready_file);
    let mut runner = Command::new(runner_binary)
        .env(env::PORT, "0")
        .env(env::APP_PORT, "0")
        .env(env::SOCKET_PORT, "0")
        .env(env::WAIT_SECONDS, "0")
        .env(env::CONSUMERS, "4")
        // The figures are the pipeline's, not capped by the stage's throttle.
        .envs(env::UNTHROTTLED)
        .env(env::READY_FILE, &ready_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let ready = Ready::wait(&ready_file, &mut runner, Duration::from_secs(60))?;
    let _ = std::fs::remove_file(&ready_file);
    let emulator_pid: u32 = String::from_utf8(
        Command::new("pgrep")
            .args(["-P", &runner.id().to_string()])
            .output()?
            .stdout,
    )?
    .trim()
    .parse()
    .context("the emulator process")?;
    let cpu_before = (cpu_seconds(runner.id())?, cpu_seconds(emulator_pid)?);

    let started = Instant::now();
    let bodies =
        (0..orders).map(|i| json!({"restaurant_id": format!("r-{}", i % 7), "quantity": 1}));
    // Signed in as a demo user, as every customer is.
    let token = ready.sign_in.id_token("alice").await?;
    let http = reqwest::Client::builder()
        .default_headers(reqwest::header::HeaderMap::from_iter([(
            reqwest::header::AUTHORIZATION,
            token.parse()?,
        )]))
        .build()?;
    let posted = client::post_orders(&http, &ready.api_url, bodies, concurrency).await?;
    let accepted = posted.iter().filter(|p| p.status == 204).count();
    let posting = started.elapsed();

    let sdk = orders_emulator::sdk_config_for(&ready.emulator_url).await;
    let settled = client::settle(&sdk, &ready, accepted, Duration::from_secs(600)).await?;
    let all_final = started.elapsed();
    let cpu_after = (cpu_seconds(runner.id())?, cpu_seconds(emulator_pid)?);
    let _ = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status();
    let _ = runner.wait();

    let latencies = client::post_to_final_seconds(&posted, &settled.orders);
    let runner_cpu = cpu_after.0 - cpu_before.0;
    let emulator_cpu = cpu_after.1 - cpu_before.1;
    Ok(json!({
        "orders": orders,
        "concurrency": concurrency,
        "accepted": accepted,
        "dead_letters": settled.dead_letters,
        "accepted_per_second": accepted as f64 / posting.as_secs_f64(),
        "all_final_after_s": all_final.as_secs_f64(),
        "completed_per_second": accepted as f64 / all_final.as_secs_f64(),
        "post_to_final_p50_s": client::percentile(&latencies, 0.5),
        "post_to_final_p99_s": client::percentile(&latencies, 0.99),
        "post_to_final_s": latencies,
        "runner_cpu_s": runner_cpu,
        "emulator_cpu_s": emulator_cpu,
        "emulator_cpu_share": emulator_cpu / (runner_cpu + emulator_cpu),
    }))
}

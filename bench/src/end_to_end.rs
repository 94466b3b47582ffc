//! The local pipeline under a fixed concurrency with the wait at 0: orders accepted per
//! second, POST → final status, and where the CPU goes (emulator vs our runner).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use futures_util::StreamExt;
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
    let port = orders_emulator::free_port()?;
    let mut runner = Command::new(runner_binary)
        .env("ORDERS_PORT", port.to_string())
        .env("ORDERS_WAIT_SECONDS", "0")
        .env("ORDERS_CONSUMERS", "4")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lines = BufReader::new(runner.stdout.take().context("no stdout")?).lines();
    let mut emulator = String::new();
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.split("emulator http").nth(1) {
            emulator = format!("http{}", rest.split([',', ' ']).next().unwrap_or_default());
        }
        if line.contains("listening on") {
            break;
        }
    }
    // Keep reading so the runner never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
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

    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/orders");
    let started = Instant::now();
    let accepted: Vec<(String, SystemTime)> = futures_util::stream::iter(0..orders)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let body =
                    json!({"user_id": format!("bench-{i}"), "restaurant_id": "r", "quantity": 1});
                let response = http.post(url).json(&body).send().await.ok()?;
                let id = response
                    .headers()
                    .get("x-order-id")?
                    .to_str()
                    .ok()?
                    .to_owned();
                Some((id, SystemTime::now()))
            }
        })
        .buffer_unordered(concurrency)
        .filter_map(|r| async move { r })
        .collect()
        .await;
    let posting = started.elapsed();

    let config = orders_emulator::sdk_config_for(&emulator).await;
    let table = aws_sdk_dynamodb::Client::new(&config);
    let finished = loop {
        let items = table
            .scan()
            .table_name("orders-local-orders")
            .send()
            .await?
            .items
            .unwrap_or_default();
        let done: Vec<(String, chrono::DateTime<chrono::Utc>)> = items
            .iter()
            .filter(|item| item.contains_key("notified_status"))
            .filter_map(|item| {
                let id = item.get("order_id")?.as_s().ok()?.clone();
                let at = item.get("updated_at")?.as_s().ok()?.parse().ok()?;
                Some((id, at))
            })
            .collect();
        if done.len() >= accepted.len() {
            break done;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!(
                "only {} of {} orders finished in 10 minutes",
                done.len(),
                accepted.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let all_final = started.elapsed();
    let cpu_after = (cpu_seconds(runner.id())?, cpu_seconds(emulator_pid)?);
    let _ = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status();
    let _ = runner.wait();

    let posted: std::collections::HashMap<&str, SystemTime> =
        accepted.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    let mut latencies: Vec<f64> = finished
        .iter()
        .filter_map(|(id, at)| {
            let end: SystemTime = (*at).into();
            Some(
                end.duration_since(*posted.get(id.as_str())?)
                    .unwrap_or_default()
                    .as_secs_f64(),
            )
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let runner_cpu = cpu_after.0 - cpu_before.0;
    let emulator_cpu = cpu_after.1 - cpu_before.1;
    Ok(json!({
        "orders": orders,
        "concurrency": concurrency,
        "accepted": accepted.len(),
        "accepted_per_second": accepted.len() as f64 / posting.as_secs_f64(),
        "all_final_after_s": all_final.as_secs_f64(),
        "completed_per_second": accepted.len() as f64 / all_final.as_secs_f64(),
        "post_to_final_p50_s": crate::functions::percentile(&latencies, 0.5),
        "post_to_final_p99_s": crate::functions::percentile(&latencies, 0.99),
        "runner_cpu_s": runner_cpu,
        "emulator_cpu_s": emulator_cpu,
        "emulator_cpu_share": emulator_cpu / (runner_cpu + emulator_cpu),
    }))
}

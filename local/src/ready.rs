//! The runner's machine-readable start-up report. With `ORDERS_READY_FILE`
//! ([`crate::env::READY_FILE`]) set, the runner writes a [`Ready`] there as JSON once it
//! answers requests, so a program that started it knows where everything is without
//! reading the human banner.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// Where a started runner and its resources are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// The Orders API: `{api_url}/orders`.
    pub api_url: String,
    /// The customer app: open it in a browser.
    pub app_url: String,
    /// The WebSocket API of live status: connect with `?token=<ID token>`.
    pub websocket_url: String,
    /// The emulator's endpoint, for any AWS SDK or `aws --endpoint-url`.
    pub emulator_url: String,
    pub table: String,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
    pub state_machine_arn: String,
    /// The topic of the customers' emails.
    pub notification_topic_arn: String,
    /// The topic of the hand-offs to the restaurants.
    pub restaurant_topic_arn: String,
    /// The orders event bus.
    pub event_bus_name: String,
    /// A queue that gets every order event (the stack's `eventsTapQueueUrl`).
    pub events_tap_url: String,
    /// Where the pipe names the batches of the table's stream it gave up on.
    pub events_dead_letter_queue_url: String,
    /// The open WebSocket connections of live status.
    pub connections_table: String,
    /// The user pool, its client and the demo users.
    pub sign_in: crate::sign_in::SignIn,
}

impl Ready {
    /// Writes the report whole: a reader never sees half of it.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::json_file::write_whole(path, self)
    }

    /// Waits for `runner` to write its report to `path`; fails if it exits first or takes
    /// longer than `limit`.
    pub fn wait(path: &Path, runner: &mut Child, limit: Duration) -> anyhow::Result<Self> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(text) = std::fs::read(path) {
                return serde_json::from_slice(&text)
                    .with_context(|| format!("{} is not a ready report", path.display()));
            }
            if let Some(status) = runner.try_wait()? {
                bail!("orders-local exited ({status}) before it was ready");
            }
            if Instant::now() > deadline {
                bail!("orders-local was not ready within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Ready {
        Ready {
            api_url: "http://127.0.0.1:3000".into(),
            app_url: "http://127.0.0.1:3001".into(),
            websocket_url: "ws://127.0.0.1:3002/live".into(),
            emulator_url: "http://127.0.0.1:5000".into(),
            table: "t".into(),
            queue_url: "q".into(),
            dead_letter_queue_url: "d".into(),
            state_machine_arn: "arn".into(),
            notification_topic_arn: "topic".into(),
            restaurant_topic_arn: "restaurants".into(),
            event_bus_name: "bus".into(),
            events_tap_url: "tap".into(),
            events_dead_letter_queue_url: "events-dlq".into(),
            connections_table: "connections".into(),
            sign_in: crate::sign_in::SignIn {
                region: "us-east-1".into(),
                endpoint: "http://127.0.0.1:5000".into(),
                user_pool_id: "us-east-1_x".into(),
                client_id: "c".into(),
                users: vec![],
            },
        }
    }

    #[test]
    fn a_written_report_is_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("ready-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ready.json");
        report().write(&path).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let read = Ready::wait(&path, &mut child, Duration::from_secs(1));
        let _ = child.kill();
        assert_eq!(read.unwrap(), report());
        assert!(!path.with_extension("partial").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_runner_that_exits_first_is_reported() {
        let path = std::env::temp_dir().join(format!("never-{}.json", std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let err = Ready::wait(&path, &mut child, Duration::from_secs(10)).unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}

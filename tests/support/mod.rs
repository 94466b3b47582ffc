//! What the end-to-end and reliability tests share: a running `orders-local` with its
//! own emulator and ports, and HTTP helpers that act as a client would.
#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orders_local::env;
use orders_local::ready::Ready;
use serde_json::{Value, json};

/// A running `orders-local`, stopped with SIGTERM when dropped.
pub struct Runner {
    child: Child,
    pub port: u16,
    /// Where the runner said it and its resources are.
    pub ready: Ready,
    lines: Arc<Mutex<Vec<String>>>,
    /// ID tokens of the demo users, once signed in.
    tokens: Mutex<std::collections::HashMap<String, String>>,
    /// Every order event read from the tap queue so far (reading takes them off it).
    tapped: Mutex<Vec<Value>>,
}

impl Runner {
    pub fn start(env: &[(&str, &str)]) -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let ready_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "ready-{}-{}.json",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&ready_file);
        let mut command = Command::new(env!("CARGO_BIN_EXE_orders-local"));
        command
            // The system picks a free port; the ready report says which.
            .env(env::PORT, "0")
            .env(env::APP_PORT, "0")
            .env(env::SOCKET_PORT, "0")
            .env(env::WAIT_SECONDS, "0")
            .env(env::READY_FILE, &ready_file)
            // Faults only where a test asks for them (the load test passes its own on).
            .env_remove(env::FAULTS)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start orders-local");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let ready = Ready::wait(&ready_file, &mut child, Duration::from_secs(60))
            .unwrap_or_else(|err| panic!("{err:#}: {:?}", lines.lock().unwrap()));
        let port = ready
            .api_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the API URL ends with its port");
        Self {
            child,
            port,
            ready,
            lines,
            tokens: Mutex::default(),
            tapped: Mutex::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.ready.api_url)
    }

    pub fn output(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Output lines about one order that contain `text`.
    pub fn lines_about(&self, order_id: &str, text: &str) -> Vec<String> {
        self.output()
            .into_iter()
            .filter(|l| l.contains(order_id) && l.contains(text))
            .collect()
    }

    pub fn wait_for_line(&mut self, text: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(line) = self.output().into_iter().find(|l| l.contains(text)) {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("orders-local exited ({status}) before printing {text:?}");
            }
            assert!(
                Instant::now() < deadline,
                "no {text:?} within {limit:?}: {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn terminate(&mut self, signal: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("orders-local did not stop within 15 s of {signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate("-TERM");
        }
    }
}

/// A client that sends no token.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The demo user the tests order as, unless a test says otherwise.
pub const USER: &str = "alice";

impl Runner {
    /// A demo user's ID token, signed in through the emulator's Cognito as a client does.
    pub async fn token(&self, user: &str) -> String {
        if let Some(token) = self.tokens.lock().unwrap().get(user) {
            return token.clone();
        }
        let token = self
            .ready
            .sign_in
            .id_token(user)
            .await
            .unwrap_or_else(|err| panic!("{err:#}"));
        self.tokens
            .lock()
            .unwrap()
            .insert(user.to_owned(), token.clone());
        token
    }

    /// A client signed in as `user`: every request carries their ID token.
    pub async fn signed_in(&self, user: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            self.token(user).await.parse().unwrap(),
        );
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// The user id (`sub`) of a demo user.
    pub fn user_id(&self, user: &str) -> String {
        self.ready.sign_in.user(user).unwrap().sub.clone()
    }
}

/// Posts an order as [`USER`] and returns its id.
pub async fn post_order(runner: &Runner, body: Value) -> String {
    post_order_as(runner, USER, body).await
}

/// Posts an order as `user` and returns its id.
pub async fn post_order_as(runner: &Runner, user: &str, body: Value) -> String {
    let response = runner
        .signed_in(user)
        .await
        .post(runner.url("/orders"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{:?}", response.text().await);
    let order_id = response.headers()["x-order-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        response.headers()["location"],
        format!("/orders/{order_id}").as_str(),
        "the 204 says where to read the order"
    );
    order_id
}

pub fn good_order() -> Value {
    json!({"restaurant_id": "Restaurant 4", "quantity": "3"})
}

/// Polls `GET /orders/{id}` as [`USER`] until the order is final.
pub async fn final_order(runner: &Runner, order_id: &str) -> Value {
    final_order_as(runner, USER, order_id).await
}

/// [`final_order`] of an order of `user`.
#[allow(dead_code)] // not every test crate reads another user's orders
pub async fn final_order_as(runner: &Runner, user: &str, order_id: &str) -> Value {
    order_when_as(runner, user, order_id, |order| order["final"] == true).await
}

/// Polls `GET /orders/{id}` as [`USER`] until the order is stored and `done` holds of it
/// (a 404 meanwhile: not stored yet).
pub async fn order_when(runner: &Runner, order_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    order_when_as(runner, USER, order_id, done).await
}

async fn order_when_as(
    runner: &Runner,
    user: &str,
    order_id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = Value::Null;
    let http = runner.signed_in(user).await;
    while Instant::now() < deadline {
        let response = http
            .get(runner.url(&format!("/orders/{order_id}")))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            last = response.json().await.unwrap();
            if done(&last) {
                return last;
            }
        } else {
            assert_eq!(response.status(), 404);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("order {order_id} did not get there in time; last seen {last}");
}

/// How many emails `order_id` got in all, read once a later order (the sentinel) has been
/// emailed too: an email the first order still had coming would have been sent before the
/// sentinel's, which goes through the whole workflow after it. No fixed wait.
pub async fn emails_once_a_later_order_is_emailed(runner: &Runner, order_id: &str) -> usize {
    let sentinel = post_order(runner, good_order()).await;
    final_order(runner, &sentinel).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let emails = runner.emails_by_order().await;
        if emails.contains_key(&sentinel) {
            return emails.get(order_id).copied().unwrap_or(0);
        }
        assert!(
            Instant::now() < deadline,
            "the sentinel order was never emailed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the runner has shown `count` lines about the order containing `text`.
pub async fn wait_lines(runner: &Runner, order_id: &str, text: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = runner.lines_about(order_id, text);
        if lines.len() >= count || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Runner {
    /// SDK configuration aimed at this runner's emulator.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        orders_emulator::sdk_config_for(&self.ready.emulator_url).await
    }

    /// The emulator's process id, to freeze it.
    pub fn emulator_pid(&self) -> String {
        let port = self.ready.emulator_url.rsplit(':').next().unwrap();
        let output = Command::new("pgrep")
            .args(["-f", "--", &format!("-H 127.0.0.1 -p {port}$")])
            .output()
            .expect("pgrep");
        let pid = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert!(
            !pid.is_empty() && !pid.contains('\n'),
            "one emulator process: {pid:?}"
        );
        pid
    }

    /// Messages waiting or in flight in a queue (a URL of the ready report).
    pub async fn queue_depth(&self, queue_url: &str) -> u64 {
        orders_local::client::queue_depth(&self.sdk().await, queue_url)
            .await
            .unwrap()
    }

    /// Every stored order, straight from the table.
    pub async fn stored_orders(&self) -> Vec<orders_core::Order> {
        orders_local::client::stored_orders(&self.sdk().await, &self.ready.table)
            .await
            .unwrap()
    }

    /// Waits until the pipeline is idle (see [`orders_local::client::settle`]).
    pub async fn settle(&self, accepted: usize, limit: Duration) -> orders_local::client::Settled {
        orders_local::client::settle(&self.sdk().await, &self.ready, accepted, limit)
            .await
            .unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// The dead-letter queue's messages, read and left in place: the order id of each (none
    /// for a message that is no order).
    pub async fn dead_letter_orders(&self) -> Vec<Option<String>> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk().await);
        orders_admin::DeadLetterQueue::new(sqs, &self.ready.dead_letter_queue_url)
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|letter| letter.order_id)
            .collect()
    }

    /// What the emulator recorded as published on `topic_arn` (moto keeps every topic's
    /// `sent_notifications`, served in its `/moto-api/data.json`): each one as
    /// [message id, message, subject, attributes, group id].
    async fn publications(&self, topic_arn: &str) -> Vec<Value> {
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", self.ready.emulator_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let topic = data["sns"]["Topic"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["arn"] == topic_arn)
            .unwrap_or_else(|| panic!("{topic_arn} is not in the emulator's data"));
        topic["sent_notifications"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// How many emails each order got: the notification topic's publications, by their
    /// `order_id` attribute.
    pub async fn emails_by_order(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for sent in self.publications(&self.ready.notification_topic_arn).await {
            let id = &sent[3]["order_id"];
            let id = id["StringValue"].as_str().or(id["Value"].as_str());
            *counts
                .entry(id.expect("an email names its order").to_owned())
                .or_default() += 1;
        }
        counts
    }

    /// How many times each order was handed to its restaurant: the restaurant topic's
    /// publications, by the order id in the message.
    pub async fn handoffs_by_order(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for sent in self.publications(&self.ready.restaurant_topic_arn).await {
            let message: Value = serde_json::from_str(sent[1].as_str().unwrap_or_default())
                .expect("a hand-off is a JSON message");
            let id = message["order_id"]
                .as_str()
                .expect("a hand-off names its order");
            *counts.entry(id.to_owned()).or_default() += 1;
        }
        counts
    }

    /// Every order event the tap queue has had so far, as delivered (the whole EventBridge
    /// event, JSON), in the order they were read.
    pub async fn tapped_events(&self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk().await);
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&self.ready.events_tap_url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                return self.tapped.lock().unwrap().clone();
            }
            for message in messages {
                let event: Value = serde_json::from_str(message.body().unwrap())
                    .expect("the tap delivers JSON events");
                self.tapped.lock().unwrap().push(event);
                sqs.delete_message()
                    .queue_url(&self.ready.events_tap_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The tapped events of each order: (version, status) pairs in the order they came.
    pub async fn events_by_order(&self) -> std::collections::BTreeMap<String, Vec<(u64, String)>> {
        let mut by_order: std::collections::BTreeMap<String, Vec<(u64, String)>> =
            std::collections::BTreeMap::new();
        for event in self.tapped_events().await {
            let detail = &event["detail"];
            by_order
                .entry(detail["order_id"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push((
                    detail["version"].as_u64().unwrap_or(0),
                    detail["status"].as_str().unwrap_or_default().to_owned(),
                ));
        }
        by_order
    }
}

//! A minimal Lambda Runtime API, enough to run a real `bootstrap` as Lambda does: it
//! hands out a fixed number of events on `GET .../invocation/next`, takes answers on
//! `POST .../response` and `.../error`, and notes when each happened.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::Notify;

#[derive(Default)]
struct Tally {
    first_next: Option<Instant>,
    answers: Vec<Instant>,
    errors: usize,
    outcomes: BTreeMap<String, usize>,
    handed_out: usize,
}

struct Shared {
    event: Vec<u8>,
    events: usize,
    tally: Mutex<Tally>,
    done: Notify,
}

/// A running Runtime API for one function process.
pub struct RuntimeApi {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// What the function did.
pub struct Outcome {
    pub first_next: Option<Instant>,
    pub answers: Vec<Instant>,
    pub errors: usize,
    /// What the answers said, counted by [`outcome_of`].
    pub outcomes: BTreeMap<String, usize>,
}

impl RuntimeApi {
    /// Serves `events` copies of `event`; after that, `next` waits for ever, as an idle
    /// Lambda sandbox does.
    pub async fn start(event: Vec<u8>, events: usize) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            event,
            events,
            tally: Mutex::new(Tally::default()),
            done: Notify::new(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            server,
        })
    }

    /// Waits until every event has been answered.
    pub async fn finished(&self) {
        loop {
            let notified = self.shared.done.notified();
            tokio::pin!(notified);
            // Registered before the check, so an answer in between is not missed.
            notified.as_mut().enable();
            if self.answered() >= self.shared.events {
                return;
            }
            notified.await;
        }
    }

    fn answered(&self) -> usize {
        let tally = self.shared.tally.lock().unwrap();
        tally.answers.len()
    }

    pub fn outcome(&self) -> Outcome {
        let tally = self.shared.tally.lock().unwrap();
        Outcome {
            first_next: tally.first_next,
            answers: tally.answers.clone(),
            errors: tally.errors,
            outcomes: tally.outcomes.clone(),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let serial = {
        let mut tally = shared.tally.lock().unwrap();
        tally.first_next.get_or_insert_with(Instant::now);
        tally.handed_out += 1;
        tally.handed_out
    };
    if serial > shared.events {
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    let id = format!("request-{serial}");
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&id).unwrap(),
    );
    let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        HeaderValue::from_static("Root=1-bench"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, headers, Bytes::from(shared.event.clone()))
}

/// What one answer said, in a word: an HTTP answer's status code (`"200"`), a batch's
/// `"ok"` or how many records failed (`"batch-item-failures:3"`), an error's type
/// (`"OrderNotFound"`), or `"ok"` for any other answer.
pub fn outcome_of(body: &[u8], failed: bool) -> String {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if failed {
        return answer["errorType"]
            .as_str()
            .unwrap_or("unknown error")
            .to_owned();
    }
    if let Some(status) = answer["statusCode"].as_u64() {
        return status.to_string();
    }
    match answer["batchItemFailures"].as_array() {
        Some(failures) if !failures.is_empty() => format!("batch-item-failures:{}", failures.len()),
        _ => "ok".to_owned(),
    }
}

fn record(shared: &Shared, body: &[u8], failed: bool) -> StatusCode {
    let mut tally = shared.tally.lock().unwrap();
    tally.answers.push(Instant::now());
    if failed {
        tally.errors += 1;
    }
    *tally.outcomes.entry(outcome_of(body, failed)).or_default() += 1;
    shared.done.notify_waiters();
    StatusCode::ACCEPTED
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, &body, false)
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(_id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, &body, true)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    eprintln!("init error: {}", String::from_utf8_lossy(&body));
    record(&shared, &body, true)
}

#[cfg(test)]
mod tests {
    use super::outcome_of;

    #[test]
    fn answers_are_told_apart_by_what_they_say() {
        let http = br#"{"statusCode":401,"headers":{},"body":"{}"}"#;
        assert_eq!(outcome_of(http, false), "401");
        assert_eq!(outcome_of(br#"{"batchItemFailures":[]}"#, false), "ok");
        let partial = br#"{"batchItemFailures":[{"itemIdentifier":"m-1"}]}"#;
        assert_eq!(outcome_of(partial, false), "batch-item-failures:1");
        let error = br#"{"errorType":"OrderNotFound","errorMessage":"no order"}"#;
        assert_eq!(outcome_of(error, true), "OrderNotFound");
        assert_eq!(outcome_of(br#"{"order_id":"x"}"#, false), "ok");
    }
}

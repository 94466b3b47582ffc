//! The Lambda host: answers the Lambda Invoke API by running the real handlers in this
//! process, the way AWS runs the `bootstrap` binaries. The runner's own callers (the
//! consumer, the execution watcher) call the same handlers through typed methods.
//!
//! The emulator's state machine calls `POST /2015-03-31/functions/{name}/invocations` on
//! this server. A handler error is answered as Lambda answers it, `200` with
//! `X-Amz-Function-Error: Unhandled` and `{"errorType", "errorMessage"}`, so the
//! workflow's Retry and Catch match on the same error names as in AWS. Every other
//! request is passed on to the emulator.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use orders_aws::{DynamoOrderStore, HandlerError, SfnWorkflows, SnsDispatcher, SnsNotifier};
use orders_blueprint::Names;
use orders_core::Order;
use serde::Serialize;
use serde_json::Value;

use crate::faults::{Fault, FaultKind, Faults};
use crate::invocation::{Answer, Invocation};
use crate::progress;

/// The adapters every handler needs, built once.
pub struct Functions {
    pub names: Names,
    pub store: DynamoOrderStore,
    pub notifier: SnsNotifier,
    pub dispatcher: SnsDispatcher,
    pub workflows: SfnWorkflows,
    pub payments: process_payment::SimulatedPayments,
    pub faults: Faults,
}

fn to_value(output: &impl Serialize) -> Result<Value, HandlerError> {
    serde_json::to_value(output).map_err(|e| HandlerError {
        name: "InternalError",
        message: e.to_string(),
    })
}

fn unexpected(answer: Answer, function: &str) -> HandlerError {
    HandlerError {
        name: "InternalError",
        message: format!("{function} answered {answer:?}"),
    }
}

impl Functions {
    /// Runs `function` (its stack name or ARN) on a raw Invoke API payload.
    pub async fn invoke(&self, function: &str, payload: &[u8]) -> Result<Value, HandlerError> {
        let function = self.resolve(function).ok_or_else(|| HandlerError {
            name: "ResourceNotFoundException",
            message: format!("no function {function}"),
        })?;
        let invocation = Invocation::parse(function, payload).inspect_err(|err| {
            progress::failed(function, None, err);
        })?;
        to_value(&self.call(invocation).await?)
    }

    /// start-order on a batch of queue messages: the messages it could not start.
    pub async fn start_order(&self, batch: SqsEvent) -> Result<SqsBatchResponse, HandlerError> {
        match self.call(Invocation::StartOrder(batch)).await? {
            Answer::Batch(response) => Ok(response),
            other => Err(unexpected(other, orders_blueprint::START_ORDER)),
        }
    }

    /// manage-order-state on one input: the order as stored after it.
    pub async fn manage_order_state(
        &self,
        input: manage_order_state::Input,
    ) -> Result<Order, HandlerError> {
        match self.call(Invocation::ManageOrderState(input)).await? {
            Answer::OrderState(manage_order_state::Output::Order(order)) => Ok(*order),
            other => Err(unexpected(other, orders_blueprint::MANAGE_ORDER_STATE)),
        }
    }

    /// order-events on a batch of the table's stream records: the events to publish.
    pub async fn order_events(
        &self,
        records: Vec<aws_lambda_events::event::dynamodb::EventRecord>,
    ) -> Result<Vec<orders_core::events::OrderEvent>, HandlerError> {
        match self.call(Invocation::OrderEvents(records)).await? {
            Answer::Events(events) => Ok(events),
            other => Err(unexpected(other, orders_blueprint::ORDER_EVENTS)),
        }
    }

    /// Runs one call as Lambda would, with the faults due on it and a progress line.
    pub async fn call(&self, invocation: Invocation) -> Result<Answer, HandlerError> {
        let function = invocation.function();
        let order_id = invocation.order_id().map(str::to_owned);
        let fault = self.faults.take(&invocation);
        match (fault, invocation) {
            (Some(fault), _) if matches!(fault.kind, FaultKind::Transient | FaultKind::Fail) => {
                progress::fault(function, order_id.as_deref(), &fault.error);
                Err(fault.error)
            }
            (Some(fault), Invocation::StartOrder(mut batch))
                if fault.kind == FaultKind::FirstRecordOnly =>
            {
                progress::fault(function, order_id.as_deref(), &fault.error);
                batch.records.truncate(1);
                self.run(Invocation::StartOrder(batch)).await?;
                // Every record reported done: the unstarted ones are deleted from the queue.
                Ok(Answer::Batch(SqsBatchResponse::default()))
            }
            (fault, invocation) => self.run_losing_answer(invocation, fault).await,
        }
    }

    /// Runs the call; with a `lost` fault, the work is done and the answer goes missing.
    async fn run_losing_answer(
        &self,
        invocation: Invocation,
        fault: Option<Fault>,
    ) -> Result<Answer, HandlerError> {
        let function = invocation.function();
        let order_id = invocation.order_id().map(str::to_owned);
        let result = self.run(invocation).await;
        if let Err(err) = &result {
            progress::failed(function, order_id.as_deref(), err);
        }
        match fault {
            // The work is done; only the answer goes missing.
            Some(lost) => {
                progress::fault(function, order_id.as_deref(), &lost.error);
                Err(lost.error)
            }
            None => result,
        }
    }

    async fn run(&self, invocation: Invocation) -> Result<Answer, HandlerError> {
        let now = Utc::now();
        match invocation {
            Invocation::ManageOrderState(input) => {
                let output = manage_order_state::handle_input(
                    &self.store,
                    &self.notifier,
                    input.clone(),
                    now,
                )
                .await
                .map_err(HandlerError::from);
                progress::order_state(&input, &output);
                Ok(Answer::OrderState(output?))
            }
            Invocation::ProcessPayment(request) => {
                let answer = process_payment::handle(&self.payments, request.clone()).await?;
                progress::payment(request.order_id(), &answer);
                Ok(Answer::Payment(answer))
            }
            Invocation::SendOrder(request) => {
                let dispatch =
                    send_order::handle(&self.store, &self.dispatcher, request.clone(), now).await?;
                progress::dispatched(&request.order_id, &dispatch);
                Ok(Answer::Dispatch(dispatch))
            }
            Invocation::StartOrder(batch) => Ok(Answer::Batch(
                start_order::handle(&self.workflows, batch).await?,
            )),
            Invocation::GetOrder(request) => Ok(Answer::Http(Box::new(
                get_order::handle(&self.store, &request).await,
            ))),
            Invocation::CancelOrder(request) => Ok(Answer::Http(Box::new(
                cancel_order::handle(&self.store, &request, now).await,
            ))),
            Invocation::OrderEvents(records) => Ok(Answer::Events(order_events::handle(records)?)),
        }
    }

    /// The function's crate name from a name or ARN this stack gave it.
    fn resolve(&self, name_or_arn: &str) -> Option<&'static str> {
        // `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`, or the bare name.
        let name = match name_or_arn.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => name_or_arn,
        };
        orders_blueprint::FUNCTIONS
            .iter()
            .map(|f| f.name)
            .find(|f| self.names.function(f) == name)
    }
}

#[derive(Clone)]
struct Host {
    functions: Arc<Functions>,
    emulator: String,
    http: reqwest::Client,
}

/// The host's routes: Lambda Invoke, and everything else passed to the emulator.
pub fn router(functions: Arc<Functions>, emulator_endpoint: String) -> Router {
    let host = Host {
        functions,
        emulator: emulator_endpoint,
        http: reqwest::Client::new(),
    };
    Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invoke))
        .fallback(forward)
        .with_state(host)
}

async fn invoke(
    State(host): State<Host>,
    Path(function): Path<String>,
    payload: Bytes,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    let body = match host.functions.invoke(&function, &payload).await {
        Ok(output) => output,
        Err(err) => {
            headers.insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            serde_json::json!({"errorType": err.name, "errorMessage": err.message})
        }
    };
    (StatusCode::OK, headers, body.to_string()).into_response()
}

/// Passes a request the host does not answer itself on to the emulator, unchanged.
async fn forward(State(host): State<Host>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(body) => body,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let mut outgoing = host
        .http
        .request(parts.method, format!("{}{path}", host.emulator))
        .body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n != "host") {
        outgoing = outgoing.header(name, value);
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

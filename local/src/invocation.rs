//! One call of one of the functions, typed: the payload is parsed once, into the input
//! type of the handler it is for, and the answer is the handler's output type.
//!
//! The Lambda Invoke route parses raw bytes into an [`Invocation`]; the consumer and the
//! execution watcher build theirs directly. Fault rules, progress lines and the handlers all read
//! the same typed value.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use orders_aws::HandlerError;
use orders_blueprint::{
    CANCEL_ORDER, GET_ORDER, MANAGE_ORDER_STATE, ORDER_EVENTS, PROCESS_PAYMENT, SEND_ORDER,
    START_ORDER,
};
use orders_core::Dispatch;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An input for one function; the variant names the function.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Invocation {
    StartOrder(SqsEvent),
    ManageOrderState(manage_order_state::Input),
    ProcessPayment(process_payment::Request),
    SendOrder(send_order::Request),
    GetOrder(Box<ApiGatewayProxyRequest>),
    CancelOrder(Box<ApiGatewayProxyRequest>),
    OrderEvents(Vec<aws_lambda_events::event::dynamodb::EventRecord>),
}

/// What a function answered; serialised, it is the Invoke API's response body.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Batch(SqsBatchResponse),
    OrderState(manage_order_state::Output),
    Payment(process_payment::Answer),
    Events(Vec<orders_core::events::OrderEvent>),
    Dispatch(Dispatch),
    Http(Box<ApiGatewayProxyResponse>),
}

fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T, HandlerError> {
    serde_json::from_slice(payload).map_err(|e| HandlerError {
        name: "InvalidInput",
        message: format!("the payload does not fit the function's input: {e}"),
    })
}

impl Invocation {
    /// Parses an Invoke API payload for `function` (a name from `orders_blueprint::FUNCTIONS`).
    pub fn parse(function: &str, payload: &[u8]) -> Result<Self, HandlerError> {
        Ok(match function {
            START_ORDER => Self::StartOrder(parse(payload)?),
            MANAGE_ORDER_STATE => Self::ManageOrderState(parse(payload)?),
            PROCESS_PAYMENT => Self::ProcessPayment(parse(payload)?),
            SEND_ORDER => Self::SendOrder(parse(payload)?),
            GET_ORDER => Self::GetOrder(Box::new(parse(payload)?)),
            CANCEL_ORDER => Self::CancelOrder(Box::new(parse(payload)?)),
            ORDER_EVENTS => Self::OrderEvents(parse(payload)?),
            other => {
                return Err(HandlerError {
                    name: "ResourceNotFoundException",
                    message: format!("no function {other}"),
                });
            }
        })
    }

    /// The function this input is for.
    pub fn function(&self) -> &'static str {
        match self {
            Self::StartOrder(_) => START_ORDER,
            Self::ManageOrderState(_) => MANAGE_ORDER_STATE,
            Self::ProcessPayment(_) => PROCESS_PAYMENT,
            Self::SendOrder(_) => SEND_ORDER,
            Self::GetOrder(_) => GET_ORDER,
            Self::CancelOrder(_) => CANCEL_ORDER,
            Self::OrderEvents(_) => ORDER_EVENTS,
        }
    }

    /// The order this call is about; a batch of queue messages is about several.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            Self::StartOrder(_) | Self::OrderEvents(_) => None,
            Self::ManageOrderState(input) => Some(input.order_id()),
            Self::ProcessPayment(request) => Some(request.order_id().as_str()),
            Self::SendOrder(request) => Some(request.order_id.as_str()),
            Self::GetOrder(request) | Self::CancelOrder(request) => {
                request.path_parameters.get("id").map(String::as_str)
            }
        }
    }

    /// The payload as the Invoke API carries it, as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_parses_into_its_functions_input_or_is_refused() {
        let payment = Invocation::parse(
            PROCESS_PAYMENT,
            br#"{"action":"charge","order_id":"o-1","quantity":3}"#,
        )
        .unwrap();
        assert_eq!(payment.function(), PROCESS_PAYMENT);
        assert_eq!(payment.order_id(), Some("o-1"));
        assert_eq!(
            payment.to_json(),
            serde_json::json!({"action": "charge", "order_id": "o-1", "quantity": 3})
        );

        let refused = Invocation::parse(SEND_ORDER, br#"{"order":"o-1"}"#).unwrap_err();
        assert_eq!(refused.name, "InvalidInput");
        let unknown = Invocation::parse("charge-twice", b"{}").unwrap_err();
        assert_eq!(unknown.name, "ResourceNotFoundException");
    }

    #[test]
    fn a_status_change_round_trips_as_the_workflow_sends_it() {
        let sent = br#"{"action":"set_status","order_id":"o-2","status":"FAILED","failure":{"Error":"X","Cause":"y"}}"#;
        let invocation = Invocation::parse(MANAGE_ORDER_STATE, sent).unwrap();
        let again = Invocation::parse(
            MANAGE_ORDER_STATE,
            invocation.to_json().to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(again.to_json(), invocation.to_json());
        assert_eq!(invocation.to_json()["status"], "FAILED");
        assert_eq!(invocation.order_id(), Some("o-2"));
    }
}

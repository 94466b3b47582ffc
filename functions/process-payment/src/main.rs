//! Lambda entry point of process-payment. Environment: `PAYMENT_SUCCESS_PROBABILITY`
//! (0 to 1, default 0.8).

use lambda_runtime::{LambdaEvent, service_fn};
use order_aws::{HandlerError, init_tracing, optional_env};
use process_payment::{Request, SimulatedPayments, SuccessProbability, handle};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let payments = SimulatedPayments {
        success: optional_env("PAYMENT_SUCCESS_PROBABILITY", SuccessProbability::DEFAULT)?,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| {
        let request = event.payload;
        let span = tracing::info_span!("invocation", order_id = %request.order_id);
        async move { handle(&payments, request).await.map_err(HandlerError::from) }.instrument(span)
    }))
    .await
}

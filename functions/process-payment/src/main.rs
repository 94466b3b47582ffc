//! Lambda entry point of process-payment (charges and refunds). Environment: `PAYMENT_SUCCESS_PROBABILITY`
//! (0 to 1, default 0.8).

use orders_aws::{init_tracing, optional_env, serve_task};
use orders_core::settings::env;
use process_payment::{Request, SimulatedPayments, SuccessProbability, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let payments = SimulatedPayments {
        success: optional_env(
            env::PAYMENT_SUCCESS_PROBABILITY,
            SuccessProbability::DEFAULT,
        )?,
    };
    serve_task(
        |request: &Request| request.order_id().clone(),
        |request| handle(&payments, request),
    )
    .await
}

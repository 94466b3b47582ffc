//! The order domain, shared by every function and the local runner.
//!
//! It holds the contracts of the pipeline (request body, queue message, stored order,
//! status lifecycle, notification), the validation of the request body against the one
//! JSON schema in `schema/`, the ports the handlers talk through, and the lifecycle rules
//! that keep the pipeline idempotent. It depends on no AWS crate: adapters live in
//! `orders-aws`, in-memory ones behind the `memory` feature.

#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
pub mod cors;
mod error;
pub mod events;
pub mod execution;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod model;
mod ports;
pub mod service;
pub mod settings;
mod status;
pub mod stored_time;
pub mod table;
pub mod validation;

pub use error::{DependencyError, OrderError};
pub use model::{
    Dispatch, Failure, InvalidOrderId, InvalidUserId, NewOrder, Notification, Order, OrderId,
    OrderMessage, OrderRequest, OrderSubmission, Payment, PaymentOutcome, Refund, UserId,
};
pub use ports::{
    Dispatcher, Inserted, Notifier, OrderPage, OrderReader, OrderStore, PaymentProcessor, Position,
    Started, StatusChange, WorkflowStarter,
};
pub use settings::{SuccessProbability, WaitSeconds};
pub use status::{OrderStatus, UnknownStatus};
pub use validation::ValidationError;

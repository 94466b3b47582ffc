//! What programs that drive `orders-local` share with it: where a started runner can be
//! reached ([`ready`]), and a client that posts orders and waits until every one has
//! settled ([`client`]), how to sign in to it ([`sign_in`]), and the names of its settings
//! ([`env`]). The end-to-end tests and
//! the benchmark use them.

pub mod client;
mod json_file;
pub mod ready;
pub mod sign_in;

/// The runner's settings, as environment variables: the one spelling of each name.
/// What each does: `Config` in the runner, and the README's table.
pub mod env {
    pub const PORT: &str = "ORDERS_PORT";
    pub const APP_PORT: &str = "ORDERS_APP_PORT";
    pub const SOCKET_PORT: &str = "ORDERS_SOCKET_PORT";
    pub const ALLOWED_ORIGINS: &str = "ORDERS_ALLOWED_ORIGINS";
    pub const WAIT_SECONDS: &str = "ORDERS_WAIT_SECONDS";
    pub const PAYMENT_SUCCESS_PROBABILITY: &str = "ORDERS_PAYMENT_SUCCESS_PROBABILITY";
    pub const VISIBILITY_TIMEOUT_SECONDS: &str = "ORDERS_VISIBILITY_TIMEOUT_SECONDS";
    pub const CONSUMERS: &str = "ORDERS_CONSUMERS";
    pub const FAULTS: &str = "ORDERS_FAULTS";
    pub const READY_FILE: &str = "ORDERS_READY_FILE";
    pub const THROTTLING_RATE_LIMIT: &str = "ORDERS_THROTTLING_RATE_LIMIT";
    pub const THROTTLING_BURST_LIMIT: &str = "ORDERS_THROTTLING_BURST_LIMIT";
    pub const INTEGRATION_TIMEOUT_MS: &str = "ORDERS_INTEGRATION_TIMEOUT_MS";
    pub const EXECUTION_TIMEOUT_SECONDS: &str = "ORDERS_EXECUTION_TIMEOUT_SECONDS";

    /// A throttle nothing reaches: for runs that measure or stress the pipeline rather than
    /// the stage's throttle (100 requests a second by default, as in the stack).
    pub const UNTHROTTLED: [(&str, &str); 2] = [
        (THROTTLING_RATE_LIMIT, "1000000"),
        (THROTTLING_BURST_LIMIT, "1000000"),
    ];
}

//! The runner's settings, from the environment, read once and checked.

use std::num::NonZeroU32;

use anyhow::{Context, bail};
use orders_aws::optional_env;
use orders_core::{SuccessProbability, WaitSeconds};
use orders_local::env;

use crate::faults::Faults;

#[derive(Debug, Clone)]
pub struct Config {
    /// Port of the public API on 127.0.0.1 (`ORDERS_PORT`, default 3000).
    pub port: u16,
    /// Port of the customer app (`ORDERS_APP_PORT`, default 3001) and of the WebSocket API
    /// (`ORDERS_SOCKET_PORT`, default 3002).
    pub app_port: u16,
    pub socket_port: u16,
    /// Origins the API admits besides the app's own (`ORDERS_ALLOWED_ORIGINS`,
    /// comma-separated), e.g. an app served by a development server.
    pub allowed_origins: orders_core::cors::AllowedOrigins,
    /// Seconds of the workflow's wait state (`ORDERS_WAIT_SECONDS`, default 30, at most a
    /// day, as in the Pulumi program).
    pub wait_seconds: WaitSeconds,
    /// Chance a simulated payment goes through (`ORDERS_PAYMENT_SUCCESS_PROBABILITY`).
    pub payment_success: SuccessProbability,
    /// How long a received message stays hidden (`ORDERS_VISIBILITY_TIMEOUT_SECONDS`,
    /// default the stack's); lower it to watch the redrive to the DLQ quickly.
    pub visibility_timeout_seconds: u32,
    /// Queue pollers working side by side (`ORDERS_CONSUMERS`, default 2).
    pub consumers: usize,
    /// Faults to inject into the functions (`ORDERS_FAULTS`, off by default).
    pub faults: Faults,
    /// How to run the emulator (`MOTO_SERVER`, default the project's launcher).
    pub emulator: orders_emulator::EmulatorCommand,
    /// The API's throttle, as the stack's stage sets it: requests a second
    /// (`ORDERS_THROTTLING_RATE_LIMIT`, checked by `api::Throttle`) and burst
    /// (`ORDERS_THROTTLING_BURST_LIMIT`).
    pub throttling_rate_limit: f64,
    pub throttling_burst_limit: NonZeroU32,
    /// How long the API waits for the queue before a 504 (`ORDERS_INTEGRATION_TIMEOUT_MS`,
    /// default the stack's integration timeout).
    pub integration_timeout: std::time::Duration,
    /// The workflow's execution timeout (`ORDERS_EXECUTION_TIMEOUT_SECONDS`, default the
    /// stack's: the wait and an hour); past it an execution ends `TIMED_OUT`.
    pub execution_timeout_seconds: Option<u32>,
    /// Where to write the start-up report for programs (`ORDERS_READY_FILE`, none by
    /// default); see `orders_local::ready`.
    pub ready_file: Option<std::path::PathBuf>,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let port = optional_env(env::PORT, 3000u16)?;
        let app_port = optional_env(env::APP_PORT, 3001u16)?;
        let socket_port = optional_env(env::SOCKET_PORT, 3002u16)?;
        let allowed_origins = orders_core::cors::AllowedOrigins::parse(
            &std::env::var(env::ALLOWED_ORIGINS).unwrap_or_default(),
        )
        .context("environment variable ORDERS_ALLOWED_ORIGINS")?;
        let wait_seconds = optional_env(env::WAIT_SECONDS, WaitSeconds::DEFAULT)?;
        let payment_success = optional_env(
            env::PAYMENT_SUCCESS_PROBABILITY,
            SuccessProbability::DEFAULT,
        )?;
        let visibility_timeout_seconds = optional_env(
            env::VISIBILITY_TIMEOUT_SECONDS,
            orders_blueprint::QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        )?;
        let consumers = optional_env(env::CONSUMERS, 2usize)?;
        if consumers == 0 {
            bail!("environment variable ORDERS_CONSUMERS: must be at least 1");
        }
        let faults: Faults = std::env::var(env::FAULTS)
            .unwrap_or_default()
            .parse()
            .context("environment variable ORDERS_FAULTS")?;
        let throttling_rate_limit = optional_env(
            env::THROTTLING_RATE_LIMIT,
            orders_blueprint::api::THROTTLING_RATE_LIMIT,
        )?;
        let throttling_burst_limit = optional_env(
            env::THROTTLING_BURST_LIMIT,
            NonZeroU32::new(orders_blueprint::api::THROTTLING_BURST_LIMIT)
                .expect("the default burst is positive"),
        )?;
        let integration_timeout = std::time::Duration::from_millis(optional_env(
            env::INTEGRATION_TIMEOUT_MS,
            u64::from(orders_blueprint::api::INTEGRATION_TIMEOUT_MS),
        )?);
        // No default of its own: unset, the stack's applies.
        let execution_timeout_seconds = std::env::var_os(env::EXECUTION_TIMEOUT_SECONDS)
            .map(|_| optional_env(env::EXECUTION_TIMEOUT_SECONDS, NonZeroU32::MIN))
            .transpose()?
            .map(NonZeroU32::get);
        Ok(Self {
            port,
            app_port,
            socket_port,
            allowed_origins,
            integration_timeout,
            execution_timeout_seconds,
            throttling_rate_limit,
            throttling_burst_limit,
            wait_seconds,
            payment_success,
            visibility_timeout_seconds,
            consumers,
            faults,
            emulator: orders_emulator::EmulatorCommand::from_env(),
            ready_file: std::env::var_os(env::READY_FILE).map(Into::into),
        })
    }
}

//! What a deployment hands the functions, named and checked once: the environment variables
//! each function reads (the Pulumi program and the local runner set them, the mains read
//! them), and the settings both deployments take from their users (`pulumi config`, the
//! runner's environment) with the same ranges and defaults.

/// The functions' environment variables.
pub mod env {
    /// The Orders table's name: manage-order-state, send-order, get-order.
    pub const ORDERS_TABLE: &str = "ORDERS_TABLE";
    /// The customer notification topic: manage-order-state.
    pub const NOTIFY_TOPIC_ARN: &str = "NOTIFY_TOPIC_ARN";
    /// The restaurant hand-off topic: send-order.
    pub const RESTAURANT_TOPIC_ARN: &str = "RESTAURANT_TOPIC_ARN";
    /// The order workflow: start-order.
    pub const STATE_MACHINE_ARN: &str = "STATE_MACHINE_ARN";
    /// A [`super::SuccessProbability`]: process-payment.
    pub const PAYMENT_SUCCESS_PROBABILITY: &str = "PAYMENT_SUCCESS_PROBABILITY";
    /// The table of the open WebSocket connections: socket-connections, push-status.
    pub const CONNECTIONS_TABLE: &str = "CONNECTIONS_TABLE";
    /// Where push-status posts to a connection: the WebSocket stage's management endpoint
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`).
    pub const SOCKET_ENDPOINT: &str = "SOCKET_ENDPOINT";
    /// The origins whose browsers may read the API's answers (comma-separated,
    /// `crate::cors::AllowedOrigins`): get-order, cancel-order.
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    /// The user pool and app client whose ID tokens authorize-socket takes.
    pub const USER_POOL_ID: &str = "USER_POOL_ID";
    pub const USER_POOL_CLIENT_ID: &str = "USER_POOL_CLIENT_ID";
}

/// The chance a simulated payment goes through, in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuccessProbability(f64);

impl SuccessProbability {
    pub const DEFAULT: SuccessProbability = SuccessProbability(0.8);

    pub fn new(value: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("{value} is not between 0 and 1"))
        }
    }

    pub const fn value(self) -> f64 {
        self.0
    }
}

impl std::str::FromStr for SuccessProbability {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let value: f64 = raw
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not a number"))?;
        Self::new(value)
    }
}

impl std::fmt::Display for SuccessProbability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The seconds the workflow waits before it looks at the payment, at most one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSeconds(u32);

impl WaitSeconds {
    pub const DEFAULT: WaitSeconds = WaitSeconds(30);
    pub const MAX: u32 = 86_400;

    pub fn new(value: u32) -> Result<Self, String> {
        if value <= Self::MAX {
            Ok(Self(value))
        } else {
            Err(format!("{value} is more than {} (one day)", Self::MAX))
        }
    }

    pub const fn value(self) -> u32 {
        self.0
    }
}

impl std::str::FromStr for WaitSeconds {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let value: u32 = raw
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not a whole number of seconds from 0"))?;
        Self::new(value)
    }
}

impl std::fmt::Display for WaitSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_outside_zero_to_one_or_not_numbers_are_refused() {
        for bad in ["-0.1", "1.01", "x", "", "NaN"] {
            assert!(bad.parse::<SuccessProbability>().is_err(), "{bad}");
        }
        assert_eq!("0.25".parse::<SuccessProbability>().unwrap().value(), 0.25);
        assert_eq!(" 1 ".parse::<SuccessProbability>().unwrap().value(), 1.0);
    }

    #[test]
    fn waits_longer_than_a_day_or_negative_are_refused() {
        for bad in ["-1", "86401", "1.5", "soon"] {
            assert!(bad.parse::<WaitSeconds>().is_err(), "{bad}");
        }
        assert_eq!("0".parse::<WaitSeconds>().unwrap().value(), 0);
        assert_eq!("86400".parse::<WaitSeconds>().unwrap().value(), 86_400);
    }

    #[test]
    fn the_defaults_are_in_range() {
        assert_eq!(
            SuccessProbability::new(SuccessProbability::DEFAULT.value()),
            Ok(SuccessProbability::DEFAULT)
        );
        assert_eq!(
            WaitSeconds::new(WaitSeconds::DEFAULT.value()),
            Ok(WaitSeconds::DEFAULT)
        );
    }
}

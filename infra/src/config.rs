//! The stack's configuration: one typed struct read once, with defaults and errors that say
//! which `pulumi config set` fixes them.
//!
//! gestalt only offers required keys, so optional ones are read from `PULUMI_CONFIG`, the
//! JSON map (`"project:key"` → string) the engine passes to every program, decrypted. Which
//! keys the stack holds as secrets comes in `PULUMI_CONFIG_SECRET_KEYS`; values taken from
//! them are passed on as secrets, so that the state holds them encrypted too.

use anyhow::{Context, Result, bail, ensure};
use orders_core::{SuccessProbability, WaitSeconds};
use std::collections::{BTreeMap, BTreeSet};

/// The name in `Pulumi.yaml`; it namespaces the keys below.
pub const PROJECT: &str = "serverless-orders";

/// The values CloudWatch Logs accepts as a retention.
const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    /// As Lambda names it.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    /// As cargo-lambda's flag names it.
    pub fn cargo_lambda_flag(self) -> &'static str {
        match self {
            Architecture::Arm64 => "--arm64",
            Architecture::X86_64 => "--x86-64",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackConfig {
    pub region: String,
    /// Receives every order's final-status email (after confirming the subscription).
    pub notification_email: String,
    /// Set with `pulumi config set --secret`: kept a secret in the state.
    pub notification_email_secret: bool,
    /// Receives the dead-letter-queue alarm; the notification email unless set.
    pub alarm_email: String,
    pub alarm_email_secret: bool,
    pub wait_seconds: WaitSeconds,
    pub payment_success_probability: SuccessProbability,
    pub architecture: Architecture,
    pub log_retention_days: u32,
    /// Prefix of every resource name; `orders-<stack>` unless set.
    pub prefix: String,
    /// Build the functions with cargo-lambda (true) or use the zips already in `target/lambda`.
    pub build_functions: bool,
    /// Whether this stack sets the region's API Gateway CloudWatch role (an account-wide
    /// setting that stage logging needs); turn off if the account already has one.
    pub manage_api_gateway_account: bool,
    pub throttling_rate_limit: f64,
    pub throttling_burst_limit: u32,
    /// Whether AWS refuses to delete the user pool (`protectUsers`, default false, so that
    /// `pulumi destroy` removes a trial stack in one run); turn on for a stack with real
    /// customers.
    pub protect_users: bool,
    /// The browser origins the REST API admits (`allowedOrigins`, comma-separated); none set:
    /// the app's own CloudFront URL only. The first is the one API Gateway's own answers
    /// (gateway responses) name: they cannot choose among several.
    pub allowed_origins: Option<orders_core::cors::AllowedOrigins>,
}

impl StackConfig {
    /// Reads the configuration the engine passed in the environment.
    pub fn from_env() -> Result<Self> {
        let raw = std::env::var("PULUMI_CONFIG").unwrap_or_else(|_| "{}".into());
        let values: BTreeMap<String, String> =
            serde_json::from_str(&raw).context("PULUMI_CONFIG is not a JSON map of strings")?;
        let stack = std::env::var("PULUMI_STACK").context("PULUMI_STACK is not set")?;
        let raw = std::env::var("PULUMI_CONFIG_SECRET_KEYS").unwrap_or_else(|_| "[]".into());
        let secret_keys: BTreeSet<String> = serde_json::from_str(&raw)
            .context("PULUMI_CONFIG_SECRET_KEYS is not a JSON list of strings")?;
        Self::from_values(&values, &secret_keys, &stack)
    }

    /// `values`: `"project:key"` → value; `secret_keys`: the keys among them held as secrets.
    pub fn from_values(
        values: &BTreeMap<String, String>,
        secret_keys: &BTreeSet<String>,
        stack: &str,
    ) -> Result<Self> {
        let get = |key: &str| values.get(&format!("{PROJECT}:{key}")).map(String::as_str);
        let secret = |key: &str| secret_keys.contains(&format!("{PROJECT}:{key}"));

        let region = values
            .get("aws:region")
            .cloned()
            .context("aws:region is not set: `pulumi config set aws:region eu-west-1`")?;

        let notification_email = get("notificationEmail")
            .context(
                "notificationEmail is not set: `pulumi config set notificationEmail you@example.com`",
            )?
            .trim()
            .to_string();
        ensure!(
            looks_like_email(&notification_email),
            "notificationEmail {notification_email:?} is not an email address"
        );

        let alarm_email = get("alarmEmail")
            .map(|email| email.trim().to_string())
            .unwrap_or_else(|| notification_email.clone());
        ensure!(
            looks_like_email(&alarm_email),
            "alarmEmail {alarm_email:?} is not an email address"
        );

        let wait_seconds = parse_or(get("waitSeconds"), "waitSeconds", WaitSeconds::DEFAULT)?;

        let payment_success_probability = parse_or(
            get("paymentSuccessProbability"),
            "paymentSuccessProbability",
            SuccessProbability::DEFAULT,
        )?;

        let architecture = match get("architecture").unwrap_or("arm64") {
            "arm64" => Architecture::Arm64,
            "x86_64" => Architecture::X86_64,
            other => bail!("architecture must be arm64 or x86_64, not {other:?}"),
        };

        let log_retention_days = parse_or(get("logRetentionDays"), "logRetentionDays", 14)?;
        ensure!(
            RETENTION_DAYS.contains(&log_retention_days),
            "logRetentionDays must be one of {RETENTION_DAYS:?} (what CloudWatch Logs accepts), \
             not {log_retention_days}"
        );

        let prefix = match get("prefix") {
            Some(prefix) => prefix.to_string(),
            None => format!("orders-{}", stack.to_ascii_lowercase()),
        };
        // IAM role names (prefix + "-manage-order-state-role") have at most 64 characters.
        ensure!(
            !prefix.is_empty()
                && prefix.len() <= 30
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !prefix.starts_with('-'),
            "prefix {prefix:?} must be 1 to 30 characters of a-z, 0-9 and '-' \
             (set it with `pulumi config set prefix orders-dev`)"
        );

        let throttling_rate_limit = parse_or(
            get("throttlingRateLimit"),
            "throttlingRateLimit",
            orders_blueprint::api::THROTTLING_RATE_LIMIT,
        )?;
        let throttling_burst_limit = parse_or(
            get("throttlingBurstLimit"),
            "throttlingBurstLimit",
            orders_blueprint::api::THROTTLING_BURST_LIMIT,
        )?;
        ensure!(
            throttling_rate_limit > 0.0 && throttling_burst_limit > 0,
            "throttlingRateLimit and throttlingBurstLimit must be positive"
        );

        let notification_email_secret = secret("notificationEmail");
        let alarm_email_secret = match get("alarmEmail") {
            Some(_) => secret("alarmEmail"),
            None => notification_email_secret,
        };

        Ok(Self {
            region,
            notification_email,
            notification_email_secret,
            alarm_email,
            alarm_email_secret,
            wait_seconds,
            payment_success_probability,
            architecture,
            log_retention_days,
            prefix,
            build_functions: parse_or(get("buildFunctions"), "buildFunctions", true)?,
            manage_api_gateway_account: parse_or(
                get("manageApiGatewayAccount"),
                "manageApiGatewayAccount",
                true,
            )?,
            throttling_rate_limit,
            throttling_burst_limit,
            protect_users: parse_or(get("protectUsers"), "protectUsers", false)?,
            allowed_origins: match get("allowedOrigins") {
                None => None,
                Some(list) => {
                    let origins = orders_core::cors::AllowedOrigins::parse(list)
                        .map_err(|e| anyhow::anyhow!("allowedOrigins: {e}"))?;
                    ensure!(
                        origins.first().is_some(),
                        "allowedOrigins is empty: unset it to admit the app's own URL \
                         (`pulumi config rm allowedOrigins`)"
                    );
                    Some(origins)
                }
            },
        })
    }
}

fn parse_or<T: std::str::FromStr>(raw: Option<&str>, key: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{key} {raw:?} is not valid: {e}")),
    }
}

/// Enough to catch a typo; SNS asks the address itself to confirm.
fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut map = BTreeMap::from([
            ("aws:region".to_string(), "eu-west-1".to_string()),
            (
                format!("{PROJECT}:notificationEmail"),
                "orders@example.com".to_string(),
            ),
        ]);
        for (key, value) in pairs {
            let key = if key.contains(':') {
                key.to_string()
            } else {
                format!("{PROJECT}:{key}")
            };
            map.insert(key, value.to_string());
        }
        map
    }

    #[test]
    fn defaults_apply_when_only_the_required_keys_are_set() {
        let config = StackConfig::from_values(&values(&[]), &BTreeSet::new(), "Dev").unwrap();
        assert_eq!(config.region, "eu-west-1");
        assert_eq!(config.alarm_email, "orders@example.com");
        assert_eq!(config.wait_seconds, WaitSeconds::DEFAULT);
        assert_eq!(config.payment_success_probability.value(), 0.8);
        assert_eq!(config.architecture, Architecture::Arm64);
        assert_eq!(config.log_retention_days, 14);
        assert_eq!(config.prefix, "orders-dev");
        assert!(config.build_functions);
        assert!(config.manage_api_gateway_account);
        assert_eq!(config.allowed_origins, None);
    }

    #[test]
    fn emails_set_as_secrets_stay_secret_and_the_alarm_email_inherits_it() {
        let secret = BTreeSet::from([format!("{PROJECT}:notificationEmail")]);
        let config = StackConfig::from_values(&values(&[]), &secret, "dev").unwrap();
        assert!(config.notification_email_secret);
        assert!(
            config.alarm_email_secret,
            "it defaults to the secret address"
        );

        let own_alarm = values(&[("alarmEmail", "ops@example.com")]);
        let config = StackConfig::from_values(&own_alarm, &secret, "dev").unwrap();
        assert!(config.notification_email_secret);
        assert!(!config.alarm_email_secret);

        let config = StackConfig::from_values(&own_alarm, &BTreeSet::new(), "dev").unwrap();
        assert!(!config.notification_email_secret && !config.alarm_email_secret);
    }

    #[test]
    fn set_values_override_the_defaults() {
        let config = StackConfig::from_values(
            &values(&[
                ("waitSeconds", "5"),
                ("paymentSuccessProbability", "0.25"),
                ("architecture", "x86_64"),
                ("logRetentionDays", "30"),
                ("prefix", "shop-prod"),
                ("buildFunctions", "false"),
                (
                    "allowedOrigins",
                    "https://shop.example, http://localhost:5173",
                ),
            ]),
            &BTreeSet::new(),
            "prod",
        )
        .unwrap();
        assert_eq!(config.wait_seconds.value(), 5);
        assert_eq!(config.payment_success_probability.value(), 0.25);
        assert_eq!(config.architecture, Architecture::X86_64);
        assert_eq!(config.log_retention_days, 30);
        assert_eq!(config.prefix, "shop-prod");
        assert!(!config.build_functions);
        let origins = config.allowed_origins.unwrap();
        assert_eq!(origins.first(), Some("https://shop.example"));
        assert!(origins.admits("http://localhost:5173"));
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let cases = [
            (vec![("waitSeconds", "soon")], "waitSeconds"),
            (vec![("waitSeconds", "100000")], "waitSeconds"),
            (
                vec![("paymentSuccessProbability", "1.5")],
                "paymentSuccessProbability",
            ),
            (vec![("architecture", "sparc")], "architecture"),
            (vec![("logRetentionDays", "10")], "logRetentionDays"),
            (vec![("prefix", "Orders_Prod")], "prefix"),
            (
                vec![("notificationEmail", "not-an-email")],
                "notificationEmail",
            ),
            (vec![("buildFunctions", "maybe")], "buildFunctions"),
            (vec![("alarmEmail", "ops")], "alarmEmail"),
            (vec![("protectUsers", "yes")], "protectUsers"),
            (
                vec![("allowedOrigins", "app.example.com")],
                "allowedOrigins",
            ),
            (vec![("allowedOrigins", " , ")], "allowedOrigins"),
        ];
        for (pairs, key) in cases {
            let error =
                StackConfig::from_values(&values(&pairs), &BTreeSet::new(), "dev").unwrap_err();
            assert!(error.to_string().contains(key), "{pairs:?}: {error}");
        }
    }

    #[test]
    fn missing_required_keys_say_how_to_set_them() {
        let mut map = values(&[]);
        map.remove(&format!("{PROJECT}:notificationEmail"));
        let error = StackConfig::from_values(&map, &BTreeSet::new(), "dev").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("pulumi config set notificationEmail")
        );
        let mut map = values(&[]);
        map.remove("aws:region");
        let error = StackConfig::from_values(&map, &BTreeSet::new(), "dev").unwrap_err();
        assert!(error.to_string().contains("pulumi config set aws:region"));
    }
}

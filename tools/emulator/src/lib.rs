//! Starts the AWS-API emulator (moto server, pinned in `tools/requirements.txt`) on a free
//! loopback port and stops it when dropped.
//!
//! For local mode the emulator's own outgoing calls (its Step Functions tasks invoke
//! Lambda at `localhost:$MOTO_PORT`) can be aimed at another port, where the runner hosts
//! the functions: see [`Emulator::start_with_lambda_port`].

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The region and account the emulator answers for.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

pub struct Emulator {
    child: Child,
    port: u16,
}

/// `MOTO_SERVER` if set, else `.venv/bin/moto_server` of this workspace.
pub fn default_binary() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server")
        })
}

/// A loopback port nobody listens on now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl Emulator {
    /// Starts the emulator on a free port and waits until it listens.
    pub fn start(binary: &Path) -> Result<Self, StartError> {
        Self::spawn(binary, None)
    }

    /// As [`start`](Self::start), with the emulator's Lambda calls sent to `lambda_port`.
    pub fn start_with_lambda_port(binary: &Path, lambda_port: u16) -> Result<Self, StartError> {
        Self::spawn(binary, Some(lambda_port))
    }

    fn spawn(binary: &Path, lambda_port: Option<u16>) -> Result<Self, StartError> {
        if !binary.exists() {
            return Err(StartError(format!(
                "the emulator is not installed at {}: run `make venv` (or set MOTO_SERVER)",
                binary.display()
            )));
        }
        let port = free_port().map_err(|e| StartError(format!("no free port: {e}")))?;
        let mut command = Command::new(binary);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(lambda_port) = lambda_port {
            command.env("MOTO_PORT", lambda_port.to_string());
        }
        let child = command
            .spawn()
            .map_err(|e| StartError(format!("cannot run {}: {e}", binary.display())))?;
        let mut emulator = Self { child, port };
        emulator.wait_until_listening(Duration::from_secs(30))?;
        Ok(emulator)
    }

    fn wait_until_listening(&mut self, limit: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + limit;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartError(format!(
                    "the emulator exited at start-up ({status})"
                )));
            }
            if Instant::now() > deadline {
                return Err(StartError(format!(
                    "the emulator did not listen within {limit:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration aimed at the emulator.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint()).await
    }

    /// Stops the emulator now (a test of an outage); dropping does the same.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SDK configuration aimed at `endpoint`, with the emulator's region and dummy keys.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    // The SDK crates are built without a default client (see the workspace manifest).
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing", "testing", None, None, "emulator",
        ))
        .load()
        .await
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

//! Starts the AWS-API emulator (moto server, pinned in `tools/requirements.txt`) on a free
//! loopback port and stops it when dropped; [`provision`] creates resources in it.
//!
//! For local mode the emulator's own outgoing calls (its Step Functions tasks invoke
//! Lambda at `localhost:$MOTO_PORT`) can be aimed at another port, where the runner hosts
//! the functions: see [`Emulator::start_with_lambda_port`].

pub mod provision;

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

/// How to run the emulator: a program and the arguments before moto's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorCommand {
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
}

impl EmulatorCommand {
    /// `MOTO_SERVER` if set (a `moto_server` program); else this workspace's virtualenv
    /// Python running `tools/moto_launcher.py`: moto with its Step Functions parser made
    /// safe for executions that start together.
    pub fn from_env() -> Self {
        match std::env::var_os("MOTO_SERVER") {
            Some(program) => Self {
                program: PathBuf::from(program),
                args: Vec::new(),
            },
            None => {
                let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
                Self {
                    program: root.join(".venv/bin/python"),
                    args: vec![root.join("tools/moto_launcher.py")],
                }
            }
        }
    }
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
    pub fn start(command: &EmulatorCommand) -> Result<Self, StartError> {
        Self::spawn(command, None, None)
    }

    /// As [`start`](Self::start), with the emulator's Lambda calls sent to `lambda_port`
    /// and its output appended to `log`.
    pub fn start_with_lambda_port(
        command: &EmulatorCommand,
        lambda_port: u16,
        log: &Path,
    ) -> Result<Self, StartError> {
        Self::spawn(command, Some(lambda_port), Some(log))
    }

    fn spawn(
        emulator: &EmulatorCommand,
        lambda_port: Option<u16>,
        log: Option<&Path>,
    ) -> Result<Self, StartError> {
        if !emulator.program.exists() {
            return Err(StartError(format!(
                "the emulator is not installed ({} is missing): run `make venv` (or set MOTO_SERVER)",
                emulator.program.display()
            )));
        }
        let port = free_port().map_err(|e| StartError(format!("no free port: {e}")))?;
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| StartError(format!("cannot open {}: {e}", path.display())))?;
                let copy = file
                    .try_clone()
                    .map_err(|e| StartError(format!("cannot share {}: {e}", path.display())))?;
                (Stdio::from(file), Stdio::from(copy))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let mut command = Command::new(&emulator.program);
        command
            .args(&emulator.args)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if let Some(lambda_port) = lambda_port {
            command.env("MOTO_PORT", lambda_port.to_string());
        }
        let child = command
            .spawn()
            .map_err(|e| StartError(format!("cannot run {}: {e}", emulator.program.display())))?;
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

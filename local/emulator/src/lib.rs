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

/// Why one start did not give an emulator.
enum Started {
    /// Another process listens on the port this one was to take.
    PortTaken(u16),
    Failed(StartError),
}

/// Whether process `pid` holds the socket listening on loopback `port`, from Linux's
/// `/proc` (the socket's inode among the process's open files); `None` where `/proc`
/// cannot tell.
fn listens_on(pid: u32, port: u16) -> Option<bool> {
    let suffix = format!(":{port:04X}");
    let mut listening = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        // sl local_address rem_address st ... inode: state 0A is LISTEN.
        for fields in text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
        {
            if fields.len() > 9 && fields[3] == "0A" && fields[1].ends_with(&suffix) {
                listening.insert(format!("socket:[{}]", fields[9]));
            }
        }
    }
    if listening.is_empty() {
        return None;
    }
    let files = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(files.flatten().any(|file| {
        std::fs::read_link(file.path())
            .is_ok_and(|target| listening.contains(target.to_string_lossy().as_ref()))
    }))
}

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

    /// Starts it on a free port; if another process took that port first (a free port is
    /// only free until someone binds it: two emulators starting together can be handed
    /// the same one), tries again on another.
    fn spawn(
        emulator: &EmulatorCommand,
        lambda_port: Option<u16>,
        log: Option<&Path>,
    ) -> Result<Self, StartError> {
        const ATTEMPTS: usize = 3;
        let mut attempt = 1;
        loop {
            match Self::spawn_once(emulator, lambda_port, log) {
                Err(Started::PortTaken(port)) if attempt < ATTEMPTS => {
                    eprintln!(
                        "port {port} was taken by another process; starting the emulator again"
                    );
                    attempt += 1;
                }
                Err(Started::PortTaken(port)) => {
                    return Err(StartError(format!(
                        "another process took the emulator's port ({port}) {ATTEMPTS} times"
                    )));
                }
                Err(Started::Failed(error)) => return Err(error),
                Ok(emulator) => return Ok(emulator),
            }
        }
    }

    fn spawn_once(
        emulator: &EmulatorCommand,
        lambda_port: Option<u16>,
        log: Option<&Path>,
    ) -> Result<Self, Started> {
        if !emulator.program.exists() {
            return Err(Started::Failed(StartError(format!(
                "the emulator is not installed ({} is missing): run `make venv` (or set MOTO_SERVER)",
                emulator.program.display()
            ))));
        }
        let failed = |text: String| Started::Failed(StartError(text));
        let port = free_port().map_err(|e| failed(format!("no free port: {e}")))?;
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
                let copy = file
                    .try_clone()
                    .map_err(|e| failed(format!("cannot share {}: {e}", path.display())))?;
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
            .map_err(|e| failed(format!("cannot run {}: {e}", emulator.program.display())))?;
        let mut emulator = Self { child, port };
        emulator.wait_until_listening(Duration::from_secs(30))?;
        Ok(emulator)
    }

    /// Waits until this emulator's own process listens on its port: an answer on the port
    /// from another process does not count.
    fn wait_until_listening(&mut self, limit: Duration) -> Result<(), Started> {
        let deadline = Instant::now() + limit;
        loop {
            let answers = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok();
            let ours = answers && listens_on(self.child.id(), self.port).unwrap_or(true);
            if ours {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(if answers {
                    Started::PortTaken(self.port)
                } else {
                    Started::Failed(StartError(format!(
                        "the emulator exited at start-up ({status})"
                    )))
                });
            }
            if Instant::now() > deadline {
                return Err(Started::Failed(StartError(format!(
                    "the emulator did not listen within {limit:?}"
                ))));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The check that keeps an emulator from taking another process's server for its own.
    #[test]
    fn a_listening_socket_is_told_apart_by_its_process() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(listens_on(std::process::id(), port), Some(true));
        // PID 1 is not this test.
        assert_eq!(listens_on(1, port), Some(false));
        drop(listener);
        assert_ne!(listens_on(std::process::id(), port), Some(true));
    }
}

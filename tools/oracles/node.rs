//! Runs one of the oracle drivers of this folder (`vtl.mjs`, `schema.mjs`) from a Rust test:
//! the request as JSON on its standard input, the answer as JSON from its standard output.
//! Tests include this file with `#[path]`; `make oracles` installs what the drivers need.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// This folder, once its packages are installed.
pub fn folder() -> PathBuf {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tools/oracles"))
        .find(|dir| dir.join("package.json").is_file())
        .expect("tools/oracles above the crate");
    assert!(
        folder.join("node_modules/.installed").is_file(),
        "the oracles are not installed: run `make oracles`"
    );
    folder
}

/// `node <driver>` with `request` on its standard input; its answer.
pub fn run(driver: &str, request: &Value) -> Value {
    let mut node = Command::new("node")
        .arg(driver)
        .current_dir(folder())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    node.stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "the oracle {driver} failed");
    serde_json::from_slice(&output.stdout).expect("the oracle answers JSON")
}

//! The Lambda archives: built with cargo-lambda, then re-packed so that the same binary
//! always gives the same bytes. cargo-lambda's zip carries the binary's modification
//! time, so a fresh checkout (CI) would otherwise upload "changed" code on every `pulumi up`.

use crate::config::Architecture;
use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Pulumi wire form of an archive: this signature key and value mark the object.
const ARCHIVE_SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
const ARCHIVE_SIG: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

/// A function's deployable archive.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub path: PathBuf,
    pub sha256: String,
}

impl Artifact {
    /// The archive as a resource input (`code` of a Lambda function).
    pub fn as_pulumi_archive(&self) -> HashMap<String, String> {
        HashMap::from([
            (ARCHIVE_SIG_KEY.to_string(), ARCHIVE_SIG.to_string()),
            ("path".to_string(), self.path.display().to_string()),
        ])
    }
}

/// Builds (unless `build` is false) and re-packs the functions' archives; `root` is the
/// workspace. The result is in the order of `functions`.
pub fn prepare(
    root: &Path,
    functions: &[&str],
    architecture: Architecture,
    build: bool,
) -> Result<Vec<Artifact>> {
    if build {
        build_zips(root, functions, architecture)?;
    }
    functions
        .iter()
        .map(|function| {
            let built = root
                .join("target/lambda")
                .join(function)
                .join("bootstrap.zip");
            let binary = read_bootstrap(&built).with_context(|| {
                format!(
                    "no usable archive for {function} at {}: build it with `make zips ARCH={}` \
                     or set buildFunctions to true",
                    built.display(),
                    architecture.lambda_name()
                )
            })?;
            check_architecture(&binary, architecture)
                .with_context(|| format!("{} is not deployable", built.display()))?;
            let path = root
                .join("target/deploy")
                .join(architecture.lambda_name())
                .join(format!("{function}.zip"));
            let sha256 = write_reproducible_zip(&path, &binary)?;
            Ok(Artifact { path, sha256 })
        })
        .collect()
}

fn build_zips(root: &Path, functions: &[&str], architecture: Architecture) -> Result<()> {
    let mut command = Command::new("cargo");
    command
        .current_dir(root)
        .args([
            "lambda",
            "build",
            "--release",
            "--locked",
            "--output-format",
            "zip",
        ])
        .arg(architecture.cargo_lambda_flag());
    for function in functions {
        command.args(["--package", function]);
    }
    // `cargo run` and `cargo test` give the program variables describing itself (CARGO_PKG_*,
    // CARGO_MANIFEST_DIR, ...). Passed on, they make cargo see a changed environment and
    // rebuild every function in release; the build must see what `make zips` sees.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if inherited_from_cargo(&key) {
            command.env_remove(key.as_ref());
        }
    }
    // `make venv` installs cargo-lambda (and zig) there; use it without activating anything.
    let venv = root.join(".venv/bin");
    if venv.is_dir() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![venv];
        paths.extend(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(paths)?);
    }
    // The engine shows what the program writes to stderr; keep stdout for the program.
    let status = command
        .stdout(std::process::Stdio::inherit())
        .status()
        .context("could not run `cargo lambda`: install it with `make venv` (or `pip install cargo-lambda`)")?;
    ensure!(
        status.success(),
        "`cargo lambda build` failed ({status}); fix the build, or set buildFunctions to false to \
         deploy the archives already in target/lambda"
    );
    Ok(())
}

/// Variables Cargo sets for the program it runs (not the user's own Cargo settings).
fn inherited_from_cargo(key: &str) -> bool {
    const USER_SETTINGS: [&str; 9] = [
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
        "CARGO_PROFILE_",
    ];
    (key == "CARGO" || key == "OUT_DIR" || key.starts_with("CARGO_"))
        && !USER_SETTINGS.iter().any(|prefix| key.starts_with(prefix))
}

fn read_bootstrap(zip_path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(zip_path)?;
    let mut archive = zip::ZipArchive::new(file)?;
    let mut entry = archive
        .by_name("bootstrap")
        .context("the archive has no `bootstrap`")?;
    let mut binary = Vec::new();
    entry.read_to_end(&mut binary)?;
    Ok(binary)
}

/// An x86_64 binary uploaded as an arm64 function fails only at its first invocation:
/// refuse it here instead.
pub fn check_architecture(binary: &[u8], architecture: Architecture) -> Result<()> {
    ensure!(
        binary.len() > 20 && binary.starts_with(b"\x7fELF"),
        "bootstrap is not an ELF executable"
    );
    let machine = u16::from_le_bytes([binary[18], binary[19]]);
    let expected = match architecture {
        Architecture::X86_64 => 62,
        Architecture::Arm64 => 183,
    };
    if machine != expected {
        bail!(
            "bootstrap was built for ELF machine {machine}, not {} (set architecture, or rebuild)",
            architecture.lambda_name()
        );
    }
    Ok(())
}

/// Writes `bootstrap` alone in a zip with fixed metadata (1980-01-01, mode 755) and returns
/// the archive's SHA-256. The file is left untouched when it already holds these bytes.
pub fn write_reproducible_zip(path: &Path, binary: &[u8]) -> Result<String> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options)?;
        zip.write_all(binary)?;
        zip.finish()?;
    }
    let bytes = bytes.into_inner();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if std::fs::read(path).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::create_dir_all(path.parent().context("archive path has no parent")?)?;
        std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(machine: u16) -> Vec<u8> {
        let mut binary = b"\x7fELF".to_vec();
        binary.resize(64, 0);
        binary[18..20].copy_from_slice(&machine.to_le_bytes());
        binary
    }

    #[test]
    fn the_same_binary_always_gives_the_same_archive() {
        let dir = std::env::temp_dir().join(format!("orders-infra-zip-{}", std::process::id()));
        let binary = elf(62);
        let first = write_reproducible_zip(&dir.join("a.zip"), &binary).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = write_reproducible_zip(&dir.join("b.zip"), &binary).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            std::fs::read(dir.join("a.zip")).unwrap(),
            std::fs::read(dir.join("b.zip")).unwrap()
        );
        let other = write_reproducible_zip(&dir.join("c.zip"), &elf(183)).unwrap();
        assert_ne!(first, other);

        let archive = zip::ZipArchive::new(std::fs::File::open(dir.join("a.zip")).unwrap());
        let mut archive = archive.unwrap();
        let entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        drop(entry);
        assert_eq!(read_bootstrap(&dir.join("a.zip")).unwrap(), binary);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_build_drops_what_cargo_set_for_this_program_but_keeps_user_settings() {
        for key in [
            "CARGO",
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_TARGET_TMPDIR",
        ] {
            assert!(inherited_from_cargo(key), "{key}");
        }
        for key in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "PATH",
            "HOME",
        ] {
            assert!(!inherited_from_cargo(key), "{key}");
        }
    }

    #[test]
    fn a_binary_of_the_wrong_architecture_is_refused() {
        assert!(check_architecture(&elf(62), Architecture::X86_64).is_ok());
        assert!(check_architecture(&elf(183), Architecture::Arm64).is_ok());
        let error = check_architecture(&elf(62), Architecture::Arm64).unwrap_err();
        assert!(error.to_string().contains("not arm64"), "{error}");
        assert!(check_architecture(b"#!/bin/sh\n", Architecture::X86_64).is_err());
    }
}

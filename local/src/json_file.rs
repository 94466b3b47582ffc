//! JSON files that another process reads while the runner may be writing them.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// Writes `value` to `path` as JSON, whole: written aside, then renamed into place, so a
/// reader never sees half of it.
pub fn write_whole(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("write {}", path.display()))
}

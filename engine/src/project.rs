//! The project's Pulumi files, read as the engine reads them.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The workspace root: where `Pulumi.yaml` is.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the engine crate sits in the workspace")
        .to_path_buf()
}

/// The project's name (`name:` in `Pulumi.yaml`); config keys are namespaced by it.
pub fn project_name(root: &Path) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Project {
        name: String,
    }
    let path = root.join("Pulumi.yaml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let project: Project = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not valid", path.display()))?;
    Ok(project.name)
}

/// The `config:` map of a stack's settings file (`Pulumi.<stack>.yaml`), as the engine passes
/// it to the program: `"project:key"` → string.
pub fn stack_config(root: &Path, stack: &str) -> Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct StackSettings {
        #[serde(default)]
        config: BTreeMap<String, serde_yaml_ng::Value>,
    }
    let path = root.join(format!("Pulumi.{stack}.yaml"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let settings: StackSettings = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not valid", path.display()))?;
    settings
        .config
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_yaml_ng::Value::String(s) => s,
                serde_yaml_ng::Value::Number(n) => n.to_string(),
                serde_yaml_ng::Value::Bool(b) => b.to_string(),
                other => bail!("{key}: only plain values are supported, not {other:?}"),
            };
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_stack_names_its_keys_after_the_project() {
        let root = root();
        let project = project_name(&root).unwrap();
        let config = stack_config(&root, "dev").unwrap();
        assert!(config.contains_key("aws:region"));
        assert!(config.contains_key(&format!("{project}:notificationEmail")));
    }
}

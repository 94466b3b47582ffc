//! The program's AWS schema (`infra/schema/aws.json`, the real provider's type tokens and
//! property names), used by the stand-in provider as the real one uses its own: to refuse
//! inputs it does not know, of the wrong type, or missing.

use crate::wire::is_unknown;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// The schema text, as the program's build reads it.
pub const TEXT: &str = include_str!("../../infra/schema/aws.json");

pub struct Schema {
    document: Value,
}

/// One refused input: the property path and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub property: String,
    pub reason: String,
}

impl Schema {
    pub fn embedded() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema {
            document: serde_json::from_str(TEXT).expect("infra/schema/aws.json is JSON"),
        })
    }

    /// The provider version the schema describes (the plugin version the engine loads).
    pub fn version(&self) -> &str {
        self.document["version"].as_str().unwrap_or_default()
    }

    pub fn has_resource(&self, type_token: &str) -> bool {
        self.document["resources"].get(type_token).is_some()
    }

    /// The properties a resource of `type_token` reports.
    pub fn output_properties(&self, type_token: &str) -> Vec<String> {
        self.document["resources"][type_token]["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// What is wrong with `inputs` for a resource of `type_token`; empty when nothing is.
    /// Unknown values (preview) pass: the provider checks them again once they are known.
    pub fn check(&self, type_token: &str, inputs: &Map<String, Value>) -> Vec<Failure> {
        let Some(resource) = self.document["resources"].get(type_token) else {
            return vec![Failure {
                property: String::new(),
                reason: format!("unknown resource type {type_token}"),
            }];
        };
        let mut failures = Vec::new();
        self.check_object(
            "",
            inputs,
            &resource["inputProperties"],
            &resource["requiredInputs"],
            &mut failures,
        );
        failures
    }

    fn check_object(
        &self,
        path: &str,
        object: &Map<String, Value>,
        properties: &Value,
        required: &Value,
        failures: &mut Vec<Failure>,
    ) {
        for (key, value) in object {
            let property = join(path, key);
            match properties.get(key) {
                None => failures.push(Failure {
                    property,
                    reason: format!("{key} is not a property of this type"),
                }),
                Some(spec) => self.check_value(&property, value, spec, failures),
            }
        }
        for key in required.as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if object.get(key).is_none_or(Value::is_null) {
                failures.push(Failure {
                    property: join(path, key),
                    reason: format!("missing required property {key}"),
                });
            }
        }
    }

    fn check_value(&self, path: &str, value: &Value, spec: &Value, failures: &mut Vec<Failure>) {
        if value.is_null() || is_unknown(value) {
            return;
        }
        if let Some(reference) = spec.get("$ref").and_then(Value::as_str) {
            let token = reference.trim_start_matches("#/types/");
            let Some(definition) = self.document["types"].get(token) else {
                failures.push(Failure {
                    property: path.into(),
                    reason: format!("the schema has no type {token}"),
                });
                return;
            };
            match value.as_object() {
                Some(object) => self.check_object(
                    path,
                    object,
                    &definition["properties"],
                    &definition["required"],
                    failures,
                ),
                None => failures.push(wrong_type(path, token, value)),
            }
            return;
        }
        let expected = spec["type"].as_str().unwrap_or_default();
        let fits = match expected {
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
            "array" => {
                if let Some(items) = value.as_array() {
                    for (index, item) in items.iter().enumerate() {
                        self.check_value(
                            &format!("{path}[{index}]"),
                            item,
                            &spec["items"],
                            failures,
                        );
                    }
                    true
                } else {
                    false
                }
            }
            "object" => {
                if let Some(object) = value.as_object() {
                    if let Some(values) = spec.get("additionalProperties") {
                        for (key, item) in object {
                            self.check_value(&join(path, key), item, values, failures);
                        }
                    }
                    true
                } else {
                    false
                }
            }
            other => {
                failures.push(Failure {
                    property: path.into(),
                    reason: format!("the schema gives no usable type ({other:?})"),
                });
                return;
            }
        };
        if !fits {
            failures.push(wrong_type(path, expected, value));
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn wrong_type(path: &str, expected: &str, value: &Value) -> Failure {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    Failure {
        property: path.into(),
        reason: format!("expected {expected}, found {found}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::UNKNOWN;
    use serde_json::json;

    fn check(type_token: &str, inputs: Value) -> Vec<Failure> {
        Schema::embedded().check(type_token, inputs.as_object().unwrap())
    }

    #[test]
    fn the_schema_is_the_provider_version_the_program_pins() {
        assert_eq!(Schema::embedded().version(), "7.48.0");
    }

    #[test]
    fn a_well_formed_queue_passes() {
        assert_eq!(
            check(
                "aws:sqs/queue:Queue",
                json!({"name": "q", "visibilityTimeoutSeconds": 60})
            ),
            vec![]
        );
    }

    #[test]
    fn unknown_properties_wrong_types_and_missing_inputs_are_refused() {
        let failures = check(
            "aws:lambda/function:Function",
            json!({"name": "f", "memorySize": "128", "colour": "red", "timeout": 1.5}),
        );
        let properties: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(properties, vec!["colour", "memorySize", "timeout", "role"]);
    }

    #[test]
    fn nested_types_are_checked_and_unknowns_pass() {
        let failures = check(
            "aws:lambda/function:Function",
            json!({"role": UNKNOWN, "environment": {"variables": {"A": 1}}}),
        );
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!(failures[0].property, "environment.variables.A");
    }

    #[test]
    fn an_unknown_resource_type_is_refused() {
        assert_eq!(check("aws:ec2/instance:Instance", json!({})).len(), 1);
    }
}

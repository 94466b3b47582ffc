//! The engine's wire values (protobuf `Struct`s) as JSON, and the engine's special values.

use prost_types::value::Kind;
use serde_json::{Map, Number, Value, json};

/// How the engine marks a value it does not know yet (preview).
pub const UNKNOWN: &str = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/// The key that marks a struct as a special value (asset, archive, secret, resource).
pub const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// The signature of an archive.
pub const ARCHIVE_SIG: &str = "0def7320c3a5731c473e5ecbe6d01bc7";

pub fn is_unknown(value: &Value) -> bool {
    value.as_str() == Some(UNKNOWN)
}

/// The first input whose value is still unknown, if any: an update must have none.
pub fn first_unknown(inputs: &Map<String, Value>) -> Option<&str> {
    inputs
        .iter()
        .find(|(_, value)| is_unknown(value))
        .map(|(key, _)| key.as_str())
}

/// An archive value (`{SIG_KEY: ARCHIVE_SIG, ...}`), if `value` is one.
pub fn as_archive(value: &Value) -> Option<&Map<String, Value>> {
    value
        .as_object()
        .filter(|object| object.get(SIG_KEY).and_then(Value::as_str) == Some(ARCHIVE_SIG))
}

pub fn to_json(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        // Integers as integers, so a plan reads as the program wrote it.
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9e15 => json!(*n as i64),
        Some(Kind::NumberValue(n)) => Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(to_json).collect()),
        Some(Kind::StructValue(object)) => Value::Object(struct_to_json(object)),
    }
}

pub fn struct_to_json(object: &prost_types::Struct) -> Map<String, Value> {
    object
        .fields
        .iter()
        .map(|(key, value)| (key.clone(), to_json(value)))
        .collect()
}

pub fn to_proto(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Object(object) => Kind::StructValue(map_to_proto(object)),
    };
    prost_types::Value { kind: Some(kind) }
}

pub fn map_to_proto(object: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .iter()
            .map(|(key, value)| (key.clone(), to_proto(value)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_survives_the_round_trip_through_protobuf() {
        let value = json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}});
        assert_eq!(to_json(&to_proto(&value)), value);
    }

    #[test]
    fn archives_are_recognised_by_their_signature() {
        let archive = json!({SIG_KEY: ARCHIVE_SIG, "path": "/a.zip"});
        assert!(as_archive(&archive).is_some());
        assert!(as_archive(&json!({SIG_KEY: "other", "path": "/a.zip"})).is_none());
        assert!(as_archive(&json!({"path": "/a.zip"})).is_none());
    }
}

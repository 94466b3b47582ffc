//! Proptest strategies for request bodies, shared by the validation property tests and
//! the HTTP fuzz tests (feature `arbitrary`).

use proptest::prelude::*;
use serde_json::Value;

use crate::validation;

/// Scalars of every JSON type, with digit strings (the quantity's string form) among them.
pub fn json_scalar() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        "[0-9]{0,4}".prop_map(Value::from),
        ".{0,70}".prop_map(Value::from),
    ]
}

/// JSON shaped like an order body: arrays and objects nested up to `depth`, whose keys
/// are mostly the schema's own field names, over the given leaves.
pub fn body_like(
    leaf: impl Strategy<Value = Value> + Clone + 'static,
    depth: u32,
) -> impl Strategy<Value = Value> {
    let fields: Vec<String> = validation::schema()["properties"]
        .as_object()
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default();
    leaf.prop_recursive(depth, 32, 6, move |inner| {
        let key = prop_oneof![3 => prop::sample::select(fields.clone()), 1 => "[a-z_]{1,12}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

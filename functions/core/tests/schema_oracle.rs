//! The order schema read by two validators of different authors: ours (the `jsonschema`
//! crate, in `orders_core::validation`) and Ajv's draft-04 (`tools/oracles`, `make
//! oracles`). Both must give every case of `schema/order-request.cases.json` its verdict,
//! and agree with each other on generated bodies.

use orders_core::validation::{SCHEMA_JSON, validate};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

#[path = "../../../tools/oracles/node.rs"]
mod node;

const CASES: &str = include_str!("../../../schema/order-request.cases.json");

/// Ajv's verdict on each body, as JSON text.
fn ajv_accepts(bodies: &[String]) -> Vec<bool> {
    let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
    let verdicts = node::run("schema.mjs", &json!({ "schema": schema, "bodies": bodies }));
    verdicts
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["valid"] == true)
        .collect()
}

#[test]
fn both_validators_give_every_case_its_verdict() {
    let cases: Value = serde_json::from_str(CASES).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    let bodies: Vec<String> = cases.iter().map(|c| c["body"].to_string()).collect();
    let theirs = ajv_accepts(&bodies);
    for ((case, body), ajv) in cases.iter().zip(&bodies).zip(theirs) {
        let expected = case["valid"] == true;
        assert_eq!(validate(&case["body"]).is_ok(), expected, "ours on {body}");
        assert_eq!(ajv, expected, "Ajv on {body}");
    }
}

/// Leaves without fractions: JavaScript cannot tell 3.0 from 3, so the two validators
/// read an integral float differently by construction, not by a fault of either.
fn leaf() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..200).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[0-9]{0,4}".prop_map(Value::from),
        "\\PC{0,70}".prop_map(Value::from),
        "[ \t\n\u{85}\u{a0}\u{2028}\u{3000}\u{feff}\u{fffe}\u{ffff}a]{0,4}".prop_map(Value::from),
    ]
}

/// A valid order with one field replaced, removed or added, or any order-like JSON.
fn body() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(vec![
        "user_id",
        "restaurant_id",
        "quantity",
        "note",
        "extra",
    ]);
    let changed = (field, prop::option::of(leaf())).prop_map(|(field, value)| {
        let mut order = json!({"user_id": "u", "restaurant_id": "r", "quantity": 3});
        match value {
            Some(value) => order[field] = value,
            None => {
                order.as_object_mut().unwrap().remove(field);
            }
        }
        order
    });
    let nested = leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![4 => changed, 1 => nested]
}

#[test]
fn both_validators_agree_on_generated_bodies() {
    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let bodies: Vec<Value> = (0..2000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let texts: Vec<String> = bodies.iter().map(Value::to_string).collect();
    let theirs = ajv_accepts(&texts);
    let disagreements: Vec<String> = bodies
        .iter()
        .zip(&texts)
        .zip(theirs)
        .filter(|((body, _), ajv)| validate(body).is_ok() != *ajv)
        .map(|((_, text), ajv)| format!("Ajv {}: {text}", if ajv { "accepts" } else { "refuses" }))
        .collect();
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    let accepted = bodies.iter().filter(|b| validate(b).is_ok()).count();
    assert!(
        accepted > 100,
        "too few valid bodies to compare: {accepted}"
    );
}

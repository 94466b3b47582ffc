//! Validation of an order request body against `schema/order-request.schema.json`.
//!
//! That file is the one definition of a valid body: API Gateway's model is made from it,
//! and this module enforces it at runtime (local API, consumer, state-machine tasks),
//! so the edge and the code behind it cannot disagree.

use jsonschema::error::ValidationErrorKind;
use serde::Deserialize;
use serde_json::Value;
use std::sync::LazyLock;

use crate::OrderRequest;

/// The request body schema (JSON Schema draft 4, the dialect API Gateway models use).
pub const SCHEMA_JSON: &str = include_str!("../../../schema/order-request.schema.json");

static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(SCHEMA_JSON).expect("the order schema shipped in the binary is JSON")
});

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    jsonschema::draft4::new(&SCHEMA).expect("the order schema shipped in the binary is draft 4")
});

/// The schema as a JSON value.
pub fn schema() -> &'static Value {
    &SCHEMA
}

/// Why a body was refused, in words a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The first field at fault, if the fault is in a field.
    pub field: Option<String>,
    pub message: String,
}

/// Checks a body against the schema and returns the normalised order.
pub fn validate(body: &Value) -> Result<OrderRequest, ValidationError> {
    let mut problems: Vec<(Option<String>, String)> = Vec::new();
    for error in VALIDATOR.iter_errors(body) {
        let problem = describe(error.kind(), error.instance_path().as_str());
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    if let Some((field, _)) = problems.first() {
        return Err(ValidationError {
            field: field.clone(),
            message: problems
                .iter()
                .map(|(_, message)| message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    // The schema holds; what is left is reading the shape it guarantees.
    let raw = RawOrder::deserialize(body).map_err(|e| ValidationError {
        field: None,
        message: format!("invalid order: {e}"),
    })?;
    Ok(OrderRequest {
        restaurant_id: raw.restaurant_id,
        quantity: raw.quantity.value().ok_or_else(|| ValidationError {
            field: Some("quantity".into()),
            message: format!("`quantity` must be {}", field_description("quantity")),
        })?,
        note: raw.note,
    })
}

fn describe(kind: &ValidationErrorKind, instance_path: &str) -> (Option<String>, String) {
    match kind {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default().to_owned();
            let message = format!("missing required field `{name}`");
            (Some(name), message)
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| format!("`{n}`")).collect();
            let mut message = format!(
                "unknown field {}; the fields are {}",
                names.join(", "),
                known_fields().join(", ")
            );
            if unexpected.iter().any(|name| name == "user_id") {
                message.push_str(
                    " (an order is the signed-in user's: the API takes the user from the token)",
                );
            }
            (unexpected.first().cloned(), message)
        }
        _ => match instance_path.trim_start_matches('/').split('/').next() {
            Some(field) if !field.is_empty() => {
                let message = format!("`{field}` must be {}", field_description(field));
                (Some(field.to_owned()), message)
            }
            _ => (None, "the body must be a JSON object".to_owned()),
        },
    }
}

fn known_fields() -> Vec<&'static str> {
    SCHEMA["properties"]
        .as_object()
        .map(|fields| fields.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn field_description(field: &str) -> &'static str {
    SCHEMA["properties"][field]["description"]
        .as_str()
        .unwrap_or("valid")
}

#[derive(Deserialize)]
struct RawOrder {
    restaurant_id: String,
    quantity: RawQuantity,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawQuantity {
    Number(serde_json::Number),
    Digits(String),
}

impl RawQuantity {
    fn value(&self) -> Option<u8> {
        let value = match self {
            RawQuantity::Number(n) => n.as_u64().or_else(|| {
                // Draft 4 leaves it to the validator whether 3.0 is an integer; accept it
                // as 3 rather than refuse a body the edge let through.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })?,
            RawQuantity::Digits(digits) => digits.parse().ok()?,
        };
        u8::try_from(value).ok().filter(|q| (1..=100).contains(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn body(quantity: Value) -> Value {
        json!({"restaurant_id": "Restaurant 4", "quantity": quantity})
    }

    fn refused(body: Value) -> ValidationError {
        validate(&body).expect_err("the body should be refused")
    }

    #[test]
    fn accepts_the_original_clients_body_with_a_string_quantity() {
        let order = validate(&body(json!("3"))).unwrap();
        assert_eq!(
            order,
            OrderRequest {
                restaurant_id: "Restaurant 4".into(),
                quantity: 3,
                note: None
            }
        );
    }

    #[test]
    fn accepts_integer_quantities_at_both_ends_of_the_range() {
        assert_eq!(validate(&body(json!(1))).unwrap().quantity, 1);
        assert_eq!(validate(&body(json!(100))).unwrap().quantity, 100);
        assert_eq!(validate(&body(json!("100"))).unwrap().quantity, 100);
    }

    #[test]
    fn accepts_an_optional_note() {
        let mut b = body(json!(2));
        b["note"] = json!("no onions");
        assert_eq!(validate(&b).unwrap().note.as_deref(), Some("no onions"));
    }

    #[test]
    fn refuses_quantities_out_of_range_or_malformed() {
        for q in [
            json!(0),
            json!(101),
            json!(-1),
            json!(2.5),
            json!("0"),
            json!("03"),
            json!("101"),
            json!(" 3"),
            json!("3a"),
            json!(""),
            json!(null),
            json!(true),
            json!([3]),
        ] {
            let err = refused(body(q.clone()));
            assert_eq!(err.field.as_deref(), Some("quantity"), "{q}");
            assert!(
                err.message
                    .contains("`quantity` must be an integer from 1 to 100"),
                "{q}: {err}"
            );
        }
    }

    #[test]
    fn names_a_missing_field() {
        let err = refused(json!({"quantity": 1}));
        assert_eq!(err.field.as_deref(), Some("restaurant_id"));
        assert_eq!(err.message, "missing required field `restaurant_id`");
    }

    #[test]
    fn names_every_problem_once() {
        let err = refused(json!({"restaurant_id": "", "quantity": 0, "note": 1}));
        assert!(err.message.contains("`restaurant_id` must be"), "{err}");
        assert!(err.message.contains("`note` must be"), "{err}");
        assert!(err.message.contains("`quantity` must be"), "{err}");
        assert_eq!(err.message.matches("`restaurant_id`").count(), 1, "{err}");
    }

    #[test]
    fn refuses_unknown_fields_and_lists_the_known_ones() {
        let mut b = body(json!(1));
        b["price"] = json!(0);
        let err = refused(b);
        assert_eq!(err.field.as_deref(), Some("price"));
        assert_eq!(
            err.message,
            "unknown field `price`; the fields are note, quantity, restaurant_id"
        );
    }

    #[test]
    fn refuses_a_user_in_the_body_and_says_where_the_user_comes_from() {
        let mut b = body(json!(1));
        b["user_id"] = json!("someone-else");
        let err = refused(b);
        assert_eq!(err.field.as_deref(), Some("user_id"));
        assert!(err.message.contains("the user from the token"), "{err}");
    }

    #[test]
    fn refuses_blank_overlong_or_non_string_ids() {
        for id in [
            json!(""),
            json!("   "),
            json!("\t"),
            json!("x".repeat(65)),
            json!(42),
            json!(null),
        ] {
            let mut b = body(json!(1));
            b["restaurant_id"] = id.clone();
            assert_eq!(refused(b).field.as_deref(), Some("restaurant_id"), "{id}");
        }
        let mut b = body(json!(1));
        b["restaurant_id"] = json!("r".repeat(64));
        assert!(
            validate(&b).is_ok(),
            "64 characters is the limit, not past it"
        );
    }

    #[test]
    fn refuses_a_body_that_is_not_an_object() {
        for b in [json!([]), json!("order"), json!(3), json!(null)] {
            let err = refused(b.clone());
            assert_eq!(err.field, None, "{b}");
            assert_eq!(err.message, "the body must be a JSON object");
        }
    }

    #[test]
    fn refuses_an_overlong_note() {
        let mut b = body(json!(1));
        b["note"] = json!("n".repeat(281));
        assert_eq!(refused(b).field.as_deref(), Some("note"));
    }

    #[test]
    fn schema_is_draft_4_with_descriptions_for_every_field() {
        assert_eq!(
            schema()["$schema"],
            "http://json-schema.org/draft-04/schema#"
        );
        for field in known_fields() {
            assert!(
                schema()["properties"][field]["description"].is_string(),
                "{field} needs a description: error messages quote it"
            );
        }
    }

    proptest! {
        /// Whatever arrives, validation answers without panicking, and what it accepts
        /// keeps every rule of the contract.
        #[test]
        fn accepted_bodies_keep_the_contract(b in crate::arbitrary::body_like(crate::arbitrary::json_scalar(), 3)) {
            match validate(&b) {
                Ok(order) => {
                    prop_assert!((1..=100).contains(&order.quantity));
                    let id = &order.restaurant_id;
                    prop_assert!(!id.trim().is_empty() && id.chars().count() <= 64);
                    prop_assert!(order.note.as_ref().is_none_or(|n| n.chars().count() <= 280));
                    let object = b.as_object().unwrap();
                    prop_assert!(object.keys().all(|k| known_fields().contains(&k.as_str())));
                }
                Err(err) => prop_assert!(!err.message.is_empty()),
            }
        }

        #[test]
        fn every_valid_quantity_form_is_accepted(q in 1u8..=100, as_string: bool) {
            let quantity = if as_string { json!(q.to_string()) } else { json!(q) };
            prop_assert_eq!(validate(&body(quantity)).unwrap().quantity, q);
        }
    }
}

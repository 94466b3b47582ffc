//! Prints what the stand-in provider believes of AWS as JSON, for checks that hold it against
//! another source (`make upstream` compares its replacement table with the real provider's).

use orders_engine::aws_facts;
use serde_json::{Map, Value, json};

fn main() {
    let replaced_on: Map<String, Value> = aws_facts::REPLACED_ON
        .iter()
        .map(|(type_token, properties)| ((*type_token).to_string(), json!(properties)))
        .collect();
    let facts = json!({
        "replaced_on": replaced_on,
        "unique_names": aws_facts::UNIQUE_NAMES,
    });
    println!("{facts:#}");
}

//! Small combinators over gestalt outputs.

use pulumi_gestalt_rust::{Output, pulumi_combine};

/// One output holding every value, in order (unknown while any is unknown).
pub fn all<T>(outputs: Vec<Output<T>>) -> Output<Vec<T>>
where
    T: Clone + Send + Sync + 'static,
{
    outputs
        .into_iter()
        .fold(Output::new(Vec::new()), |acc, output| {
            pulumi_combine!(acc, output).map(|(mut values, value)| {
                values.push(value);
                values
            })
        })
}

/// `value`, available only once `event` is too. gestalt sends no dependency edges to the
/// engine; data flow is what orders creation, so this is how a resource waits for another.
pub fn after<T, E>(value: &Output<T>, event: &Output<E>) -> Output<T>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    pulumi_combine!(value.clone(), event.clone()).map(|(value, _)| value)
}

/// The account id of a resource, taken from its ARN (`arn:partition:service:region:account:…`).
pub fn account_of(arn: &Output<String>) -> Output<String> {
    arn.map(|arn| arn.split(':').nth(4).unwrap_or_default().to_string())
}

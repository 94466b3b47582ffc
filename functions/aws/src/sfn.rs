use aws_sdk_sfn::Client;
use orders_core::{DependencyError, OrderSubmission, Started, WorkflowStarter};

use crate::dependency_error;

const SERVICE: &str = "Step Functions";

/// The order state machine. The execution name is the order id, and the input is the
/// normalised submission, the same bytes for every delivery of a message: Step Functions
/// then keeps one execution per order, whatever the queue redelivers.
#[derive(Clone, Debug)]
pub struct SfnWorkflows {
    client: Client,
    state_machine_arn: String,
}

impl SfnWorkflows {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }
}

impl WorkflowStarter for SfnWorkflows {
    async fn start(&self, submission: &OrderSubmission) -> Result<Started, DependencyError> {
        let input = serde_json::to_string(submission)
            .map_err(|e| DependencyError::new(SERVICE, e.to_string()))?;
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(submission.order_id.as_str())
            .input(input)
            .send()
            .await;
        match result {
            // A Standard workflow answers a repeat with the same name and input while it
            // runs with success too: either way there is one execution.
            Ok(_) => Ok(Started::New),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_execution_already_exists()) =>
            {
                Ok(Started::AlreadyStarted)
            }
            Err(err) => Err(dependency_error(SERVICE, err)),
        }
    }
}

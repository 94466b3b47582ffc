//! The state machine: its definition, its task functions and its logging.

use super::*;

#[test]
fn the_state_machine_definition_is_fully_substituted_valid_and_logged() {
    let plan = update();
    let machine = one(plan, "aws:sfn/stateMachine:StateMachine", "workflow");
    assert_eq!(text(machine, "type"), "STANDARD");
    let definition_text = text(machine, "definition");
    assert!(!definition_text.contains("${"), "a placeholder survived");
    let definition = parse(definition_text);
    orders_blueprint::workflow::check(&definition).expect("a well-formed state machine");
    assert_eq!(
        definition["States"]["StartWaiting"]["Parameters"]["left"],
        30
    );

    let mut invoked = BTreeSet::new();
    for state in definition["States"].as_object().unwrap().values() {
        if state["Type"] == "Task" {
            invoked.insert(
                state["Arguments"]["FunctionName"]
                    .as_str()
                    .or(state["Parameters"]["FunctionName"].as_str())
                    .unwrap()
                    .to_string(),
            );
        }
    }
    let task_arns: BTreeSet<String> = ["manage-order-state", "process-payment", "send-order"]
        .iter()
        .map(|f| format!("arn:aws:lambda:{REGION}:123456789012:function:orders-dev-{f}"))
        .collect();
    assert_eq!(invoked, task_arns);

    let logging = &machine.inputs["loggingConfiguration"];
    assert_eq!(logging["level"], "ALL");
    assert_eq!(logging["includeExecutionData"], true);
    assert_eq!(
        logging["logDestination"],
        format!(
            "arn:aws:logs:{REGION}:123456789012:log-group:/aws/vendedlogs/states/orders-dev-workflow:*"
        )
    );
    assert_eq!(machine.inputs["tracingConfiguration"]["enabled"], true);

    let waited = run(Mode::Update, config(&[("waitSeconds", Some("5"))]));
    assert!(waited.success, "{}", waited.stderr);
    let machine = one(
        &waited.plan,
        "aws:sfn/stateMachine:StateMachine",
        "workflow",
    );
    assert_eq!(
        parse(text(machine, "definition"))["States"]["StartWaiting"]["Parameters"]["left"],
        5
    );
}

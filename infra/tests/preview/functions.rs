//! The functions: archives, settings, and reproducible builds.

use super::*;

#[test]
fn every_function_ships_its_archive_with_its_settings() {
    let plan = update();
    for spec in FUNCTIONS {
        let function = one(plan, "aws:lambda/function:Function", spec.name);
        assert_eq!(text(function, "name"), format!("orders-dev-{}", spec.name));
        assert_eq!(text(function, "runtime"), "provided.al2023");
        assert_eq!(text(function, "handler"), "bootstrap");
        assert_eq!(input(function, "architectures"), &json!(["x86_64"]));
        assert_eq!(input(function, "memorySize"), spec.memory_mb);
        assert_eq!(input(function, "timeout"), spec.timeout_seconds);
        assert_eq!(function.inputs["tracingConfig"]["mode"], "Active");
        assert_eq!(
            function.inputs["loggingConfig"]["logGroup"],
            format!("/aws/lambda/orders-dev-{}", spec.name)
        );
        assert_eq!(
            text(function, "role"),
            format!(
                "arn:aws:iam::123456789012:role/orders-dev-{}-role",
                spec.name
            )
        );
        let env: Vec<&str> = function.inputs["environment"]["variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(env, spec.environment, "{}", spec.name);

        let code = function.inputs["code"].as_object().unwrap();
        assert_eq!(
            code["4dabf18193072939515e22adb298388d"],
            "0def7320c3a5731c473e5ecbe6d01bc7"
        );
        let path = PathBuf::from(code["path"].as_str().unwrap());
        assert!(
            path.is_absolute() && path.starts_with(root().join("target/deploy/x86_64")),
            "{}",
            path.display()
        );
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut binary = Vec::new();
        archive
            .by_name("bootstrap")
            .expect("the archive holds bootstrap")
            .read_to_end(&mut binary)
            .unwrap();
        assert!(
            binary.starts_with(b"\x7fELF"),
            "{}: bootstrap is an executable",
            spec.name
        );
    }
    let payment = one(plan, "aws:lambda/function:Function", "process-payment");
    assert_eq!(
        payment.inputs["environment"]["variables"][env::PAYMENT_SUCCESS_PROBABILITY],
        "0.8"
    );
}

#[test]
fn unchanged_code_gives_byte_identical_archives_and_inputs() {
    let first = update();
    let archives = |plan: &Plan| -> Vec<(String, Vec<u8>)> {
        plan.resources_of("aws:lambda/function:Function")
            .into_iter()
            .map(|f| {
                let path = f.inputs["code"]["path"].as_str().unwrap().to_string();
                let bytes = std::fs::read(&path).unwrap();
                (path, bytes)
            })
            .collect()
    };
    let before = archives(first);
    let second = run(Mode::Update, config(&[]));
    assert!(second.success, "{}", second.stderr);
    assert_eq!(archives(&second.plan), before);
    let functions = |plan: &Plan| -> Vec<Value> {
        plan.resources_of("aws:lambda/function:Function")
            .into_iter()
            .map(|f| Value::Object(f.inputs.clone()))
            .collect()
    };
    assert_eq!(functions(&second.plan), functions(first));
}

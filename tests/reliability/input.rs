//! Bad input and unknown routes: a clear 4xx, nothing queued, nothing leaked.

use super::*;

/// Bodies of every wrong kind.
fn bad_bodies() -> impl Strategy<Value = (Vec<u8>, &'static str)> {
    let leaf = prop_oneof![
        5 => orders_core::arbitrary::json_scalar(),
        1 => (0usize..200_000).prop_map(|n| Value::from("x".repeat(n))),
    ];
    let json = orders_core::arbitrary::body_like(leaf, 4);
    prop_oneof![
        4 => json.prop_map(|v| (v.to_string().into_bytes(), "application/json")),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(|b| (b, "application/json")),
        1 => (1usize..50_000).prop_map(|depth| ("[".repeat(depth).into_bytes(), "application/json")),
        1 => (0u8..100).prop_map(|q| (format!(r#"{{"restaurant_id":"r","quantity":{q}}}"#).into_bytes(), "text/plain")),
        1 => Just((br#"{"restaurant_id":"r","quantity":1}"#.to_vec(), "application/x-www-form-urlencoded")),
    ]
}

/// What no error body may carry.
fn leaks(body: &str) -> bool {
    [
        "arn:",
        "123456789012",
        "panicked",
        ".rs:",
        "/root",
        "/work",
        "aws_sdk",
        "Traceback",
    ]
    .iter()
    .any(|needle| body.contains(needle))
}

#[test]
fn fuzzed_bodies_get_a_clear_4xx_and_nothing_is_queued() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The bodies, not the stage's throttle, are under test (its own test is in e2e).
    let runner = Runner::start(&env::UNTHROTTLED);
    // Signed in: the bodies reach the validator, as a customer's would.
    let http = runtime.block_on(runner.signed_in(USER));
    let cases = env_number("ORDERS_FUZZ_CASES", 300) as u32;
    // The property closure is `Fn`; the tallies live in cells.
    let statuses = std::cell::RefCell::new(BTreeMap::<u16, usize>::new());
    let accepted = std::cell::Cell::new(0usize);
    let mut fuzz = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    fuzz.run(&bad_bodies(), |(body, content_type)| {
        let (status, text) = runtime.block_on(async {
            let response = http
                .post(runner.url("/orders"))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        *statuses.borrow_mut().entry(status).or_default() += 1;
        if status == 204 {
            // A generated body can be a valid order; it must then be one.
            let value: Value = serde_json::from_slice(&body).unwrap();
            prop_assert!(orders_core::validation::validate(&value).is_ok());
            accepted.set(accepted.get() + 1);
            return Ok(());
        }
        prop_assert!(
            [400, 413, 415].contains(&status),
            "status {} for {:?}",
            status,
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        let answer: Value = serde_json::from_str(&text).unwrap();
        let message = answer["message"].as_str().unwrap_or_default();
        prop_assert!(!message.is_empty(), "no message: {}", text);
        prop_assert!(!leaks(&text), "leaks internals: {}", text);
        Ok(())
    })
    .unwrap();
    // Still serving: a good order last, then the pipeline left to go idle. What the table
    // and the dead-letter queue hold then is every order any body put in the queue.
    let sentinel = runtime.block_on(post_order(&runner, good_order()));
    let settled = runtime.block_on(runner.settle(accepted.get() + 1, Duration::from_secs(120)));
    let stored = settled.orders.len();
    let dead = settled.dead_letters as usize;
    let queued_by_mistake = (stored + dead).saturating_sub(accepted.get() + 1);
    write_report(
        "bad-input",
        &json!({
            "bodies_tried": statuses.borrow().values().sum::<usize>(),
            "statuses": *statuses.borrow(),
            "valid_by_chance": accepted.get(),
            "stored": stored,
            "dead_letters": dead,
            // Orders in the table or the DLQ beyond the valid bodies and the last good order.
            "queued_by_mistake": queued_by_mistake,
        }),
    );
    assert!(
        settled
            .orders
            .iter()
            .any(|o| o.order_id.as_str() == sentinel),
        "the last good order is stored"
    );
    assert_eq!(
        (stored, dead),
        (accepted.get() + 1, 0),
        "only valid bodies are queued"
    );
}

/// `Authorization` values the authorizer must refuse: any text, three segments of random
/// base64url, each with or without `Bearer `, and a real ID token with one character of
/// its claims changed (never the last, whose spare bits may not change the bytes).
fn bad_tokens(good: String) -> impl Strategy<Value = String> {
    let segment = prop::collection::vec(any::<u8>(), 0..200).prop_map(|bytes| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    });
    let parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let claims_len = parts[1].len();
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    let tampered = (0..claims_len - 1, prop::sample::select(alphabet)).prop_filter_map(
        "a different character",
        move |(at, new)| {
            let mut claims: Vec<char> = parts[1].chars().collect();
            (claims[at] != new).then(|| {
                claims[at] = new;
                let claims: String = claims.into_iter().collect();
                format!("{}.{claims}.{}", parts[0], parts[2])
            })
        },
    );
    let token = prop_oneof![
        2 => "[ -~]{0,300}",
        2 => (segment.clone(), segment.clone(), segment).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        3 => tampered,
    ];
    (token, any::<bool>()).prop_map(|(token, bearer)| {
        if bearer {
            format!("Bearer {token}")
        } else {
            token
        }
    })
}

#[test]
fn fuzzed_tokens_get_401_and_nothing_is_queued() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let runner = Runner::start(&env::UNTHROTTLED);
    let good = runtime.block_on(runner.token(USER));
    let http = client();
    let cases = env_number("ORDERS_FUZZ_CASES", 300) as u32;
    let statuses = std::cell::RefCell::new(BTreeMap::<u16, usize>::new());
    let mut fuzz = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    fuzz.run(&bad_tokens(good), |token| {
        let (status, text) = runtime.block_on(async {
            let response = http
                .post(runner.url("/orders"))
                .header("authorization", token.as_str())
                .json(&good_order())
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
        *statuses.borrow_mut().entry(status).or_default() += 1;
        prop_assert_eq!(status, 401, "{:?}", token);
        let answer: Value = serde_json::from_str(&text).unwrap();
        prop_assert!(answer["message"].is_string(), "{}", text);
        prop_assert!(!leaks(&text), "leaks internals: {}", text);
        Ok(())
    })
    .unwrap();
    // Then one order with the good token, and the pipeline left to go idle: had any bad
    // token got an order into the queue, the table or the dead-letter queue would hold it.
    let sentinel = runtime.block_on(post_order(&runner, good_order()));
    let settled = runtime.block_on(runner.settle(1, Duration::from_secs(60)));
    let stored = settled.orders.len();
    write_report(
        "bad-tokens",
        &json!({
            "tokens_tried": statuses.borrow().values().sum::<usize>(),
            "statuses": *statuses.borrow(),
            // Orders in the table or the DLQ beyond the good token's one.
            "stored_by_a_bad_token": (stored + settled.dead_letters as usize).saturating_sub(1),
        }),
    );
    let first = settled
        .orders
        .first()
        .map(|o| o.order_id.as_str().to_owned());
    assert_eq!(first, Some(sentinel));
    assert_eq!(
        (stored, settled.dead_letters),
        (1, 0),
        "a bad token queued an order"
    );
}

#[tokio::test]
async fn only_the_documented_routes_answer_and_no_answer_leaks_internals() {
    let runner = Runner::start(&[]);
    let http = runner.signed_in(USER).await;
    let probes = [
        ("GET", "/", 404),
        ("GET", "/orders?limit=0", 400),
        ("GET", "/orders?cursor=..%2F..", 400),
        ("PUT", "/orders", 404),
        ("DELETE", "/orders/abc", 404),
        ("POST", "/orders/abc", 404),
        ("GET", "/orders/abc/items", 404),
        ("GET", "/orders/..%2F..%2Fetc%2Fpasswd", 400),
        ("GET", "/moto-api/data.json", 404),
        ("POST", "/moto-api/config", 404),
        (
            "POST",
            "/2015-03-31/functions/orders-local-get-order/invocations",
            404,
        ),
        ("GET", "/123456789012/orders-local-queue", 404),
        ("GET", &format!("/orders/{}", "a".repeat(81)), 400),
    ];
    for (method, path, expected) in probes {
        let response = http
            .request(method.parse().unwrap(), runner.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{method} {path}");
        let text = response.text().await.unwrap();
        let answer: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
        assert!(answer["message"].is_string(), "{method} {path}: {text}");
        assert!(!leaks(&text), "{method} {path} leaks: {text}");
    }
}

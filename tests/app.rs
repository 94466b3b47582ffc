//! The customer app in a real browser: headless Chromium (Debian's `chromium`), driven
//! through `chromedriver` over WebDriver, against local mode. What the test reads is the
//! page's own state (the `data-testid` hooks); the orders it sees are checked against the
//! API. The page must log no error on the way.

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use orders_local::env;
use orders_local::sign_in::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::Runner;

const FINAL: [&str; 4] = [
    "SENT_TO_RESTAURANT",
    "PAYMENT_FAILED",
    "FAILED",
    "CANCELLED",
];

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program}: {e} (apt-get install chromium chromium-driver)")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn browser(&self) -> Client {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                // As root in CI, Chromium's sandbox cannot start.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1000,760"],
            },
            // Keeps the console, which the test reads at the end.
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's console log of the page (its `se/log` extension).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The orders the page shows: (id, status, has a cancel button), newest first.
async fn shown(page: &Client) -> Vec<(String, String, bool)> {
    let rows = page
        .execute(
            "return [...document.querySelectorAll('[data-testid=order]')].map(e => \
             [e.dataset.orderId, e.dataset.status, !!e.querySelector('[data-testid=cancel]')]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(rows).unwrap()
}

/// Waits until `done` holds of the page's orders.
async fn shown_when(
    page: &Client,
    what: &str,
    done: impl Fn(&[(String, String, bool)]) -> bool,
) -> Vec<(String, String, bool)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = shown(page).await;
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {what}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn attribute(page: &Client, selector: &str, name: &str) -> Option<String> {
    page.find(Locator::Css(selector))
        .await
        .ok()?
        .attr(name)
        .await
        .unwrap()
}

/// Waits until the element `selector` has `name` = `value`.
async fn wait_attribute(page: &Client, selector: &str, name: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while attribute(page, selector, name).await.as_deref() != Some(value) {
        let message = attribute(page, "[data-testid=message]", "textContent").await;
        assert!(
            Instant::now() < deadline,
            "{selector} never had {name}={value} (message: {message:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_into(page: &Client, test_id: &str, text: &str) {
    let field = page
        .find(Locator::Css(&format!("[data-testid={test_id}]")))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(page: &Client, selector: &str) {
    page.find(Locator::Css(selector))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Signs in through the form and waits for the list and the live socket.
async fn sign_in(page: &Client, runner: &Runner, user: &str) {
    let email = &runner.ready.sign_in.user(user).unwrap().email;
    page.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=username]"))
        .await
        .unwrap();
    type_into(page, "username", email).await;
    type_into(page, "password", DEMO_PASSWORD).await;
    click(page, "[data-testid=sign-in]").await;
    wait_signed_in(page).await;
}

async fn wait_signed_in(page: &Client) {
    wait_attribute(page, "[data-testid=orders]", "data-loaded", "true").await;
    wait_attribute(page, "[data-testid=live]", "data-state", "open").await;
    assert!(displayed(page, "[data-testid=place-order]").await);
    assert!(
        !displayed(page, "[data-testid=sign-in]").await,
        "the sign-in form shows while signed in"
    );
}

/// Whether the element `selector` is on screen.
async fn displayed(page: &Client, selector: &str) -> bool {
    page.find(Locator::Css(selector))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

async fn place(page: &Client, restaurant: &str, quantity: u8) -> String {
    let before = shown(page).await.len();
    type_into(page, "restaurant", restaurant).await;
    type_into(page, "quantity", &quantity.to_string()).await;
    click(page, "[data-testid=place-order]").await;
    let rows = shown_when(page, "the new order", |rows| rows.len() == before + 1).await;
    rows[0].0.clone()
}

fn status_of(rows: &[(String, String, bool)], id: &str) -> Option<(String, bool)> {
    rows.iter()
        .find(|(order, _, _)| order == id)
        .map(|(_, status, cancel)| (status.clone(), *cancel))
}

#[tokio::test]
async fn alice_orders_watches_it_live_cancels_another_and_bob_sees_none_of_it() {
    let runner = Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "6"),
    ]);
    let driver = Driver::start();
    let page = driver.browser().await;
    page.goto(&runner.ready.app_url).await.unwrap();
    sign_in(&page, &runner, "alice").await;

    // The first order, watched without a reload until its final status.
    let delivered = place(&page, "Pizza Place", 2).await;
    let mut seen = Vec::<String>::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = status_of(&shown(&page).await, &delivered).map(|(s, _)| s);
        if let Some(status) = status.filter(|s| seen.last() != Some(s)) {
            seen.push(status);
        }
        if seen.last().is_some_and(|s| FINAL.contains(&s.as_str())) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never final on the page: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen.last().unwrap(), "SENT_TO_RESTAURANT", "{seen:?}");
    // The wait (6 s) shows the paid order before its hand-off: a change pushed, not read.
    assert!(seen.contains(&"PAYMENT_OK".to_owned()), "{seen:?}");

    // The second, cancelled from the page while it can be.
    let cancelled = place(&page, "Noodle Bar", 1).await;
    shown_when(&page, "a cancel button", |rows| {
        status_of(rows, &cancelled).is_some_and(|(_, cancel)| cancel)
    })
    .await;
    click(
        &page,
        &format!("[data-order-id='{cancelled}'] [data-testid=cancel]"),
    )
    .await;
    let rows = shown_when(&page, "the cancel", |rows| {
        status_of(rows, &cancelled).is_some_and(|(s, _)| s == "CANCELLED")
    })
    .await;
    assert_eq!(
        status_of(&rows, &cancelled),
        Some(("CANCELLED".into(), false))
    );

    // A reload keeps the session and shows both, as the API has them.
    page.refresh().await.unwrap();
    wait_signed_in(&page).await;
    let rows = shown_when(&page, "both orders", |rows| rows.len() == 2).await;
    for (id, status, cancel) in &rows {
        let stored = support::final_order(&runner, id).await;
        assert_eq!(stored["status"].as_str(), Some(status.as_str()));
        assert!(!cancel, "a final order offers a cancel");
    }
    let ids: Vec<_> = rows.iter().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids, [cancelled.clone(), delivered.clone()], "newest first");
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app.png");
    std::fs::write(&screenshot, page.screenshot().await.unwrap()).unwrap();

    // Bob, signed in on the same page after Alice signs out, sees his order only.
    let bobs = support::post_order_as(&runner, "bob", support::good_order()).await;
    support::final_order_as(&runner, "bob", &bobs).await;
    click(&page, "[data-testid=sign-out]").await;
    assert!(
        !displayed(&page, "[data-testid=place-order]").await,
        "the order form shows signed out"
    );
    assert!(
        shown(&page).await.is_empty(),
        "alice's orders show after she signed out"
    );
    sign_in(&page, &runner, "bob").await;
    let rows = shown_when(&page, "bob's order", |rows| !rows.is_empty()).await;
    let ids: Vec<_> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, [bobs.as_str()]);

    let log = page.issue_cmd(BrowserLog).await.unwrap();
    let errors: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "the page logged errors: {errors:?}");
    page.close().await.unwrap();
}

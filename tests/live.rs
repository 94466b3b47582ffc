//! Live status in local mode, without a browser: the WebSocket API's handshake, who gets
//! which order's changes, and what happens to closed and gone connections. What a socket
//! receives is compared with the order as `GET /orders/{id}` reads it; the connections are
//! read from the emulator's table.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use orders_local::env;
use serde_json::Value;
use support::{Runner, USER, final_order, good_order, post_order, post_order_as};
use tokio_tungstenite::tungstenite;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const FINAL: [&str; 4] = [
    "SENT_TO_RESTAURANT",
    "PAYMENT_FAILED",
    "FAILED",
    "CANCELLED",
];

/// Opens a socket with `query` after the URL; the handshake's status if it is refused.
async fn open(runner: &Runner, query: &str) -> Result<Socket, u16> {
    let url = format!("{}{query}", runner.ready.websocket_url);
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, answer)) => {
            assert_eq!(answer.status().as_u16(), 101);
            Ok(socket)
        }
        Err(tungstenite::Error::Http(answer)) => Err(answer.status().as_u16()),
        Err(err) => panic!("the handshake failed without an answer: {err}"),
    }
}

async fn open_as(runner: &Runner, user: &str) -> Socket {
    let token = runner.token(user).await;
    open(runner, &format!("?token={token}"))
        .await
        .unwrap_or_else(|status| panic!("{user}'s handshake was refused: {status}"))
}

/// The next change a socket receives, within `limit`.
async fn next_change(socket: &mut Socket, limit: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(limit, socket.next()).await {
            Err(_) | Ok(None) => return None,
            Ok(Some(Ok(tungstenite::Message::Text(text)))) => {
                return Some(serde_json::from_str(&text).expect("a change is JSON"));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(err))) => panic!("the socket failed: {err}"),
        }
    }
}

/// Every change `socket` receives until it has had those of `order_id` up to a final
/// status (versions 1 to the final one: the queue may deliver them out of order).
async fn changes_until_final(socket: &mut Socket, order_id: &str) -> Vec<Value> {
    let mut changes = Vec::new();
    while let Some(change) = next_change(socket, Duration::from_secs(60)).await {
        changes.push(change);
        let history = history(&changes, order_id);
        let last = history
            .iter()
            .find(|(_, status)| FINAL.contains(&status.as_str()));
        if let Some((version, _)) = last {
            let versions: BTreeSet<u64> = history.iter().map(|(v, _)| *v).collect();
            if versions == (1..=*version).collect() {
                return changes;
            }
        }
    }
    panic!("{order_id} never reached a final status on the socket: {changes:?}");
}

/// The (version, status) pairs of `order_id` among `changes`.
fn history(changes: &[Value], order_id: &str) -> Vec<(u64, String)> {
    let mut history: Vec<_> = changes
        .iter()
        .filter(|c| c["order_id"] == order_id)
        .map(|c| {
            (
                c["version"].as_u64().unwrap(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    history.sort();
    history.dedup();
    history
}

/// The stored connections: (connection id, user id).
async fn connections(runner: &Runner) -> BTreeSet<(String, String)> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&runner.sdk().await);
    let items = dynamodb
        .scan()
        .table_name(&runner.ready.connections_table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            (text("connection_id"), text("user_id"))
        })
        .collect()
}

async fn connections_when(
    runner: &Runner,
    done: impl Fn(&BTreeSet<(String, String)>) -> bool,
) -> BTreeSet<(String, String)> {
    for _ in 0..100 {
        let now = connections(runner).await;
        if done(&now) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the connections never became as expected: {:?}",
        connections(runner).await
    );
}

fn started() -> Runner {
    Runner::start(&[
        (env::PAYMENT_SUCCESS_PROBABILITY, "1"),
        (env::WAIT_SECONDS, "1"),
    ])
}

#[tokio::test]
async fn a_handshake_without_a_valid_token_is_refused() {
    let runner = started();
    let token = runner.token(USER).await;
    let (head, signature) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", signature.chars().rev().collect::<String>());
    let unsigned = format!("{head}.");
    for (query, case) in [
        ("", "no token"),
        ("?token=", "an empty token"),
        ("?token=not-a-token", "a malformed token"),
        (&format!("?token={forged}") as &str, "a forged signature"),
        (&format!("?token={unsigned}"), "no signature"),
        (
            &format!("?access_token={token}"),
            "the token in another parameter",
        ),
    ] {
        assert_eq!(open(&runner, query).await.err(), Some(401), "{case}");
    }
    assert!(
        connections(&runner).await.is_empty(),
        "a refused handshake stored a connection"
    );

    // The same token where it belongs is taken, and its connection stored as alice's.
    let _socket = open(&runner, &format!("?token={token}")).await.unwrap();
    let stored = connections_when(&runner, |c| !c.is_empty()).await;
    let users: Vec<_> = stored.iter().map(|(_, user)| user.clone()).collect();
    assert_eq!(users, [runner.user_id(USER)]);
}

#[tokio::test]
async fn each_customer_gets_every_change_of_their_own_orders_and_nobody_elses() {
    let runner = started();
    // Alice in two tabs, Bob in one.
    let mut alice = open_as(&runner, USER).await;
    let mut alice_again = open_as(&runner, USER).await;
    let mut bob = open_as(&runner, "bob").await;

    let alices = post_order(&runner, good_order()).await;
    let seen = changes_until_final(&mut alice, &alices).await;
    let seen_again = changes_until_final(&mut alice_again, &alices).await;
    let order = final_order(&runner, &alices).await;
    let expected = vec![
        (1, "RECEIVED".to_owned()),
        (2, "PAYMENT_OK".to_owned()),
        (3, "SENT_TO_RESTAURANT".to_owned()),
    ];
    assert_eq!(history(&seen, &alices), expected);
    assert_eq!(history(&seen_again, &alices), expected);
    // The last change is the order as stored.
    let last = seen.last().unwrap();
    for field in ["order_id", "user_id", "status", "version"] {
        assert_eq!(last[field], order[field], "{field}");
    }
    assert_eq!(
        last["at"]
            .as_str()
            .map(|at| at.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        order["updated_at"].as_str().map(|at| at.parse().unwrap())
    );

    // Bob's own order is the sentinel: once his socket has its final change, a change of
    // Alice's order would have come before it.
    let bobs = post_order_as(&runner, "bob", good_order()).await;
    let bob_saw = changes_until_final(&mut bob, &bobs).await;
    assert_eq!(history(&bob_saw, &bobs).len(), 3);
    assert!(
        bob_saw.iter().all(|c| c["order_id"] == bobs.as_str()),
        "bob received another customer's changes: {bob_saw:?}"
    );
    // And Alice's sockets get none of Bob's: her next order's changes come with nothing
    // of his before them.
    let alices_next = post_order(&runner, good_order()).await;
    let next = changes_until_final(&mut alice, &alices_next).await;
    assert!(
        next.iter().all(|c| c["order_id"] == alices_next.as_str()),
        "alice received another customer's changes: {next:?}"
    );
}

#[tokio::test]
async fn a_closed_connection_is_forgotten_and_a_gone_one_removed_by_the_push() {
    let runner = started();
    let alice_id = runner.user_id(USER);
    let mut socket = open_as(&runner, USER).await;
    connections_when(&runner, |c| c.len() == 1).await;
    socket.close(None).await.unwrap();
    connections_when(&runner, |c| c.is_empty()).await;

    // A connection whose `$disconnect` never came (API Gateway's is best effort).
    let dynamodb = aws_sdk_dynamodb::Client::new(&runner.sdk().await);
    dynamodb
        .put_item()
        .table_name(&runner.ready.connections_table)
        .item(
            "connection_id",
            aws_sdk_dynamodb::types::AttributeValue::S("Gone-Connection=".into()),
        )
        .item(
            "user_id",
            aws_sdk_dynamodb::types::AttributeValue::S(alice_id.clone()),
        )
        .item(
            "expires_at",
            aws_sdk_dynamodb::types::AttributeValue::N("4102444800".into()),
        )
        .send()
        .await
        .unwrap();
    let mut live = open_as(&runner, USER).await;
    let order_id = post_order(&runner, good_order()).await;
    let changes = changes_until_final(&mut live, &order_id).await;
    assert_eq!(history(&changes, &order_id).len(), 3);
    // The first push to it found it gone and removed it; the live one is kept.
    let left = connections_when(&runner, |c| c.len() == 1).await;
    assert!(
        left.iter()
            .all(|(id, user)| id != "Gone-Connection=" && *user == alice_id)
    );
}

#[tokio::test]
async fn after_a_reconnect_the_orders_read_back_hold_what_the_socket_missed() {
    let runner = started();
    let mut socket = open_as(&runner, USER).await;
    let order_id = post_order(&runner, good_order()).await;
    let first = next_change(&mut socket, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        (first["order_id"].as_str(), first["version"].as_u64()),
        (Some(order_id.as_str()), Some(1))
    );
    socket.close(None).await.unwrap();
    drop(socket);

    // While no socket is open the order goes on; nothing holds its changes for later.
    let settled = final_order(&runner, &order_id).await;
    let mut socket = open_as(&runner, USER).await;
    // What the app does on every (re)connect: read the orders back.
    let page: Value = runner
        .signed_in(USER)
        .await
        .get(runner.url("/orders"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["order_id"] == order_id.as_str())
        .unwrap();
    assert_eq!(listed["status"], settled["status"]);
    assert_eq!(listed["version"], 3);
    // And the new socket gets the changes from then on.
    let next = post_order(&runner, good_order()).await;
    let changes = changes_until_final(&mut socket, &next).await;
    assert_eq!(history(&changes, &next).len(), 3);
}

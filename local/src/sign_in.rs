//! How to sign in to a running `orders-local`: its user pool in the emulator, the app
//! client, and the demo users the runner makes. The runner writes it next to its ready
//! report and to [`file`], where `tests/token.sh` finds it by the API's port.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use serde::{Deserialize, Serialize};

/// The demo users, by the name `tests/token.sh` takes.
pub const DEMO_USERS: [&str; 2] = ["alice", "bob"];

/// The demo users' password. Local mode only: the emulator's pool holds nothing to protect,
/// and a fixed password keeps `curl` examples short. It meets the stack's password policy.
pub const DEMO_PASSWORD: &str = "Local-demo-orders-1";

/// A demo user's email, the name the pool signs them in by.
pub fn demo_email(name: &str) -> String {
    format!("{name}@example.com")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoUser {
    pub name: String,
    pub email: String,
    pub password: String,
    /// The user's id: the `sub` of their tokens, and the `user_id` of their orders.
    pub sub: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub region: String,
    /// The Cognito endpoint: the emulator's.
    pub endpoint: String,
    pub user_pool_id: String,
    pub client_id: String,
    pub users: Vec<DemoUser>,
}

/// Where the runner serving the API on `api_port` writes how to sign in to it.
pub fn file(api_port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("orders-local-{api_port}.sign-in.json"))
}

/// Signs `username` in through the app client `client_id` as a client does
/// (`InitiateAuth`, `USER_PASSWORD_AUTH`).
pub async fn password_sign_in(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<Tokens> {
    let answer = cognito
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await?;
    let result = answer
        .authentication_result
        .with_context(|| format!("{username} signed in without tokens"))?;
    Ok(Tokens {
        id: result.id_token.context("no ID token")?,
        access: result.access_token.context("no access token")?,
    })
}

/// Tokens of one sign-in.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub id: String,
    pub access: String,
}

impl SignIn {
    /// Writes it whole: `tests/token.sh` never reads half of it.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        crate::json_file::write_whole(path, self)
    }

    pub fn user(&self, name: &str) -> anyhow::Result<&DemoUser> {
        self.users
            .iter()
            .find(|user| user.name == name)
            .with_context(|| format!("no demo user {name}"))
    }

    /// Signs `name` in as a client does.
    pub async fn tokens(&self, name: &str) -> anyhow::Result<Tokens> {
        let user = self.user(name)?;
        let config = orders_emulator::sdk_config_for(&self.endpoint).await;
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config);
        password_sign_in(&cognito, &self.client_id, &user.email, &user.password)
            .await
            .with_context(|| format!("sign {name} in"))
    }

    /// `name`'s ID token: what goes in the `Authorization` header.
    pub async fn id_token(&self, name: &str) -> anyhow::Result<String> {
        Ok(self.tokens(name).await?.id)
    }
}

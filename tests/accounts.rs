//! Accounts made the way an operator makes them: `coffer admin account
//! create NAME --json`, read back from its output.

use anyhow::{Context, Result};

use crate::client::ClientOptions;
use crate::cluster::admin;
use crate::server::Server;

/// A new account: its id and its root access key.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl NewAccount {
    /// (access key id, secret), as `ClientOptions::credentials` takes them.
    pub fn keys(&self) -> (String, String) {
        (self.access_key_id.clone(), self.secret_access_key.clone())
    }

    /// An SDK client signing with the account's root key.
    pub fn client(&self, server: &Server) -> aws_sdk_s3::Client {
        server.client_with(ClientOptions {
            credentials: Some(self.keys()),
            ..ClientOptions::default()
        })
    }
}

/// Create account `name` on `server`'s region.
pub fn create_account(server: &Server, name: &str) -> Result<NewAccount> {
    let output = admin(server, &["account", "create", name, "--json"])?;
    let created: serde_json::Value =
        serde_json::from_str(&output).context("account create --json")?;
    let field = |name: &str| {
        created[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{name} in {output}"))
    };
    Ok(NewAccount {
        id: field("account_id")?,
        access_key_id: field("access_key_id")?,
        secret_access_key: field("secret_access_key")?,
    })
}

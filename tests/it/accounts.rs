//! Accounts through `coffer admin account …` against the real server: the
//! key of a new account works over S3 for its own buckets; listings never
//! show secrets; e-mail addresses are unique; an account that owns a bucket
//! cannot be deleted; a deleted account's key is refused; account-level
//! Block Public Access can be set, shown and cleared.

use std::process::{Command, Output};

use anyhow::{Context, Result};
use coffer_e2e::cluster::admin;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::server::coffer_binary;
use coffer_e2e::{assert_s3_error, random_bytes, unique_bucket, ClientOptions, Server};

/// `coffer admin ARGS` against `server` with its root credentials, for
/// calls expected to fail (`cluster::admin` fails on a non-zero exit).
fn admin_output(server: &Server, args: &[&str]) -> Result<Output> {
    Command::new(coffer_binary()?)
        .arg("admin")
        .arg("--endpoint")
        .arg(server.admin_url())
        .args(args)
        .env("COFFER_ROOT_ACCESS_KEY", server.access_key_id())
        .env("COFFER_ROOT_SECRET_KEY", server.secret_access_key())
        .output()
        .context("run coffer admin")
}

/// Run `coffer admin ARGS`, expect a non-zero exit, return its stderr.
fn admin_fails(server: &Server, args: &[&str]) -> Result<String> {
    let output = admin_output(server, args)?;
    assert!(
        !output.status.success(),
        "coffer admin {args:?} should fail; stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    Ok(String::from_utf8(output.stderr)?)
}

fn json(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).with_context(|| format!("not JSON: {text}"))
}

fn field<'a>(value: &'a serde_json::Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name:?} in {value}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn account_lifecycle() -> Result<()> {
    let server = Server::start().await?;

    let created = json(&admin(
        &server,
        &[
            "account",
            "create",
            "alice",
            "--email",
            "a@example.com",
            "--json",
        ],
    )?)?;
    let account_id = field(&created, "account_id").to_owned();
    assert!(
        account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()),
        "{created}"
    );
    let canonical_id = field(&created, "canonical_id");
    assert!(
        canonical_id.len() == 64 && canonical_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{created}"
    );
    assert_eq!(field(&created, "display_name"), "alice");
    assert_eq!(field(&created, "email"), "a@example.com");
    let access_key_id = field(&created, "access_key_id").to_owned();
    let secret = field(&created, "secret_access_key").to_owned();
    assert!(access_key_id.starts_with("AKIA"), "{created}");
    assert!(secret.len() >= 40, "{created}");

    // The new key works over S3 on the account's own bucket.
    let alice = server.client_with(ClientOptions {
        credentials: Some((access_key_id.clone(), secret.clone())),
        ..ClientOptions::default()
    });
    let bucket = unique_bucket("alice");
    create_bucket(&alice, &bucket).await?;
    let body = random_bytes(5_000);
    put_bytes(&alice, &bucket, "hello.txt", &body).await?;
    assert_eq!(get_bytes(&alice, &bucket, "hello.txt").await?, body);

    // Listings show the account (and root) but never a secret.
    let listed = admin(&server, &["account", "list", "--json"])?;
    assert!(!listed.contains("secret"), "{listed}");
    assert!(!listed.contains(&secret), "{listed}");
    let accounts = json(&listed)?;
    let accounts = accounts.as_array().context("a JSON array")?;
    let entry = accounts
        .iter()
        .find(|account| account["account_id"] == account_id.as_str())
        .with_context(|| format!("alice missing from {listed}"))?;
    assert_eq!(field(entry, "display_name"), "alice");
    assert_eq!(field(entry, "email"), "a@example.com");
    assert_eq!(field(entry, "canonical_id"), canonical_id);
    assert!(!field(entry, "created_at").is_empty());
    let root = accounts
        .iter()
        .find(|account| account["display_name"] == "root")
        .with_context(|| format!("root missing from {listed}"))?;
    let root_id = field(root, "account_id").to_owned();
    let table = admin(&server, &["account", "list"])?;
    assert!(
        table.lines().any(|line| line.starts_with(&account_id)
            && line.contains("alice")
            && line.contains("a@example.com")),
        "{table}"
    );

    let shown = json(&admin(
        &server,
        &["account", "show", &account_id, "--json"],
    )?)?;
    assert_eq!(&shown, entry);
    let shown = admin(&server, &["account", "show", &account_id])?;
    assert!(
        shown.contains("display_name:") && shown.contains("alice"),
        "{shown}"
    );
    assert!(!shown.contains("secret"), "{shown}");

    // E-mail addresses are unique (whatever their case).
    for email in ["a@example.com", "A@Example.com"] {
        let refused = admin_fails(&server, &["account", "create", "alice2", "--email", email])?;
        assert!(refused.contains("already exists"), "{refused}");
    }
    let refused = admin_fails(&server, &["account", "create", "bad", "--email", "nope"])?;
    assert!(refused.contains("400"), "{refused}");

    // Not while the account owns a bucket.
    let refused = admin_fails(&server, &["account", "delete", &account_id])?;
    assert!(refused.contains("DeleteConflict"), "{refused}");
    assert!(refused.contains("owns buckets"), "{refused}");
    alice
        .delete_object()
        .bucket(&bucket)
        .key("hello.txt")
        .send()
        .await?;
    alice.delete_bucket().bucket(&bucket).send().await?;
    let deleted = admin(&server, &["account", "delete", &account_id])?;
    assert!(deleted.contains(&account_id), "{deleted}");

    // The deleted account's key is unknown from now on.
    assert_s3_error(
        alice.list_buckets().send().await,
        403,
        Some("InvalidAccessKeyId"),
    );
    let refused = admin_fails(&server, &["account", "show", &account_id])?;
    assert!(refused.contains("404"), "{refused}");
    let refused = admin_fails(&server, &["account", "delete", &account_id])?;
    assert!(refused.contains("NoSuchEntity"), "{refused}");
    let listed = admin(&server, &["account", "list", "--json"])?;
    assert!(!listed.contains(&account_id), "{listed}");

    // The secret went to the operator only, never into the server's log.
    assert!(!server.output().contains(&secret));

    // The root account signs the admin API: it cannot be deleted.
    let refused = admin_fails(&server, &["account", "delete", &root_id])?;
    assert!(refused.contains("root account"), "{refused}");
    assert!(!admin_fails(&server, &["account", "show", "alice"])?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn create_prints_the_secret_once_and_public_access_block() -> Result<()> {
    let server = Server::start().await?;

    // Without --json: key: value lines, the secret among them, and a note.
    let output = admin_output(&server, &["account", "create", "bob"])?;
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} line in {stdout}"))
    };
    let account_id = value("account_id:");
    let access_key_id = value("access_key_id:");
    let secret = value("secret_access_key:");
    assert_eq!(value("display_name:"), "bob");
    assert_eq!(value("email:"), "-");
    assert!(stderr.contains("shown only now"), "{stderr}");

    // The printed key works.
    let bob = server.client_with(ClientOptions {
        credentials: Some((access_key_id, secret)),
        ..ClientOptions::default()
    });
    bob.list_buckets().send().await?;

    // Account-level Block Public Access: unset, set, shown, cleared.
    let shown = admin(&server, &["account", "public-access-block", &account_id])?;
    assert!(shown.contains("no Block Public Access settings"), "{shown}");
    let unset = json(&admin(
        &server,
        &["account", "public-access-block", &account_id, "--json"],
    )?)?;
    assert!(unset.is_null(), "{unset}");

    let set = admin(
        &server,
        &[
            "account",
            "public-access-block",
            &account_id,
            "--set",
            "block-public-acls,restrict-public-buckets",
        ],
    )?;
    assert!(
        set.lines()
            .any(|line| line.starts_with("block_public_acls:") && line.ends_with("on")),
        "{set}"
    );
    let shown = json(&admin(
        &server,
        &["account", "public-access-block", &account_id, "--json"],
    )?)?;
    assert_eq!(
        shown,
        serde_json::json!({
            "block_public_acls": true,
            "ignore_public_acls": false,
            "block_public_policy": false,
            "restrict_public_buckets": true,
        })
    );
    admin(
        &server,
        &[
            "account",
            "public-access-block",
            &account_id,
            "--set",
            "all",
        ],
    )?;
    let shown = admin(&server, &["account", "public-access-block", &account_id])?;
    assert_eq!(
        shown.lines().filter(|line| line.ends_with(" on")).count(),
        4,
        "{shown}"
    );

    admin(
        &server,
        &["account", "public-access-block", &account_id, "--clear"],
    )?;
    let shown = admin(&server, &["account", "public-access-block", &account_id])?;
    assert!(shown.contains("no Block Public Access settings"), "{shown}");

    // An unknown account is an error, not "no settings".
    let refused = admin_fails(&server, &["account", "public-access-block", "999999999999"])?;
    assert!(refused.contains("NoSuchEntity"), "{refused}");
    let refused = admin_fails(
        &server,
        &[
            "account",
            "public-access-block",
            &account_id,
            "--set",
            "block-everything",
        ],
    )?;
    assert!(refused.contains("invalid value"), "{refused}");
    Ok(())
}

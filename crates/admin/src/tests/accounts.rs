//! The account routes against a fake `AccountAdmin`: real signed requests
//! through the router, the fake deciding what the engine would (duplicate
//! e-mail, an account that owns buckets, a missing account).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coffer_types::{ErrorCode, S3Error};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{fake_node, metrics_handle};
use crate::{
    auth, router_with, AccountAdmin, AccountView, AdminApi, AdminCredentials, AdminError,
    NewAccountView, PublicAccessBlockView,
};

const ROOT_KEY: &str = "ROOTKEY";
const ROOT_SECRET: &str = "root-secret";
const NEW_SECRET: &str = "fake-secret-0123456789abcdefghijklmnopqrstu";

pub(super) struct RootKey;

impl AdminCredentials for RootKey {
    fn root_secret(&self, access_key_id: &str) -> Option<zeroize::Zeroizing<String>> {
        (access_key_id == ROOT_KEY).then(|| zeroize::Zeroizing::new(ROOT_SECRET.to_owned()))
    }
}

#[derive(Default)]
struct FakeAccounts {
    accounts: Mutex<Vec<AccountView>>,
    settings: Mutex<HashMap<String, PublicAccessBlockView>>,
    /// Accounts that own a bucket (deletion is refused).
    owners: Mutex<HashSet<String>>,
}

pub(super) fn engine_error(code: ErrorCode, message: &str) -> AdminError {
    S3Error::new(code, message).into()
}

impl FakeAccounts {
    fn require(&self, account_id: &str) -> Result<(), AdminError> {
        let accounts = self.accounts.lock().expect("test lock");
        if accounts.iter().any(|a| a.account_id == account_id) {
            Ok(())
        } else {
            Err(engine_error(
                ErrorCode::NoSuchEntity,
                "The account does not exist.",
            ))
        }
    }
}

#[async_trait::async_trait]
impl AccountAdmin for FakeAccounts {
    async fn create_account(
        &self,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<NewAccountView, AdminError> {
        if display_name.trim().is_empty() {
            return Err(engine_error(
                ErrorCode::InvalidArgument,
                "An account name is 1 to 64 printable characters.",
            ));
        }
        let mut accounts = self.accounts.lock().expect("test lock");
        if email.is_some() && accounts.iter().any(|a| a.email.as_deref() == email) {
            return Err(engine_error(
                ErrorCode::EntityAlreadyExists,
                "An account with this e-mail address already exists.",
            ));
        }
        let account = AccountView {
            account_id: format!("{:012}", 100_000_000_000u64 + accounts.len() as u64),
            canonical_id: "c".repeat(64),
            display_name: display_name.to_owned(),
            email: email.map(str::to_owned),
            created_at: "2024-01-02T03:04:05Z".to_owned(),
        };
        accounts.push(account.clone());
        Ok(NewAccountView {
            account,
            access_key_id: format!("AKIAFAKE{:012}", accounts.len()),
            secret_access_key: zeroize::Zeroizing::new(NEW_SECRET.to_owned()),
        })
    }

    async fn accounts(&self) -> Result<Vec<AccountView>, AdminError> {
        Ok(self.accounts.lock().expect("test lock").clone())
    }

    async fn account(&self, account_id: &str) -> Result<Option<AccountView>, AdminError> {
        let accounts = self.accounts.lock().expect("test lock");
        Ok(accounts
            .iter()
            .find(|a| a.account_id == account_id)
            .cloned())
    }

    async fn delete_account(&self, account_id: &str) -> Result<(), AdminError> {
        self.require(account_id)?;
        if self.owners.lock().expect("test lock").contains(account_id) {
            return Err(engine_error(
                ErrorCode::DeleteConflict,
                "The account still owns buckets; delete them first.",
            ));
        }
        self.accounts
            .lock()
            .expect("test lock")
            .retain(|a| a.account_id != account_id);
        Ok(())
    }

    async fn public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlockView>, AdminError> {
        self.require(account_id)?;
        Ok(self
            .settings
            .lock()
            .expect("test lock")
            .get(account_id)
            .copied())
    }

    async fn set_public_access_block(
        &self,
        account_id: &str,
        settings: Option<PublicAccessBlockView>,
    ) -> Result<(), AdminError> {
        self.require(account_id)?;
        let mut all = self.settings.lock().expect("test lock");
        match settings {
            Some(settings) => all.insert(account_id.to_owned(), settings),
            None => all.remove(account_id),
        };
        Ok(())
    }
}

struct Harness {
    router: axum::Router,
    accounts: Arc<FakeAccounts>,
    // Held so the probe directory outlives the router.
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = Arc::new(FakeAccounts::default());
    let router = router_with(
        fake_node(true, dir.path().join("tmp")),
        metrics_handle(),
        AdminApi {
            credentials: Some(Arc::new(RootKey)),
            cluster: None,
            accounts: Some(accounts.clone()),
            explainer: None,
        },
    );
    Harness {
        router,
        accounts,
        _dir: dir,
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// A request signed with the root key, as `coffer admin` signs it.
pub(super) fn signed(method: &str, path: &str, body: &str) -> Request<Body> {
    let date = unix_now();
    let signature = auth::sign(ROOT_SECRET, method, path, date, body.as_bytes());
    Request::builder()
        .method(method)
        .uri(path)
        .header(auth::DATE_HEADER, date.to_string())
        .header("authorization", auth::authorization(ROOT_KEY, &signature))
        .body(Body::from(body.to_owned()))
        .expect("test request is valid")
}

/// Status and body text.
pub(super) async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("in-memory body")
        .to_bytes();
    (
        status,
        String::from_utf8(body.to_vec()).expect("handlers answer UTF-8"),
    )
}

pub(super) async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, text) = send(router, signed(method, path, body)).await;
    let value = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, value)
}

#[tokio::test]
async fn create_list_show_delete() {
    let Harness {
        router, accounts, ..
    } = harness();
    let (status, created) = call(
        &router,
        "POST",
        "/admin/v1/accounts",
        r#"{"name": "alice", "email": "a@example.com"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["account_id"]
        .as_str()
        .expect("account_id")
        .to_owned();
    for (field, expected) in [
        ("account_id", id.as_str()),
        ("canonical_id", &"c".repeat(64)),
        ("display_name", "alice"),
        ("email", "a@example.com"),
        ("created_at", "2024-01-02T03:04:05Z"),
        ("access_key_id", "AKIAFAKE000000000001"),
        ("secret_access_key", NEW_SECRET),
    ] {
        assert_eq!(
            created[field].as_str(),
            Some(expected),
            "{field}: {created}"
        );
    }

    // Listings and look-ups never carry a secret.
    let (status, text) = send(&router, signed("GET", "/admin/v1/accounts", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text.contains("secret"), "{text}");
    let listed: Vec<AccountView> = serde_json::from_str(&text).expect("a list of accounts");
    assert_eq!(listed, accounts.accounts.lock().expect("test lock").clone());
    assert_eq!(listed[0].email.as_deref(), Some("a@example.com"));

    let path = format!("/admin/v1/accounts/{id}");
    let (status, text) = send(&router, signed("GET", &path, "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!text.contains("secret"), "{text}");
    let shown: AccountView = serde_json::from_str(&text).expect("an account");
    assert_eq!(shown, listed[0]);

    let (status, _) = call(&router, "DELETE", &path, "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(&router, "GET", &path, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "NoSuchEntity");

    // Without an e-mail (absent or empty), the account has none.
    for body in [r#"{"name": "bob"}"#, r#"{"name": "carol", "email": ""}"#] {
        let (status, created) = call(&router, "POST", "/admin/v1/accounts", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["email"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn engine_errors_keep_their_status_and_code() {
    let Harness {
        router, accounts, ..
    } = harness();
    let (status, created) = call(
        &router,
        "POST",
        "/admin/v1/accounts",
        r#"{"name": "alice", "email": "a@example.com"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let owner = created["account_id"].as_str().expect("id").to_owned();
    accounts
        .owners
        .lock()
        .expect("test lock")
        .insert(owner.clone());

    let owner_path = format!("/admin/v1/accounts/{owner}");
    let cases = [
        (
            "POST",
            "/admin/v1/accounts".to_owned(),
            r#"{"name": "again", "email": "a@example.com"}"#,
            StatusCode::CONFLICT,
            "EntityAlreadyExists",
        ),
        (
            "POST",
            "/admin/v1/accounts".to_owned(),
            r#"{"name": "  "}"#,
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            "DELETE",
            owner_path,
            "",
            StatusCode::CONFLICT,
            "DeleteConflict",
        ),
        (
            "DELETE",
            "/admin/v1/accounts/999999999999".to_owned(),
            "",
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
        ),
        (
            "PUT",
            "/admin/v1/accounts/999999999999/public-access-block".to_owned(),
            "{}",
            StatusCode::NOT_FOUND,
            "NoSuchEntity",
        ),
    ];
    for (method, path, body, expected_status, expected_code) in cases {
        let (status, reply) = call(&router, method, &path, body).await;
        assert_eq!(status, expected_status, "{method} {path}: {reply}");
        assert_eq!(reply["code"], expected_code, "{method} {path}: {reply}");
        assert!(
            reply["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_refused() {
    let Harness { router, .. } = harness();
    let cases = [
        ("POST", "/admin/v1/accounts", "not json"),
        ("POST", "/admin/v1/accounts", "{}"),
        ("POST", "/admin/v1/accounts", r#"{"name": 7}"#),
        (
            "POST",
            "/admin/v1/accounts",
            r#"{"name": "a", "role": "x"}"#,
        ),
        ("GET", "/admin/v1/accounts/alice", ""),
        ("GET", "/admin/v1/accounts/12345678901", ""),
        ("DELETE", "/admin/v1/accounts/1234567890123", ""),
        (
            "GET",
            "/admin/v1/accounts/12345678901a/public-access-block",
            "",
        ),
        (
            "PUT",
            "/admin/v1/accounts/100000000000/public-access-block",
            r#"{"block_public_acl": true}"#,
        ),
        (
            "PUT",
            "/admin/v1/accounts/100000000000/public-access-block",
            r#"{"block_public_acls": "yes"}"#,
        ),
    ];
    for (method, path, body) in cases {
        let (status, reply) = call(&router, method, path, body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {reply}"
        );
        assert!(reply["error"].is_string(), "{reply}");
    }

    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(100 * 1024));
    let (status, _) = call(&router, "POST", "/admin/v1/accounts", &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn public_access_block_set_show_clear() {
    let Harness { router, .. } = harness();
    let (_, created) = call(&router, "POST", "/admin/v1/accounts", r#"{"name": "a"}"#).await;
    let id = created["account_id"].as_str().expect("id").to_owned();
    let path = format!("/admin/v1/accounts/{id}/public-access-block");

    let (status, reply) = call(&router, "GET", &path, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{reply}");
    assert_eq!(reply["code"], "NoSuchPublicAccessBlockConfiguration");

    // Settings left out are off.
    let (status, reply) = call(
        &router,
        "PUT",
        &path,
        r#"{"block_public_acls": true, "restrict_public_buckets": true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let expected = PublicAccessBlockView {
        block_public_acls: true,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: true,
    };
    assert_eq!(
        serde_json::from_value::<PublicAccessBlockView>(reply).expect("settings"),
        expected
    );
    let (status, reply) = call(&router, "GET", &path, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reply,
        serde_json::json!({
            "block_public_acls": true,
            "ignore_public_acls": false,
            "block_public_policy": false,
            "restrict_public_buckets": true,
        })
    );

    let (status, _) = call(&router, "DELETE", &path, "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&router, "GET", &path, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A missing account is a different 404.
    let (status, reply) = call(
        &router,
        "GET",
        "/admin/v1/accounts/999999999999/public-access-block",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reply["code"], "NoSuchEntity");
}

#[tokio::test]
async fn only_signed_root_requests_reach_accounts() {
    let Harness {
        router, accounts, ..
    } = harness();
    let unsigned = Request::post("/admin/v1/accounts")
        .body(Body::from(r#"{"name": "mallory"}"#))
        .expect("valid request");
    let (status, _) = send(&router, unsigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A signature over another body does not carry over.
    let mut request = signed("POST", "/admin/v1/accounts", r#"{"name": "alice"}"#);
    *request.body_mut() = Body::from(r#"{"name": "mallory"}"#);
    let (status, _) = send(&router, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(accounts.accounts.lock().expect("test lock").is_empty());
}

#[tokio::test]
async fn a_node_without_account_admin_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = router_with(
        fake_node(true, dir.path().join("tmp")),
        metrics_handle(),
        AdminApi {
            credentials: Some(Arc::new(RootKey)),
            ..AdminApi::default()
        },
    );
    let (status, reply) = call(&router, "GET", "/admin/v1/accounts", "").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{reply}");
}

#[test]
fn the_secret_stays_out_of_debug_output() {
    let created = NewAccountView {
        account: AccountView {
            account_id: "100000000000".to_owned(),
            canonical_id: "c".repeat(64),
            display_name: "alice".to_owned(),
            email: None,
            created_at: "2024-01-02T03:04:05Z".to_owned(),
        },
        access_key_id: "AKIAEXAMPLE".to_owned(),
        secret_access_key: zeroize::Zeroizing::new(NEW_SECRET.to_owned()),
    };
    let text = format!("{created:?}");
    assert!(!text.contains(NEW_SECRET), "{text}");
    assert!(text.contains("AKIAEXAMPLE"), "{text}");
}

//! Accounts through the admin API (`/admin/v1/accounts/...`, JSON): create
//! (the only answer that carries a secret), list, show, delete, and the
//! account-level Block Public Access settings. The handlers validate the
//! request and turn `AccountAdmin`'s failures into statuses; the binary
//! implements `AccountAdmin` over the engine.
//!
//! Secrets never reach a log line: `NewAccountView`'s `Debug` hides the
//! secret, and nothing here logs request bodies.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::api::AdminError;
use crate::AdminState;

/// AWS account ids are twelve decimal digits; coffer's are too.
const ACCOUNT_ID_DIGITS: usize = 12;

/// An account as the admin API shows it. Never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub account_id: String,
    pub canonical_id: String,
    pub display_name: String,
    pub email: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A new account and the secret of its first access key: the one answer of
/// the admin API that carries a secret, shown once.
pub struct NewAccountView {
    pub account: AccountView,
    pub access_key_id: String,
    pub secret_access_key: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for NewAccountView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccountView")
            .field("account", &self.account)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The four Block Public Access settings of an account. A PUT may leave
/// settings out (they are then off, as in AWS's PutPublicAccessBlock), but
/// an unknown name is refused rather than silently ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicAccessBlockView {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// Account operations, implemented by the binary over the engine. Account
/// ids reaching it are well-formed (twelve digits); whether they exist is
/// for the implementation to say (404).
#[async_trait::async_trait]
pub trait AccountAdmin: Send + Sync + 'static {
    async fn create_account(
        &self,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<NewAccountView, AdminError>;
    /// Every account, in id order.
    async fn accounts(&self) -> Result<Vec<AccountView>, AdminError>;
    async fn account(&self, account_id: &str) -> Result<Option<AccountView>, AdminError>;
    async fn delete_account(&self, account_id: &str) -> Result<(), AdminError>;
    /// `None` when the account has no settings of its own.
    async fn public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlockView>, AdminError>;
    /// `None` removes the settings.
    async fn set_public_access_block(
        &self,
        account_id: &str,
        settings: Option<PublicAccessBlockView>,
    ) -> Result<(), AdminError>;
}

impl From<coffer_types::S3Error> for AdminError {
    fn from(error: coffer_types::S3Error) -> Self {
        let status = StatusCode::from_u16(error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut admin_error = AdminError::new(status, error.message);
        admin_error.code = Some(error.code.as_str());
        admin_error
    }
}

fn accounts(state: &AdminState) -> Result<&Arc<dyn AccountAdmin>, AdminError> {
    state.accounts.as_ref().ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "account administration is not available on this node",
        )
    })
}

/// Log a failure the operator did not cause; client errors are answered
/// and not logged (the answer says what was wrong).
fn logged<'a>(
    action: &'static str,
    account_id: Option<&'a str>,
) -> impl FnOnce(AdminError) -> AdminError + 'a {
    move |error| {
        if error.status.is_server_error() {
            tracing::warn!(
                action,
                account_id,
                status = error.status.as_u16(),
                code = error.code,
                message = error.message,
                "admin account request failed"
            );
        }
        error
    }
}

fn check_account_id(account_id: &str) -> Result<(), AdminError> {
    if account_id.len() == ACCOUNT_ID_DIGITS && account_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AdminError::new(
            StatusCode::BAD_REQUEST,
            "an account id is 12 decimal digits",
        ))
    }
}

/// A JSON request body as `T`, or 400 saying what is wrong with it (the
/// body's size is capped by `require_root`).
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|error| {
        AdminError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON for this call: {error}"),
        )
    })
}

fn no_such_account(account_id: &str) -> AdminError {
    let mut error = AdminError::new(
        StatusCode::NOT_FOUND,
        format!("account {account_id} does not exist"),
    );
    error.code = Some(coffer_types::ErrorCode::NoSuchEntity.as_str());
    error
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAccountBody {
    name: String,
    #[serde(default)]
    email: Option<String>,
}

/// The answer to a create: the account and, this once, its secret.
#[derive(Serialize)]
struct CreatedAccountBody<'a> {
    #[serde(flatten)]
    account: &'a AccountView,
    access_key_id: &'a str,
    secret_access_key: &'a str,
}

pub(crate) async fn create_account(
    State(state): State<Arc<AdminState>>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let accounts = accounts(&state)?;
    let request: CreateAccountBody = parse_body(&body)?;
    // An empty e-mail field means none, as when it is left out.
    let email = request.email.as_deref().filter(|email| !email.is_empty());
    let created = accounts
        .create_account(&request.name, email)
        .await
        .map_err(logged("create", None))?;
    tracing::info!(
        account_id = created.account.account_id,
        access_key_id = created.access_key_id,
        "account created"
    );
    let body = CreatedAccountBody {
        account: &created.account,
        access_key_id: &created.access_key_id,
        secret_access_key: &created.secret_access_key,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub(crate) async fn list_accounts(
    State(state): State<Arc<AdminState>>,
) -> Result<Json<Vec<AccountView>>, AdminError> {
    let accounts = accounts(&state)?
        .accounts()
        .await
        .map_err(logged("list", None))?;
    Ok(Json(accounts))
}

pub(crate) async fn show_account(
    State(state): State<Arc<AdminState>>,
    Path(account_id): Path<String>,
) -> Result<Json<AccountView>, AdminError> {
    let accounts = accounts(&state)?;
    check_account_id(&account_id)?;
    accounts
        .account(&account_id)
        .await
        .map_err(logged("show", Some(&account_id)))?
        .map(Json)
        .ok_or_else(|| no_such_account(&account_id))
}

pub(crate) async fn delete_account(
    State(state): State<Arc<AdminState>>,
    Path(account_id): Path<String>,
) -> Result<StatusCode, AdminError> {
    let accounts = accounts(&state)?;
    check_account_id(&account_id)?;
    accounts
        .delete_account(&account_id)
        .await
        .map_err(logged("delete", Some(&account_id)))?;
    tracing::info!(account_id, "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn get_public_access_block(
    State(state): State<Arc<AdminState>>,
    Path(account_id): Path<String>,
) -> Result<Json<PublicAccessBlockView>, AdminError> {
    let accounts = accounts(&state)?;
    check_account_id(&account_id)?;
    let settings = accounts
        .public_access_block(&account_id)
        .await
        .map_err(logged("get public access block", Some(&account_id)))?;
    settings.map(Json).ok_or_else(|| {
        let mut error = AdminError::new(
            StatusCode::NOT_FOUND,
            format!("account {account_id} has no Block Public Access settings"),
        );
        error.code = Some(coffer_types::ErrorCode::NoSuchPublicAccessBlockConfiguration.as_str());
        error
    })
}

pub(crate) async fn put_public_access_block(
    State(state): State<Arc<AdminState>>,
    Path(account_id): Path<String>,
    body: Bytes,
) -> Result<Json<PublicAccessBlockView>, AdminError> {
    let accounts = accounts(&state)?;
    check_account_id(&account_id)?;
    let settings: PublicAccessBlockView = parse_body(&body)?;
    accounts
        .set_public_access_block(&account_id, Some(settings))
        .await
        .map_err(logged("put public access block", Some(&account_id)))?;
    tracing::info!(account_id, ?settings, "account Block Public Access set");
    Ok(Json(settings))
}

pub(crate) async fn delete_public_access_block(
    State(state): State<Arc<AdminState>>,
    Path(account_id): Path<String>,
) -> Result<StatusCode, AdminError> {
    let accounts = accounts(&state)?;
    check_account_id(&account_id)?;
    accounts
        .set_public_access_block(&account_id, None)
        .await
        .map_err(logged("delete public access block", Some(&account_id)))?;
    tracing::info!(account_id, "account Block Public Access removed");
    Ok(StatusCode::NO_CONTENT)
}

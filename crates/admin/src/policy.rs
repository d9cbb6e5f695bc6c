//! Policy explanations through the admin API (`POST
//! /admin/v1/policy/explain`, JSON): for a described request (caller,
//! action, bucket, key, condition keys), whether the gateway would allow it
//! and which statements decided it (account, policy, Sid). The handler
//! parses and checks the request; the binary implements `PolicyExplainer`
//! over the gateway's own authorizer, so the answer is the decision a real
//! request would get.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::accounts::parse_body;
use crate::api::AdminError;
use crate::AdminState;

/// A request to explain, as `coffer admin policy explain` describes it.
/// Unknown fields are refused: a misspelt `condition_key` must not
/// silently explain a different request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyExplainRequest {
    /// The caller's access key id; absent (or null) for an anonymous
    /// caller.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The IAM action, e.g. `s3:GetObject`.
    pub action: String,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    /// Condition keys to set, e.g. `{"aws:SourceIp": "10.0.0.1"}`.
    #[serde(default)]
    pub condition_keys: BTreeMap<String, String>,
}

/// One statement or grant that took part in a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedReasonView {
    /// `IdentityPolicy`, `SessionPolicy`, `BucketPolicy`, `BucketAcl`,
    /// `ObjectAcl`.
    pub source: String,
    /// The account whose policy or ACL it is.
    pub account: String,
    /// The policy's name, e.g. `bucket policy of photos`.
    pub name: String,
    /// The statement's `Sid`, when it has one.
    pub sid: Option<String>,
    /// The statement's (or grant's) position in its document.
    pub index: u64,
    /// `Allow` or `Deny`.
    pub effect: String,
}

/// The answer: allowed or not, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplanationView {
    pub allowed: bool,
    /// `Allowed`, `ExplicitDeny`, `ImplicitDeny`, `MethodNotAllowed`,
    /// `NoSuchBucket`.
    pub outcome: String,
    /// One sentence on why.
    pub explanation: String,
    pub reasons: Vec<ExplainedReasonView>,
}

/// Decides a described request as the S3 gateway would; implemented by the
/// binary (this crate must not know the gateway). Failures carry the
/// AWS-style code: an unknown action is `InvalidArgument`, a malformed
/// bucket name `InvalidBucketName`, an unknown access key
/// `InvalidAccessKeyId`.
#[async_trait::async_trait]
pub trait PolicyExplainer: Send + Sync + 'static {
    async fn explain(&self, request: &PolicyExplainRequest) -> Result<ExplanationView, AdminError>;
}

fn explainer(state: &AdminState) -> Result<&Arc<dyn PolicyExplainer>, AdminError> {
    state.explainer.as_ref().ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "policy explanations are not available on this node",
        )
    })
}

fn bad_request(message: &str) -> AdminError {
    let mut error = AdminError::new(StatusCode::BAD_REQUEST, message);
    error.code = Some(coffer_types::ErrorCode::InvalidArgument.as_str());
    error
}

/// Refuse what cannot describe a request before asking the explainer:
/// empty strings stand for nothing, and an empty access key would read as
/// an unknown key rather than the anonymous caller it probably meant.
fn check(request: &PolicyExplainRequest) -> Result<(), AdminError> {
    if request.action.is_empty() {
        return Err(bad_request("the action is empty (e.g. s3:GetObject)"));
    }
    if request.access_key_id.as_deref() == Some("") {
        return Err(bad_request(
            "the access key id is empty; leave it out for an anonymous caller",
        ));
    }
    if request.bucket.as_deref() == Some("") {
        return Err(bad_request(
            "the bucket is empty; leave it out for an account-level action",
        ));
    }
    if request.key.is_some() && request.bucket.is_none() {
        return Err(bad_request("a key needs a bucket"));
    }
    if request.condition_keys.keys().any(String::is_empty) {
        return Err(bad_request("a condition key name is empty"));
    }
    Ok(())
}

pub(crate) async fn explain(
    State(state): State<Arc<AdminState>>,
    body: Bytes,
) -> Result<Json<ExplanationView>, AdminError> {
    let explainer = explainer(&state)?;
    let request: PolicyExplainRequest = parse_body(&body)?;
    check(&request)?;
    let explanation = explainer.explain(&request).await.inspect_err(|error| {
        // Client errors are answered, not logged (the answer says what was
        // wrong); a failure the operator did not cause is.
        if error.status.is_server_error() {
            tracing::warn!(
                action = request.action,
                bucket = request.bucket,
                status = error.status.as_u16(),
                code = error.code,
                message = error.message,
                "policy explanation failed"
            );
        }
    })?;
    tracing::debug!(
        action = request.action,
        bucket = request.bucket,
        outcome = explanation.outcome,
        "policy explained"
    );
    Ok(Json(explanation))
}

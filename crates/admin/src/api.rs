//! The admin API (`/admin/v1/...`, JSON): region membership and jobs, for
//! `coffer admin` (accounts are in `accounts`). Every request must be
//! signed by a root access key (`auth`); anything else is 403 with a JSON
//! error.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};

use crate::auth;
use crate::AdminState;

/// Admin request bodies are small JSON documents.
const BODY_BYTES_MAX: usize = 64 * 1024;

/// One region member as `coffer admin node list --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub node_id: u64,
    /// "leader", "follower" or "learner".
    pub role: String,
    pub zone: String,
    /// Answered a status call just now (this node: always).
    pub healthy: bool,
    pub rpc_addr: String,
    pub s3_addr: String,
    pub admin_addr: String,
    pub block_files: Option<u64>,
    pub block_bytes: Option<u64>,
    pub applied_index: Option<u64>,
}

/// A failure of an admin call, with its HTTP status.
#[derive(Debug)]
pub struct AdminError {
    pub status: StatusCode,
    pub message: String,
    /// The AWS-style error code (`EntityAlreadyExists`, …) when the failure
    /// came from the engine, so scripts need not parse the message.
    pub code: Option<&'static str>,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code: None,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            error: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'a str>,
        }
        (
            self.status,
            Json(ErrorBody {
                error: &self.message,
                code: self.code,
            }),
        )
            .into_response()
    }
}

/// Region operations, implemented by the binary over the metadata store
/// and the RPC client.
#[async_trait::async_trait]
pub trait ClusterAdmin: Send + Sync + 'static {
    async fn nodes(&self) -> Result<Vec<NodeView>, AdminError>;
    /// The one-line join token (`coffer admin node token`).
    fn join_token(&self) -> Result<String, AdminError>;
    async fn remove_node(&self, node_id: u64) -> Result<(), AdminError>;
}

/// Who may call the admin API: access keys of this account only.
pub trait AdminCredentials: Send + Sync + 'static {
    /// The secret of `access_key_id` if it belongs to the root account.
    fn root_secret(&self, access_key_id: &str) -> Option<zeroize::Zeroizing<String>>;
}

fn forbidden(message: &str) -> Response {
    AdminError::new(StatusCode::FORBIDDEN, message).into_response()
}

pub(crate) async fn require_root(
    State(state): State<Arc<AdminState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(credentials) = state.credentials.as_ref() else {
        return forbidden("the admin API is not enabled on this node");
    };
    let (parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, BODY_BYTES_MAX)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return AdminError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
                .into_response()
        }
    };
    if let Err(message) = check_signature(
        credentials.as_ref(),
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
    ) {
        tracing::info!(
            path = parts.uri.path(),
            reason = message,
            "admin request refused"
        );
        return forbidden(message);
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

fn check_signature(
    credentials: &dyn AdminCredentials,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (access_key_id, signature) = header("authorization")
        .and_then(auth::parse_authorization)
        .ok_or("missing or malformed Authorization header")?;
    let date: i64 = header(auth::DATE_HEADER)
        .and_then(|value| value.parse().ok())
        .ok_or("missing or malformed x-coffer-date header")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    if (now - date).abs() > auth::CLOCK_SKEW_SECONDS_MAX {
        return Err("request time too far from the server's clock");
    }
    let secret = credentials
        .root_secret(access_key_id)
        .ok_or("access denied: not a root access key")?;
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let expected = auth::sign(&secret, method.as_str(), path_and_query, date, body);
    if auth::signatures_match(&expected, signature) {
        Ok(())
    } else {
        Err("access denied: signature mismatch")
    }
}

fn cluster(state: &AdminState) -> Result<&Arc<dyn ClusterAdmin>, AdminError> {
    state.cluster.as_ref().ok_or_else(|| {
        AdminError::new(
            StatusCode::CONFLICT,
            "this node is standalone (started without --rpc-listen); it has no region membership",
        )
    })
}

pub(crate) async fn list_nodes(
    State(state): State<Arc<AdminState>>,
) -> Result<Json<Vec<NodeView>>, AdminError> {
    Ok(Json(cluster(&state)?.nodes().await?))
}

#[derive(Serialize)]
pub(crate) struct TokenBody {
    token: String,
}

pub(crate) async fn join_token(
    State(state): State<Arc<AdminState>>,
) -> Result<Json<TokenBody>, AdminError> {
    Ok(Json(TokenBody {
        token: cluster(&state)?.join_token()?,
    }))
}

pub(crate) async fn remove_node(
    State(state): State<Arc<AdminState>>,
    Path(node_id): Path<u64>,
) -> Result<StatusCode, AdminError> {
    let cluster = cluster(&state)?;
    if !cluster
        .nodes()
        .await?
        .iter()
        .any(|node| node.node_id == node_id)
    {
        return Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("node {node_id} is not a member"),
        ));
    }
    // First move the node's blocks to where they will belong, while it can
    // still serve them; only a clean drain lets the removal go ahead.
    if let Some(engine) = &state.engine {
        let (job, clean) = engine.drain_node(node_id).await;
        if !clean {
            return Err(AdminError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("draining node {node_id} failed for some blocks (job {job}); not removed — retry when all nodes are up"),
            ));
        }
    }
    cluster.remove_node(node_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every recent background job (repair, rebalance), oldest first.
pub(crate) async fn list_jobs(
    State(state): State<Arc<AdminState>>,
) -> Json<Vec<coffer_engine::JobView>> {
    Json(state.jobs.jobs())
}

pub(crate) async fn show_job(
    State(state): State<Arc<AdminState>>,
    Path(job_id): Path<u64>,
) -> Result<Json<coffer_engine::JobView>, AdminError> {
    state
        .jobs
        .jobs()
        .into_iter()
        .find(|job| job.id == job_id)
        .map(Json)
        .ok_or_else(|| {
            AdminError::new(
                StatusCode::NOT_FOUND,
                format!("no job {job_id} on this node (jobs run on the leader)"),
            )
        })
}

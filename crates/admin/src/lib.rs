//! The admin endpoint: `/health/live`, `/health/ready`, `/metrics`, and the
//! admin API under `/admin/v1` (region membership, jobs, accounts and
//! policy explanations, signed by a root key).
//!
//! This crate must not know about RocksDB, tonic or S3 wire types; it reads
//! progress and totals through the engine, behind the small `NodeStatus`
//! trait so the handlers can be tested without a running node.

mod accounts;
mod api;
pub mod auth;
mod health;
mod metrics_endpoint;
mod policy;

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::{delete, get, post};
use coffer_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

pub use accounts::{AccountAdmin, AccountView, NewAccountView, PublicAccessBlockView};
pub use api::{AdminCredentials, AdminError, ClusterAdmin, NodeView};
pub use health::PROBE_INTERVAL_MS;
pub use policy::{ExplainedReasonView, ExplanationView, PolicyExplainRequest, PolicyExplainer};

/// Raft progress as the admin endpoint sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub has_leader: bool,
    /// This node can commit writes and serve linearizable reads.
    pub has_quorum: bool,
    pub committed_index: u64,
    pub applied_index: u64,
    pub term: u64,
    /// 0 when no leader is known.
    pub leader_id: u64,
    pub is_leader: bool,
    pub voters: u64,
    pub last_log_index: u64,
    pub purged_index: u64,
}

/// What the handlers need to know about the node. The engine implements it;
/// tests use a fake.
#[async_trait::async_trait]
pub(crate) trait NodeStatus: Send + Sync + 'static {
    fn progress(&self) -> Progress;
    /// Whether this node's applied state holds every write the region
    /// acknowledged before the call (a Raft read-index round), within a
    /// short bound. A node that rejoined empty is not ready until it has
    /// installed a snapshot and replayed the log behind it.
    async fn caught_up(&self) -> Result<(), String> {
        Ok(())
    }
    /// Block files and their bytes.
    fn block_totals(&self) -> (u64, u64);
    /// A directory on the data volume where a probe file may be written.
    fn probe_dir(&self) -> PathBuf;
    /// Recent background jobs.
    fn jobs(&self) -> Vec<coffer_engine::JobView> {
        Vec::new()
    }
}

#[async_trait::async_trait]
impl NodeStatus for Engine {
    async fn caught_up(&self) -> Result<(), String> {
        match tokio::time::timeout(
            std::time::Duration::from_millis(health::CATCH_UP_WAIT_MS),
            self.read_barrier(),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(format!("not caught up with the leader: {error}")),
            Err(_) => {
                let progress = self.meta().progress();
                Err(format!(
                    "catching up with the leader (applied index {})",
                    progress.applied_index
                ))
            }
        }
    }

    fn progress(&self) -> Progress {
        let progress = self.meta().progress();
        let status = self.meta().status();
        Progress {
            has_leader: progress.has_leader,
            has_quorum: status.has_quorum,
            term: status.term,
            leader_id: status.leader.unwrap_or(0),
            is_leader: status.is_leader,
            voters: status.voters as u64,
            last_log_index: status.last_log_index,
            purged_index: status.purged_index,
            committed_index: progress.committed_index,
            applied_index: progress.applied_index,
        }
    }

    fn block_totals(&self) -> (u64, u64) {
        let stats = self.blocks().stats();
        (stats.files, stats.bytes)
    }

    fn probe_dir(&self) -> PathBuf {
        // The block store keeps its temp files in `<root>/tmp` and empties it
        // at open, so a probe file left by a crash there is cleaned up.
        self.blocks().root().join("tmp")
    }

    fn jobs(&self) -> Vec<coffer_engine::JobView> {
        Engine::jobs(self)
    }
}

/// Shared state of the admin handlers.
pub(crate) struct AdminState {
    pub status: Arc<dyn NodeStatus>,
    pub jobs: Arc<dyn NodeStatus>,
    pub metrics: PrometheusHandle,
    pub disk_probe: health::DiskProbe,
    pub credentials: Option<Arc<dyn AdminCredentials>>,
    pub cluster: Option<Arc<dyn ClusterAdmin>>,
    pub accounts: Option<Arc<dyn AccountAdmin>>,
    pub explainer: Option<Arc<dyn PolicyExplainer>>,
    /// Drains a node's blocks before its removal (absent in handler tests).
    pub engine: Option<Arc<Engine>>,
}

/// The admin API's dependencies; absent in handler tests that do not need
/// them.
#[derive(Default)]
pub struct AdminApi {
    pub credentials: Option<Arc<dyn AdminCredentials>>,
    /// `None` on a standalone node.
    pub cluster: Option<Arc<dyn ClusterAdmin>>,
    /// Account management (`/admin/v1/accounts`); 501 when `None`.
    pub accounts: Option<Arc<dyn AccountAdmin>>,
    /// Policy explanations (`/admin/v1/policy/explain`); 501 when `None`.
    pub explainer: Option<Arc<dyn PolicyExplainer>>,
}

/// The admin endpoint as an axum router.
pub fn router(engine: Arc<Engine>, metrics: PrometheusHandle, api: AdminApi) -> axum::Router {
    router_inner(engine.clone(), metrics, api, Some(engine))
}

#[cfg(test)]
pub(crate) fn router_with(
    status: Arc<dyn NodeStatus>,
    metrics: PrometheusHandle,
    api: AdminApi,
) -> axum::Router {
    router_inner(status, metrics, api, None)
}

fn router_inner(
    status: Arc<dyn NodeStatus>,
    metrics: PrometheusHandle,
    api: AdminApi,
    engine: Option<Arc<Engine>>,
) -> axum::Router {
    let disk_probe = health::DiskProbe::new(status.probe_dir());
    let state = Arc::new(AdminState {
        jobs: status.clone(),
        status,
        metrics,
        disk_probe,
        credentials: api.credentials,
        cluster: api.cluster,
        accounts: api.accounts,
        explainer: api.explainer,
        engine,
    });
    let admin_api = axum::Router::new()
        .route("/admin/v1/nodes", get(api::list_nodes))
        .route("/admin/v1/nodes/token", get(api::join_token))
        .route("/admin/v1/nodes/{node_id}", delete(api::remove_node))
        .route("/admin/v1/jobs", get(api::list_jobs))
        .route("/admin/v1/jobs/{job_id}", get(api::show_job))
        .route(
            "/admin/v1/accounts",
            get(accounts::list_accounts).post(accounts::create_account),
        )
        .route(
            "/admin/v1/accounts/{account_id}",
            get(accounts::show_account).delete(accounts::delete_account),
        )
        .route(
            "/admin/v1/accounts/{account_id}/public-access-block",
            get(accounts::get_public_access_block)
                .put(accounts::put_public_access_block)
                .delete(accounts::delete_public_access_block),
        )
        .route("/admin/v1/policy/explain", post(policy::explain))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::require_root,
        ));
    axum::Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics_endpoint::render))
        .merge(admin_api)
        .with_state(state)
}

#[cfg(test)]
mod tests;

//! The admin endpoint: `/health/live`, `/health/ready`, `/metrics` (and,
//! later, the admin API and console).
//!
//! This crate must not know about RocksDB, tonic or S3 wire types; it reads
//! progress and totals through the engine, behind the small `NodeStatus`
//! trait so the handlers can be tested without a running node.

mod health;
mod metrics_endpoint;

use std::path::PathBuf;
use std::sync::Arc;

use axum::routing::get;
use coffer_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

pub use health::PROBE_INTERVAL_MS;

/// Raft progress as the admin endpoint sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub has_leader: bool,
    pub committed_index: u64,
    pub applied_index: u64,
}

/// What the handlers need to know about the node. The engine implements it;
/// tests use a fake.
pub(crate) trait NodeStatus: Send + Sync + 'static {
    fn progress(&self) -> Progress;
    /// Block files and their bytes.
    fn block_totals(&self) -> (u64, u64);
    /// A directory on the data volume where a probe file may be written.
    fn probe_dir(&self) -> PathBuf;
}

impl NodeStatus for Engine {
    fn progress(&self) -> Progress {
        let progress = self.meta().progress();
        Progress {
            has_leader: progress.has_leader,
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
}

/// Shared state of the admin handlers.
pub(crate) struct AdminState {
    pub status: Arc<dyn NodeStatus>,
    pub metrics: PrometheusHandle,
    pub disk_probe: health::DiskProbe,
}

/// The admin endpoint as an axum router.
pub fn router(engine: Arc<Engine>, metrics: PrometheusHandle) -> axum::Router {
    router_with(engine, metrics)
}

pub(crate) fn router_with(status: Arc<dyn NodeStatus>, metrics: PrometheusHandle) -> axum::Router {
    let disk_probe = health::DiskProbe::new(status.probe_dir());
    let state = Arc::new(AdminState {
        status,
        metrics,
        disk_probe,
    });
    axum::Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics_endpoint::render))
        .with_state(state)
}

#[cfg(test)]
mod tests;

//! `/metrics`: Prometheus text. Gauges that mirror engine state are set at
//! scrape time (cheap reads), so they are never stale and need no task.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::AdminState;

/// The content type of Prometheus' text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) async fn render(State(state): State<Arc<AdminState>>) -> impl IntoResponse {
    let progress = state.status.progress();
    let (block_files, block_bytes) = state.status.block_totals();
    // f64 holds integers exactly up to 2^53, far beyond any index or byte
    // count a node reaches.
    metrics::gauge!("coffer_raft_committed_index").set(progress.committed_index as f64);
    metrics::gauge!("coffer_raft_applied_index").set(progress.applied_index as f64);
    metrics::gauge!("coffer_raft_has_leader").set(if progress.has_leader { 1.0 } else { 0.0 });
    metrics::gauge!("coffer_raft_has_quorum").set(if progress.has_quorum { 1.0 } else { 0.0 });
    metrics::gauge!("coffer_raft_is_leader").set(if progress.is_leader { 1.0 } else { 0.0 });
    metrics::gauge!("coffer_raft_term").set(progress.term as f64);
    metrics::gauge!("coffer_raft_leader_id").set(progress.leader_id as f64);
    metrics::gauge!("coffer_raft_voters").set(progress.voters as f64);
    metrics::gauge!("coffer_raft_last_log_index").set(progress.last_log_index as f64);
    metrics::gauge!("coffer_raft_purged_index").set(progress.purged_index as f64);
    metrics::gauge!("coffer_raft_apply_lag_entries").set(
        progress
            .committed_index
            .saturating_sub(progress.applied_index) as f64,
    );
    // The newest job is the one in progress, if any (repair / rebalance).
    let jobs = state.jobs.jobs();
    let running = jobs
        .iter()
        .filter(|job| job.state == coffer_engine::JobState::Running)
        .count();
    metrics::gauge!("coffer_jobs_running").set(running as f64);
    if let Some(job) = jobs.last() {
        metrics::gauge!("coffer_job_blocks_done", "kind" => job.kind).set(job.done as f64);
        metrics::gauge!("coffer_job_blocks_total", "kind" => job.kind).set(job.total as f64);
    }
    metrics::gauge!("coffer_block_files").set(block_files as f64);
    metrics::gauge!("coffer_block_bytes").set(block_bytes as f64);
    ([(CONTENT_TYPE, PROMETHEUS_TEXT)], state.metrics.render())
}

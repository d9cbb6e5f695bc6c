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
    metrics::gauge!("coffer_block_files").set(block_files as f64);
    metrics::gauge!("coffer_block_bytes").set(block_bytes as f64);
    ([(CONTENT_TYPE, PROMETHEUS_TEXT)], state.metrics.render())
}

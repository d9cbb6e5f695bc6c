//! The admin endpoint: `/health/live`, `/health/ready`, `/metrics` (and,
//! later, the admin API and console).
//!
//! This crate must not know about RocksDB, tonic or S3 wire types; it reads
//! progress and totals through the engine.

use std::sync::Arc;

use coffer_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

/// The admin endpoint as an axum router.
pub fn router(engine: Arc<Engine>, metrics: PrometheusHandle) -> axum::Router {
    let _ = (engine, metrics);
    todo!("admin: router")
}

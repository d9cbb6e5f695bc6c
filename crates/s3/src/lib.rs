//! The S3 REST gateway: protocol (SigV4/SigV2 authentication, XML, routing)
//! through the s3s crate, request context → access check → engine call, and
//! the conversion between s3s DTOs and engine types. Every engine
//! `S3Error` becomes AWS error XML here and nowhere else.
//!
//! This crate must not know about RocksDB, block files or tonic; s3s types
//! never leave it.

use std::sync::Arc;

use coffer_engine::Engine;

/// Gateway settings from the server configuration.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Region name, for SigV4 scope and GetBucketLocation.
    pub region: String,
    /// Base domains for virtual-hosted-style addressing (`--domain`); empty
    /// means path-style only.
    pub domains: Vec<String>,
}

/// The S3 endpoint as an axum router (every path and method goes to s3s).
pub fn router(engine: Arc<Engine>, config: GatewayConfig) -> axum::Router {
    let _ = (engine, config);
    todo!("s3: router")
}

//! The S3 REST gateway: protocol (SigV4 authentication, XML, routing)
//! through the s3s crate, request context → access check → engine call, and
//! the conversion between s3s DTOs and engine types. Every engine
//! `S3Error` becomes AWS error XML here and nowhere else.
//!
//! This crate must not know about RocksDB, block files or tonic; s3s types
//! never leave it.
//!
//! What s3s 0.14.1 does and what we add (checked in its source):
//! - SigV4 header and presigned signatures are compared in constant time
//!   (`subtle::ConstantTimeEq`); header auth and presigned URLs dated in the
//!   future are refused beyond 15 minutes of skew (RequestTimeTooSkewed);
//!   expired presigned URLs are AccessDenied.
//! - s3s does not bound `X-Amz-Expires` (any u32 passes): `layer` refuses
//!   values outside 1..=604800 with AuthorizationQueryParametersError.
//! - s3s compares SigV2 signatures with `!=` and never checks the SigV2
//!   request date, so `sigv2` verifies every SigV2 request (header and
//!   query) first, in constant time, with the 15-minute skew window and
//!   query expiry; s3s then only re-checks signatures that already match.
//!   Browser-form POST (where s3s would check a SigV2 form signature with
//!   `!=`) is refused as NotImplemented before s3s reads the form.
//! - s3s's error XML lacks Resource and RequestId and gives 304 a body;
//!   `layer` re-renders every error and strips 304 bodies.
//! - s3s buffers XML bodies up to its own limit: we set it to
//!   `XML_BODY_BYTES_MAX` and refuse larger Content-Lengths in the access
//!   check before any byte is read.

mod access;
mod acl_convert;
mod auth;
mod caller;
mod context;
mod convert;
mod error;
mod host;
mod iam_api;
mod keys;
mod layer;
mod limits;
mod metrics;
pub mod operations;
mod ops;
mod post_form;
mod scope;
mod sigv2;

use std::convert::Infallible;
use std::sync::Arc;

use coffer_engine::Engine;
use coffer_types::limits::XML_BODY_BYTES_MAX;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::S3ServiceBuilder;

pub use access::{explain, ExplainRequest, ExplainedReason, Explanation};
pub use context::{SecureTransport, TlsVersion};

/// The largest browser-form (POST) upload: s3s buffers the file before
/// the handler streams it to blocks, so this bounds memory per request
/// (AWS allows 5 GB; use multipart uploads beyond this).
pub const POST_OBJECT_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Gateway settings from the server configuration.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Region name, for SigV4 scope and GetBucketLocation.
    pub region: String,
    /// Base domains for virtual-hosted-style addressing (`--domain`); empty
    /// means path-style only.
    pub domains: Vec<String>,
    /// The shortest STS session granted (AWS: 900 s; tests lower it).
    pub sts_min_duration_seconds: u32,
}

/// Accept every bucket name at routing time: CreateBucket answers
/// InvalidBucketName itself and every other operation NoSuchBucket, as AWS
/// does, instead of s3s's blanket InvalidBucketName.
struct AnyBucketName;

impl s3s::validation::NameValidation for AnyBucketName {
    fn validate_bucket_name(&self, name: &str) -> bool {
        !name.is_empty()
    }
}

/// The S3 endpoint as an axum router (every path and method goes to s3s).
pub fn router(engine: Arc<Engine>, config: GatewayConfig) -> axum::Router {
    let layer_state = Arc::new(layer::LayerState {
        sigv2: sigv2::SigV2Verifier::new(engine.clone(), &config.domains),
        region: config.region.clone(),
        iam: iam_api::endpoint(engine.clone(), config.sts_min_duration_seconds),
        engine: engine.clone(),
    });
    let mut builder = S3ServiceBuilder::new(ops::Gateway::new(engine.clone(), config.clone()));
    builder.set_auth(auth::EngineAuth::new(engine.clone()));
    builder.set_access(access::PolicyAccess::new(engine));
    builder.set_validation(AnyBucketName);
    if !config.domains.is_empty() {
        builder.set_host(host::DomainHost::new(&config.domains));
    }
    let mut s3s_config = S3Config::default();
    s3s_config.xml_max_body_size = XML_BODY_BYTES_MAX;
    // s3s holds a POST upload's file in memory before the handler sees it.
    s3s_config.post_object_max_file_size = POST_OBJECT_BYTES_MAX;
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(s3s_config))));
    let service = builder.build();

    let endpoint = tower::service_fn(move |request: axum::extract::Request| {
        let service = service.clone();
        async move {
            let request = request.map(s3s::Body::http_body_unsync);
            let response = match service.call(request).await {
                Ok(response) => response.map(axum::body::Body::new),
                Err(failure) => {
                    // s3s renders S3 errors itself; this is a failure to
                    // render at all. The layer turns the 500 into error XML.
                    tracing::error!(error = ?failure, "s3s failed to produce a response");
                    let mut response = axum::response::Response::new(axum::body::Body::empty());
                    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    response
                }
            };
            Ok::<_, Infallible>(response)
        }
    });
    axum::Router::new()
        .fallback_service(endpoint)
        .layer(axum::middleware::from_fn_with_state(
            layer_state,
            layer::handle,
        ))
}

//! Mapping of lower-layer failures to S3 errors. The detail is logged here,
//! where it is handled, and never sent to the client.

use coffer_blob::BlobError;
use coffer_crypto::CryptoError;
use coffer_meta::MetaError;
use coffer_types::{ErrorCode, S3Error};

/// A metadata failure: "not ready / not leader" is retryable (503), anything
/// else is an internal error.
pub(crate) fn meta(context: &str, error: MetaError) -> S3Error {
    match error {
        MetaError::NotLeader | MetaError::ShuttingDown | MetaError::Unavailable(_) => {
            tracing::warn!(%error, context, "metadata unavailable");
            S3Error::from(ErrorCode::ServiceUnavailable)
        }
        other => {
            tracing::error!(error = %other, context, "metadata failure");
            S3Error::internal()
        }
    }
}

/// A block failure: too few replicas reachable is retryable (503).
pub(crate) fn blob(context: &str, error: BlobError) -> S3Error {
    match error {
        BlobError::Quorum { .. } | BlobError::Unreachable { .. } => {
            tracing::warn!(%error, context, "block replicas unavailable");
            S3Error::from(ErrorCode::ServiceUnavailable)
        }
        other => {
            tracing::error!(error = %other, context, "block store failure");
            S3Error::internal()
        }
    }
}

pub(crate) fn crypto(context: &str, error: CryptoError) -> S3Error {
    tracing::error!(%error, context, "encryption failure");
    S3Error::internal()
}

/// A background task that could not run (join error).
pub(crate) fn task(context: &str, error: impl std::fmt::Display) -> S3Error {
    tracing::error!(%error, context, "engine task failed");
    S3Error::internal()
}

pub(crate) fn invalid_argument(message: impl Into<String>) -> S3Error {
    S3Error::new(ErrorCode::InvalidArgument, message)
}

pub(crate) fn invalid_request(message: impl Into<String>) -> S3Error {
    S3Error::new(ErrorCode::InvalidRequest, message)
}

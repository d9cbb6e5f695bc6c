//! Vocabulary shared by every coffer crate: validated names (`BucketName`,
//! `ObjectKey`), ids, the limits of DESIGN.md and AWS, and the closed set of
//! S3 error codes with their HTTP status.
//!
//! This crate must not know about IO, HTTP frameworks, storage engines or any
//! other coffer crate; it only depends on small pure libraries.

pub mod error;
pub mod ids;
pub mod limits;
pub mod names;

pub use error::{ErrorCode, S3Error};
pub use ids::{AccountId, CanonicalId, DataId, UploadId, VersionId};
pub use names::{BucketName, ObjectKey};

/// Milliseconds since the Unix epoch. Chosen by the proposer before a Raft
/// command is proposed, so `apply` stays deterministic.
pub type UnixMillis = i64;

/// The current wall clock as `UnixMillis`.
pub fn now_unix_millis() -> UnixMillis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

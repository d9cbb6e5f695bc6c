//! Encryption at rest: the region master key, data-key (DEK) wrapping, and
//! the streaming segment format of DESIGN.md §6.
//!
//! Segment format: a part's plaintext is cut into 64 KiB segments; each is
//! sealed with AES-256-GCM under a key derived from the DEK and the part's
//! `DataId` (so re-uploading a part never reuses a nonce), with the nonce
//! derived from (part number, segment index) and the AAD binding the data id,
//! part number, segment index and a final-segment flag. Segments therefore
//! cannot be reordered, swapped between parts or objects, or truncated
//! without detection. Each sealed segment is `plaintext_len + 16` bytes.
//!
//! Also here: SSE-C key derivation and verification (`CustomerKey`) and the
//! pure arithmetic mapping plaintext ranges onto sealed bytes (`layout`).
//!
//! This crate must not know about IO, HTTP or storage: callers hand it bytes.

mod keys;
pub mod layout;
mod segment;
mod sse_c;
mod wrap;

pub use keys::{DataKey, MasterKey};
pub use layout::{
    plaintext_len, sealed_len, sealed_segment_offset, segment_count, segment_plaintext_len,
    segment_span, SegmentSpan, SEALED_SEGMENT_SIZE_BYTES,
};
pub use segment::{PartCipher, SEGMENT_FORMAT_VERSION};
pub use sse_c::{CustomerKey, SSE_C_SALT_SIZE_BYTES, SSE_C_VERIFIER_SIZE_BYTES};
pub use wrap::{RegionKeys, WRAP_FORMAT_VERSION};

/// Bytes a sealed segment adds to its plaintext (the GCM tag).
pub const SEGMENT_OVERHEAD_BYTES: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed: wrong key, corrupted, swapped or truncated data.
    #[error("authentication failed")]
    Authentication,
    #[error("malformed key material: {0}")]
    MalformedKey(&'static str),
}

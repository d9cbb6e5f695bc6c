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
//! This crate must not know about IO, HTTP or storage: callers hand it bytes.

use coffer_types::DataId;

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

/// The 256-bit region master key. Never logged (`Debug` is redacted).
pub struct MasterKey { /* [u8; 32], zeroized on drop */ }

impl MasterKey {
    /// Parse 64 hex characters (surrounding whitespace allowed).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> { let _ = text; todo!() }
    pub fn generate() -> Self { todo!() }
    pub fn to_hex(&self) -> String { todo!() }
}

/// A per-object (or per-upload) data key. Zeroized on drop.
pub struct DataKey { /* [u8; 32] */ }

impl DataKey {
    pub fn generate() -> Self { todo!() }
}

/// Keys derived from the master key: the region-managed SSE-S3 key that wraps
/// DEKs, and the key that wraps access-key secrets.
pub struct RegionKeys { /* derived with HKDF-SHA256 from the master key */ }

impl RegionKeys {
    pub fn new(master: &MasterKey) -> Self { let _ = master; todo!() }
    /// Wrap a DEK; `context` (e.g. bucket/key/data id) is bound as AAD.
    pub fn wrap_data_key(&self, key: &DataKey, context: &[u8]) -> Vec<u8> { let _ = (key, context); todo!() }
    pub fn unwrap_data_key(&self, wrapped: &[u8], context: &[u8]) -> Result<DataKey, CryptoError> { let _ = (wrapped, context); todo!() }
    /// Wrap a secret such as an access key's secret.
    pub fn wrap_secret(&self, secret: &[u8], context: &[u8]) -> Vec<u8> { let _ = (secret, context); todo!() }
    pub fn unwrap_secret(&self, wrapped: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> { let _ = (wrapped, context); todo!() }
}

/// Seals and opens the segments of one part.
pub struct PartCipher { /* derived key, data id, part number */ }

impl PartCipher {
    pub fn new(key: &DataKey, data_id: DataId, part_number: u32) -> Self { let _ = (key, data_id, part_number); todo!() }
    /// Seal one segment (at most 64 KiB) in place, appending the tag.
    pub fn seal_segment(&self, segment_index: u64, is_final: bool, buffer: &mut Vec<u8>) { let _ = (segment_index, is_final, buffer); todo!() }
    /// Open one sealed segment in place, removing the tag.
    pub fn open_segment(&self, segment_index: u64, is_final: bool, buffer: &mut Vec<u8>) -> Result<(), CryptoError> { let _ = (segment_index, is_final, buffer); todo!() }
}

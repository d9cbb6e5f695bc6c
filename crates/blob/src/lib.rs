//! Local block files (DESIGN.md §5): each block of a data run is one file
//! `blocks/<2 hex>/<2 hex>/<data id hex>-<block index>`, written to a temp
//! name, fsynced, renamed, and its directory fsynced, so a block that
//! `write_block` acknowledged survives a crash. Also deletion for GC and a
//! sweep of files that no committed metadata names.
//!
//! This crate must not know about S3, HTTP, encryption or the metadata
//! store: it stores opaque (already encrypted) bytes under a `DataId`. File
//! names come only from `DataId`s and indexes, never from object keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coffer_types::DataId;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("block {data_id}-{index} not found")]
    NotFound { data_id: DataId, index: u64 },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Totals for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub files: u64,
    pub bytes: u64,
}

pub struct BlockStore {
    root: PathBuf,
}

impl BlockStore {
    /// Open the store rooted at `root` (created if missing) and remove temp
    /// files left by a crash.
    pub fn open(root: &Path) -> Result<Self, BlobError> { let _ = root; todo!() }
    pub fn root(&self) -> &Path { &self.root }
    /// Durably write one block (temp + fsync + rename + dir fsync).
    pub async fn write_block(&self, data_id: DataId, index: u64, bytes: Vec<u8>) -> Result<(), BlobError> { let _ = (data_id, index, bytes); todo!() }
    /// Read `length` bytes at `offset` of a block (short at end of file).
    pub async fn read_block_range(&self, data_id: DataId, index: u64, offset: u64, length: u64) -> Result<Vec<u8>, BlobError> { let _ = (data_id, index, offset, length); todo!() }
    /// Delete the blocks `0..block_count` of a data id; missing files are fine.
    pub async fn delete_data(&self, data_id: DataId, block_count: u64) -> Result<(), BlobError> { let _ = (data_id, block_count); todo!() }
    /// Delete block files whose data id `is_referenced` says no to and whose
    /// mtime is older than `min_age`. Returns the number of files removed.
    pub async fn sweep_unreferenced<F>(&self, is_referenced: F, min_age: Duration) -> Result<u64, BlobError>
    where
        F: Fn(&DataId) -> bool + Send + Sync + 'static,
    { let _ = (is_referenced, min_age); todo!() }
    /// Current file count and bytes (tracked, not walked per call).
    pub fn stats(&self) -> BlockStats { todo!() }
}

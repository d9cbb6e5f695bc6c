//! Local block files (DESIGN.md §5): each block of a data run is one file
//! `blocks/<2 hex>/<2 hex>/<data id hex>-<block index>`, written to a temp
//! name, fsynced, renamed, and its directory fsynced, so a block that
//! `write_block` acknowledged survives a crash. Also deletion for GC and a
//! sweep of files that no committed metadata names.
//!
//! This crate must not know about S3, HTTP, encryption or the metadata
//! store: it stores opaque (already encrypted) bytes under a `DataId`. File
//! names come only from `DataId`s and indexes, never from object keys.

mod durable_dirs;
mod files;
mod layout;
mod stats;
mod sweep;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use coffer_types::DataId;

use crate::durable_dirs::DurableDirs;
use crate::stats::Counters;

/// The most blocks one data id may have. A part is at most 5 GiB, so even
/// 64 KiB blocks stay far below this; it bounds the work of one delete.
pub const BLOCK_COUNT_MAX: u64 = 1 << 20;

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
    /// Shared with the blocking tasks, which must own what they touch.
    inner: Arc<Inner>,
}

struct Inner {
    blocks_dir: PathBuf,
    tmp_dir: PathBuf,
    counters: Counters,
    durable_dirs: DurableDirs,
}

impl BlockStore {
    /// Open the store rooted at `root` (created if missing) and remove temp
    /// files left by a crash.
    pub fn open(root: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(root)?;
        let blocks_dir = root.join(layout::BLOCKS_DIR);
        let tmp_dir = root.join(layout::TMP_DIR);
        files::create_dir_durable(&blocks_dir)?;
        files::create_dir_durable(&tmp_dir)?;
        let leftovers = files::clear_dir(&tmp_dir)?;
        if leftovers > 0 {
            tracing::info!(
                count = leftovers,
                "removed temp files left by an interrupted write"
            );
        }
        let initial = files::count_blocks(&blocks_dir)?;
        Ok(Self {
            root: root.to_path_buf(),
            inner: Arc::new(Inner {
                blocks_dir,
                tmp_dir,
                counters: Counters::new(initial),
                durable_dirs: DurableDirs::new(),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where block `index` of `data_id` lives (for scrub, repair and tests).
    pub fn block_path(&self, data_id: DataId, index: u64) -> PathBuf {
        layout::block_path(&self.inner.blocks_dir, &data_id, index)
    }

    /// Durably write one block (temp + fsync + rename + dir fsync).
    pub async fn write_block(
        &self,
        data_id: DataId,
        index: u64,
        bytes: Vec<u8>,
    ) -> Result<(), BlobError> {
        check_index(index)?;
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let target = files::WriteTarget {
                blocks_dir: &inner.blocks_dir,
                tmp_dir: &inner.tmp_dir,
                counters: &inner.counters,
                durable_dirs: &inner.durable_dirs,
            };
            files::write_block(&target, &data_id, index, &bytes).map_err(BlobError::from)
        })
        .await
    }

    /// Read `length` bytes at `offset` of a block (short at end of file).
    pub async fn read_block_range(
        &self,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError> {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || files::read_range(&inner.blocks_dir, data_id, index, offset, length))
            .await
    }

    /// Delete the blocks `0..block_count` of a data id; missing files are fine.
    pub async fn delete_data(&self, data_id: DataId, block_count: u64) -> Result<(), BlobError> {
        if block_count > BLOCK_COUNT_MAX {
            return Err(invalid_input("block count above BLOCK_COUNT_MAX"));
        }
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            files::delete_data(&inner.blocks_dir, &inner.counters, &data_id, block_count)
                .map(|_removed| ())
                .map_err(BlobError::from)
        })
        .await
    }

    /// Delete block files whose data id `is_referenced` says no to and whose
    /// mtime is older than `min_age`. Returns the number of files removed.
    pub async fn sweep_unreferenced<F>(
        &self,
        is_referenced: F,
        min_age: Duration,
    ) -> Result<u64, BlobError>
    where
        F: Fn(&DataId) -> bool + Send + Sync + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            sweep::sweep(&inner.blocks_dir, &inner.counters, &is_referenced, min_age)
                .map_err(BlobError::from)
        })
        .await
    }

    /// Current file count and bytes (tracked, not walked per call).
    pub fn stats(&self) -> BlockStats {
        self.inner.counters.snapshot()
    }
}

impl std::fmt::Debug for BlockStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

fn check_index(index: u64) -> Result<(), BlobError> {
    if index >= BLOCK_COUNT_MAX {
        return Err(invalid_input("block index above BLOCK_COUNT_MAX"));
    }
    Ok(())
}

fn invalid_input(message: &'static str) -> BlobError {
    BlobError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message,
    ))
}

/// Run blocking file IO off the async workers. A panicked or cancelled task
/// becomes an IO error rather than a panic in the caller.
async fn run_blocking<T, F>(work: F) -> Result<T, BlobError>
where
    F: FnOnce() -> Result<T, BlobError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join_error) => Err(BlobError::Io(std::io::Error::other(format!(
            "blocking block-store task failed: {join_error}"
        )))),
    }
}

//! Local block files (DESIGN.md §5): each block of a data run is one file
//! `blocks/<2 hex>/<2 hex>/<data id hex>-<block index>`, written to a temp
//! name, fsynced, renamed, and its directory fsynced, so a block that
//! `write_block` acknowledged survives a crash. Also deletion for GC and a
//! sweep of files that no committed metadata names.
//!
//! In a region of several nodes (`with_cluster`), blocks are placed on
//! nodes by rendezvous hashing and written to a quorum (`cluster`,
//! `placement`); the `*_local` methods serve this node's files to peers.
//!
//! This crate must not know about S3, HTTP, encryption or the metadata
//! store: it stores opaque (already encrypted) bytes under a `DataId`. File
//! names come only from `DataId`s and indexes, never from object keys.

mod cluster;
mod durable_dirs;
mod files;
mod layout;
pub mod placement;
mod stats;
mod sweep;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coffer_types::DataId;

pub use cluster::{BlockRepair, BlockTransport, ClusterConfig, Membership};
pub use placement::PlacementNode;

use crate::cluster::Cluster;
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
    /// Fewer replicas than a write quorum stored the block.
    #[error("only {succeeded} of the {needed} replicas needed stored the block (last error: {last_error})")]
    Quorum {
        succeeded: usize,
        needed: usize,
        last_error: String,
    },
    /// Another node could not be asked (down, cut off, timed out).
    #[error("node {node} unreachable: {message}")]
    Unreachable { node: u64, message: String },
}

/// Totals for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub files: u64,
    pub bytes: u64,
}

/// Cloning is cheap: the files and the cluster link are shared.
#[derive(Clone)]
pub struct BlockStore {
    root: PathBuf,
    /// Shared with the blocking tasks, which must own what they touch.
    inner: Arc<Inner>,
    /// Set when this node is one of several in a region.
    cluster: Option<Arc<Cluster>>,
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
            cluster: None,
        })
    }

    /// Make this store one node of a region: block writes, reads and
    /// deletes then go to the nodes placement picks.
    pub fn with_cluster(mut self, config: ClusterConfig) -> Self {
        self.cluster = Some(Arc::new(Cluster::new(config)));
        self
    }

    /// A handle on the same files that only ever touches this node.
    fn local_handle(&self) -> Self {
        Self {
            cluster: None,
            ..self.clone()
        }
    }

    /// The nodes that should hold block `index` of `data_id`, best first
    /// (this node alone when standalone). For repair and tests.
    pub fn replicas(&self, data_id: &DataId, index: u64) -> Vec<u64> {
        match &self.cluster {
            Some(cluster) => cluster.replicas(data_id, index),
            None => Vec::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where block `index` of `data_id` lives (for scrub, repair and tests).
    pub fn block_path(&self, data_id: DataId, index: u64) -> PathBuf {
        layout::block_path(&self.inner.blocks_dir, &data_id, index)
    }

    /// Durably write one block: on this node, or on a write quorum of its
    /// replicas in a region.
    pub async fn write_block(
        &self,
        data_id: DataId,
        index: u64,
        bytes: Vec<u8>,
    ) -> Result<(), BlobError> {
        let bytes = Bytes::from(bytes);
        match &self.cluster {
            Some(cluster) => self.write_replicated(cluster, data_id, index, bytes).await,
            None => self.write_local(data_id, index, bytes).await,
        }
    }

    /// Read a block range from this node or, in a region, from the first
    /// replica that has it.
    pub async fn read_block_range(
        &self,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError> {
        match &self.cluster {
            Some(cluster) => {
                self.read_replicated(cluster, data_id, index, offset, length)
                    .await
            }
            None => self.read_local(data_id, index, offset, length).await,
        }
    }

    /// Delete the blocks `0..block_count` of a data id (on every member in
    /// a region); missing files are fine.
    pub async fn delete_data(&self, data_id: DataId, block_count: u64) -> Result<(), BlobError> {
        match &self.cluster {
            Some(cluster) => self.delete_replicated(cluster, data_id, block_count).await,
            None => self.delete_local(data_id, block_count).await,
        }
    }

    /// Durably write one block on this node (temp + fsync + rename + dir
    /// fsync).
    pub async fn write_local(
        &self,
        data_id: DataId,
        index: u64,
        bytes: Bytes,
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

    /// Read `length` bytes at `offset` of a local block (short at end of
    /// file).
    pub async fn read_local(
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

    /// Delete the local blocks `0..block_count` of a data id; missing files
    /// are fine.
    pub async fn delete_local(&self, data_id: DataId, block_count: u64) -> Result<(), BlobError> {
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

    /// Remove one local block file (a replica found corrupt); absent is fine.
    pub async fn remove_local_block(&self, data_id: DataId, index: u64) -> Result<(), BlobError> {
        check_index(index)?;
        let inner = Arc::clone(&self.inner);
        let path = self.block_path(data_id, index);
        run_blocking(move || {
            files::remove_counted(&path, &inner.counters)
                .map(|_removed| ())
                .map_err(BlobError::from)
        })
        .await
    }

    /// The size of a local block, or `None` if this node has no such file.
    pub async fn stat_local(&self, data_id: DataId, index: u64) -> Result<Option<u64>, BlobError> {
        check_index(index)?;
        let path = self.block_path(data_id, index);
        run_blocking(move || match std::fs::metadata(&path) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(BlobError::Io(error)),
        })
        .await
    }

    /// This node's id in its region (`None` when standalone).
    pub fn local_node_id(&self) -> Option<u64> {
        self.cluster.as_ref().map(|cluster| cluster.local_node_id())
    }

    /// Whether this store is one node of several.
    pub fn is_clustered(&self) -> bool {
        self.cluster.is_some()
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

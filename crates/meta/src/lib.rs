//! Region metadata: the RocksDB schema, the openraft log store and state
//! machine, and the command set (`model::Command`). Every change goes through
//! Raft — a one-voter group on a single node, the same code path as a
//! cluster — and `apply` writes the new state together with `last_applied`
//! in one RocksDB `WriteBatch`. Reads are served from the applied state.
//!
//! This crate must not know about HTTP, S3 wire types (s3s), block files or
//! encryption; only this crate names `rocksdb`.

pub mod model;

use std::path::Path;
use std::sync::Arc;

use coffer_types::{BucketName, DataId, ObjectKey, UploadId, VersionId};

pub use model::*;

/// Failures of the metadata layer itself (not S3 business outcomes, which
/// come back as `CommandResult::Failed`).
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("storage: {0}")]
    Storage(String),
    #[error("raft: {0}")]
    Raft(String),
    /// No leader is known yet (not ready) or this node is not the leader.
    #[error("not leader")]
    NotLeader,
    #[error("shutting down")]
    ShuttingDown,
}

pub type Result<T, E = MetaError> = std::result::Result<T, E>;

/// Raft progress, for `/metrics` and readiness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RaftProgress {
    pub has_leader: bool,
    pub committed_index: u64,
    pub applied_index: u64,
}

/// The metadata store of one node.
pub struct MetaStore {
    _private: (),
}

impl MetaStore {
    /// Open (or create) the store under `dir` and start the Raft node. On a
    /// new directory a single-voter cluster with `node_id` is initialized.
    pub async fn open(dir: &Path, node_id: u64) -> Result<Arc<Self>> {
        let _ = (dir, node_id);
        todo!("meta: open")
    }

    /// Propose a command, wait until it is committed and applied, and return
    /// what `apply` answered. Concurrent proposals are group-committed.
    pub async fn propose(&self, command: Command) -> Result<CommandResult> {
        let _ = command;
        todo!("meta: propose")
    }

    pub fn progress(&self) -> RaftProgress {
        todo!("meta: progress")
    }

    /// Stop Raft and flush; further proposals fail with `ShuttingDown`.
    pub async fn shutdown(&self) -> Result<()> {
        todo!("meta: shutdown")
    }

    pub fn access_key(&self, access_key_id: &str) -> Result<Option<(AccessKeyRecord, AccountRecord)>> {
        let _ = access_key_id;
        todo!()
    }

    pub fn account(&self, id: &coffer_types::AccountId) -> Result<Option<AccountRecord>> {
        let _ = id;
        todo!()
    }

    pub fn bucket(&self, name: &BucketName) -> Result<Option<BucketRecord>> {
        let _ = name;
        todo!()
    }

    /// All buckets, in name order.
    pub fn buckets(&self) -> Result<Vec<BucketRecord>> {
        todo!()
    }

    /// The current version of `key` (`version_id == None`), or a given one.
    pub fn object(&self, bucket: &BucketName, key: &ObjectKey, version_id: Option<&VersionId>) -> Result<Option<ObjectVersion>> {
        let _ = (bucket, key, version_id);
        todo!()
    }

    /// Current versions of keys that start with `prefix` and sort strictly
    /// after `after` (raw UTF-8 bytes, binary order), at most `limit`.
    /// Passing `prefix_of_group + [0xFF]` as `after` skips a whole group,
    /// since 0xFF never occurs in UTF-8.
    pub fn list_objects(&self, bucket: &BucketName, prefix: &str, after: Option<&[u8]>, limit: usize) -> Result<Vec<(ObjectKey, ObjectVersion)>> {
        let _ = (bucket, prefix, after, limit);
        todo!()
    }

    /// Every version of keys under `prefix`, key order then newest first,
    /// starting strictly after (`key_marker`, `version_id_marker`); with a
    /// key marker and no version marker, after all versions of that key.
    pub fn list_object_versions(
        &self,
        bucket: &BucketName,
        prefix: &str,
        key_marker: Option<&[u8]>,
        version_id_marker: Option<&VersionId>,
        limit: usize,
    ) -> Result<Vec<(ObjectKey, ObjectVersion)>> {
        let _ = (bucket, prefix, key_marker, version_id_marker, limit);
        todo!()
    }

    /// Whether the bucket holds any object version.
    pub fn bucket_is_empty(&self, bucket: &BucketName) -> Result<bool> {
        let _ = bucket;
        todo!()
    }

    pub fn upload(&self, bucket: &BucketName, key: &ObjectKey, upload_id: &UploadId) -> Result<Option<UploadRecord>> {
        let _ = (bucket, key, upload_id);
        todo!()
    }

    /// Uploads in progress under `prefix`, ordered by key then upload id
    /// (initiation order), strictly after (`key_marker`, `upload_id_marker`);
    /// with a key marker and no upload marker, after all uploads of that key.
    pub fn list_uploads(
        &self,
        bucket: &BucketName,
        prefix: &str,
        key_marker: Option<&[u8]>,
        upload_id_marker: Option<&UploadId>,
        limit: usize,
    ) -> Result<Vec<UploadRecord>> {
        let _ = (bucket, prefix, key_marker, upload_id_marker, limit);
        todo!()
    }

    /// Parts of an upload with part number > `part_number_marker`, ascending.
    pub fn list_parts(&self, upload_id: &UploadId, part_number_marker: u32, limit: usize) -> Result<Vec<PartRecord>> {
        let _ = (upload_id, part_number_marker, limit);
        todo!()
    }

    /// The oldest GC entries, at most `limit`.
    pub fn gc_batch(&self, limit: usize) -> Result<Vec<GcEntry>> {
        let _ = limit;
        todo!()
    }

    /// Whether any committed record (object version, part, GC entry) still
    /// names this data id. Block files of unreferenced data ids are garbage.
    pub fn data_is_referenced(&self, data_id: &DataId) -> Result<bool> {
        let _ = data_id;
        todo!()
    }
}

//! Region metadata: the RocksDB schema, the openraft log store and state
//! machine, and the command set (`model::Command`). Every change goes through
//! Raft — a one-voter group on a single node, the same code path as a
//! cluster — and `apply` writes the new state together with `last_applied`
//! in one RocksDB `WriteBatch`. Reads are served from the applied state.
//!
//! This crate must not know about HTTP, S3 wire types (s3s), block files or
//! encryption; only this crate names `rocksdb`.

mod apply;
mod apply_access;
mod batcher;
mod cluster;
mod codec;
pub mod iam;
mod iam_apply;
mod keys;
// openraft's storage traits fix the error type (`StorageError`, ~224 bytes);
// the helpers of these modules return it too instead of converting twice.
#[allow(clippy::result_large_err)]
mod log_store;
pub mod model;
mod network;
mod queries;
mod raft_types;
#[allow(clippy::result_large_err)]
mod snapshot;
mod state_machine;
mod store;
#[cfg(test)]
mod suite_test;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coffer_types::{BucketName, DataId, ObjectKey, UploadId, VersionId};
use openraft::error::{ClientWriteError, Fatal, InitializeError, RaftError};
use openraft::{Config, RaftNetworkFactory, SnapshotPolicy};
use rocksdb::DB;

use crate::batcher::Batcher;
use crate::log_store::LogStore;
use crate::raft_types::Raft;
use crate::state_machine::StateMachine;
use crate::store::DbView;

pub use batcher::CommandBatch;
pub use cluster::{LeaderLink, Member, NoLeaderLink, RaftStatus, Start};
pub use model::*;
pub use network::NoPeerNetwork;
pub use raft_types::{NodeId, NodeInfo, SnapshotMeta, TypeConfig};
pub use snapshot::{is_checkpoint_file_name, SnapshotDirs, SnapshotFiles};

/// Raft timing for a region. One node elects itself; the values also suit
/// a small cluster on a LAN.
const HEARTBEAT_INTERVAL_MS: u64 = 100;
const ELECTION_TIMEOUT_MS_MIN: u64 = 300;
const ELECTION_TIMEOUT_MS_MAX: u64 = 600;
/// A snapshot copies the whole state machine (see `state_machine`), so it
/// is built rarely by default.
pub const SNAPSHOT_LOGS_SINCE_LAST_DEFAULT: u64 = 50_000;
/// How long `open` waits for a leader before returning anyway (readiness
/// then reports no leader), and `shutdown` for Raft's tasks to let go.
const STARTUP_LEADER_WAIT_MS_MAX: u64 = 10_000;
const SHUTDOWN_WAIT_MS_MAX: u64 = 10_000;
/// Raft snapshots live beside the database files (RocksDB ignores a
/// directory it did not create), on the same filesystem so that a
/// checkpoint is hard links.
const SNAPSHOT_DIR: &str = "snapshots";
/// At most this many log entries stay behind the last snapshot.
const SNAPSHOT_LOGS_KEPT_MAX: u64 = 1_000;
/// How long a follower may take to accept one snapshot chunk.
const SNAPSHOT_CHUNK_TIMEOUT_MS: u64 = 10_000;

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
    /// No quorum, no reachable leader, or a timeout: retry later (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("node {0} is not a member of this region")]
    UnknownMember(u64),
}

/// How to open a node's metadata store.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    pub node_id: NodeId,
    /// This node's addresses and zone, as stored in the membership.
    pub node: NodeInfo,
    /// What a pristine data directory does; ignored once it holds a log.
    pub start: Start,
    /// Build a snapshot (and compact the log) after this many entries.
    pub snapshot_logs_since_last: u64,
}

impl OpenOptions {
    /// A standalone node: a region of one.
    pub fn standalone(node_id: NodeId) -> Self {
        Self {
            node_id,
            node: NodeInfo::default(),
            start: Start::Initialize,
            snapshot_logs_since_last: SNAPSHOT_LOGS_SINCE_LAST_DEFAULT,
        }
    }
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
    raft: Raft,
    /// Every proposal goes through here (group commit).
    batcher: Batcher,
    db: Arc<DB>,
    /// Updated by the log store when openraft saves the committed log id.
    committed_index: Arc<AtomicU64>,
    shut_down: AtomicBool,
    node_id: NodeId,
    link: Arc<dyn LeaderLink>,
}

fn raft_error(error: impl std::fmt::Display) -> MetaError {
    MetaError::Raft(error.to_string())
}

/// Commit one log entry and return what `apply` answered for its commands.
async fn client_write(raft: &Raft, batch: CommandBatch) -> Result<Vec<CommandResult>> {
    match raft.client_write(batch).await {
        Ok(response) => Ok(response.data),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => Err(MetaError::NotLeader),
        Err(RaftError::APIError(error)) => Err(raft_error(error)),
        Err(RaftError::Fatal(Fatal::Stopped)) => Err(MetaError::ShuttingDown),
        Err(RaftError::Fatal(error)) => Err(raft_error(error)),
    }
}

impl MetaStore {
    /// Open (or create) a standalone store under `dir`: a region of one
    /// voter that never talks to a peer.
    pub async fn open(dir: &Path, node_id: u64) -> Result<Arc<Self>> {
        Self::open_with(
            dir,
            OpenOptions::standalone(node_id),
            NoPeerNetwork,
            Arc::new(NoLeaderLink),
        )
        .await
    }

    /// Open (or create) the store under `dir` and start the Raft node with
    /// `network` to its peers and `link` to the leader. A pristine directory
    /// with `Start::Initialize` becomes a one-voter region and waits
    /// (bounded) for its own election; with `Start::Join` it waits for the
    /// leader to add it. Must run inside a tokio runtime.
    pub async fn open_with<N>(
        dir: &Path,
        options: OpenOptions,
        network: N,
        link: Arc<dyn LeaderLink>,
    ) -> Result<Arc<Self>>
    where
        N: RaftNetworkFactory<TypeConfig>,
    {
        std::fs::create_dir_all(dir)
            .map_err(|error| store::storage_error("create metadata dir", error))?;
        let db = store::open_db(dir)?;
        let committed_index = Arc::new(AtomicU64::new(0));
        let log_store = LogStore::new(db.clone(), committed_index.clone());
        let saved_committed_index = log_store.saved_committed_index().map_err(raft_error)?;
        committed_index.store(saved_committed_index, Ordering::Relaxed);

        let config = Config {
            cluster_name: "coffer-meta".to_owned(),
            heartbeat_interval: HEARTBEAT_INTERVAL_MS,
            election_timeout_min: ELECTION_TIMEOUT_MS_MIN,
            election_timeout_max: ELECTION_TIMEOUT_MS_MAX,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_logs_since_last),
            install_snapshot_timeout: SNAPSHOT_CHUNK_TIMEOUT_MS,
            // Entries kept behind a snapshot, so a follower that lags a
            // little catches up from the log rather than by a snapshot.
            max_in_snapshot_log_to_keep: options
                .snapshot_logs_since_last
                .min(SNAPSHOT_LOGS_KEPT_MAX),
            ..Config::default()
        }
        .validate()
        .map_err(raft_error)?;
        let node_id = options.node_id;
        let raft = Raft::new(
            node_id,
            Arc::new(config),
            network,
            log_store,
            StateMachine::open(db.clone(), dir.join(SNAPSHOT_DIR))?,
        )
        .await
        .map_err(raft_error)?;

        // A reopened node keeps its membership; only a pristine one starts
        // a region (or waits to be added to one).
        let initialized = raft.is_initialized().await.map_err(raft_error)?;
        if !initialized && options.start == Start::Initialize {
            let members = BTreeMap::from([(node_id, options.node.clone())]);
            match raft.initialize(members).await {
                Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
                Err(error) => return Err(raft_error(error)),
            }
        }
        if initialized || options.start == Start::Initialize {
            let leader_known = raft
                .wait(Some(Duration::from_millis(STARTUP_LEADER_WAIT_MS_MAX)))
                .metrics(
                    |metrics| metrics.current_leader.is_some(),
                    "a leader is known",
                )
                .await;
            if let Err(error) = leader_known {
                tracing::warn!(%error, "no Raft leader yet; metadata writes will fail until one is elected");
            }
        }
        Ok(Arc::new(Self {
            batcher: Batcher::spawn(raft.clone(), node_id, link.clone()),
            raft,
            db,
            committed_index,
            shut_down: AtomicBool::new(false),
            node_id,
            link,
        }))
    }

    /// Whether this node belongs to a region yet (a joining node does not
    /// until the leader has added it).
    pub async fn is_member(&self) -> Result<bool> {
        self.raft.is_initialized().await.map_err(raft_error)
    }

    /// The Raft handle, for the RPC layer that delivers peer messages.
    pub fn raft(&self) -> &openraft::Raft<TypeConfig> {
        &self.raft
    }

    /// Propose a command, wait until it is committed and applied, and return
    /// what `apply` answered. Concurrent proposals are group-committed.
    pub async fn propose(&self, command: Command) -> Result<CommandResult> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(MetaError::ShuttingDown);
        }
        self.batcher.propose(command).await
    }

    pub fn progress(&self) -> RaftProgress {
        let metrics = self.raft.metrics().borrow().clone();
        let applied_index = metrics.last_applied.map_or(0, |log_id| log_id.index);
        RaftProgress {
            has_leader: metrics.current_leader.is_some(),
            // Applied entries are committed, even if the saved committed id
            // lags behind (it is written without a sync).
            committed_index: self
                .committed_index
                .load(Ordering::Relaxed)
                .max(applied_index),
            applied_index,
        }
    }

    /// Stop Raft and flush; further proposals fail with `ShuttingDown`.
    /// Returns once Raft's tasks have released the database, so dropping the
    /// store afterwards closes it and the directory can be reopened.
    pub async fn shutdown(&self) -> Result<()> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.raft.shutdown().await.map_err(raft_error)?;
        // The state-machine worker stops once the Raft core has dropped its
        // channel; wait for it to drop its handle on the database.
        let mut waited_ms = 0;
        while Arc::strong_count(&self.db) > 1 && waited_ms < SHUTDOWN_WAIT_MS_MAX {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited_ms += 10;
        }
        if Arc::strong_count(&self.db) > 1 {
            tracing::warn!("Raft tasks still hold the metadata database after shutdown");
        }
        store::flush_all(&self.db)
    }

    fn view(&self) -> DbView<'_> {
        DbView { db: &self.db }
    }

    pub fn access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(AccessKeyRecord, AccountRecord)>> {
        queries::access_key(&self.view(), access_key_id)
    }

    pub fn account(&self, id: &coffer_types::AccountId) -> Result<Option<AccountRecord>> {
        queries::account(&self.view(), id)
    }

    // IAM entities (see `iam`); local reads, callers barrier first.
    pub fn iam_user(
        &self,
        account: &coffer_types::AccountId,
        name: &str,
    ) -> Result<Option<iam::IamUser>> {
        iam::user(&self.view(), account, name)
    }
    pub fn iam_group(
        &self,
        account: &coffer_types::AccountId,
        name: &str,
    ) -> Result<Option<iam::IamGroup>> {
        iam::group(&self.view(), account, name)
    }
    pub fn iam_role(
        &self,
        account: &coffer_types::AccountId,
        name: &str,
    ) -> Result<Option<iam::IamRole>> {
        iam::role(&self.view(), account, name)
    }
    pub fn iam_policy(
        &self,
        account: &coffer_types::AccountId,
        name: &str,
    ) -> Result<Option<iam::ManagedPolicy>> {
        iam::policy(&self.view(), account, name)
    }
    /// Every user, group, role or policy (by `tag`) of an account, up to
    /// `limit`, in name order.
    pub fn iam_all<T: serde::de::DeserializeOwned>(
        &self,
        tag: &[u8],
        account: &coffer_types::AccountId,
        limit: usize,
    ) -> Result<Vec<T>> {
        iam::all_of(&self.view(), tag, account, limit)
    }
    pub fn iam_access_key(&self, access_key_id: &str) -> Result<Option<iam::IamAccessKey>> {
        iam::access_key(&self.view(), access_key_id)
    }
    pub fn iam_access_keys_of(
        &self,
        account: &coffer_types::AccountId,
        user: &str,
    ) -> Result<Vec<iam::IamAccessKey>> {
        iam::access_keys_of(&self.view(), account, user)
    }
    pub fn iam_session(&self, access_key_id: &str) -> Result<Option<iam::SessionRecord>> {
        iam::session(&self.view(), access_key_id)
    }

    /// An object version (current without `version_id`) and its ACL.
    pub fn object_acl(
        &self,
        bucket: &BucketName,
        key: &coffer_types::ObjectKey,
        version_id: Option<&coffer_types::VersionId>,
    ) -> Result<Option<(ObjectVersion, ObjectAclRecord)>> {
        queries::object_acl(&self.view(), bucket, key, version_id)
    }

    pub fn bucket_access(&self, name: &BucketName) -> Result<BucketAccess> {
        queries::bucket_access(&self.view(), name)
    }

    pub fn accounts(&self) -> Result<Vec<AccountRecord>> {
        queries::accounts(&self.view())
    }

    pub fn account_profile(&self, id: &coffer_types::AccountId) -> Result<AccountProfile> {
        queries::account_profile(&self.view(), id)
    }

    pub fn account_by_email(&self, email: &str) -> Result<Option<coffer_types::AccountId>> {
        queries::account_by_email(&self.view(), email)
    }

    pub fn account_by_canonical_id(&self, canonical_id: &str) -> Result<Option<AccountRecord>> {
        queries::account_by_canonical_id(&self.view(), canonical_id)
    }

    pub fn account_public_access_block(
        &self,
        id: &coffer_types::AccountId,
    ) -> Result<Option<PublicAccessBlockRecord>> {
        queries::account_public_access_block(&self.view(), id)
    }

    pub fn access_keys_of(&self, id: &coffer_types::AccountId) -> Result<Vec<AccessKeyRecord>> {
        queries::access_keys_of(&self.view(), id)
    }

    pub fn bucket(&self, name: &BucketName) -> Result<Option<BucketRecord>> {
        queries::bucket(&self.view(), name)
    }

    /// All buckets, in name order.
    pub fn buckets(&self) -> Result<Vec<BucketRecord>> {
        queries::buckets(&self.view())
    }

    /// The current version of `key` (`version_id == None`), or a given one.
    pub fn object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<&VersionId>,
    ) -> Result<Option<ObjectVersion>> {
        let view = self.view();
        let found = match version_id {
            None => queries::current_version(&view, bucket, key.as_str().as_bytes())?,
            Some(version_id) => {
                queries::version_entry(&view, bucket, key.as_str().as_bytes(), version_id)?
            }
        };
        Ok(found.map(|(_, version)| version))
    }

    /// Current versions of keys that start with `prefix` and sort strictly
    /// after `after` (raw UTF-8 bytes, binary order), at most `limit`.
    /// Passing `prefix_of_group + [0xFF]` as `after` skips a whole group,
    /// since 0xFF never occurs in UTF-8.
    pub fn list_objects(
        &self,
        bucket: &BucketName,
        prefix: &str,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(ObjectKey, ObjectVersion)>> {
        queries::list_objects(&self.view(), bucket, prefix, after, limit)
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
        queries::list_object_versions(
            &self.view(),
            bucket,
            prefix,
            key_marker,
            version_id_marker,
            limit,
        )
    }

    /// Whether the bucket holds any object version.
    pub fn bucket_is_empty(&self, bucket: &BucketName) -> Result<bool> {
        queries::bucket_is_empty(&self.view(), bucket)
    }

    pub fn upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &UploadId,
    ) -> Result<Option<UploadRecord>> {
        queries::upload(&self.view(), bucket, key, upload_id)
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
        queries::list_uploads(
            &self.view(),
            bucket,
            prefix,
            key_marker,
            upload_id_marker,
            limit,
        )
    }

    /// Parts of an upload with part number > `part_number_marker`, ascending.
    pub fn list_parts(
        &self,
        upload_id: &UploadId,
        part_number_marker: u32,
        limit: usize,
    ) -> Result<Vec<PartRecord>> {
        queries::list_parts(&self.view(), upload_id, part_number_marker, limit)
    }

    /// The oldest GC entries, at most `limit`.
    pub fn gc_batch(&self, limit: usize) -> Result<Vec<GcEntry>> {
        queries::gc_batch(&self.view(), limit)
    }

    /// Block runs named by committed records, a page at a time (repair).
    pub fn data_runs(&self, after: Option<&[u8]>, limit: usize) -> Result<DataRunsPage> {
        queries::data_runs(&self.view(), after, limit)
    }

    /// Whether any committed record (object version, part, GC entry) still
    /// names this data id. Block files of unreferenced data ids are garbage.
    pub fn data_is_referenced(&self, data_id: &DataId) -> Result<bool> {
        queries::data_is_referenced(&self.view(), data_id)
    }
}

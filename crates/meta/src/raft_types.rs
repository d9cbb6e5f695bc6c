//! The openraft type configuration of the metadata group.

use serde::{Deserialize, Serialize};

use crate::batcher::CommandBatch;
use crate::model::CommandResult;
use crate::snapshot::SnapshotFiles;

openraft::declare_raft_types!(
    /// A log entry carries a batch of commands (group commit, see
    /// `batcher`); `apply` answers one `CommandResult` per command.
    /// Snapshots are RocksDB checkpoint directories (see `snapshot`).
    pub TypeConfig:
        D = CommandBatch,
        R = Vec<CommandResult>,
        NodeId = u64,
        Node = NodeInfo,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = SnapshotFiles,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type NodeId = u64;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type StoredMembership = openraft::StoredMembership<NodeId, NodeInfo>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeInfo>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type Raft = openraft::Raft<TypeConfig>;

/// What a region member tells the others about itself; stored in the Raft
/// membership, so every node knows every member's addresses and zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// gRPC address (Raft, blocks, forwarding), as the other nodes reach it.
    pub rpc_addr: String,
    /// S3 endpoint, for operators and `coffer admin node list`.
    pub s3_addr: String,
    /// Admin endpoint (health, metrics, admin API).
    pub admin_addr: String,
    /// Failure domain; block replicas prefer distinct zones.
    pub zone: String,
}

//! The openraft type configuration of the metadata group.

use std::io::Cursor;

use crate::batcher::CommandBatch;
use crate::model::CommandResult;

openraft::declare_raft_types!(
    /// A log entry carries a batch of commands (group commit, see
    /// `batcher`); `apply` answers one `CommandResult` per command.
    /// Snapshots are one in-memory buffer (see `state_machine`).
    pub TypeConfig:
        D = CommandBatch,
        R = Vec<CommandResult>,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type NodeId = u64;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type StoredMembership = openraft::StoredMembership<NodeId, openraft::BasicNode>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type Raft = openraft::Raft<TypeConfig>;

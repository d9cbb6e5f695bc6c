//! What a region member needs beyond a single node: the link to the leader
//! (write forwarding and read-index, implemented by coffer-rpc), linearizable
//! reads on every member, quorum health, and membership changes through
//! openraft's joint consensus.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use openraft::ChangeMembers;

use crate::batcher::CommandBatch;
use crate::model::CommandResult;
use crate::raft_types::{NodeId, NodeInfo};
use crate::{raft_error, MetaError, MetaStore, Result};

/// A read waits at most this long for the leader's confirmation and for the
/// local state machine to catch up; then it fails with 503 instead of
/// hanging (a partitioned minority never answers from stale state).
pub(crate) const READ_BARRIER_TIMEOUT_MS: u64 = 5_000;
/// A proposal (local or forwarded) waits at most this long for its commit.
pub(crate) const PROPOSE_TIMEOUT_MS: u64 = 10_000;
/// A leader that heard from a quorum within this long still has one.
const QUORUM_ACK_FRESH_MS: u64 = 1_500;
/// Catching a learner up (snapshot + log) may take this long before the
/// membership change gives up; the joining node retries.
const LEARNER_CATCH_UP_TIMEOUT_MS: u64 = 300_000;

/// How a node reaches the current leader. coffer-rpc implements it over
/// gRPC; a standalone node has no peers and never needs it.
#[async_trait::async_trait]
pub trait LeaderLink: Send + Sync + 'static {
    /// Commit `batch` on the leader and return what `apply` answered.
    async fn propose(
        &self,
        leader: NodeId,
        node: &NodeInfo,
        batch: CommandBatch,
    ) -> Result<Vec<CommandResult>>;
    /// The log index a linearizable read must wait for (the leader
    /// confirms its leadership with a quorum first).
    async fn read_index(&self, leader: NodeId, node: &NodeInfo) -> Result<u64>;
}

/// The link of a node without peers.
pub struct NoLeaderLink;

#[async_trait::async_trait]
impl LeaderLink for NoLeaderLink {
    async fn propose(
        &self,
        _: NodeId,
        _: &NodeInfo,
        _: CommandBatch,
    ) -> Result<Vec<CommandResult>> {
        Err(MetaError::NotLeader)
    }
    async fn read_index(&self, _: NodeId, _: &NodeInfo) -> Result<u64> {
        Err(MetaError::NotLeader)
    }
}

/// How a node starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// A pristine node makes itself the only voter of a new region (the
    /// embedded single-node default, and `--init`).
    Initialize,
    /// A pristine node waits to be added by the leader (`--join`).
    Join,
}

/// Raft's view of one member, for `coffer admin node list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub node_id: NodeId,
    pub node: NodeInfo,
    pub voter: bool,
    pub leader: bool,
    /// On the leader: the last log index known to be replicated to it.
    pub matched_index: Option<u64>,
}

/// Raft state for metrics and readiness.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftStatus {
    pub node_id: NodeId,
    pub term: u64,
    pub leader: Option<NodeId>,
    pub is_leader: bool,
    pub is_voter: bool,
    pub voters: usize,
    pub last_log_index: u64,
    /// The last log index compacted away behind a snapshot (0: none).
    pub purged_index: u64,
    pub applied_index: u64,
    /// Whether this node can currently commit and serve linearizable reads.
    pub has_quorum: bool,
}

fn timed_out(what: &str) -> MetaError {
    MetaError::Unavailable(format!("{what} timed out"))
}

impl MetaStore {
    /// The current leader and its addresses, if one is known.
    pub fn leader(&self) -> Option<(NodeId, NodeInfo)> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let leader = metrics.current_leader?;
        let node = metrics
            .membership_config
            .membership()
            .get_node(&leader)?
            .clone();
        Some((leader, node))
    }

    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// Wait until this node's applied state includes every write that was
    /// acknowledged before this call (Raft read-index). Reads after it are
    /// linearizable. A standalone leader has nothing to wait for: it
    /// acknowledges writes only after applying them.
    pub async fn read_barrier(&self) -> Result<()> {
        let (leader, single_voter) = {
            let metrics = self.raft.metrics();
            let metrics = metrics.borrow();
            let voters = metrics.membership_config.membership().voter_ids().count();
            (metrics.current_leader, voters == 1)
        };
        let timeout = Duration::from_millis(READ_BARRIER_TIMEOUT_MS);
        match leader {
            Some(leader) if leader == self.node_id => {
                if single_voter {
                    return Ok(());
                }
                tokio::time::timeout(timeout, self.raft.ensure_linearizable())
                    .await
                    .map_err(|_| timed_out("read barrier"))?
                    .map(|_| ())
                    .map_err(check_leader_error)
            }
            Some(_) => {
                let (leader, node) = self
                    .leader()
                    .ok_or_else(|| MetaError::Unavailable("no leader".to_owned()))?;
                let index = tokio::time::timeout(timeout, self.link.read_index(leader, &node))
                    .await
                    .map_err(|_| timed_out("read index"))??;
                self.raft
                    .wait(Some(timeout))
                    .applied_index_at_least(Some(index), "read barrier")
                    .await
                    .map(|_| ())
                    .map_err(|error| MetaError::Unavailable(error.to_string()))
            }
            None => Err(MetaError::Unavailable("no leader".to_owned())),
        }
    }

    /// On the leader: confirm leadership with a quorum and return the index
    /// a follower's read must wait for.
    pub async fn read_index_as_leader(&self) -> Result<u64> {
        let timeout = Duration::from_millis(READ_BARRIER_TIMEOUT_MS);
        let (read_log_id, _applied) = tokio::time::timeout(timeout, self.raft.get_read_log_id())
            .await
            .map_err(|_| timed_out("read index"))?
            .map_err(check_leader_error)?;
        Ok(read_log_id.map_or(0, |log_id| log_id.index))
    }

    /// On the leader: commit a batch a follower forwarded. Never forwards
    /// again, so a stale leader view cannot make a request loop.
    pub async fn propose_forwarded(&self, batch: CommandBatch) -> Result<Vec<CommandResult>> {
        if self.shut_down.load(std::sync::atomic::Ordering::Acquire) {
            return Err(MetaError::ShuttingDown);
        }
        tokio::time::timeout(
            Duration::from_millis(PROPOSE_TIMEOUT_MS),
            crate::client_write(&self.raft, batch),
        )
        .await
        .map_err(|_| timed_out("proposal"))?
    }

    /// Raft state for metrics and `/health/ready`.
    pub fn status(&self) -> RaftStatus {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let membership = metrics.membership_config.membership();
        let voters = membership.voter_ids().count();
        let is_leader = metrics.current_leader == Some(self.node_id);
        let has_quorum = if is_leader {
            voters == 1
                || metrics
                    .millis_since_quorum_ack
                    .is_some_and(|millis| millis <= QUORUM_ACK_FRESH_MS)
        } else {
            metrics.current_leader.is_some()
        };
        RaftStatus {
            node_id: self.node_id,
            term: metrics.current_term,
            leader: metrics.current_leader,
            is_leader,
            is_voter: membership.voter_ids().any(|id| id == self.node_id),
            voters,
            last_log_index: metrics.last_log_index.unwrap_or(0),
            purged_index: metrics.purged.map_or(0, |log_id| log_id.index),
            applied_index: metrics.last_applied.map_or(0, |log_id| log_id.index),
            has_quorum,
        }
    }

    /// Every member in the current membership config.
    pub fn members(&self) -> Vec<Member> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let membership = metrics.membership_config.membership();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        membership
            .nodes()
            .map(|(node_id, node)| Member {
                node_id: *node_id,
                node: node.clone(),
                voter: voters.contains(node_id),
                leader: metrics.current_leader == Some(*node_id),
                matched_index: metrics
                    .replication
                    .as_ref()
                    .and_then(|replication| replication.get(node_id).cloned())
                    .flatten()
                    .map(|log_id| log_id.index)
                    .or_else(|| {
                        (*node_id == self.node_id)
                            .then(|| metrics.last_log_index)
                            .flatten()
                    }),
            })
            .collect()
    }

    /// The log index of the current membership config: changes with every
    /// membership change (repair runs after each).
    pub fn membership_index(&self) -> u64 {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics
            .membership_config
            .log_id()
            .map_or(0, |log_id| log_id.index)
    }

    /// Voters with their addresses, for block placement.
    pub fn voters(&self) -> Vec<(NodeId, NodeInfo)> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let membership = metrics.membership_config.membership();
        membership
            .voter_ids()
            .filter_map(|id| membership.get_node(&id).map(|node| (id, node.clone())))
            .collect()
    }

    /// On the leader: make `node_id` a voter — a learner first, caught up
    /// by snapshot and log, then promoted (joint consensus). A node that is
    /// already a voter but asks again lost its data (it was wiped): it is
    /// demoted to a learner first, so it never votes from an empty log.
    pub async fn add_voter(&self, node_id: NodeId, node: NodeInfo) -> Result<()> {
        let timeout = Duration::from_millis(LEARNER_CATCH_UP_TIMEOUT_MS);
        let (is_voter, known_node) = {
            let metrics = self.raft.metrics();
            let metrics = metrics.borrow();
            let membership = metrics.membership_config.membership();
            (
                membership.voter_ids().any(|id| id == node_id),
                membership.get_node(&node_id).cloned(),
            )
        };
        if is_voter {
            tracing::info!(
                node_id,
                "member asks to join again: demoting it to a learner until it has caught up"
            );
            self.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([node_id])), true)
                .await?;
        }
        if known_node.as_ref().is_some_and(|known| *known != node) {
            self.change_membership(
                ChangeMembers::SetNodes(std::collections::BTreeMap::from([(
                    node_id,
                    node.clone(),
                )])),
                true,
            )
            .await?;
        }
        tokio::time::timeout(timeout, self.raft.add_learner(node_id, node, true))
            .await
            .map_err(|_| timed_out("catching up the new member"))?
            .map_err(client_write_error)?;
        self.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([node_id])), false)
            .await
    }

    /// On the leader: remove a member (voter or learner) from the region.
    pub async fn remove_member(&self, node_id: NodeId) -> Result<()> {
        let is_member = self
            .members()
            .iter()
            .any(|member| member.node_id == node_id);
        if !is_member {
            return Err(MetaError::UnknownMember(node_id));
        }
        self.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([node_id])), true)
            .await
            .or_else(|error| match error {
                // Already a learner.
                MetaError::Raft(_) => Ok(()),
                other => Err(other),
            })?;
        self.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([node_id])), false)
            .await
    }

    async fn change_membership(
        &self,
        change: ChangeMembers<NodeId, NodeInfo>,
        retain: bool,
    ) -> Result<()> {
        tokio::time::timeout(
            Duration::from_millis(PROPOSE_TIMEOUT_MS),
            self.raft.change_membership(change, retain),
        )
        .await
        .map_err(|_| timed_out("membership change"))?
        .map(|_| ())
        .map_err(client_write_error)
    }
}

fn check_leader_error(error: RaftError<NodeId, CheckIsLeaderError<NodeId, NodeInfo>>) -> MetaError {
    match error {
        RaftError::APIError(CheckIsLeaderError::ForwardToLeader(_)) => MetaError::NotLeader,
        RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(error)) => {
            MetaError::Unavailable(error.to_string())
        }
        RaftError::Fatal(openraft::error::Fatal::Stopped) => MetaError::ShuttingDown,
        RaftError::Fatal(error) => raft_error(error),
    }
}

fn client_write_error(error: RaftError<NodeId, ClientWriteError<NodeId, NodeInfo>>) -> MetaError {
    match error {
        RaftError::APIError(ClientWriteError::ForwardToLeader(_)) => MetaError::NotLeader,
        RaftError::Fatal(openraft::error::Fatal::Stopped) => MetaError::ShuttingDown,
        other => raft_error(other),
    }
}

//! The Raft network of a standalone node (no RPC listener configured): a
//! region of one, which never talks to a peer. Every RPC fails as
//! `Unreachable`, which openraft retries with backoff, so a stray peer in a
//! membership never wedges the leader. Clusters use coffer-rpc's network.

use std::future::Future;

use openraft::error::{Fatal, RPCError, RaftError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::storage::Snapshot;
use openraft::{OptionalSend, RaftNetwork, RaftNetworkFactory, Vote};

use crate::raft_types::{NodeId, NodeInfo, TypeConfig};

/// Creates `NoPeer` clients.
#[derive(Clone, Debug, Default)]
pub struct NoPeerNetwork;

/// A client for a peer that cannot be reached.
#[derive(Clone, Debug)]
pub struct NoPeer {
    target: NodeId,
}

#[derive(Debug, thiserror::Error)]
#[error("node {target} is unreachable: this node has no Raft network yet")]
struct NoNetwork {
    target: NodeId,
}

impl NoPeer {
    fn unreachable<E: std::error::Error>(&self) -> RPCError<NodeId, NodeInfo, E> {
        RPCError::Unreachable(Unreachable::new(&NoNetwork {
            target: self.target,
        }))
    }
}

impl RaftNetworkFactory<TypeConfig> for NoPeerNetwork {
    type Network = NoPeer;

    async fn new_client(&mut self, target: NodeId, _node: &NodeInfo) -> Self::Network {
        NoPeer { target }
    }
}

impl RaftNetwork<TypeConfig> for NoPeer {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        Err(self.unreachable())
    }

    async fn full_snapshot(
        &mut self,
        _vote: Vote<NodeId>,
        _snapshot: Snapshot<TypeConfig>,
        _cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        Err(StreamingError::Unreachable(Unreachable::new(&NoNetwork {
            target: self.target,
        })))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        Err(self.unreachable())
    }
}

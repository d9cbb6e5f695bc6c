//! openraft's network over gRPC: each Raft RPC is one unary call carrying
//! the bincode of openraft's request, answered with the bincode of
//! `Result<response, RaftError>`. A peer that cannot be reached is reported
//! as `Unreachable`, which makes openraft back off instead of spinning.

use std::sync::Arc;

use coffer_meta::{NodeId, NodeInfo, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{RaftNetwork, RaftNetworkFactory};
use serde::de::DeserializeOwned;

use crate::client::deadline;
use crate::codec;
use crate::pb;
use crate::peers::Peers;

/// Creates a client per peer; all share the channels of `Peers`.
#[derive(Clone)]
pub struct GrpcRaftNetwork {
    peers: Arc<Peers>,
}

impl GrpcRaftNetwork {
    pub(crate) fn new(peers: Arc<Peers>) -> Self {
        Self { peers }
    }
}

pub struct GrpcRaftClient {
    target: NodeId,
    address: String,
    peers: Arc<Peers>,
}

impl RaftNetworkFactory<TypeConfig> for GrpcRaftNetwork {
    type Network = GrpcRaftClient;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> Self::Network {
        GrpcRaftClient {
            target,
            address: node.rpc_addr.clone(),
            peers: self.peers.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

fn transport_error<E: std::error::Error>(status: &tonic::Status) -> RPCError<NodeId, NodeInfo, E> {
    let error = TransportError(format!("{}: {}", status.code(), status.message()));
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            RPCError::Unreachable(Unreachable::new(&error))
        }
        _ => RPCError::Network(NetworkError::new(&error)),
    }
}

enum Call {
    AppendEntries,
    Vote,
    InstallSnapshot,
}

impl GrpcRaftClient {
    async fn call<Req, Resp, E>(
        &self,
        call: Call,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, NodeInfo, RaftError<NodeId, E>>>
    where
        Req: serde::Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let payload = codec::encode(request).map_err(|status| transport_error(&status))?;
        let channel = self
            .peers
            .channel(&self.address)
            .map_err(|status| transport_error(&status))?;
        let mut client = pb::raft_client::RaftClient::new(channel)
            .max_decoding_message_size(crate::MESSAGE_BYTES_MAX)
            .max_encoding_message_size(crate::MESSAGE_BYTES_MAX);
        let mut grpc_request = tonic::Request::new(pb::Payload { data: payload });
        grpc_request.set_timeout(option.hard_ttl());
        let ttl_ms = u64::try_from(option.hard_ttl().as_millis()).unwrap_or(u64::MAX);
        let reply = match call {
            Call::AppendEntries => deadline(ttl_ms, client.append_entries(grpc_request)).await,
            Call::Vote => deadline(ttl_ms, client.vote(grpc_request)).await,
            Call::InstallSnapshot => deadline(ttl_ms, client.install_snapshot(grpc_request)).await,
        }
        .map_err(|status| transport_error(&status))?;
        let result: Result<Resp, RaftError<NodeId, E>> =
            codec::decode(&reply.into_inner().data).map_err(|status| transport_error(&status))?;
        result.map_err(|error| RPCError::RemoteError(RemoteError::new(self.target, error)))
    }
}

impl RaftNetwork<TypeConfig> for GrpcRaftClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        self.call(Call::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, NodeInfo, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(Call::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        self.call(Call::Vote, &rpc, &option).await
    }
}

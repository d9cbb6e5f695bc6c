//! openraft's network over gRPC: append-entries and vote are one unary call
//! each, carrying the bincode of openraft's request and answered with the
//! bincode of `Result<response, RaftError>`; a snapshot is streamed
//! (`snapshot`). A peer that cannot be reached is reported as
//! `Unreachable`, which makes openraft back off instead of spinning.

use std::future::Future;
use std::sync::Arc;

use coffer_meta::{NodeId, NodeInfo, TypeConfig};
use openraft::error::{
    NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed, StreamingError, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::storage::Snapshot;
use openraft::{OptionalSend, RaftNetwork, RaftNetworkFactory, Vote};
use serde::de::DeserializeOwned;

use crate::client::deadline;
use crate::codec;
use crate::pb;
use crate::peers::Peers;
use crate::snapshot;

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

/// Whether a failed call means the peer is down (back off) rather than a
/// one-off network error (retry).
fn is_unreachable(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
    )
}

fn status_error(status: &tonic::Status) -> TransportError {
    TransportError(format!("{}: {}", status.code(), status.message()))
}

fn transport_error<E: std::error::Error>(status: &tonic::Status) -> RPCError<NodeId, NodeInfo, E> {
    if is_unreachable(status) {
        RPCError::Unreachable(Unreachable::new(&status_error(status)))
    } else {
        RPCError::Network(NetworkError::new(&status_error(status)))
    }
}

fn streaming_error(status: &tonic::Status) -> snapshot::SendError {
    if is_unreachable(status) {
        StreamingError::Unreachable(Unreachable::new(&status_error(status)))
    } else {
        StreamingError::Network(NetworkError::new(&status_error(status)))
    }
}

enum Call {
    AppendEntries,
    Vote,
}

impl GrpcRaftClient {
    fn client(
        &self,
    ) -> Result<pb::raft_client::RaftClient<tonic::transport::Channel>, tonic::Status> {
        let channel = self.peers.channel(&self.address)?;
        Ok(pb::raft_client::RaftClient::new(channel)
            .max_decoding_message_size(crate::MESSAGE_BYTES_MAX)
            .max_encoding_message_size(crate::MESSAGE_BYTES_MAX))
    }

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
        let mut client = self.client().map_err(|status| transport_error(&status))?;
        let mut grpc_request = tonic::Request::new(pb::Payload { data: payload });
        grpc_request.set_timeout(option.hard_ttl());
        let ttl_ms = u64::try_from(option.hard_ttl().as_millis()).unwrap_or(u64::MAX);
        let reply = match call {
            Call::AppendEntries => {
                deadline(
                    "Raft.AppendEntries",
                    ttl_ms,
                    client.append_entries(grpc_request),
                )
                .await
            }
            Call::Vote => deadline("Raft.Vote", ttl_ms, client.vote(grpc_request)).await,
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

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snapshot: Snapshot<TypeConfig>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, snapshot::SendError> {
        let client = self.client().map_err(|status| streaming_error(&status))?;
        snapshot::send(
            client,
            self.target,
            vote,
            snapshot,
            cancel,
            option.hard_ttl(),
            streaming_error,
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, NodeInfo, RaftError<NodeId>>> {
        self.call(Call::Vote, &rpc, &option).await
    }
}

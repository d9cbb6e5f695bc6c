//! The server side: Raft delivery, cluster membership and forwarding, and
//! this node's blocks. Every call but `Join` must come with a client
//! certificate from the region CA (the TLS layer has already checked the
//! chain; `require_peer` checks that there was one).

use std::sync::Arc;

use coffer_blob::{BlobError, BlockStore};
use coffer_meta::{CommandBatch, MetaError, MetaStore, NodeInfo};
use coffer_types::DataId;
use openraft::storage::Snapshot;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};
use zeroize::Zeroizing;

use crate::client::RpcClient;
use crate::codec;
use crate::pb;
use crate::snapshot;
use crate::tls::NodeIdentity;

/// Marks a membership request one node already forwarded, so a stale view
/// of who leads never bounces it around.
pub(crate) const FORWARDED_HEADER: &str = "x-coffer-forwarded";

/// What `Join` hands out to a caller with the right token.
pub struct RegionSecrets {
    /// The secret half of the join token.
    pub join_secret: Zeroizing<Vec<u8>>,
    pub ca_key_pem: Zeroizing<String>,
    pub master_key: Zeroizing<Vec<u8>>,
    pub region: String,
}

/// Everything the services work on.
pub struct ServiceState {
    pub meta: Arc<MetaStore>,
    pub blocks: Arc<BlockStore>,
    pub identity: NodeIdentity,
    pub secrets: RegionSecrets,
    pub client: Arc<RpcClient>,
    /// False while a node that starts with no data (new, or wiped) is not
    /// yet a member again: it must not vote, since an empty log would let
    /// it elect a leader that lacks entries it had acknowledged before.
    pub votes_allowed: std::sync::atomic::AtomicBool,
}

fn require_peer<T>(request: &Request<T>) -> Result<(), Status> {
    match request.peer_certs() {
        Some(certs) if !certs.is_empty() => Ok(()),
        _ => Err(Status::unauthenticated(
            "a client certificate from the region CA is required",
        )),
    }
}

pub(crate) fn meta_status(error: MetaError) -> Status {
    match error {
        MetaError::NotLeader | MetaError::ShuttingDown | MetaError::Unavailable(_) => {
            Status::unavailable(error.to_string())
        }
        MetaError::UnknownMember(_) => Status::not_found(error.to_string()),
        other => Status::internal(other.to_string()),
    }
}

fn blob_status(error: BlobError) -> Status {
    match error {
        BlobError::NotFound { .. } => Status::not_found(error.to_string()),
        other => Status::internal(other.to_string()),
    }
}

fn data_id(bytes: &[u8]) -> Result<DataId, Status> {
    let array: [u8; 16] = bytes
        .try_into()
        .map_err(|_| Status::invalid_argument("a data id is 16 bytes"))?;
    Ok(DataId(array))
}

fn block_ref(block: Option<pb::BlockRef>) -> Result<(DataId, u64), Status> {
    let block = block.ok_or_else(|| Status::invalid_argument("missing block"))?;
    Ok((data_id(&block.data_id)?, block.index))
}

pub(crate) fn node_info(address: &pb::NodeAddress) -> NodeInfo {
    NodeInfo {
        rpc_addr: address.rpc_addr.clone(),
        s3_addr: address.s3_addr.clone(),
        admin_addr: address.admin_addr.clone(),
        zone: address.zone.clone(),
    }
}

struct RaftService(Arc<ServiceState>);

#[tonic::async_trait]
impl pb::raft_server::Raft for RaftService {
    async fn append_entries(
        &self,
        request: Request<pb::Payload>,
    ) -> Result<Response<pb::Payload>, Status> {
        require_peer(&request)?;
        let message = codec::decode(&request.into_inner().data)?;
        let result = self.0.meta.raft().append_entries(message).await;
        Ok(Response::new(pb::Payload {
            data: codec::encode(&result)?,
        }))
    }

    async fn vote(&self, request: Request<pb::Payload>) -> Result<Response<pb::Payload>, Status> {
        require_peer(&request)?;
        if !self
            .0
            .votes_allowed
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Err(Status::unavailable(
                "joining: not voting until this node is a member again",
            ));
        }
        let message = codec::decode(&request.into_inner().data)?;
        let result = self.0.meta.raft().vote(message).await;
        Ok(Response::new(pb::Payload {
            data: codec::encode(&result)?,
        }))
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<pb::SnapshotChunk>>,
    ) -> Result<Response<pb::Payload>, Status> {
        require_peer(&request)?;
        let mut stream = request.into_inner();
        let header = snapshot::receive_header(&mut stream).await?;
        let raft = self.0.meta.raft();
        let staged = raft
            .begin_receiving_snapshot()
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        let received_bytes =
            match snapshot::receive_files(&mut stream, &staged, &header.manifest).await {
                Ok(bytes) => bytes,
                Err(status) => {
                    staged.discard();
                    return Err(status);
                }
            };
        let leftover = (*staged).clone();
        let result = raft
            .install_full_snapshot(
                header.vote,
                Snapshot {
                    meta: header.meta,
                    snapshot: staged,
                },
            )
            .await;
        // Installing moves the staged directory; when openraft declined
        // (an old vote, or a snapshot it already has), it is still here.
        if leftover.checkpoint_dir().exists() {
            leftover.discard();
        } else {
            metrics::counter!("coffer_raft_snapshots_installed_total").increment(1);
            metrics::counter!("coffer_raft_snapshot_received_bytes_total")
                .increment(received_bytes);
        }
        Ok(Response::new(pb::Payload {
            data: codec::encode(&result)?,
        }))
    }
}

struct ClusterService(Arc<ServiceState>);

impl ClusterService {
    fn forwarded<T>(request: &Request<T>) -> bool {
        request.metadata().contains_key(FORWARDED_HEADER)
    }

    /// Run a membership change here when this node leads, else hand it to
    /// the leader once.
    fn leader_to_forward_to<T>(&self, request: &Request<T>) -> Result<Option<NodeInfo>, Status> {
        let meta = &self.0.meta;
        match meta.leader() {
            Some((leader, _)) if leader == meta.node_id() => Ok(None),
            Some((_, node)) if !Self::forwarded(request) => Ok(Some(node)),
            _ => Err(Status::unavailable(
                "no leader to take the membership change",
            )),
        }
    }
}

#[tonic::async_trait]
impl pb::cluster_server::Cluster for ClusterService {
    async fn join(
        &self,
        request: Request<pb::JoinRequest>,
    ) -> Result<Response<pb::JoinReply>, Status> {
        let join = request.into_inner();
        let expected = &self.0.secrets.join_secret;
        let matches: bool = join.token_secret.as_ref().ct_eq(expected.as_slice()).into();
        if !matches || expected.is_empty() {
            tracing::warn!(
                node_id = join.node.as_ref().map(|node| node.node_id),
                "join refused: wrong token"
            );
            return Err(Status::unauthenticated("invalid join token"));
        }
        tracing::info!(
            node_id = join.node.as_ref().map(|node| node.node_id),
            "sending the region secrets to a joining node"
        );
        Ok(Response::new(pb::JoinReply {
            ca_cert_pem: self.0.identity.ca_cert_pem.clone().into_bytes().into(),
            ca_key_pem: self.0.secrets.ca_key_pem.as_bytes().to_vec().into(),
            master_key: self.0.secrets.master_key.to_vec().into(),
            region: self.0.secrets.region.clone(),
        }))
    }

    async fn add_member(
        &self,
        request: Request<pb::NodeAddress>,
    ) -> Result<Response<pb::Empty>, Status> {
        require_peer(&request)?;
        if let Some(leader) = self.leader_to_forward_to(&request)? {
            self.0
                .client
                .add_member_at(&leader.rpc_addr, request.into_inner(), true)
                .await?;
            return Ok(Response::new(pb::Empty {}));
        }
        let address = request.into_inner();
        if address.node_id == 0 {
            return Err(Status::invalid_argument("node id 0 is not valid"));
        }
        tracing::info!(
            node_id = address.node_id,
            rpc = address.rpc_addr,
            zone = address.zone,
            "adding a member"
        );
        self.0
            .meta
            .add_voter(address.node_id, node_info(&address))
            .await
            .map_err(meta_status)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        require_peer(&request)?;
        if let Some(leader) = self.leader_to_forward_to(&request)? {
            let node_id = request.into_inner().node_id;
            self.0
                .client
                .remove_member_at(&leader.rpc_addr, node_id, true)
                .await?;
            return Ok(Response::new(pb::Empty {}));
        }
        let node_id = request.into_inner().node_id;
        tracing::info!(node_id, "removing a member");
        self.0
            .meta
            .remove_member(node_id)
            .await
            .map_err(meta_status)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn propose(
        &self,
        request: Request<pb::Payload>,
    ) -> Result<Response<pb::Payload>, Status> {
        require_peer(&request)?;
        let batch: CommandBatch = codec::decode(&request.into_inner().data)?;
        let results = self
            .0
            .meta
            .propose_forwarded(batch)
            .await
            .map_err(meta_status)?;
        Ok(Response::new(pb::Payload {
            data: codec::encode(&results)?,
        }))
    }

    async fn read_index(
        &self,
        request: Request<pb::Empty>,
    ) -> Result<Response<pb::ReadIndexReply>, Status> {
        require_peer(&request)?;
        let index = self
            .0
            .meta
            .read_index_as_leader()
            .await
            .map_err(meta_status)?;
        Ok(Response::new(pb::ReadIndexReply { index }))
    }

    async fn status(
        &self,
        request: Request<pb::Empty>,
    ) -> Result<Response<pb::NodeStatusReply>, Status> {
        require_peer(&request)?;
        let stats = self.0.blocks.stats();
        let status = self.0.meta.status();
        Ok(Response::new(pb::NodeStatusReply {
            node_id: status.node_id,
            block_files: stats.files,
            block_bytes: stats.bytes,
            applied_index: status.applied_index,
        }))
    }
}

struct BlocksService(Arc<ServiceState>);

#[tonic::async_trait]
impl pb::blocks_server::Blocks for BlocksService {
    async fn put(
        &self,
        request: Request<pb::PutBlockRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        require_peer(&request)?;
        let put = request.into_inner();
        let (data_id, index) = block_ref(put.block)?;
        self.0
            .blocks
            .write_local(data_id, index, put.data)
            .await
            .map_err(blob_status)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn get(
        &self,
        request: Request<pb::GetBlockRequest>,
    ) -> Result<Response<pb::GetBlockReply>, Status> {
        require_peer(&request)?;
        let get = request.into_inner();
        let (data_id, index) = block_ref(get.block)?;
        // The reply must fit a message; the file's size bounds the read too.
        let length = get.length.min(crate::MESSAGE_BYTES_MAX as u64 - 1024);
        let data = self
            .0
            .blocks
            .read_local(data_id, index, get.offset, length)
            .await
            .map_err(blob_status)?;
        Ok(Response::new(pb::GetBlockReply { data: data.into() }))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteDataRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        require_peer(&request)?;
        let delete = request.into_inner();
        let data_id = data_id(&delete.data_id)?;
        match delete.only_index {
            Some(index) => self.0.blocks.remove_local_block(data_id, index).await,
            None => {
                self.0
                    .blocks
                    .delete_local(data_id, delete.block_count)
                    .await
            }
        }
        .map_err(blob_status)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn stat(
        &self,
        request: Request<pb::BlockRef>,
    ) -> Result<Response<pb::StatBlockReply>, Status> {
        require_peer(&request)?;
        let (data_id, index) = block_ref(Some(request.into_inner()))?;
        let size = self
            .0
            .blocks
            .stat_local(data_id, index)
            .await
            .map_err(blob_status)?;
        Ok(Response::new(pb::StatBlockReply {
            exists: size.is_some(),
            size_bytes: size.unwrap_or(0),
        }))
    }
}

/// Serve every service on `listener` over mutual TLS until `shutdown`
/// completes.
pub async fn serve(
    state: Arc<ServiceState>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let max = crate::MESSAGE_BYTES_MAX;
    let tls = state.identity.server_config();
    tonic::transport::Server::builder()
        .tls_config(tls)?
        .add_service(
            pb::raft_server::RaftServer::new(RaftService(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            pb::cluster_server::ClusterServer::new(ClusterService(state.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            pb::blocks_server::BlocksServer::new(BlocksService(state))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}

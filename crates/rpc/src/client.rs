//! The calling side: forwarding and read-index for the metadata store
//! (`LeaderLink`), block transfer for the block store (`BlockTransport`),
//! membership calls for the admin API, and the token exchange of a joining
//! node (`join_region`).

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use coffer_blob::{BlobError, BlockTransport};
use coffer_meta::{
    CommandBatch, CommandResult, LeaderLink, MetaError, MetaStore, NodeId, NodeInfo,
};
use coffer_types::DataId;
use tonic::{Code, Request, Status};
use zeroize::Zeroizing;

use crate::codec;
use crate::pb;
use crate::peers::{connect_lazy, Peers};
use crate::raft_net::GrpcRaftNetwork;
use crate::services::FORWARDED_HEADER;
use crate::tls::{join_client_config, NodeIdentity};

const PROPOSE_TIMEOUT_MS: u64 = 10_000;
const READ_INDEX_TIMEOUT_MS: u64 = 5_000;
/// A block is at most a few MiB: a peer that takes longer than this is
/// treated as down (the write goes on with the other replicas, a read with
/// the next one).
const BLOCK_TRANSFER_TIMEOUT_MS: u64 = 10_000;
const BLOCK_SMALL_CALL_TIMEOUT_MS: u64 = 10_000;
const STATUS_TIMEOUT_MS: u64 = 2_000;
/// Adding a member waits for it to catch up (snapshot + log).
const ADD_MEMBER_TIMEOUT_MS: u64 = 310_000;
const JOIN_TIMEOUT_MS: u64 = 10_000;

/// One node's view of its peers.
pub struct RpcClient {
    peers: Arc<Peers>,
    /// Node addresses come from the Raft membership; set once the metadata
    /// store is open (it needs this client first, as its leader link).
    meta: OnceLock<Weak<MetaStore>>,
}

/// What a peer said about itself (`Cluster.Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub block_files: u64,
    pub block_bytes: u64,
    pub applied_index: u64,
}

fn timed<T>(message: T, timeout_ms: u64) -> Request<T> {
    let mut request = Request::new(message);
    // Tells the server when to give up; the client side is `deadline`.
    request.set_timeout(Duration::from_millis(timeout_ms));
    request
}

/// A membership call, marked when one node hands it on to the leader.
fn membership_request<T>(message: T, forwarded: bool) -> Request<T> {
    let mut request = timed(message, ADD_MEMBER_TIMEOUT_MS);
    if forwarded {
        request
            .metadata_mut()
            .insert(FORWARDED_HEADER, "1".parse().expect("ascii"));
    }
    request
}

/// `call.within(method, ms)`: `deadline` as a method.
pub(crate) trait Within<T>: std::future::Future<Output = Result<T, Status>> + Sized {
    fn within(
        self,
        method: &'static str,
        timeout_ms: u64,
    ) -> impl std::future::Future<Output = Result<T, Status>> {
        deadline(method, timeout_ms, self)
    }
}

impl<T, F: std::future::Future<Output = Result<T, Status>>> Within<T> for F {}

/// Bound a call on the client side too: `grpc-timeout` is enforced by the
/// server, and a frozen server (SIGSTOP, hung host) enforces nothing. Every
/// call's latency lands in `coffer_rpc_client_duration_seconds`.
pub(crate) async fn deadline<T>(
    method: &'static str,
    timeout_ms: u64,
    call: impl std::future::Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_millis(timeout_ms), call)
        .await
        .unwrap_or_else(|_| {
            Err(Status::deadline_exceeded(format!(
                "no answer within {timeout_ms} ms"
            )))
        });
    record_call(method, started, result.as_ref().err());
    result
}

/// Record one finished call: `result` is `ok` or the gRPC code's name.
pub(crate) fn record_call(
    method: &'static str,
    started: std::time::Instant,
    error: Option<&Status>,
) {
    let result = match error {
        None => "ok".to_owned(),
        Some(status) => format!("{:?}", status.code()),
    };
    metrics::histogram!(
        "coffer_rpc_client_duration_seconds",
        "method" => method,
        "result" => result
    )
    .record(started.elapsed().as_secs_f64());
}

fn meta_error(status: Status) -> MetaError {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
            MetaError::Unavailable(format!("leader: {}", status.message()))
        }
        _ => MetaError::Raft(format!("leader: {}: {}", status.code(), status.message())),
    }
}

fn blob_error(node: u64, data_id: DataId, index: u64, status: Status) -> BlobError {
    match status.code() {
        Code::NotFound => BlobError::NotFound { data_id, index },
        _ => BlobError::Unreachable {
            node,
            message: format!("{}: {}", status.code(), status.message()),
        },
    }
}

impl RpcClient {
    pub fn new(identity: &NodeIdentity) -> Arc<Self> {
        Arc::new(Self {
            peers: Arc::new(Peers::new(identity.client_config())),
            meta: OnceLock::new(),
        })
    }

    /// openraft's network, sharing this client's channels.
    pub fn raft_network(&self) -> GrpcRaftNetwork {
        GrpcRaftNetwork::new(self.peers.clone())
    }

    /// Resolve node ids through this store's membership from now on.
    pub fn attach(&self, meta: &Arc<MetaStore>) {
        let _ = self.meta.set(Arc::downgrade(meta));
    }

    fn address_of(&self, node: NodeId) -> Result<String, Status> {
        let meta = self
            .meta
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| Status::unavailable("metadata store not open"))?;
        meta.members()
            .into_iter()
            .find(|member| member.node_id == node)
            .map(|member| member.node.rpc_addr)
            .ok_or_else(|| Status::unavailable(format!("node {node} is not a member")))
    }

    fn cluster_at(
        &self,
        address: &str,
    ) -> Result<pb::cluster_client::ClusterClient<tonic::transport::Channel>, Status> {
        Ok(
            pb::cluster_client::ClusterClient::new(self.peers.channel(address)?)
                .max_decoding_message_size(crate::MESSAGE_BYTES_MAX)
                .max_encoding_message_size(crate::MESSAGE_BYTES_MAX),
        )
    }

    fn blocks_of(
        &self,
        node: NodeId,
    ) -> Result<pb::blocks_client::BlocksClient<tonic::transport::Channel>, Status> {
        let address = self.address_of(node)?;
        Ok(
            pb::blocks_client::BlocksClient::new(self.peers.channel(&address)?)
                .max_decoding_message_size(crate::MESSAGE_BYTES_MAX)
                .max_encoding_message_size(crate::MESSAGE_BYTES_MAX),
        )
    }

    /// Ask the node at `address` (any member) to make `node` a voter.
    pub async fn add_member_at(
        &self,
        address: &str,
        node: pb::NodeAddress,
        forwarded: bool,
    ) -> Result<(), Status> {
        self.cluster_at(address)?
            .add_member(membership_request(node, forwarded))
            .within("Cluster.AddMember", ADD_MEMBER_TIMEOUT_MS)
            .await?;
        Ok(())
    }

    pub async fn remove_member_at(
        &self,
        address: &str,
        node_id: NodeId,
        forwarded: bool,
    ) -> Result<(), Status> {
        self.cluster_at(address)?
            .remove_member(membership_request(
                pb::RemoveMemberRequest { node_id },
                forwarded,
            ))
            .within("Cluster.RemoveMember", ADD_MEMBER_TIMEOUT_MS)
            .await?;
        Ok(())
    }

    /// A member's own report of its disk use and progress.
    pub async fn status_of(&self, address: &str) -> Result<PeerStatus, Status> {
        let reply = self
            .cluster_at(address)?
            .status(timed(pb::Empty {}, STATUS_TIMEOUT_MS))
            .within("Cluster.Status", STATUS_TIMEOUT_MS)
            .await?
            .into_inner();
        Ok(PeerStatus {
            block_files: reply.block_files,
            block_bytes: reply.block_bytes,
            applied_index: reply.applied_index,
        })
    }
}

#[async_trait::async_trait]
impl LeaderLink for RpcClient {
    async fn propose(
        &self,
        _leader: NodeId,
        node: &NodeInfo,
        batch: CommandBatch,
    ) -> Result<Vec<CommandResult>, MetaError> {
        let data = codec::encode(&batch).map_err(meta_error)?;
        let reply = self
            .cluster_at(&node.rpc_addr)
            .map_err(meta_error)?
            .propose(timed(pb::Payload { data }, PROPOSE_TIMEOUT_MS))
            .within("Cluster.Propose", PROPOSE_TIMEOUT_MS)
            .await
            .map_err(meta_error)?;
        codec::decode(&reply.into_inner().data).map_err(meta_error)
    }

    async fn read_index(&self, _leader: NodeId, node: &NodeInfo) -> Result<u64, MetaError> {
        let reply = self
            .cluster_at(&node.rpc_addr)
            .map_err(meta_error)?
            .read_index(timed(pb::Empty {}, READ_INDEX_TIMEOUT_MS))
            .within("Cluster.ReadIndex", READ_INDEX_TIMEOUT_MS)
            .await
            .map_err(meta_error)?;
        Ok(reply.into_inner().index)
    }
}

fn block_ref(data_id: DataId, index: u64) -> pb::BlockRef {
    pb::BlockRef {
        data_id: Bytes::copy_from_slice(&data_id.0),
        index,
    }
}

#[async_trait::async_trait]
impl BlockTransport for RpcClient {
    async fn put(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        let unreachable = |status| blob_error(node, data_id, index, status);
        let request = pb::PutBlockRequest {
            block: Some(block_ref(data_id, index)),
            data: bytes,
        };
        self.blocks_of(node)
            .map_err(unreachable)?
            .put(timed(request, BLOCK_TRANSFER_TIMEOUT_MS))
            .within("Blocks.Put", BLOCK_TRANSFER_TIMEOUT_MS)
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    async fn get(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError> {
        let unreachable = |status| blob_error(node, data_id, index, status);
        let request = pb::GetBlockRequest {
            block: Some(block_ref(data_id, index)),
            offset,
            length,
        };
        let reply = self
            .blocks_of(node)
            .map_err(unreachable)?
            .get(timed(request, BLOCK_TRANSFER_TIMEOUT_MS))
            .within("Blocks.Get", BLOCK_TRANSFER_TIMEOUT_MS)
            .await
            .map_err(unreachable)?;
        Ok(reply.into_inner().data.to_vec())
    }

    async fn delete(&self, node: u64, data_id: DataId, block_count: u64) -> Result<(), BlobError> {
        let unreachable = |status| blob_error(node, data_id, 0, status);
        let request = pb::DeleteDataRequest {
            data_id: Bytes::copy_from_slice(&data_id.0),
            block_count,
            only_index: None,
        };
        self.blocks_of(node)
            .map_err(unreachable)?
            .delete(timed(request, BLOCK_SMALL_CALL_TIMEOUT_MS))
            .within("Blocks.Delete", BLOCK_SMALL_CALL_TIMEOUT_MS)
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    async fn delete_block(&self, node: u64, data_id: DataId, index: u64) -> Result<(), BlobError> {
        let unreachable = |status| blob_error(node, data_id, index, status);
        let request = pb::DeleteDataRequest {
            data_id: Bytes::copy_from_slice(&data_id.0),
            block_count: 0,
            only_index: Some(index),
        };
        self.blocks_of(node)
            .map_err(unreachable)?
            .delete(timed(request, BLOCK_SMALL_CALL_TIMEOUT_MS))
            .within("Blocks.Delete", BLOCK_SMALL_CALL_TIMEOUT_MS)
            .await
            .map_err(unreachable)?;
        Ok(())
    }

    async fn stat(&self, node: u64, data_id: DataId, index: u64) -> Result<Option<u64>, BlobError> {
        let unreachable = |status| blob_error(node, data_id, index, status);
        let reply = self
            .blocks_of(node)
            .map_err(unreachable)?
            .stat(timed(
                block_ref(data_id, index),
                BLOCK_SMALL_CALL_TIMEOUT_MS,
            ))
            .within("Blocks.Stat", BLOCK_SMALL_CALL_TIMEOUT_MS)
            .await
            .map_err(unreachable)?
            .into_inner();
        Ok(reply.exists.then_some(reply.size_bytes))
    }
}

/// The region secrets a join token buys.
pub struct JoinedRegion {
    pub ca_cert_pem: String,
    pub ca_key_pem: Zeroizing<String>,
    pub master_key: Zeroizing<Vec<u8>>,
    pub region: String,
}

/// Exchange a join token for the region secrets at `address` (any member),
/// trusting only the CA certificate carried in the token.
pub async fn join_region(
    address: &str,
    ca_cert_pem: &str,
    token_secret: &[u8],
    node_id: NodeId,
    node: &NodeInfo,
) -> Result<JoinedRegion, Status> {
    let channel = connect_lazy(address, join_client_config(ca_cert_pem))?;
    let mut client = pb::cluster_client::ClusterClient::new(channel);
    let request = pb::JoinRequest {
        token_secret: Bytes::copy_from_slice(token_secret),
        node: Some(pb::NodeAddress {
            node_id,
            rpc_addr: node.rpc_addr.clone(),
            s3_addr: node.s3_addr.clone(),
            admin_addr: node.admin_addr.clone(),
            zone: node.zone.clone(),
        }),
    };
    let reply = client
        .join(timed(request, JOIN_TIMEOUT_MS))
        .within("Cluster.Join", JOIN_TIMEOUT_MS)
        .await?
        .into_inner();
    let text = |bytes: Bytes, what: &str| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Status::internal(format!("{what} is not UTF-8")))
    };
    Ok(JoinedRegion {
        ca_cert_pem: text(reply.ca_cert_pem, "CA certificate")?,
        ca_key_pem: Zeroizing::new(text(reply.ca_key_pem, "CA key")?),
        master_key: Zeroizing::new(reply.master_key.to_vec()),
        region: reply.region,
    })
}

/// Describe this node for `AddMember`.
pub fn node_address(node_id: NodeId, node: &NodeInfo) -> pb::NodeAddress {
    pb::NodeAddress {
        node_id,
        rpc_addr: node.rpc_addr.clone(),
        s3_addr: node.s3_addr.clone(),
        admin_addr: node.admin_addr.clone(),
        zone: node.zone.clone(),
    }
}

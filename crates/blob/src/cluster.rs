//! Blocks across a region (DESIGN.md §5): each block goes to the nodes that
//! `placement` picks, in parallel, and counts as written once a write
//! quorum of them has fsynced it; a replica that is slow or down is left to
//! repair. Reads try the replicas in placement order — this node first when
//! it holds one — and then every other member, which finds blocks placed
//! under an older membership that rebalancing has not moved yet.
//!
//! The transport to other nodes and the membership come from outside
//! (coffer-rpc and the metadata store, wired by the binary).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use coffer_types::DataId;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;

use crate::placement::{self, PlacementNode};
use crate::{BlobError, BlockStore};

/// Replica writes that may go on after their block reached its quorum;
/// past this, a straggler is dropped and repair fills its replica later.
/// Bounds the memory held for slow or stopped nodes (4 MiB each).
const STRAGGLER_WRITES_MAX: usize = 64;
/// A straggler gives up after this long.
const STRAGGLER_TIMEOUT_MS: u64 = 30_000;

/// Block operations on another node.
#[async_trait::async_trait]
pub trait BlockTransport: Send + Sync + 'static {
    /// Store a block durably on `node` (answers after its fsync).
    async fn put(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        bytes: Bytes,
    ) -> Result<(), BlobError>;
    async fn get(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError>;
    async fn delete(&self, node: u64, data_id: DataId, block_count: u64) -> Result<(), BlobError>;
    /// Remove one block from `node` (a replica found corrupt).
    async fn delete_block(&self, node: u64, data_id: DataId, index: u64) -> Result<(), BlobError>;
    /// The block's size on `node`, or `None` when it has no such block.
    async fn stat(&self, node: u64, data_id: DataId, index: u64) -> Result<Option<u64>, BlobError>;
}

/// The region's current members, for placement.
pub trait Membership: Send + Sync + 'static {
    fn nodes(&self) -> Vec<PlacementNode>;
}

/// What makes a `BlockStore` part of a region.
pub struct ClusterConfig {
    pub local_node_id: u64,
    /// Wanted replicas per block; the effective count is at most the
    /// number of nodes.
    pub replication_factor: usize,
    pub transport: Arc<dyn BlockTransport>,
    pub membership: Arc<dyn Membership>,
}

pub(crate) struct Cluster {
    config: ClusterConfig,
    stragglers: Arc<Semaphore>,
}

impl Cluster {
    pub(crate) fn new(config: ClusterConfig) -> Self {
        Self {
            config,
            stragglers: Arc::new(Semaphore::new(STRAGGLER_WRITES_MAX)),
        }
    }

    pub(crate) fn local_node_id(&self) -> u64 {
        self.config.local_node_id
    }

    /// The nodes that should hold block `index` of `data_id`, best first.
    pub(crate) fn replicas(&self, data_id: &DataId, index: u64) -> Vec<u64> {
        self.replicas_without(data_id, index, None)
    }

    /// Placement as it will be once `excluded` has left the region.
    pub(crate) fn replicas_without(
        &self,
        data_id: &DataId,
        index: u64,
        excluded: Option<u64>,
    ) -> Vec<u64> {
        let mut nodes = self.config.membership.nodes();
        nodes.retain(|node| Some(node.node_id) != excluded);
        let count = self.config.replication_factor.max(1).min(nodes.len());
        placement::replicas(data_id, index, &nodes, count)
    }

    pub(crate) fn member_ids(&self) -> Vec<u64> {
        self.config
            .membership
            .nodes()
            .into_iter()
            .map(|node| node.node_id)
            .collect()
    }

    pub(crate) fn transport(&self) -> &Arc<dyn BlockTransport> {
        &self.config.transport
    }
}

/// Block operations on any member, this node included: its own files are
/// reached directly, the others over the transport. Owned, so a write can
/// outlive the request that started it (stragglers, discarded replicas).
#[derive(Clone)]
struct Nodes {
    local: BlockStore,
    local_id: u64,
    transport: Arc<dyn BlockTransport>,
}

impl Nodes {
    async fn put(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        if node == self.local_id {
            self.local.write_local(data_id, index, bytes).await
        } else {
            self.transport.put(node, data_id, index, bytes).await
        }
    }

    async fn get(
        &self,
        node: u64,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError> {
        if node == self.local_id {
            self.local.read_local(data_id, index, offset, length).await
        } else {
            self.transport
                .get(node, data_id, index, offset, length)
                .await
        }
    }

    async fn stat(&self, node: u64, data_id: DataId, index: u64) -> Result<Option<u64>, BlobError> {
        if node == self.local_id {
            self.local.stat_local(data_id, index).await
        } else {
            self.transport.stat(node, data_id, index).await
        }
    }

    async fn delete_block(&self, node: u64, data_id: DataId, index: u64) -> Result<(), BlobError> {
        if node == self.local_id {
            self.local.remove_local_block(data_id, index).await
        } else {
            self.transport.delete_block(node, data_id, index).await
        }
    }
}

impl BlockStore {
    fn nodes(&self, cluster: &Cluster) -> Nodes {
        Nodes {
            local: self.local_handle(),
            local_id: cluster.local_node_id(),
            transport: cluster.transport().clone(),
        }
    }

    /// Write a block to its replicas; Ok once a write quorum has it durable.
    pub(crate) async fn write_replicated(
        &self,
        cluster: &Cluster,
        data_id: DataId,
        index: u64,
        bytes: Bytes,
    ) -> Result<(), BlobError> {
        let replicas = cluster.replicas(&data_id, index);
        if replicas.is_empty() {
            return self.write_local(data_id, index, bytes).await;
        }
        let quorum = placement::write_quorum(replicas.len());
        let nodes = self.nodes(cluster);
        let mut writes: FuturesUnordered<_> = replicas
            .iter()
            .map(|&node| {
                let (nodes, bytes) = (nodes.clone(), bytes.clone());
                async move { (node, nodes.put(node, data_id, index, bytes).await) }
            })
            .collect();
        let mut succeeded = 0;
        let mut last_error = None;
        while let Some((node, result)) = writes.next().await {
            match result {
                Ok(()) => succeeded += 1,
                Err(error) => {
                    tracing::warn!(node, %data_id, index, %error, "replica write failed; repair will fill it");
                    last_error = Some(error);
                }
            }
            if succeeded >= quorum {
                break;
            }
        }
        if succeeded < quorum {
            return Err(BlobError::Quorum {
                succeeded,
                needed: quorum,
                last_error: last_error
                    .map(|error| error.to_string())
                    .unwrap_or_default(),
            });
        }
        if !writes.is_empty() {
            // Let the remaining replicas finish in the background, bounded
            // in number and time; dropping them is safe (repair).
            match cluster.stragglers.clone().try_acquire_owned() {
                Ok(permit) => {
                    metrics::gauge!("coffer_replica_writes_in_flight").increment(1.0);
                    tokio::spawn(async move {
                        let drain = async {
                            while let Some((node, result)) = writes.next().await {
                                if let Err(error) = result {
                                    tracing::warn!(node, %data_id, index, %error, "replica write failed after quorum; repair will fill it");
                                }
                            }
                        };
                        let _ = tokio::time::timeout(
                            Duration::from_millis(STRAGGLER_TIMEOUT_MS),
                            drain,
                        )
                        .await;
                        drop(permit);
                        metrics::gauge!("coffer_replica_writes_in_flight").decrement(1.0);
                    });
                }
                Err(_) => {
                    metrics::counter!("coffer_replica_writes_dropped_total").increment(1);
                    tracing::warn!(%data_id, index, "too many replica writes in flight; leaving this one to repair");
                }
            }
        }
        Ok(())
    }

    /// Read a range of a block from the first replica that has it.
    pub(crate) async fn read_replicated(
        &self,
        cluster: &Cluster,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, BlobError> {
        self.read_replicated_avoiding(cluster, data_id, index, offset, length, &[])
            .await
            .map(|(_, bytes)| bytes)
    }

    /// Read from the first replica not in `avoid`; returns which node
    /// served the bytes.
    pub(crate) async fn read_replicated_avoiding(
        &self,
        cluster: &Cluster,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
        avoid: &[u64],
    ) -> Result<(u64, Vec<u8>), BlobError> {
        let mut order = cluster.replicas(&data_id, index);
        // Local first when this node holds a replica (no network hop).
        if let Some(position) = order.iter().position(|&id| id == cluster.local_node_id()) {
            order[..=position].rotate_right(1);
        }
        for member in cluster.member_ids() {
            if !order.contains(&member) {
                order.push(member);
            }
        }
        order.retain(|node| !avoid.contains(node));
        let nodes = self.nodes(cluster);
        let mut last_error = BlobError::NotFound { data_id, index };
        for node in order {
            match nodes.get(node, data_id, index, offset, length).await {
                Ok(bytes) => return Ok((node, bytes)),
                Err(error) => {
                    if !matches!(error, BlobError::NotFound { .. }) {
                        tracing::warn!(node, %data_id, index, %error, "replica read failed; trying the next");
                    }
                    // An IO failure says more than "not found" elsewhere.
                    if matches!(last_error, BlobError::NotFound { .. }) {
                        last_error = error;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// Delete a data id's blocks on every member. A member that cannot be
    /// reached keeps its copy until its sweep finds it unreferenced.
    pub(crate) async fn delete_replicated(
        &self,
        cluster: &Cluster,
        data_id: DataId,
        block_count: u64,
    ) -> Result<(), BlobError> {
        let deletes: FuturesUnordered<_> = cluster
            .member_ids()
            .into_iter()
            .filter(|&node| node != cluster.local_node_id())
            .map(|node| {
                let transport = cluster.transport().clone();
                async move { (node, transport.delete(node, data_id, block_count).await) }
            })
            .collect();
        let remote = async {
            deletes
                .for_each(|(node, result)| async move {
                    if let Err(error) = result {
                        tracing::warn!(node, %data_id, %error, "remote delete failed; the node's sweep will remove the blocks");
                    }
                })
                .await
        };
        let (local, ()) = tokio::join!(self.delete_local(data_id, block_count), remote);
        local
    }
}

/// What repairing one block did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockRepair {
    /// Replicas that were missing and were written.
    pub copied: u32,
    pub copied_bytes: u64,
    /// Replicas still missing (no source reachable, or a write failed).
    pub failed: u32,
    /// Copies removed from nodes that placement no longer picks (after a
    /// node joined), once every picked node was seen to hold the block.
    pub removed: u32,
}

impl BlockStore {
    /// Make every node that placement picks for this block hold it: ask
    /// each replica whether it has the block, read it from one that does
    /// (or from any other member: blocks placed under an older membership)
    /// and write it to those that do not. A no-op when standalone.
    pub async fn repair_block(&self, data_id: DataId, index: u64) -> BlockRepair {
        self.repair_block_without(data_id, index, None).await
    }

    /// `repair_block` for the placement without node `excluded`: before a
    /// node is removed, its blocks are copied to where they will belong
    /// (it stays a source meanwhile).
    pub async fn repair_block_without(
        &self,
        data_id: DataId,
        index: u64,
        excluded: Option<u64>,
    ) -> BlockRepair {
        let Some(cluster) = &self.cluster else {
            return BlockRepair::default();
        };
        let replicas = cluster.replicas_without(&data_id, index, excluded);
        let nodes = self.nodes(cluster);
        let mut missing = Vec::new();
        let mut unknown = 0u32;
        for &node in &replicas {
            match nodes.stat(node, data_id, index).await {
                Ok(Some(_)) => {}
                Ok(None) => missing.push(node),
                // Unreachable: nothing to do now; a later pass retries.
                Err(error) => {
                    unknown += 1;
                    tracing::debug!(node, %data_id, index, %error, "repair: replica unreachable");
                }
            }
        }
        if missing.is_empty() {
            let mut outcome = BlockRepair::default();
            if unknown == 0 {
                outcome.removed =
                    remove_extra_copies(cluster, &nodes, data_id, index, &replicas, excluded).await;
            }
            return outcome;
        }
        // Any copy will do: segments carry their own tags, and the reader
        // verifies them.
        let bytes = match self
            .read_replicated(cluster, data_id, index, 0, u64::MAX)
            .await
        {
            Ok(bytes) => Bytes::from(bytes),
            Err(error) => {
                tracing::warn!(%data_id, index, %error, "repair: no readable copy of the block");
                return BlockRepair {
                    failed: missing.len() as u32,
                    ..BlockRepair::default()
                };
            }
        };
        let mut outcome = BlockRepair::default();
        for node in missing {
            match nodes.put(node, data_id, index, bytes.clone()).await {
                Ok(()) => {
                    outcome.copied += 1;
                    outcome.copied_bytes += bytes.len() as u64;
                }
                Err(error) => {
                    tracing::warn!(node, %data_id, index, %error, "repair: writing a replica failed");
                    outcome.failed += 1;
                }
            }
        }
        if outcome.failed == 0 && unknown == 0 {
            outcome.removed =
                remove_extra_copies(cluster, &nodes, data_id, index, &replicas, excluded).await;
        }
        outcome
    }
}

/// Every node placement picks holds the block: delete the copies other
/// members still have (placed under an older membership). The node being
/// drained keeps its copy; it leaves with it.
async fn remove_extra_copies(
    cluster: &Cluster,
    nodes: &Nodes,
    data_id: DataId,
    index: u64,
    replicas: &[u64],
    excluded: Option<u64>,
) -> u32 {
    let mut removed = 0;
    for node in cluster.member_ids() {
        if replicas.contains(&node) || Some(node) == excluded {
            continue;
        }
        if !matches!(nodes.stat(node, data_id, index).await, Ok(Some(_))) {
            continue;
        }
        match nodes.delete_block(node, data_id, index).await {
            Ok(()) => removed += 1,
            Err(error) => {
                tracing::debug!(node, %data_id, index, %error, "rebalance: could not remove an extra copy")
            }
        }
    }
    removed
}

impl BlockStore {
    /// Read a block range, skipping the nodes in `avoid` (replicas whose
    /// bytes failed authentication). Returns the node that served it
    /// (`None` when standalone, where there is no other copy to try).
    pub async fn read_block_range_avoiding(
        &self,
        data_id: DataId,
        index: u64,
        offset: u64,
        length: u64,
        avoid: &[u64],
    ) -> Result<(Option<u64>, Vec<u8>), BlobError> {
        match &self.cluster {
            Some(cluster) => self
                .read_replicated_avoiding(cluster, data_id, index, offset, length, avoid)
                .await
                .map(|(node, bytes)| (Some(node), bytes)),
            None => Ok((None, self.read_local(data_id, index, offset, length).await?)),
        }
    }

    /// A replica on `node` failed authentication: remove it and let repair
    /// write a good copy in its place (in the background).
    pub fn discard_corrupt_replica(&self, node: u64, data_id: DataId, index: u64) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        metrics::counter!("coffer_corrupt_replicas_total").increment(1);
        let (store, nodes) = (self.clone(), self.nodes(&cluster));
        tokio::spawn(async move {
            if let Err(error) = nodes.delete_block(node, data_id, index).await {
                tracing::warn!(node, %data_id, index, %error, "could not remove a corrupt replica");
                return;
            }
            let repair = store.repair_block(data_id, index).await;
            tracing::info!(node, %data_id, index, copied = repair.copied, "replaced a corrupt replica");
        });
    }
}

//! Wiring of a region member (a node started with `--rpc-listen`): its
//! membership credentials (`--init`, `--join`, or its own files on
//! restart), the RPC endpoint, the metadata store on the gRPC Raft network,
//! the block store with replicated placement, and the admin view of the
//! region.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use async_trait::async_trait;
use axum::http::StatusCode;
use coffer_admin::{AdminError, ClusterAdmin, NodeView};
use coffer_blob::{BlockStore, ClusterConfig, Membership, PlacementNode};
use coffer_crypto::MasterKey;
use coffer_meta::{MetaError, MetaStore, NodeInfo, OpenOptions, Start};
use coffer_rpc::{RegionSecrets, RpcClient, ServiceState};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::config::{ClusterSettings, ClusterStart, ServerConfig};
use crate::keys::{self, load_master_key, KeyOrigin};
use crate::region::{self, RegionFiles};

/// A joining node retries the token exchange and its admission this long
/// (the member it names may still be starting, e.g. under compose).
const JOIN_RETRY_WINDOW_MS: u64 = 600_000;
const JOIN_RETRY_PAUSE_MS: u64 = 1_000;

/// What `start` sets up.
pub struct Member {
    pub meta: Arc<MetaStore>,
    pub blocks: Arc<BlockStore>,
    pub master_key: MasterKey,
    pub key_origin: KeyOrigin,
    pub admin: Arc<dyn ClusterAdmin>,
    pub rpc_task: tokio::task::JoinHandle<()>,
}

/// This node as the membership stores it.
pub fn node_info(config: &ServerConfig, cluster: &ClusterSettings) -> NodeInfo {
    NodeInfo {
        rpc_addr: cluster.rpc_advertise.clone(),
        s3_addr: config.s3_listen.to_string(),
        admin_addr: config.admin_listen.to_string(),
        zone: config.zone.clone(),
    }
}

/// Placement reads the voters of the current membership.
struct MetaMembership(Weak<MetaStore>);

impl Membership for MetaMembership {
    fn nodes(&self) -> Vec<PlacementNode> {
        let Some(meta) = self.0.upgrade() else {
            return Vec::new();
        };
        meta.voters()
            .into_iter()
            .map(|(node_id, node)| PlacementNode {
                node_id,
                zone: node.zone,
            })
            .collect()
    }
}

pub async fn start(
    config: &ServerConfig,
    cluster: &ClusterSettings,
    rpc_listener: TcpListener,
    shutdown: &CancellationToken,
) -> anyhow::Result<Member> {
    let node = node_info(config, cluster);
    let files = RegionFiles::new(&config.data_dir);
    let fresh = !files.exist();
    if fresh {
        match &cluster.start {
            ClusterStart::Init => {
                // The master key first: it is generated here if missing.
                let (master_key, _) =
                    load_master_key(config.master_key_file.as_deref(), &config.data_dir)?;
                let (ca_cert_pem, ca_key_pem) = region::create_ca(&master_key)?;
                files.create(config.node_id, &ca_cert_pem, &ca_key_pem)?;
                tracing::info!("created a new region and its CA");
            }
            ClusterStart::Join {
                address,
                token: Some(token),
            } => {
                join(config, &node, address, token, shutdown).await?;
                tracing::info!(member = address, "received the region secrets");
            }
            ClusterStart::Join { token: None, .. } => {
                // Given the region's master key: derive the CA, no exchange.
                let (master_key, _) =
                    load_master_key(config.master_key_file.as_deref(), &config.data_dir)?;
                let (ca_cert_pem, ca_key_pem) = region::create_ca(&master_key)?;
                files.create(config.node_id, &ca_cert_pem, &ca_key_pem)?;
                tracing::info!("derived the region CA from the configured master key");
            }
            ClusterStart::Existing => bail!(
                "{} belongs to no region yet: start the first node with --init and the others \
                 with --join <rpc address of a member> --join-token <token>",
                config.data_dir.display()
            ),
        }
    } else if cluster.start != ClusterStart::Existing {
        tracing::info!("the data directory already belongs to a region; ignoring --init/--join");
    }

    let (master_key, key_origin) =
        load_master_key(config.master_key_file.as_deref(), &config.data_dir)?;
    let credentials = files.load()?;
    let client = RpcClient::new(&credentials.identity);
    let meta_dir = config.data_dir.join("meta");
    let start = match cluster.start {
        ClusterStart::Init if fresh => Start::Initialize,
        _ => Start::Join,
    };
    let meta = MetaStore::open_with(
        &meta_dir,
        OpenOptions {
            node_id: config.node_id,
            node: node.clone(),
            start,
            snapshot_logs_since_last: config.raft_snapshot_logs,
        },
        client.raft_network(),
        client.clone(),
    )
    .await
    .with_context(|| format!("cannot open the metadata store in {}", meta_dir.display()))?;
    client.attach(&meta);

    let blocks = BlockStore::open(&config.data_dir)
        .with_context(|| {
            format!(
                "cannot open the block store in {}",
                config.data_dir.display()
            )
        })?
        .with_cluster(ClusterConfig {
            local_node_id: config.node_id,
            replication_factor: usize::try_from(config.replication_factor).unwrap_or(usize::MAX),
            transport: client.clone(),
            membership: Arc::new(MetaMembership(Arc::downgrade(&meta))),
        });
    let blocks = Arc::new(blocks);

    let needs_admission = !meta.is_member().await? || (fresh && start == Start::Join);
    let join_secret = master_key.join_secret();
    let token = region::format_token(join_secret.as_ref(), &credentials.identity.ca_cert_pem)?;
    let state = Arc::new(ServiceState {
        meta: meta.clone(),
        blocks: blocks.clone(),
        identity: credentials.identity.clone(),
        secrets: RegionSecrets {
            join_secret: Zeroizing::new(join_secret.to_vec()),
            ca_key_pem: credentials.ca_key_pem.clone(),
            master_key: Zeroizing::new(master_key.to_bytes().to_vec()),
            region: config.region.clone(),
        },
        client: client.clone(),
        votes_allowed: AtomicBool::new(!needs_admission),
    });
    let state_for_votes = state.clone();
    let rpc_shutdown = shutdown.clone();
    let rpc_task = tokio::spawn(async move {
        if let Err(error) =
            coffer_rpc::serve(state, rpc_listener, rpc_shutdown.cancelled_owned()).await
        {
            tracing::error!(%error, "the RPC endpoint failed");
        }
    });

    if needs_admission {
        let ClusterStart::Join { address, .. } = &cluster.start else {
            bail!(
                "this node was never added to its region; restart it with --join and --join-token"
            );
        };
        admit(&client, address, config.node_id, &node, shutdown).await?;
        state_for_votes.votes_allowed.store(true, Ordering::Release);
    }

    let admin = Arc::new(RegionAdmin {
        meta: meta.clone(),
        blocks: blocks.clone(),
        client,
        token: Zeroizing::new(token),
    });
    Ok(Member {
        meta,
        blocks,
        master_key,
        key_origin,
        admin,
        rpc_task,
    })
}

/// Retry `attempt` until it succeeds, the window closes or shutdown starts.
async fn retry<T, F, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut attempt: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic_status::Status>>,
{
    let started = Instant::now();
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(status) if status.code() == tonic_status::Code::Unauthenticated => {
                bail!("{what}: {}", status.message())
            }
            Err(status) => {
                if started.elapsed() > Duration::from_millis(JOIN_RETRY_WINDOW_MS) {
                    bail!("{what}: gave up: {}", status.message());
                }
                tracing::info!(code = ?status.code(), message = status.message(), "{what}: retrying");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(JOIN_RETRY_PAUSE_MS)) => {}
            () = shutdown.cancelled() => bail!("{what}: shutdown requested"),
        }
    }
}

mod tonic_status {
    pub use coffer_rpc::pb_status::{Code, Status};
}

/// Exchange the token for the region secrets and store them.
async fn join(
    config: &ServerConfig,
    node: &NodeInfo,
    address: &str,
    token: &str,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let token =
        region::parse_token(token).map_err(|reason| anyhow!("invalid --join-token: {reason}"))?;
    let joined = retry("joining the region", shutdown, || {
        coffer_rpc::join_region(
            address,
            &token.ca_cert_pem,
            &token.secret,
            config.node_id,
            node,
        )
    })
    .await?;
    let received = MasterKey::from_slice(&joined.master_key)
        .map_err(|error| anyhow!("the region sent an invalid master key: {error}"))?;
    match &config.master_key_file {
        Some(path) => {
            let (own, _) = load_master_key(Some(path), &config.data_dir)?;
            if own.join_secret().as_ref() != received.join_secret().as_ref() {
                bail!(
                    "{} holds a different master key than the region's; every node of a region \
                     must use the same key",
                    path.display()
                );
            }
        }
        None => {
            let path = keys::data_dir_key_path(&config.data_dir);
            match keys::write_new_key_file(&path, received.to_bytes().as_ref()) {
                Ok(()) => {}
                Err(keys::KeyError::Create { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    let (own, _) = load_master_key(None, &config.data_dir)?;
                    if own.join_secret().as_ref() != received.join_secret().as_ref() {
                        bail!(
                            "{} holds a different master key than the region's; remove it (if \
                             this directory holds no data) or point COFFER_MASTER_KEY_FILE at \
                             the region's key",
                            path.display()
                        );
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    RegionFiles::new(&config.data_dir).create(
        config.node_id,
        &joined.ca_cert_pem,
        &joined.ca_key_pem,
    )
}

/// Ask the member at `address` to add this node (learner, caught up, voter).
async fn admit(
    client: &RpcClient,
    address: &str,
    node_id: u64,
    node: &NodeInfo,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    tracing::info!(member = address, "asking the region to add this node");
    retry("joining as a member", shutdown, || {
        client.add_member_at(address, coffer_rpc::node_address(node_id, node), false)
    })
    .await?;
    tracing::info!("this node is a voter of its region");
    Ok(())
}

/// The region as `coffer admin node …` sees it.
struct RegionAdmin {
    meta: Arc<MetaStore>,
    blocks: Arc<BlockStore>,
    client: Arc<RpcClient>,
    token: Zeroizing<String>,
}

fn unavailable(error: impl std::fmt::Display) -> AdminError {
    AdminError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
}

#[async_trait]
impl ClusterAdmin for RegionAdmin {
    async fn nodes(&self) -> Result<Vec<NodeView>, AdminError> {
        let members = self.meta.members();
        let own_id = self.meta.node_id();
        let views = members.into_iter().map(|member| async move {
            let (healthy, files, bytes, applied) = if member.node_id == own_id {
                let stats = self.blocks.stats();
                (
                    true,
                    Some(stats.files),
                    Some(stats.bytes),
                    Some(self.meta.status().applied_index),
                )
            } else {
                match self.client.status_of(&member.node.rpc_addr).await {
                    Ok(status) => (
                        true,
                        Some(status.block_files),
                        Some(status.block_bytes),
                        Some(status.applied_index),
                    ),
                    Err(_) => (false, None, None, None),
                }
            };
            let role = if member.leader {
                "leader"
            } else if member.voter {
                "follower"
            } else {
                "learner"
            };
            NodeView {
                node_id: member.node_id,
                role: role.to_owned(),
                zone: member.node.zone,
                healthy,
                rpc_addr: member.node.rpc_addr,
                s3_addr: member.node.s3_addr,
                admin_addr: member.node.admin_addr,
                block_files: files,
                block_bytes: bytes,
                applied_index: applied,
            }
        });
        Ok(futures::future::join_all(views).await)
    }

    fn join_token(&self) -> Result<String, AdminError> {
        Ok(self.token.to_string())
    }

    async fn remove_node(&self, node_id: u64) -> Result<(), AdminError> {
        let result = match self.meta.leader() {
            Some((leader, _)) if leader == self.meta.node_id() => {
                self.meta.remove_member(node_id).await
            }
            Some((_, node)) => {
                return self
                    .client
                    .remove_member_at(&node.rpc_addr, node_id, false)
                    .await
                    .map_err(|status| match status.code() {
                        coffer_rpc::pb_status::Code::NotFound => {
                            AdminError::new(StatusCode::NOT_FOUND, status.message())
                        }
                        _ => unavailable(status.message()),
                    })
            }
            None => Err(MetaError::Unavailable("no leader".to_owned())),
        };
        result.map_err(|error| match error {
            MetaError::UnknownMember(_) => {
                AdminError::new(StatusCode::NOT_FOUND, error.to_string())
            }
            other => unavailable(other),
        })
    }
}

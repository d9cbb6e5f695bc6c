//! `coffer server`: open the stores, make sure the root account exists,
//! serve the S3 and admin endpoints, and shut down cleanly on SIGTERM or
//! SIGINT.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use coffer_blob::BlockStore;
use coffer_crypto::RegionKeys;
use coffer_engine::{Engine, EngineConfig};
use coffer_meta::MetaStore;
use tokio::signal::unix::{signal, SignalKind};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::credentials::root_credentials;
use crate::keys::{load_master_key, KeyOrigin};
use crate::serve::{self, Endpoint};
use crate::{telemetry, tls};

/// How long a new node may take to elect itself (or find) a Raft leader.
const LEADER_WAIT_TIMEOUT_MS: u64 = 30_000;
const LEADER_POLL_INTERVAL_MS: u64 = 50;
/// How long in-flight requests may run on after a shutdown signal.
const DRAIN_TIMEOUT_MS: u64 = 30_000;
/// Exit status when a second signal cuts the drain short (128 + SIGINT).
const FORCED_EXIT_CODE: i32 = 130;

pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    spawn_signal_listener(shutdown.clone())?;
    let metrics = telemetry::install_metrics()?;
    let upkeep = telemetry::spawn_metrics_upkeep(metrics.clone());

    create_data_dir(&config.data_dir)?;
    // Everything that can fail on bad input is checked before the stores
    // are opened, so such failures leave nothing to clean up.
    let tls = match &config.tls {
        Some(files) => Some(TlsAcceptor::from(tls::load_server_config(files)?)),
        None => None,
    };
    let root = root_credentials(&|name| std::env::var(name).ok())?;
    let s3_listener = serve::bind("S3", config.s3_listen).await?;
    let admin_listener = serve::bind("admin", config.admin_listen).await?;

    let rpc_listener = match &config.cluster {
        Some(cluster) => Some(serve::bind("RPC", cluster.rpc_listen).await?),
        None => None,
    };

    let meta_dir = config.data_dir.join("meta");
    // The documented dev credentials are installed only into a new region:
    // restarting a real deployment without COFFER_ROOT_* set must not add a
    // publicly known key to its root account, and neither may a node that
    // joins an existing region.
    let data_dir_is_new = !meta_dir.exists()
        && !matches!(
            config.cluster.as_ref().map(|cluster| &cluster.start),
            Some(crate::config::ClusterStart::Join { .. })
        );
    let node = match (&config.cluster, rpc_listener) {
        (Some(cluster), Some(listener)) => {
            let member = crate::cluster::start(&config, cluster, listener, &shutdown).await?;
            Node {
                meta: member.meta,
                blocks: member.blocks,
                region_keys: Arc::new(RegionKeys::new(&member.master_key)),
                key_origin: member.key_origin,
                cluster: Some(member.admin),
                rpc_task: Some(member.rpc_task),
            }
        }
        _ => {
            let (master_key, key_origin) =
                load_master_key(config.master_key_file.as_deref(), &config.data_dir)?;
            let meta = MetaStore::open(&meta_dir, config.node_id)
                .await
                .with_context(|| {
                    format!("cannot open the metadata store in {}", meta_dir.display())
                })?;
            // BlockStore lays out `blocks/` and `tmp/` under the directory
            // it is given.
            let blocks = match BlockStore::open(&config.data_dir) {
                Ok(blocks) => blocks,
                Err(error) => {
                    let _ = meta.shutdown().await;
                    return Err(error).with_context(|| {
                        format!(
                            "cannot open the block store in {}",
                            config.data_dir.display()
                        )
                    });
                }
            };
            Node {
                meta,
                blocks: Arc::new(blocks),
                region_keys: Arc::new(RegionKeys::new(&master_key)),
                key_origin,
                cluster: None,
                rpc_task: None,
            }
        }
    };
    log_key_origin(&node.key_origin);
    let meta = node.meta.clone();
    let rpc_task = node.rpc_task;
    // From here on, the metadata store is shut down on every exit path.
    let outcome = run_with_meta(
        &config,
        meta.clone(),
        node.blocks,
        node.region_keys,
        node.cluster,
        root,
        tls,
        (s3_listener, admin_listener),
        metrics,
        shutdown.clone(),
        data_dir_is_new,
    )
    .await;
    upkeep.abort();
    // The RPC endpoint stops with the shutdown token; make sure it has.
    shutdown.cancel();
    if let Some(task) = rpc_task {
        let _ = tokio::time::timeout(Duration::from_millis(DRAIN_TIMEOUT_MS), task).await;
    }
    let closed = meta
        .shutdown()
        .await
        .context("cannot shut down the metadata store");
    outcome.and(closed)
}

/// The stores of this node, standalone or a region member.
struct Node {
    meta: Arc<MetaStore>,
    blocks: Arc<BlockStore>,
    region_keys: Arc<RegionKeys>,
    key_origin: KeyOrigin,
    cluster: Option<Arc<dyn coffer_admin::ClusterAdmin>>,
    rpc_task: Option<tokio::task::JoinHandle<()>>,
}

fn log_key_origin(origin: &KeyOrigin) {
    match origin {
        KeyOrigin::Generated(path) => tracing::warn!(
            path = %path.display(),
            "generated a new region master key next to the data; for production, move it \
             elsewhere (e.g. a secrets mount) and point COFFER_MASTER_KEY_FILE at it: \
             whoever has the data directory and this file can read every object"
        ),
        KeyOrigin::DataDir(path) => tracing::warn!(
            path = %path.display(),
            "using the master key stored in the data directory; for production, keep it \
             elsewhere and set COFFER_MASTER_KEY_FILE"
        ),
        KeyOrigin::Configured(path) => {
            tracing::info!(path = %path.display(), "loaded the region master key")
        }
    }
}

/// Admin API callers: access keys of the root account.
struct RootKeys {
    engine: Arc<Engine>,
    root_account: coffer_types::AccountId,
}

impl coffer_admin::AdminCredentials for RootKeys {
    fn root_secret(&self, access_key_id: &str) -> Option<zeroize::Zeroizing<String>> {
        let credentials = self.engine.credentials(access_key_id).ok()??;
        // Only the root's own keys: the root account's IAM users are not
        // administrators of the region.
        (credentials.account.id == self.root_account && credentials.user.is_none())
            .then_some(credentials.secret_access_key)
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_with_meta(
    config: &ServerConfig,
    meta: Arc<MetaStore>,
    blocks: Arc<BlockStore>,
    region_keys: Arc<RegionKeys>,
    cluster: Option<Arc<dyn coffer_admin::ClusterAdmin>>,
    root: crate::credentials::RootCredentials,
    tls: Option<TlsAcceptor>,
    (s3_listener, admin_listener): (tokio::net::TcpListener, tokio::net::TcpListener),
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    shutdown: CancellationToken,
    data_dir_is_new: bool,
) -> anyhow::Result<()> {
    let engine = Engine::new(
        meta.clone(),
        blocks,
        region_keys,
        EngineConfig {
            region: config.region.clone(),
            block_size_bytes: config.block_size_bytes,
        },
    );
    engine.set_scrub_interval_ms(config.scrub_interval_seconds.saturating_mul(1000));
    if !wait_for_leader(&meta, &shutdown).await? {
        tracing::info!("shutdown requested during start-up; stopping");
        return Ok(());
    }

    let mut root_account = None;
    if root.is_dev_default && !data_dir_is_new {
        tracing::warn!(
            "COFFER_ROOT_ACCESS_KEY/COFFER_ROOT_SECRET_KEY are not set: keeping the existing \
             root credentials of this data directory (the development defaults are only \
             installed into a new one)"
        );
    } else {
        let account = ensure_root_account(&engine, &root, &shutdown).await?;
        root_account = Some(account.id);
    }
    // Without explicit credentials on a restart, the root account is the
    // one that owns the configured (dev) key, if any.
    let root_account = match root_account {
        Some(id) => Some(id),
        None => engine
            .credentials(&root.access_key_id)
            .ok()
            .flatten()
            .map(|credentials| credentials.account.id),
    };
    if root.is_dev_default && data_dir_is_new {
        tracing::warn!(
            access_key_id = root.access_key_id,
            secret_access_key = crate::credentials::DEV_SECRET_ACCESS_KEY,
            "COFFER_ROOT_ACCESS_KEY/COFFER_ROOT_SECRET_KEY are not set: the root account uses \
             the documented development credentials; set both for any real use"
        );
    } else {
        tracing::info!(access_key_id = root.access_key_id, "root account ready");
    }
    drop(root);

    let background = engine
        .start_background()
        .await
        .map_err(|error| anyhow!("cannot start background work: {error}"))?;

    let scheme = if tls.is_some() { "https" } else { "http" };
    let s3 = Endpoint {
        name: "S3",
        listener: s3_listener,
        tls: tls.clone(),
        router: coffer_s3::router(
            engine.clone(),
            coffer_s3::GatewayConfig {
                region: config.region.clone(),
                domains: config.domains.clone(),
                sts_min_duration_seconds: config.sts_min_duration_seconds,
            },
        ),
    };
    let admin = Endpoint {
        name: "admin",
        listener: admin_listener,
        tls,
        router: coffer_admin::router(
            engine.clone(),
            metrics,
            coffer_admin::AdminApi {
                credentials: root_account.clone().map(|root_account| {
                    Arc::new(RootKeys {
                        engine: engine.clone(),
                        root_account,
                    }) as Arc<dyn coffer_admin::AdminCredentials>
                }),
                cluster,
                accounts: Some(Arc::new(crate::accounts::EngineAccounts {
                    engine: engine.clone(),
                    root_account,
                })),
                explainer: Some(Arc::new(crate::policy_explain::GatewayExplainer {
                    engine: engine.clone(),
                })),
            },
        ),
    };
    let drain_timeout = Duration::from_millis(DRAIN_TIMEOUT_MS);
    let s3_task = tokio::spawn(serve::serve(s3, shutdown.clone(), drain_timeout));
    let admin_task = tokio::spawn(serve::serve(admin, shutdown.clone(), drain_timeout));
    tracing::info!(
        s3 = %format!("{scheme}://{}", config.s3_listen),
        admin = %format!("{scheme}://{}", config.admin_listen),
        region = config.region,
        domains = ?config.domains,
        data_dir = %config.data_dir.display(),
        node_id = config.node_id,
        "coffer is serving"
    );

    let (s3_open, admin_open) = tokio::join!(s3_task, admin_task);
    background.abort();
    // The background task is cancelled, not failed: only a panic matters.
    if let Err(error) = background.await {
        if error.is_panic() {
            tracing::error!(%error, "the background task panicked");
        }
    }
    let still_open = s3_open.context("the S3 listener task failed")?
        + admin_open.context("the admin listener task failed")?;
    tracing::info!(connections_cut = still_open, "stopped serving");
    Ok(())
}

/// Create the data directory (owner-only when new) and check it is one.
fn create_data_dir(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create the data directory {}", path.display()))?;
    let metadata = std::fs::metadata(path)
        .with_context(|| format!("cannot read the data directory {}", path.display()))?;
    if !metadata.is_dir() {
        return Err(anyhow!(
            "the data directory {} is not a directory",
            path.display()
        ));
    }
    Ok(())
}

/// Create or update the root account. In a region the leader may change
/// while a node starts (a restarted node may still believe in an old term),
/// so "unavailable" is retried for a while.
async fn ensure_root_account(
    engine: &Engine,
    root: &crate::credentials::RootCredentials,
    shutdown: &CancellationToken,
) -> anyhow::Result<coffer_meta::AccountRecord> {
    let started = std::time::Instant::now();
    loop {
        match engine
            .ensure_root_account(&root.access_key_id, &root.secret_access_key)
            .await
        {
            Ok(account) => return Ok(account),
            Err(error)
                if error.code == coffer_types::ErrorCode::ServiceUnavailable
                    && started.elapsed() < Duration::from_millis(LEADER_WAIT_TIMEOUT_MS) =>
            {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(LEADER_POLL_INTERVAL_MS * 4)) => {}
                    () = shutdown.cancelled() => return Err(anyhow!("shutdown requested during start-up")),
                }
            }
            Err(error) => return Err(anyhow!("cannot set up the root account: {error}")),
        }
    }
}

/// Wait, with a bound, until this node is in touch with a Raft quorum (on a
/// single node: until it has elected itself). False when a shutdown signal
/// came first.
async fn wait_for_leader(meta: &MetaStore, shutdown: &CancellationToken) -> anyhow::Result<bool> {
    let wait = async {
        while !meta.status().has_quorum {
            tokio::time::sleep(Duration::from_millis(LEADER_POLL_INTERVAL_MS)).await;
        }
    };
    tokio::select! {
        waited = tokio::time::timeout(Duration::from_millis(LEADER_WAIT_TIMEOUT_MS), wait) => {
            waited.map(|()| true).map_err(|_| anyhow!(
                "no Raft leader after {} s; check the metadata store and the cluster members",
                LEADER_WAIT_TIMEOUT_MS / 1000
            ))
        }
        () = shutdown.cancelled() => Ok(false),
    }
}

/// SIGTERM or SIGINT starts a graceful shutdown; a second one exits at once.
fn spawn_signal_listener(shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
        }
        shutdown.cancel();
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::warn!("second signal: exiting without waiting for requests to finish");
        std::process::exit(FORCED_EXIT_CODE);
    });
    Ok(())
}

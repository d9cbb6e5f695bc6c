//! A region of several `coffer server` processes on loopback: the first
//! node `--init`s, the others `--join` with the token that
//! `coffer admin node token` prints. Membership is read back through
//! `coffer admin node list --json`, as an operator would.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::server::{coffer_binary, ClusterNode, Server, ServerOptions};

/// A membership change (learner catch-up, promotion) on a busy debug
/// build can take a while.
const MEMBERSHIP_TIMEOUT_MS: u64 = 120_000;

/// What `coffer admin node list --json` says about one node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct NodeView {
    pub node_id: u64,
    pub role: String,
    pub zone: String,
    pub healthy: bool,
    pub rpc_addr: String,
    pub block_bytes: Option<u64>,
}

pub struct Cluster {
    pub nodes: Vec<Server>,
    token: String,
}

fn zone(index: usize) -> String {
    ["a", "b", "c", "d", "e"][index % 5].to_owned()
}

impl Cluster {
    /// Start `size` nodes (ids 1..=size, zones a, b, c, …) with `extra_args`
    /// on each, and wait until every one is a healthy voter.
    pub async fn start(size: usize, extra_args: &[&str]) -> Result<Self> {
        let extra_args: Vec<String> = extra_args.iter().map(|arg| (*arg).to_owned()).collect();
        let first = Server::start_with(ServerOptions {
            cluster: Some(ClusterNode {
                node_id: 1,
                zone: zone(0),
                join: None,
            }),
            extra_args: extra_args.clone(),
            ..ServerOptions::default()
        })
        .await?;
        let token = admin(&first, &["node", "token"])?.trim().to_owned();
        let mut cluster = Self {
            nodes: vec![first],
            token,
        };
        for index in 1..size {
            let join = (cluster.nodes[0].rpc_addr(), cluster.token.clone());
            cluster
                .add_node(index as u64 + 1, &zone(index), join, &extra_args)
                .await?;
        }
        cluster.wait_for_voters(size, &[]).await?;
        Ok(cluster)
    }

    /// Start one more node that joins through `join` (RPC address, token),
    /// with the region's root credentials; waits until it is ready.
    pub async fn add_node(
        &mut self,
        node_id: u64,
        zone: &str,
        join: (String, String),
        extra_args: &[String],
    ) -> Result<()> {
        let first = &self.nodes[0];
        let node = Server::start_with(ServerOptions {
            cluster: Some(ClusterNode {
                node_id,
                zone: zone.to_owned(),
                join: Some(join),
            }),
            credentials: Some((
                first.access_key_id().to_owned(),
                first.secret_access_key().to_owned(),
            )),
            extra_args: extra_args.to_vec(),
            ..ServerOptions::default()
        })
        .await?;
        self.nodes.push(node);
        Ok(())
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// `coffer admin node list --json` through node `via`.
    pub fn node_list(&self, via: usize) -> Result<Vec<NodeView>> {
        let output = admin(&self.nodes[via], &["node", "list", "--json"])?;
        serde_json::from_str(&output).with_context(|| format!("parse node list: {output}"))
    }

    /// Wait until some node reports `count` healthy voters (one leader),
    /// asking only nodes not in `skip`.
    pub async fn wait_for_voters(&self, count: usize, skip: &[usize]) -> Result<Vec<NodeView>> {
        let deadline = Instant::now() + Duration::from_millis(MEMBERSHIP_TIMEOUT_MS);
        let mut last = String::new();
        loop {
            for via in (0..self.nodes.len()).filter(|i| !skip.contains(i)) {
                match self.node_list(via) {
                    Ok(nodes) => {
                        let voters = nodes
                            .iter()
                            .filter(|node| {
                                node.healthy && (node.role == "leader" || node.role == "follower")
                            })
                            .count();
                        let leaders = nodes.iter().filter(|node| node.role == "leader").count();
                        if voters == count && leaders == 1 && nodes.len() == count {
                            return Ok(nodes);
                        }
                        last = format!("{nodes:?}");
                    }
                    Err(error) => last = format!("{error:#}"),
                }
            }
            if Instant::now() > deadline {
                bail!("no {count} healthy voters within {MEMBERSHIP_TIMEOUT_MS} ms; last: {last}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The index (into `nodes`) of the current leader, as node `via` sees it.
    pub fn leader_index(&self, via: usize) -> Result<usize> {
        let nodes = self.node_list(via)?;
        let leader = nodes
            .iter()
            .find(|node| node.role == "leader")
            .context("no leader")?;
        Ok(leader.node_id as usize - 1)
    }
}

/// Run `coffer admin --endpoint <node's admin URL> ARGS` with the node's
/// root credentials; returns stdout, fails on a non-zero exit.
pub fn admin(node: &Server, args: &[&str]) -> Result<String> {
    let output = Command::new(coffer_binary()?)
        .arg("admin")
        .arg("--endpoint")
        .arg(node.admin_url())
        .args(args)
        .env("COFFER_ROOT_ACCESS_KEY", node.access_key_id())
        .env("COFFER_ROOT_SECRET_KEY", node.secret_access_key())
        .output()
        .context("run coffer admin")?;
    if !output.status.success() {
        bail!(
            "coffer admin {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// How long `eventually` polls: generous, for a debug build on two busy
/// cores.
const CONVERGE_TIMEOUT_MS: u64 = 300_000;

/// Wait until `check` passes, polling (bounded); the error says what was
/// awaited and the last reason it was not yet so.
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let deadline = Instant::now() + Duration::from_millis(CONVERGE_TIMEOUT_MS);
    loop {
        let error = match check().await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if Instant::now() > deadline {
            return Err(error.context(format!("{what}: not within {CONVERGE_TIMEOUT_MS} ms")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Write small objects one after another until every node has compacted
/// its Raft log past `index` (`coffer_raft_purged_index`), so a node that
/// joins or rejoins empty must catch up from a snapshot. Writing keeps the
/// compaction going: openraft purges on replication progress. Run it with
/// every node up (a down follower postpones compaction).
pub async fn compact_logs_past(cluster: &Cluster, bucket: &str, index: u64) -> Result<()> {
    let client = cluster.nodes[0].client();
    let mut written = 0usize;
    eventually("every node compacted its log", || {
        let client = client.clone();
        written += 1;
        let key = format!("compact-{written}");
        async move {
            crate::ops::put_bytes(&client, bucket, &key, b"x").await?;
            for node in &cluster.nodes {
                let purged = node.metric_sum("coffer_raft_purged_index", &[]).await?;
                if purged < index as f64 {
                    bail!("a node has compacted only up to {purged}");
                }
            }
            Ok(())
        }
    })
    .await
}

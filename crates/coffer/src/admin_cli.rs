//! `coffer admin …`: the operator's client of the admin API. Requests are
//! signed with the root credentials from `COFFER_ROOT_ACCESS_KEY` /
//! `COFFER_ROOT_SECRET_KEY` (the development defaults when unset), as
//! `coffer_admin::auth` describes.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use coffer_admin::{auth, NodeView};

use crate::credentials::root_credentials;

/// Default admin endpoint, as `coffer server` listens by default.
const ENDPOINT_DEFAULT: &str = "http://127.0.0.1:9001";
/// Listing a region asks every node for its status: allow for that.
const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// Removing a node first copies its blocks elsewhere: allow for that.
const REMOVE_TIMEOUT_MS: u64 = 24 * 3600 * 1000;
/// An admin reply larger than this is not one.
const RESPONSE_BYTES_MAX: usize = 4 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The admin endpoint of any node [env: COFFER_ADMIN_ENDPOINT]
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// PEM CA certificate to trust for an HTTPS endpoint
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Region membership.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Background jobs of the node asked (repair and rebalance run on the
    /// leader).
    #[command(subcommand)]
    Job(JobCommand),
    /// Exit 0 when the node is ready (`/health/ready`), 1 otherwise; for
    /// container health checks (no credentials needed).
    Health,
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Recent jobs: state, done/total, bytes, errors, ETA.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One job; with --watch, a progress bar until it ends.
    Show {
        job_id: u64,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        watch: bool,
    },
}

/// A job as the admin API reports it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct JobRow {
    id: u64,
    kind: String,
    reason: String,
    state: String,
    done: u64,
    total: u64,
    bytes_copied: u64,
    replicas_copied: u64,
    errors: u64,
    elapsed_ms: u64,
    eta_ms: Option<u64>,
}

/// How often `job show --watch` polls.
const WATCH_INTERVAL_MS: u64 = 500;

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Every member: id, Raft role, zone, health, addresses, disk use.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the join token for new nodes (one line; keep it secret).
    Token,
    /// Prepare a new node: check its id is free and print the command that
    /// starts it; once started it joins as a learner, catches up and
    /// becomes a voter.
    Add {
        /// The RPC address the new node will listen on (and be dialled at).
        #[arg(long, value_name = "HOST:PORT")]
        rpc_addr: String,
        /// Its node id [default: one more than the highest member id]
        #[arg(long, value_name = "N")]
        node_id: Option<u64>,
        /// Its zone [default: default]
        #[arg(long, value_name = "NAME")]
        zone: Option<String>,
    },
    /// Remove a member from the region (joint consensus).
    Remove {
        /// The node id to remove.
        node_id: u64,
    },
}

struct Client {
    http: reqwest::Client,
    endpoint: String,
    access_key_id: String,
    secret: zeroize::Zeroizing<String>,
}

impl Client {
    fn new(args: &AdminArgs) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = args
            .endpoint
            .clone()
            .or_else(|| {
                std::env::var("COFFER_ADMIN_ENDPOINT")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| ENDPOINT_DEFAULT.to_owned());
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let mut builder =
            reqwest::Client::builder().timeout(Duration::from_millis(REQUEST_TIMEOUT_MS));
        if let Some(path) = &args.ca_file {
            let pem =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let certificate = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
            builder = builder.add_root_certificate(certificate);
        }
        let root = root_credentials(&|name| std::env::var(name).ok())?;
        Ok(Self {
            http: builder.build().context("cannot set up the HTTP client")?,
            endpoint,
            access_key_id: root.access_key_id,
            secret: root.secret_access_key,
        })
    }

    /// GET `path` and parse the JSON reply.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let body = self.call(reqwest::Method::GET, path).await?;
        serde_json::from_slice(&body).context("unexpected reply")
    }

    /// The region's join token.
    async fn join_token(&self) -> anyhow::Result<String> {
        let value: serde_json::Value = self.get_json("/admin/v1/nodes/token").await?;
        value
            .get("token")
            .and_then(|token| token.as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("unexpected reply"))
    }

    async fn call(&self, method: reqwest::Method, path: &str) -> anyhow::Result<Vec<u8>> {
        self.call_within(method, path, Duration::from_millis(REQUEST_TIMEOUT_MS))
            .await
    }

    async fn call_within(
        &self,
        method: reqwest::Method,
        path: &str,
        timeout: Duration,
    ) -> anyhow::Result<Vec<u8>> {
        let date = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let signature = auth::sign(&self.secret, method.as_str(), path, date, b"");
        let url = format!("{}{path}", self.endpoint);
        let mut response = self
            .http
            .request(method, &url)
            .header(auth::DATE_HEADER, date.to_string())
            .header(
                "authorization",
                auth::authorization(&self.access_key_id, &signature),
            )
            .timeout(timeout)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.context("reading the reply")? {
            if body.len() + chunk.len() > RESPONSE_BYTES_MAX {
                bail!("the reply from {url} is too large");
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|value| {
                    value
                        .get("error")
                        .and_then(|e| e.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            bail!("{status}: {message}");
        }
        Ok(body)
    }
}

pub fn run(args: &AdminArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &AdminArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    match &args.command {
        AdminCommand::Health => {
            let url = format!("{}/health/ready", client.endpoint);
            let response = client
                .http
                .get(&url)
                .send()
                .await
                .with_context(|| format!("cannot reach {url}"))?;
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            if !status.is_success() {
                bail!("{status}: {}", body.trim());
            }
            println!("{}", body.trim());
        }
        AdminCommand::Node(NodeCommand::List { json }) => {
            let nodes: Vec<NodeView> = client.get_json("/admin/v1/nodes").await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&nodes)?);
            } else {
                print!("{}", node_table(&nodes));
            }
        }
        AdminCommand::Node(NodeCommand::Add {
            rpc_addr,
            node_id,
            zone,
        }) => {
            let nodes: Vec<NodeView> = client.get_json("/admin/v1/nodes").await?;
            let node_id = match node_id {
                Some(id) if nodes.iter().any(|node| node.node_id == *id) => {
                    bail!("node id {id} is already a member; pick another or remove it first")
                }
                Some(0) => bail!("node ids are positive"),
                Some(id) => *id,
                None => nodes.iter().map(|node| node.node_id).max().unwrap_or(0) + 1,
            };
            if nodes.iter().any(|node| node.rpc_addr == *rpc_addr) {
                bail!("{rpc_addr} is already the RPC address of a member");
            }
            let member = nodes
                .iter()
                .find(|node| node.role == "leader")
                .or_else(|| nodes.first())
                .ok_or_else(|| anyhow!("the region has no members"))?;
            let token = client.join_token().await?;
            println!("# Start the new node with (the token is a secret):");
            println!(
                "COFFER_JOIN_TOKEN='{token}' coffer server --node-id {node_id} --zone {} --rpc-listen {rpc_addr} --join {}",
                zone.as_deref().unwrap_or("default"),
                member.rpc_addr
            );
        }
        AdminCommand::Node(NodeCommand::Token) => {
            let token = client.join_token().await?;
            println!("{token}");
        }
        AdminCommand::Job(JobCommand::List { json }) => {
            let jobs: Vec<JobRow> = client.get_json("/admin/v1/jobs").await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                print!("{}", job_table(&jobs));
            }
        }
        AdminCommand::Job(JobCommand::Show {
            job_id,
            json,
            watch,
        }) => {
            let path = format!("/admin/v1/jobs/{job_id}");
            let fetch = || client.get_json::<JobRow>(&path);
            let mut job = fetch().await?;
            if *watch && job.state == "running" {
                let bar = indicatif::ProgressBar::new(job.total.max(1));
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:40}] {pos}/{len} blocks, ETA {eta}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
                bar.set_message(format!("{} #{}", job.kind, job.id));
                while job.state == "running" {
                    bar.set_length(job.total.max(1));
                    bar.set_position(job.done);
                    tokio::time::sleep(Duration::from_millis(WATCH_INTERVAL_MS)).await;
                    job = fetch().await?;
                }
                bar.finish_and_clear();
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&job)?);
            } else {
                print!("{}", job_table(std::slice::from_ref(&job)));
            }
        }
        AdminCommand::Node(NodeCommand::Remove { node_id }) => {
            eprintln!("moving node {node_id}'s blocks to the other nodes, then removing it…");
            client
                .call_within(
                    reqwest::Method::DELETE,
                    &format!("/admin/v1/nodes/{node_id}"),
                    Duration::from_millis(REMOVE_TIMEOUT_MS),
                )
                .await?;
            println!("node {node_id} removed");
        }
    }
    Ok(())
}

fn human_bytes(bytes: Option<u64>) -> String {
    let Some(bytes) = bytes else {
        return "-".to_owned();
    };
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn node_table(nodes: &[NodeView]) -> String {
    let mut out = format!(
        "{:<6} {:<9} {:<10} {:<8} {:<22} {:<22} {:>10}\n",
        "NODE", "ROLE", "ZONE", "HEALTHY", "RPC", "S3", "DATA"
    );
    for node in nodes {
        out.push_str(&format!(
            "{:<6} {:<9} {:<10} {:<8} {:<22} {:<22} {:>10}\n",
            node.node_id,
            node.role,
            node.zone,
            if node.healthy { "yes" } else { "no" },
            node.rpc_addr,
            node.s3_addr,
            human_bytes(node.block_bytes),
        ));
    }
    out
}

fn job_table(jobs: &[JobRow]) -> String {
    let mut out = format!(
        "{:<5} {:<8} {:<8} {:>15} {:>10} {:>7} {:>9}  {}\n",
        "JOB", "KIND", "STATE", "DONE/TOTAL", "COPIED", "ERRORS", "ETA", "REASON"
    );
    for job in jobs {
        let eta = job
            .eta_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{}s", ms.div_ceil(1000)));
        out.push_str(&format!(
            "{:<5} {:<8} {:<8} {:>15} {:>10} {:>7} {:>9}  {}\n",
            job.id,
            job.kind,
            job.state,
            format!("{}/{}", job.done, job.total),
            human_bytes(Some(job.bytes_copied)),
            job.errors,
            eta,
            job.reason,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_sizes_and_rows() {
        assert_eq!(human_bytes(None), "-");
        assert_eq!(human_bytes(Some(512)), "512 B");
        assert_eq!(human_bytes(Some(3 * 1024 * 1024)), "3.0 MiB");
        let table = node_table(&[NodeView {
            node_id: 2,
            role: "leader".to_owned(),
            zone: "b".to_owned(),
            healthy: false,
            rpc_addr: "127.0.0.1:9100".to_owned(),
            s3_addr: "127.0.0.1:9000".to_owned(),
            admin_addr: "127.0.0.1:9001".to_owned(),
            block_files: None,
            block_bytes: None,
            applied_index: None,
        }]);
        let row = table.lines().nth(1).expect("a row");
        for field in ["2", "leader", "b", "no", "127.0.0.1:9100"] {
            assert!(row.contains(field), "{row}");
        }
    }
}

//! `coffer admin …`: the operator's client of the admin API. Requests are
//! signed with the root credentials from `COFFER_ROOT_ACCESS_KEY` /
//! `COFFER_ROOT_SECRET_KEY` (the development defaults when unset), as
//! `coffer_admin::auth` describes.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::{ArgGroup, Args, Subcommand};
use coffer_admin::{
    auth, AccountView, ExplainedReasonView, ExplanationView, NodeView, PolicyExplainRequest,
    PublicAccessBlockView,
};

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
    /// Accounts: each owns its buckets and has its own access key.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Access decisions: how a described request would be decided, and by
    /// which statements.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Exit 0 when the node is ready (`/health/ready`), 1 otherwise; for
    /// container health checks (no credentials needed).
    Health,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and its first access key; the secret is printed
    /// this once and cannot be shown again.
    Create {
        /// The account's display name (1 to 64 printable characters).
        name: String,
        /// Its e-mail address (unique across accounts).
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Print JSON: account_id, canonical_id, display_name, email,
        /// created_at, access_key_id, secret_access_key.
        #[arg(long)]
        json: bool,
    },
    /// Every account: id, name, e-mail, creation time (no secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// One account.
    Show {
        /// The 12-digit account id.
        account_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete an account and its access keys (refused while it owns
    /// buckets).
    Delete {
        /// The 12-digit account id.
        account_id: String,
    },
    /// The account's Block Public Access settings: print them, or replace
    /// them with --set, or remove them with --clear.
    PublicAccessBlock {
        /// The 12-digit account id.
        account_id: String,
        /// Turn these settings on and every other off (comma-separated, or
        /// `all`).
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            value_name = "SETTINGS",
            conflicts_with = "clear"
        )]
        set: Option<Vec<PublicAccessSetting>>,
        /// Remove the account's settings (every setting off).
        #[arg(long)]
        clear: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Decide a described request as the S3 endpoint would and print
    /// ALLOWED or DENIED (outcome), why, and the deciding statements
    /// (source, account, policy, Sid). Exits 0 either way; non-zero only
    /// when the request could not be explained.
    #[command(group(ArgGroup::new("caller").required(true).args(["access_key_id", "anonymous"])))]
    Explain {
        /// The IAM action, e.g. s3:GetObject.
        #[arg(long, value_name = "ACTION")]
        action: String,
        /// The caller: the account that owns this access key.
        #[arg(long, value_name = "AKID")]
        access_key_id: Option<String>,
        /// The caller: anonymous (an unsigned request).
        #[arg(long)]
        anonymous: bool,
        /// The bucket (left out: an account-level action such as
        /// s3:ListAllMyBuckets).
        #[arg(long, value_name = "NAME")]
        bucket: Option<String>,
        /// The object key (needs --bucket).
        #[arg(long, value_name = "KEY", requires = "bucket")]
        key: Option<String>,
        /// A condition key of the request, e.g. aws:SourceIp=10.0.0.1
        /// (repeatable; aws:SecureTransport is true unless given).
        #[arg(long = "condition", value_name = "KEY=VALUE", value_parser = parse_condition)]
        conditions: Vec<(String, String)>,
        /// Print JSON: allowed, outcome, explanation, reasons (source,
        /// account, name, sid, index, effect).
        #[arg(long)]
        json: bool,
    },
}

/// `KEY=VALUE`, split at the first `=` (values may contain `=`).
fn parse_condition(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!(
            "{text:?} is not KEY=VALUE (e.g. aws:SourceIp=10.0.0.1)"
        )),
    }
}

/// The request body of an explanation; a condition key given twice is a
/// mistake, not a choice between its values.
fn explain_request(
    action: &str,
    access_key_id: Option<&str>,
    bucket: Option<&str>,
    key: Option<&str>,
    conditions: &[(String, String)],
) -> anyhow::Result<PolicyExplainRequest> {
    let mut condition_keys = std::collections::BTreeMap::new();
    for (name, value) in conditions {
        if condition_keys.insert(name.clone(), value.clone()).is_some() {
            bail!("--condition {name} is given more than once");
        }
    }
    Ok(PolicyExplainRequest {
        access_key_id: access_key_id.map(str::to_owned),
        action: action.to_owned(),
        bucket: bucket.map(str::to_owned),
        key: key.map(str::to_owned),
        condition_keys,
    })
}

/// One line per deciding statement, e.g. `Deny by BucketPolicy "bucket
/// policy of photos" of account 111122223333, statement "no-cats" (#0)`.
fn reason_line(reason: &ExplainedReasonView) -> String {
    let statement = match &reason.sid {
        Some(sid) => format!("statement {sid:?} (#{})", reason.index),
        None => format!("statement #{}", reason.index),
    };
    format!(
        "{} by {} {:?} of account {}, {statement}",
        reason.effect, reason.source, reason.name, reason.account
    )
}

fn explanation_lines(explanation: &ExplanationView) -> String {
    let mut out = if explanation.allowed {
        "ALLOWED\n".to_owned()
    } else {
        format!("DENIED ({})\n", explanation.outcome)
    };
    out.push_str(&explanation.explanation);
    out.push('\n');
    for reason in &explanation.reasons {
        out.push_str("  ");
        out.push_str(&reason_line(reason));
        out.push('\n');
    }
    out
}

/// One Block Public Access setting, as `--set` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PublicAccessSetting {
    BlockPublicAcls,
    IgnorePublicAcls,
    BlockPublicPolicy,
    RestrictPublicBuckets,
    /// All four.
    All,
}

fn public_access_block_of(settings: &[PublicAccessSetting]) -> PublicAccessBlockView {
    let on = |setting| {
        settings
            .iter()
            .any(|given| *given == setting || *given == PublicAccessSetting::All)
    };
    PublicAccessBlockView {
        block_public_acls: on(PublicAccessSetting::BlockPublicAcls),
        ignore_public_acls: on(PublicAccessSetting::IgnorePublicAcls),
        block_public_policy: on(PublicAccessSetting::BlockPublicPolicy),
        restrict_public_buckets: on(PublicAccessSetting::RestrictPublicBuckets),
    }
}

/// A new account as the admin API returns it (the only reply with a
/// secret, wiped from memory on drop).
#[derive(serde::Serialize, serde::Deserialize)]
struct CreatedAccount {
    #[serde(flatten)]
    account: AccountView,
    access_key_id: String,
    secret_access_key: String,
}

impl Drop for CreatedAccount {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_access_key);
    }
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

/// A refusal from the admin API, kept apart so callers can tell "not
/// found" from other failures.
#[derive(Debug)]
struct ApiError {
    status: reqwest::StatusCode,
    /// The AWS-style code when the server gave one.
    code: Option<String>,
    message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{}: {code}: {}", self.status, self.message),
            None => write!(f, "{}: {}", self.status, self.message),
        }
    }
}

impl std::error::Error for ApiError {}

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

    /// `method` `path` with a JSON body; parse the JSON reply.
    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &impl serde::Serialize,
    ) -> anyhow::Result<T> {
        let body = serde_json::to_vec(body).context("cannot encode the request")?;
        let reply = self
            .call_with_body(
                method,
                path,
                body,
                Duration::from_millis(REQUEST_TIMEOUT_MS),
            )
            .await?;
        serde_json::from_slice(&reply).context("unexpected reply")
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
        self.call_with_body(method, path, Vec::new(), timeout).await
    }

    /// One signed request; the body (empty or JSON) is part of the
    /// signature.
    async fn call_with_body(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> anyhow::Result<Vec<u8>> {
        let date = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let signature = auth::sign(&self.secret, method.as_str(), path, date, &body);
        let url = format!("{}{path}", self.endpoint);
        let mut request = self
            .http
            .request(method, &url)
            .header(auth::DATE_HEADER, date.to_string())
            .header(
                "authorization",
                auth::authorization(&self.access_key_id, &signature),
            )
            .timeout(timeout);
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let mut response = request
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
            let reply = serde_json::from_slice::<serde_json::Value>(&body).ok();
            let field = |name: &str| {
                reply
                    .as_ref()
                    .and_then(|value| value.get(name))
                    .and_then(|value| value.as_str())
                    .map(str::to_owned)
            };
            let message =
                field("error").unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(ApiError {
                status,
                code: field("code"),
                message,
            }
            .into());
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
        AdminCommand::Account(command) => account(&client, command).await?,
        AdminCommand::Policy(PolicyCommand::Explain {
            action,
            access_key_id,
            anonymous: _,
            bucket,
            key,
            conditions,
            json,
        }) => {
            // clap has checked that exactly one of --access-key-id and
            // --anonymous is given, so no key means anonymous.
            let request = explain_request(
                action,
                access_key_id.as_deref(),
                bucket.as_deref(),
                key.as_deref(),
                conditions,
            )?;
            let explanation: ExplanationView = client
                .send_json(reqwest::Method::POST, "/admin/v1/policy/explain", &request)
                .await?;
            // A denial is an answer: exit 0 either way.
            if *json {
                println!("{}", serde_json::to_string_pretty(&explanation)?);
            } else {
                print!("{}", explanation_lines(&explanation));
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

/// The path of an account, checked to be an account id first so that no
/// other text ends up in the URL.
fn account_path(account_id: &str) -> anyhow::Result<String> {
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{account_id:?} is not an account id (12 digits; see `coffer admin account list`)");
    }
    Ok(format!("/admin/v1/accounts/{account_id}"))
}

async fn account(client: &Client, command: &AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { name, email, json } => {
            let request = serde_json::json!({ "name": name, "email": email });
            let created: CreatedAccount = client
                .send_json(reqwest::Method::POST, "/admin/v1/accounts", &request)
                .await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                print!("{}", account_lines(&created.account));
                println!("{:<19}{}", "access_key_id:", created.access_key_id);
                println!("{:<19}{}", "secret_access_key:", created.secret_access_key);
                eprintln!(
                    "note: the secret access key is shown only now; store it safely, it cannot be retrieved later"
                );
            }
        }
        AccountCommand::List { json } => {
            let accounts: Vec<AccountView> = client.get_json("/admin/v1/accounts").await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&accounts)?);
            } else {
                print!("{}", account_table(&accounts));
            }
        }
        AccountCommand::Show { account_id, json } => {
            let account: AccountView = client.get_json(&account_path(account_id)?).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&account)?);
            } else {
                print!("{}", account_lines(&account));
            }
        }
        AccountCommand::Delete { account_id } => {
            client
                .call(reqwest::Method::DELETE, &account_path(account_id)?)
                .await?;
            println!("account {account_id} deleted");
        }
        AccountCommand::PublicAccessBlock {
            account_id,
            set,
            clear,
            json,
        } => {
            let path = format!("{}/public-access-block", account_path(account_id)?);
            let settings = if *clear {
                client.call(reqwest::Method::DELETE, &path).await?;
                None
            } else if let Some(set) = set {
                let settings: PublicAccessBlockView = client
                    .send_json(reqwest::Method::PUT, &path, &public_access_block_of(set))
                    .await?;
                Some(settings)
            } else {
                match client.get_json::<PublicAccessBlockView>(&path).await {
                    Ok(settings) => Some(settings),
                    // Not set is an answer, not a failure; a missing
                    // account is (NoSuchEntity).
                    Err(error)
                        if error.downcast_ref::<ApiError>().is_some_and(|error| {
                            error.code.as_deref() == Some("NoSuchPublicAccessBlockConfiguration")
                        }) =>
                    {
                        None
                    }
                    Err(error) => return Err(error),
                }
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&settings)?);
            } else {
                print!(
                    "{}",
                    public_access_block_lines(account_id, settings.as_ref())
                );
            }
        }
    }
    Ok(())
}

fn account_lines(account: &AccountView) -> String {
    let mut out = String::new();
    for (name, value) in [
        ("account_id:", account.account_id.as_str()),
        ("canonical_id:", account.canonical_id.as_str()),
        ("display_name:", account.display_name.as_str()),
        ("email:", account.email.as_deref().unwrap_or("-")),
        ("created_at:", account.created_at.as_str()),
    ] {
        out.push_str(&format!("{name:<19}{value}\n"));
    }
    out
}

fn account_table(accounts: &[AccountView]) -> String {
    let mut out = format!(
        "{:<13} {:<24} {:<32} {}\n",
        "ACCOUNT", "NAME", "EMAIL", "CREATED"
    );
    for account in accounts {
        out.push_str(&format!(
            "{:<13} {:<24} {:<32} {}\n",
            account.account_id,
            account.display_name,
            account.email.as_deref().unwrap_or("-"),
            account.created_at,
        ));
    }
    out
}

fn public_access_block_lines(account_id: &str, settings: Option<&PublicAccessBlockView>) -> String {
    let Some(settings) = settings else {
        return format!(
            "account {account_id} has no Block Public Access settings (every setting off)\n"
        );
    };
    let on_off = |on: bool| if on { "on" } else { "off" };
    let mut out = String::new();
    for (name, on) in [
        ("block_public_acls:", settings.block_public_acls),
        ("ignore_public_acls:", settings.ignore_public_acls),
        ("block_public_policy:", settings.block_public_policy),
        ("restrict_public_buckets:", settings.restrict_public_buckets),
    ] {
        out.push_str(&format!("{name:<25}{}\n", on_off(on)));
    }
    out
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
    fn set_names_the_settings_that_are_on() {
        use PublicAccessSetting::*;
        assert_eq!(
            public_access_block_of(&[]),
            PublicAccessBlockView::default()
        );
        assert_eq!(
            public_access_block_of(&[BlockPublicAcls, RestrictPublicBuckets]),
            PublicAccessBlockView {
                block_public_acls: true,
                ignore_public_acls: false,
                block_public_policy: false,
                restrict_public_buckets: true,
            }
        );
        let all = public_access_block_of(&[All]);
        assert!(
            all.block_public_acls
                && all.ignore_public_acls
                && all.block_public_policy
                && all.restrict_public_buckets
        );
        let lines = public_access_block_lines("100000000000", Some(&all));
        assert_eq!(lines.lines().filter(|l| l.ends_with(" on")).count(), 4);
        assert!(public_access_block_lines("100000000000", None).contains("no Block Public Access"));
    }

    #[test]
    fn conditions_are_key_value_pairs() {
        assert_eq!(
            parse_condition("aws:SourceIp=10.0.0.1"),
            Ok(("aws:SourceIp".to_owned(), "10.0.0.1".to_owned()))
        );
        assert_eq!(
            parse_condition("s3:prefix=a=b"),
            Ok(("s3:prefix".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(
            parse_condition("s3:prefix="),
            Ok(("s3:prefix".to_owned(), String::new()))
        );
        for bad in ["", "aws:SourceIp", "=10.0.0.1"] {
            assert!(parse_condition(bad).is_err(), "{bad:?}");
        }
        let twice = [
            ("aws:SourceIp".to_owned(), "10.0.0.1".to_owned()),
            ("aws:SourceIp".to_owned(), "10.0.0.2".to_owned()),
        ];
        assert!(explain_request("s3:GetObject", None, None, None, &twice).is_err());
        let request = explain_request(
            "s3:GetObject",
            Some("AKID"),
            Some("b"),
            Some("k"),
            &twice[..1],
        )
        .expect("a request");
        assert_eq!(
            serde_json::to_value(&request).expect("JSON"),
            serde_json::json!({
                "access_key_id": "AKID",
                "action": "s3:GetObject",
                "bucket": "b",
                "key": "k",
                "condition_keys": {"aws:SourceIp": "10.0.0.1"},
            })
        );
    }

    #[test]
    fn explain_needs_exactly_one_caller() {
        use clap::Parser;
        let parse = |args: &[&str]| {
            crate::cli::Cli::try_parse_from(
                [
                    "coffer",
                    "admin",
                    "policy",
                    "explain",
                    "--action",
                    "s3:GetObject",
                ]
                .iter()
                .chain(args),
            )
        };
        assert!(parse(&[]).is_err());
        assert!(parse(&["--access-key-id", "AKID", "--anonymous"]).is_err());
        assert!(
            parse(&["--anonymous", "--key", "k"]).is_err(),
            "a key needs a bucket"
        );
        assert!(parse(&["--anonymous"]).is_ok());
        let cli = parse(&[
            "--access-key-id",
            "AKID",
            "--bucket",
            "b",
            "--key",
            "k",
            "--condition",
            "aws:SourceIp=10.0.0.1",
            "--condition",
            "aws:SecureTransport=false",
            "--json",
        ])
        .expect("valid arguments");
        let crate::cli::Command::Admin(AdminArgs {
            command:
                AdminCommand::Policy(PolicyCommand::Explain {
                    access_key_id,
                    conditions,
                    json,
                    ..
                }),
            ..
        }) = cli.command
        else {
            panic!("parsed as another command");
        };
        assert_eq!(access_key_id.as_deref(), Some("AKID"));
        assert_eq!(conditions.len(), 2);
        assert!(json);
    }

    #[test]
    fn formats_explanations() {
        let denied = ExplanationView {
            allowed: false,
            outcome: "ExplicitDeny".to_owned(),
            explanation: "an explicit Deny applies".to_owned(),
            reasons: vec![
                ExplainedReasonView {
                    source: "BucketPolicy".to_owned(),
                    account: "111122223333".to_owned(),
                    name: "bucket policy of photos".to_owned(),
                    sid: Some("no-cats".to_owned()),
                    index: 0,
                    effect: "Deny".to_owned(),
                },
                ExplainedReasonView {
                    source: "BucketAcl".to_owned(),
                    account: "111122223333".to_owned(),
                    name: "bucket ACL of photos".to_owned(),
                    sid: None,
                    index: 3,
                    effect: "Deny".to_owned(),
                },
            ],
        };
        assert_eq!(
            explanation_lines(&denied),
            "DENIED (ExplicitDeny)\n\
             an explicit Deny applies\n\
             \x20 Deny by BucketPolicy \"bucket policy of photos\" of account 111122223333, statement \"no-cats\" (#0)\n\
             \x20 Deny by BucketAcl \"bucket ACL of photos\" of account 111122223333, statement #3\n"
        );
        let allowed = ExplanationView {
            allowed: true,
            outcome: "Allowed".to_owned(),
            explanation: "the resource owner's root user".to_owned(),
            reasons: Vec::new(),
        };
        assert_eq!(
            explanation_lines(&allowed),
            "ALLOWED\nthe resource owner's root user\n"
        );
    }

    #[test]
    fn account_paths_take_only_account_ids() {
        assert_eq!(
            account_path("123456789012").expect("an id"),
            "/admin/v1/accounts/123456789012"
        );
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "../../nodes",
        ] {
            assert!(account_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_accounts() {
        let account = AccountView {
            account_id: "123456789012".to_owned(),
            canonical_id: "c".repeat(64),
            display_name: "alice".to_owned(),
            email: None,
            created_at: "2024-01-02T03:04:05Z".to_owned(),
        };
        let table = account_table(std::slice::from_ref(&account));
        let row = table.lines().nth(1).expect("a row");
        for field in ["123456789012", "alice", "-", "2024-01-02T03:04:05Z"] {
            assert!(row.contains(field), "{row}");
        }
        let lines = account_lines(&account);
        assert!(lines.contains("display_name:      alice"), "{lines}");
        assert!(lines.contains("email:             -"), "{lines}");
    }

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

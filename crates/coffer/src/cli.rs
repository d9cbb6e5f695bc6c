//! The command line. Every `server` flag is optional here: defaults, the
//! environment and the config file are layered in `config::resolve`, so the
//! help text states each default and environment variable itself.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

#[derive(Debug, Parser)]
#[command(
    name = "coffer",
    version,
    about = "coffer: a self-hosted, S3-compatible object store",
    long_about = "coffer: a self-hosted, S3-compatible object store.\n\n\
        Run `coffer server` to start a node. With no configuration it starts a \
        single-node region with its data in ./data, the S3 endpoint on \
        127.0.0.1:9000 and the admin endpoint (health, metrics) on 127.0.0.1:9001."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the server variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node: the S3 endpoint and the admin endpoint (health, metrics).
    #[command(after_long_help = SERVER_AFTER_HELP)]
    Server(ServerArgs),
    /// Operate a running region through its admin API (signed with the
    /// root credentials from COFFER_ROOT_ACCESS_KEY/COFFER_ROOT_SECRET_KEY).
    Admin(crate::admin_cli::AdminArgs),
    /// Print the version and exit.
    Version,
}

const SERVER_AFTER_HELP: &str = "\
Precedence: command-line flag > COFFER_* environment variable > config file > default.

Other environment variables:
  COFFER_ROOT_ACCESS_KEY, COFFER_ROOT_SECRET_KEY
      Root account credentials, created or added on start. When unset, the
      documented development defaults are used and a warning is logged.
  RUST_LOG
      Log filter (tracing EnvFilter syntax), default \"info,openraft=warn\".

Master key: the region master key (64 hex characters) is read from
--master-key-file / COFFER_MASTER_KEY_FILE, else from <data-dir>/master.key,
which is generated on first start. The file must not be readable or writable
by group or others (chmod 600), or the server refuses to start.";

/// Flags of `coffer server`.
#[derive(Debug, Default, Args)]
pub struct ServerArgs {
    /// TOML config file with the same settings in snake_case
    /// (see deploy/coffer.example.toml) [env: COFFER_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Data directory (metadata, blocks, generated master key)
    /// [default: ./data] [env: COFFER_DATA_DIR]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address of the S3 endpoint [default: 127.0.0.1:9000] [env: COFFER_S3_LISTEN]
    #[arg(long, value_name = "IP:PORT")]
    pub s3_listen: Option<String>,

    /// Address of the admin endpoint: /health/live, /health/ready, /metrics
    /// [default: 127.0.0.1:9001] [env: COFFER_ADMIN_LISTEN]
    #[arg(long, value_name = "IP:PORT")]
    pub admin_listen: Option<String>,

    /// Region name, used in SigV4 scopes and bucket locations
    /// [default: us-east-1] [env: COFFER_REGION]
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,

    /// Base domain for virtual-hosted-style requests (bucket.DOMAIN);
    /// repeatable or comma-separated. Path style always works.
    /// [env: COFFER_DOMAIN, comma-separated]
    #[arg(long, value_name = "DOMAIN", value_delimiter = ',', action = clap::ArgAction::Append)]
    pub domain: Vec<String>,

    /// PEM certificate chain; with --tls-key, both endpoints serve HTTPS only
    /// [env: COFFER_TLS_CERT]
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for --tls-cert [env: COFFER_TLS_KEY]
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Region master key file (64 hex characters, mode 0600)
    /// [default: <data-dir>/master.key, generated if missing] [env: COFFER_MASTER_KEY_FILE]
    #[arg(long, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,

    /// This node's Raft id [default: 1] [env: COFFER_NODE_ID]
    #[arg(long, value_name = "N")]
    pub node_id: Option<u64>,

    /// Address of the node-to-node gRPC endpoint (Raft, blocks); setting it
    /// makes this node a member of a multi-node region (with --init or
    /// --join on first start) [env: COFFER_RPC_LISTEN]
    #[arg(long, value_name = "IP:PORT")]
    pub rpc_listen: Option<String>,

    /// The RPC address other nodes dial, when it differs from --rpc-listen
    /// (e.g. 0.0.0.0:9100 behind the name node1:9100)
    /// [default: --rpc-listen] [env: COFFER_RPC_ADVERTISE]
    #[arg(long, value_name = "HOST:PORT")]
    pub rpc_advertise: Option<String>,

    /// This node's zone (failure domain); replicas prefer distinct zones
    /// [default: default] [env: COFFER_ZONE]
    #[arg(long, value_name = "NAME")]
    pub zone: Option<String>,

    /// First start only: create a new region with this node as its only
    /// voter (and a region CA) [env: COFFER_INIT=true]
    #[arg(long)]
    pub init: bool,

    /// First start only: join the region that the member at this RPC
    /// address belongs to; needs --join-token [env: COFFER_JOIN]
    #[arg(long, value_name = "HOST:PORT")]
    pub join: Option<String>,

    /// The token printed by `coffer admin node token` [env: COFFER_JOIN_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    pub join_token: Option<String>,

    /// Replicas per block; the effective count is at most the number of
    /// nodes [default: 3] [env: COFFER_REPLICATION_FACTOR]
    #[arg(long, value_name = "N")]
    pub replication_factor: Option<u64>,

    /// Seconds between scrub passes, which re-read and authenticate this
    /// node's block replicas and replace corrupt ones (region members)
    /// [default: 86400] [env: COFFER_SCRUB_INTERVAL_SECONDS]
    #[arg(long, value_name = "SECONDS")]
    pub scrub_interval_seconds: Option<u64>,

    /// For test rigs: the shortest STS session (AssumeRole,
    /// GetSessionToken DurationSeconds) granted, 1 to 900; AWS's is 900
    /// [default: 900] [env: COFFER_STS_MIN_DURATION_SECONDS]
    #[arg(long, value_name = "SECONDS")]
    pub sts_min_duration_seconds: Option<u64>,

    /// Advanced: build a Raft snapshot (and compact the log) every this
    /// many entries [default: 50000] [env: COFFER_RAFT_SNAPSHOT_LOGS]
    #[arg(long, value_name = "N", hide = true)]
    pub raft_snapshot_logs: Option<u64>,

    /// Log line format [default: text] [env: COFFER_LOG_FORMAT]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Advanced: plaintext bytes per block file, a multiple of 64 KiB
    /// [default: 4194304] [env: COFFER_BLOCK_SIZE_BYTES]
    #[arg(long, value_name = "BYTES", hide = true)]
    pub block_size_bytes: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected \"text\" or \"json\"".to_owned()),
        }
    }
}

//! Server settings from four layers, in precedence order: command-line flag,
//! `COFFER_*` environment variable, TOML config file, built-in default.
//!
//! The environment is passed in as a lookup function rather than read from
//! the process, so the precedence rules are testable without touching global
//! state.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use coffer_types::limits::{BLOCK_SIZE_BYTES_DEFAULT, SEGMENT_SIZE_BYTES};
use serde::Deserialize;

use crate::cli::{LogFormat, ServerArgs};

pub const DATA_DIR_DEFAULT: &str = "./data";
pub const S3_LISTEN_DEFAULT: &str = "127.0.0.1:9000";
pub const ADMIN_LISTEN_DEFAULT: &str = "127.0.0.1:9001";
pub const REGION_DEFAULT: &str = "us-east-1";
pub const NODE_ID_DEFAULT: u64 = 1;
pub const ZONE_DEFAULT: &str = "default";
pub const REPLICATION_FACTOR_DEFAULT: u64 = 3;
pub const SCRUB_INTERVAL_SECONDS_DEFAULT: u64 = 24 * 3600;
/// AWS's shortest STS session; a test rig may lower it, never raise it.
pub const STS_MIN_DURATION_SECONDS_DEFAULT: u32 = 900;
/// A year: longer is surely a typo.
const SCRUB_INTERVAL_SECONDS_MAX: u64 = 366 * 24 * 3600;
/// More replicas than this is a misconfiguration (a region has 1–7 nodes).
const REPLICATION_FACTOR_MAX: u64 = 7;
/// Blocks are whole AEAD segments, between one segment and 64 MiB.
pub const BLOCK_SIZE_BYTES_MIN: u64 = SEGMENT_SIZE_BYTES as u64;
pub const BLOCK_SIZE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// A config file larger than this is surely not one.
const CONFIG_FILE_BYTES_MAX: u64 = 1024 * 1024;
/// At most this many virtual-host base domains.
const DOMAINS_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is larger than {CONFIG_FILE_BYTES_MAX} bytes")]
    FileTooLarge { path: PathBuf },
    #[error("invalid config file {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("invalid {setting} {value:?} (from {origin}): {reason}")]
    Invalid {
        setting: &'static str,
        value: String,
        origin: Origin,
        reason: String,
    },
    #[error("the S3 and admin endpoints need different addresses (both are {0})")]
    SameListenAddress(SocketAddr),
    #[error("--tls-cert and --tls-key must be given together (only {given} is set)")]
    TlsHalf { given: &'static str },
    #[error(
        "{0} needs --rpc-listen: only a node with an RPC endpoint can be in a multi-node region"
    )]
    NeedsRpc(&'static str),
    #[error("--init and --join exclude each other")]
    InitAndJoin,
    #[error("--join needs --join-token (printed by `coffer admin node token`), or the region's master key in --master-key-file")]
    JoinWithoutToken,
}

/// Where a setting's value came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(&'static str),
    File,
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("command line"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::File => f.write_str("config file"),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// The TOML config file: the same settings as the flags, in snake_case.
/// Unknown keys are an error, so a typo never silently falls back to a
/// default.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub s3_listen: Option<String>,
    pub admin_listen: Option<String>,
    pub region: Option<String>,
    pub domain: Option<Domains>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
    pub node_id: Option<u64>,
    pub block_size_bytes: Option<u64>,
    pub log_format: Option<LogFormat>,
    pub rpc_listen: Option<String>,
    pub rpc_advertise: Option<String>,
    pub zone: Option<String>,
    pub init: Option<bool>,
    pub join: Option<String>,
    pub join_token: Option<String>,
    pub replication_factor: Option<u64>,
    pub raft_snapshot_logs: Option<u64>,
    pub scrub_interval_seconds: Option<u64>,
    pub sts_min_duration_seconds: Option<u64>,
}

/// `domain = "a.example"`, `domain = "a.example,b.example"` or
/// `domain = ["a.example", "b.example"]`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Domains {
    One(String),
    Many(Vec<String>),
}

impl FileConfig {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|error| ConfigError::ParseFile {
            path: path.to_owned(),
            message: error.to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read_error = |source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        };
        let size_bytes = std::fs::metadata(path).map_err(read_error)?.len();
        if size_bytes > CONFIG_FILE_BYTES_MAX {
            return Err(ConfigError::FileTooLarge {
                path: path.to_owned(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        Self::parse(&text, path)
    }
}

/// The certificate chain and key for HTTPS on both listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Multi-node settings; absent for a standalone node.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    pub rpc_listen: SocketAddr,
    /// What other nodes dial to reach this one.
    pub rpc_advertise: String,
    pub start: ClusterStart,
}

/// What a data directory that belongs to no region yet does.
#[derive(Clone, PartialEq, Eq)]
pub enum ClusterStart {
    /// Neither --init nor --join: the data directory must already belong to
    /// a region.
    Existing,
    Init,
    Join {
        address: String,
        /// Secret: never logged (`Debug` is redacted). `None` when every
        /// node is given the same master key file instead.
        token: Option<zeroize::Zeroizing<String>>,
    },
}

impl std::fmt::Debug for ClusterSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let start = match &self.start {
            ClusterStart::Existing => "existing".to_owned(),
            ClusterStart::Init => "init".to_owned(),
            ClusterStart::Join { address, .. } => format!("join {address}"),
        };
        f.debug_struct("ClusterSettings")
            .field("rpc_listen", &self.rpc_listen)
            .field("rpc_advertise", &self.rpc_advertise)
            .field("start", &start)
            .finish()
    }
}

/// Every setting of `coffer server`, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub s3_listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub region: String,
    pub domains: Vec<String>,
    pub tls: Option<TlsFiles>,
    /// Where the region master key lives; `None` means `<data_dir>/master.key`.
    pub master_key_file: Option<PathBuf>,
    pub node_id: u64,
    pub block_size_bytes: u64,
    pub log_format: LogFormat,
    pub zone: String,
    pub replication_factor: u64,
    pub raft_snapshot_logs: u64,
    pub scrub_interval_seconds: u64,
    /// The shortest STS session granted (AWS: 900 s).
    pub sts_min_duration_seconds: u32,
    pub cluster: Option<ClusterSettings>,
}

/// A setting's value and where it came from.
struct Layered<T> {
    value: T,
    origin: Origin,
}

/// Pick the first layer that has a value. Empty environment variables count
/// as unset, as most tools treat them.
fn pick(
    flag: Option<String>,
    env: &dyn Fn(&str) -> Option<String>,
    env_name: &'static str,
    file: Option<String>,
) -> Option<Layered<String>> {
    if let Some(value) = flag {
        return Some(Layered {
            value,
            origin: Origin::Flag,
        });
    }
    if let Some(value) = env(env_name).filter(|value| !value.is_empty()) {
        return Some(Layered {
            value,
            origin: Origin::Env(env_name),
        });
    }
    file.map(|value| Layered {
        value,
        origin: Origin::File,
    })
}

fn or_default(picked: Option<Layered<String>>, default: &str) -> Layered<String> {
    picked.unwrap_or_else(|| Layered {
        value: default.to_owned(),
        origin: Origin::Default,
    })
}

fn parse_with<T>(
    setting: &'static str,
    layered: Layered<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    parse(&layered.value).map_err(|reason| ConfigError::Invalid {
        setting,
        value: layered.value.clone(),
        origin: layered.origin,
        reason,
    })
}

fn path_to_string(path: PathBuf) -> String {
    path.to_string_lossy().into_owned()
}

/// The config file to read, if any: `--config`, else `COFFER_CONFIG`.
pub fn config_file_path(
    args: &ServerArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    pick(
        args.config.clone().map(path_to_string),
        env,
        "COFFER_CONFIG",
        None,
    )
    .map(|layered| PathBuf::from(layered.value))
}

/// Resolve every setting from the flags, the environment and the file.
pub fn resolve(
    args: &ServerArgs,
    env: &dyn Fn(&str) -> Option<String>,
    mut file: FileConfig,
) -> Result<ServerConfig, ConfigError> {
    let file_cluster = FileCluster {
        rpc_listen: file.rpc_listen.take(),
        rpc_advertise: file.rpc_advertise.take(),
        init: file.init.take(),
        join: file.join.take(),
        join_token: file.join_token.take(),
    };
    let data_dir = or_default(
        pick(
            args.data_dir.clone().map(path_to_string),
            env,
            "COFFER_DATA_DIR",
            file.data_dir.map(path_to_string),
        ),
        DATA_DIR_DEFAULT,
    );
    let data_dir = parse_with("data_dir", data_dir, parse_path)?;

    let s3_listen = or_default(
        pick(
            args.s3_listen.clone(),
            env,
            "COFFER_S3_LISTEN",
            file.s3_listen,
        ),
        S3_LISTEN_DEFAULT,
    );
    let s3_listen = parse_with("s3_listen", s3_listen, parse_socket_addr)?;
    let admin_listen = or_default(
        pick(
            args.admin_listen.clone(),
            env,
            "COFFER_ADMIN_LISTEN",
            file.admin_listen,
        ),
        ADMIN_LISTEN_DEFAULT,
    );
    let admin_listen = parse_with("admin_listen", admin_listen, parse_socket_addr)?;
    if s3_listen == admin_listen {
        return Err(ConfigError::SameListenAddress(s3_listen));
    }

    let region = or_default(
        pick(args.region.clone(), env, "COFFER_REGION", file.region),
        REGION_DEFAULT,
    );
    let region = parse_with("region", region, parse_region)?;

    let flag_domains = (!args.domain.is_empty()).then(|| args.domain.join(","));
    let file_domains = file.domain.map(|domains| match domains {
        Domains::One(text) => text,
        Domains::Many(list) => list.join(","),
    });
    let domains = match pick(flag_domains, env, "COFFER_DOMAIN", file_domains) {
        Some(layered) => parse_with("domain", layered, parse_domains)?,
        None => Vec::new(),
    };

    let tls_cert = pick(
        args.tls_cert.clone().map(path_to_string),
        env,
        "COFFER_TLS_CERT",
        file.tls_cert.map(path_to_string),
    );
    let tls_key = pick(
        args.tls_key.clone().map(path_to_string),
        env,
        "COFFER_TLS_KEY",
        file.tls_key.map(path_to_string),
    );
    let tls = match (tls_cert, tls_key) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError::TlsHalf {
                given: "the certificate",
            })
        }
        (None, Some(_)) => return Err(ConfigError::TlsHalf { given: "the key" }),
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: parse_with("tls_cert", cert, parse_path)?,
            key: parse_with("tls_key", key, parse_path)?,
        }),
    };

    let master_key_file = match pick(
        args.master_key_file.clone().map(path_to_string),
        env,
        "COFFER_MASTER_KEY_FILE",
        file.master_key_file.map(path_to_string),
    ) {
        Some(layered) => Some(parse_with("master_key_file", layered, parse_path)?),
        None => None,
    };

    let node_id = or_default(
        pick(
            args.node_id.map(|id| id.to_string()),
            env,
            "COFFER_NODE_ID",
            file.node_id.map(|id| id.to_string()),
        ),
        &NODE_ID_DEFAULT.to_string(),
    );
    let node_id = parse_with("node_id", node_id, parse_node_id)?;

    let block_size_bytes = or_default(
        pick(
            args.block_size_bytes.map(|size| size.to_string()),
            env,
            "COFFER_BLOCK_SIZE_BYTES",
            file.block_size_bytes.map(|size| size.to_string()),
        ),
        &BLOCK_SIZE_BYTES_DEFAULT.to_string(),
    );
    let block_size_bytes = parse_with("block_size_bytes", block_size_bytes, parse_block_size)?;

    let log_format = or_default(
        pick(
            args.log_format.map(|format| format.as_str().to_owned()),
            env,
            "COFFER_LOG_FORMAT",
            file.log_format.map(|format| format.as_str().to_owned()),
        ),
        LogFormat::Text.as_str(),
    );
    let log_format = parse_with("log_format", log_format, LogFormat::parse)?;

    let zone = or_default(
        pick(args.zone.clone(), env, "COFFER_ZONE", file.zone),
        ZONE_DEFAULT,
    );
    let zone = parse_with("zone", zone, parse_zone)?;
    let replication_factor = or_default(
        pick(
            args.replication_factor.map(|n| n.to_string()),
            env,
            "COFFER_REPLICATION_FACTOR",
            file.replication_factor.map(|n| n.to_string()),
        ),
        &REPLICATION_FACTOR_DEFAULT.to_string(),
    );
    let replication_factor = parse_with(
        "replication_factor",
        replication_factor,
        parse_replication_factor,
    )?;
    let raft_snapshot_logs = or_default(
        pick(
            args.raft_snapshot_logs.map(|n| n.to_string()),
            env,
            "COFFER_RAFT_SNAPSHOT_LOGS",
            file.raft_snapshot_logs.map(|n| n.to_string()),
        ),
        &coffer_meta::SNAPSHOT_LOGS_SINCE_LAST_DEFAULT.to_string(),
    );
    let raft_snapshot_logs = parse_with("raft_snapshot_logs", raft_snapshot_logs, |text| {
        text.parse::<u64>()
            .ok()
            .filter(|n| *n >= 10)
            .ok_or_else(|| "expected a number of log entries, at least 10".to_owned())
    })?;
    let scrub_interval_seconds = or_default(
        pick(
            args.scrub_interval_seconds.map(|n| n.to_string()),
            env,
            "COFFER_SCRUB_INTERVAL_SECONDS",
            file.scrub_interval_seconds.map(|n| n.to_string()),
        ),
        &SCRUB_INTERVAL_SECONDS_DEFAULT.to_string(),
    );
    let scrub_interval_seconds =
        parse_with("scrub_interval_seconds", scrub_interval_seconds, |text| {
            text.parse::<u64>()
                .ok()
                .filter(|n| (1..=SCRUB_INTERVAL_SECONDS_MAX).contains(n))
                .ok_or_else(|| format!("expected 1 to {SCRUB_INTERVAL_SECONDS_MAX} seconds"))
        })?;
    let sts_min_duration_seconds = or_default(
        pick(
            args.sts_min_duration_seconds.map(|n| n.to_string()),
            env,
            "COFFER_STS_MIN_DURATION_SECONDS",
            file.sts_min_duration_seconds.map(|n| n.to_string()),
        ),
        &STS_MIN_DURATION_SECONDS_DEFAULT.to_string(),
    );
    let sts_min_duration_seconds = parse_with(
        "sts_min_duration_seconds",
        sts_min_duration_seconds,
        |text| {
            text.parse::<u32>()
                .ok()
                .filter(|n| (1..=STS_MIN_DURATION_SECONDS_DEFAULT).contains(n))
                .ok_or_else(|| format!("expected 1 to {STS_MIN_DURATION_SECONDS_DEFAULT} seconds"))
        },
    )?;
    let cluster = resolve_cluster(args, env, &file_cluster, master_key_file.is_some())?;

    Ok(ServerConfig {
        data_dir,
        s3_listen,
        admin_listen,
        region,
        domains,
        tls,
        master_key_file,
        node_id,
        block_size_bytes,
        log_format,
        zone,
        replication_factor,
        raft_snapshot_logs,
        scrub_interval_seconds,
        sts_min_duration_seconds,
        cluster,
    })
}

/// The cluster part of the file, taken out before the rest is consumed.
struct FileCluster {
    rpc_listen: Option<String>,
    rpc_advertise: Option<String>,
    init: Option<bool>,
    join: Option<String>,
    join_token: Option<String>,
}

fn resolve_cluster(
    args: &ServerArgs,
    env: &dyn Fn(&str) -> Option<String>,
    file: &FileCluster,
    has_master_key_file: bool,
) -> Result<Option<ClusterSettings>, ConfigError> {
    let init = args.init
        || env("COFFER_INIT").is_some_and(|value| value == "true" || value == "1")
        || file.init == Some(true);
    let join = pick(args.join.clone(), env, "COFFER_JOIN", file.join.clone());
    let join_token = pick(
        args.join_token.clone(),
        env,
        "COFFER_JOIN_TOKEN",
        file.join_token.clone(),
    );
    let Some(rpc_listen) = pick(
        args.rpc_listen.clone(),
        env,
        "COFFER_RPC_LISTEN",
        file.rpc_listen.clone(),
    ) else {
        if init {
            return Err(ConfigError::NeedsRpc("--init"));
        }
        if join.is_some() {
            return Err(ConfigError::NeedsRpc("--join"));
        }
        return Ok(None);
    };
    let rpc_listen = parse_with("rpc_listen", rpc_listen, parse_socket_addr)?;
    let rpc_advertise = match pick(
        args.rpc_advertise.clone(),
        env,
        "COFFER_RPC_ADVERTISE",
        file.rpc_advertise.clone(),
    ) {
        Some(layered) => parse_with("rpc_advertise", layered, parse_host_port)?,
        None => rpc_listen.to_string(),
    };
    let start = match (init, join, join_token) {
        (true, Some(_), _) => return Err(ConfigError::InitAndJoin),
        (true, None, _) => ClusterStart::Init,
        (false, Some(address), Some(token)) => ClusterStart::Join {
            address: parse_with("join", address, parse_host_port)?,
            token: Some(zeroize::Zeroizing::new(token.value)),
        },
        (false, Some(address), None) if has_master_key_file => ClusterStart::Join {
            address: parse_with("join", address, parse_host_port)?,
            token: None,
        },
        (false, Some(_), None) => return Err(ConfigError::JoinWithoutToken),
        (false, None, _) => ClusterStart::Existing,
    };
    Ok(Some(ClusterSettings {
        rpc_listen,
        rpc_advertise,
        start,
    }))
}

/// `host:port` where host is an IP or a DNS name (compose service names).
fn parse_host_port(text: &str) -> Result<String, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| "expected HOST:PORT".to_owned())?;
    let port_ok = port.parse::<u16>().is_ok_and(|port| port != 0);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
    if port_ok && host_ok {
        Ok(text.to_owned())
    } else {
        Err("expected HOST:PORT, e.g. 10.0.0.2:9100 or node1:9100".to_owned())
    }
}

fn parse_zone(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(text.to_owned())
    } else {
        Err("expected letters, digits, '-', '_' or '.', at most 64".to_owned())
    }
}

fn parse_replication_factor(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=REPLICATION_FACTOR_MAX).contains(&n) => Ok(n),
        _ => Err(format!("expected 1 to {REPLICATION_FACTOR_MAX}")),
    }
}

fn parse_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(PathBuf::from(text))
}

fn parse_socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| "expected IP:PORT, e.g. 127.0.0.1:9000 or [::]:9000".to_owned())
}

/// Region names as AWS spells them: lowercase letters, digits and dashes.
fn parse_region(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err("expected lowercase letters, digits and dashes, e.g. us-east-1".to_owned())
    }
}

/// Comma-separated DNS names; blanks between commas are ignored.
fn parse_domains(text: &str) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for domain in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let domain = domain.to_ascii_lowercase();
        let valid = domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(format!("{domain:?} is not a DNS name"));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > DOMAINS_MAX {
        return Err(format!("at most {DOMAINS_MAX} domains"));
    }
    Ok(domains)
}

fn parse_node_id(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) | Err(_) => Err("expected a positive integer".to_owned()),
        Ok(id) => Ok(id),
    }
}

fn parse_block_size(text: &str) -> Result<u64, String> {
    let size_bytes: u64 = text
        .parse()
        .map_err(|_| "expected a number of bytes".to_owned())?;
    if !(BLOCK_SIZE_BYTES_MIN..=BLOCK_SIZE_BYTES_MAX).contains(&size_bytes)
        || !size_bytes.is_multiple_of(SEGMENT_SIZE_BYTES as u64)
    {
        return Err(format!(
            "expected a multiple of {SEGMENT_SIZE_BYTES} between {BLOCK_SIZE_BYTES_MIN} and {BLOCK_SIZE_BYTES_MAX}"
        ));
    }
    Ok(size_bytes)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

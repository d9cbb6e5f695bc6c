//! One `coffer server` child process on loopback ports, with its own
//! temporary data directory and captured output.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::Rng;

/// Readiness bound: a debug build on a busy two-core machine can be slow to
/// open RocksDB and elect itself leader.
const READY_TIMEOUT_MS: u64 = 60_000;
/// Graceful-stop bound (the server drains in-flight requests for up to 30 s).
const STOP_TIMEOUT_MS: u64 = 45_000;
/// Attempts at finding free ports before giving up.
const START_ATTEMPTS_MAX: u32 = 5;
/// Bound on one admin request made by the harness.
const ADMIN_REQUEST_TIMEOUT_SECONDS: u64 = 60;

/// Extra settings for a server.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Base domain for virtual-hosted-style requests (`--domain`).
    pub domain: Option<String>,
    /// Plaintext bytes per block file (`--block-size-bytes`).
    pub block_size_bytes: Option<u64>,
    /// Region name (`--region`); us-east-1 when unset.
    pub region: Option<String>,
    /// Serve HTTPS on both endpoints with this identity (`--tls-cert`,
    /// `--tls-key`); endpoints and clients then use `https://`.
    pub tls: Option<TlsIdentity>,
    /// Pass the data directory, listen addresses, region and TLS files in a
    /// TOML file (`--config FILE`, see `Server::config_file_path`) instead
    /// of as flags, so the file is the only place they can come from.
    pub settings_in_config_file: bool,
    /// Make this server one node of a region (`--rpc-listen`, `--node-id`,
    /// `--zone`, `--init` or `--join`).
    pub cluster: Option<ClusterNode>,
    /// Root credentials to use instead of fresh random ones (every node of
    /// a region shares them).
    pub credentials: Option<(String, String)>,
    /// More `coffer server` flags.
    pub extra_args: Vec<String>,
}

/// A node's place in a region.
#[derive(Clone, Debug)]
pub struct ClusterNode {
    pub node_id: u64,
    pub zone: String,
    /// `None`: `--init` (the first node). Else the RPC address of a member
    /// and the join token.
    pub join: Option<(String, String)>,
}

/// A PEM certificate chain and private key for the server.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

impl TlsIdentity {
    /// The throwaway self-signed identity (SANs `localhost` and 127.0.0.1,
    /// valid until 2126) that the coffer crate's own TLS tests use.
    pub fn localhost_test() -> Self {
        let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/coffer/src/testdata");
        Self {
            cert_path: testdata.join("localhost.cert.pem"),
            key_path: testdata.join("localhost.key.pem"),
        }
    }
}

/// A running `coffer server`. Dropping it kills the process (SIGKILL).
pub struct Server {
    child: Option<Child>,
    // Held so the directory lives as long as the server; removed on drop.
    work_dir: tempfile::TempDir,
    s3_port: u16,
    admin_port: u16,
    rpc_port: u16,
    access_key_id: String,
    secret_access_key: String,
    options: ServerOptions,
    /// The server certificate (PEM) that clients trust, when TLS is on.
    tls_cert_pem: Option<Vec<u8>>,
    /// Counts starts so that each run's output goes to its own log files.
    generation: u32,
}

impl Server {
    /// Start a server with default options and wait until it is ready.
    pub async fn start() -> Result<Self> {
        Self::start_with(ServerOptions::default()).await
    }

    /// Start a server with `options` and wait until it is ready.
    pub async fn start_with(options: ServerOptions) -> Result<Self> {
        install_crypto_provider();
        let work_dir = tempfile::Builder::new()
            .prefix("coffer-e2e-")
            .tempdir()
            .context("create temp dir")?;
        std::fs::create_dir_all(work_dir.path().join("data"))?;
        let tls_cert_pem = match &options.tls {
            Some(identity) => Some(std::fs::read(&identity.cert_path).with_context(|| {
                format!("read test certificate {}", identity.cert_path.display())
            })?),
            None => None,
        };
        let (access_key_id, secret_access_key) = options.credentials.clone().unwrap_or_else(|| {
            (
                format!("E2E{}", random_token(17).to_uppercase()),
                random_token(40),
            )
        });
        let mut server = Self {
            child: None,
            work_dir,
            s3_port: 0,
            admin_port: 0,
            rpc_port: 0,
            access_key_id,
            secret_access_key,
            options,
            tls_cert_pem,
            generation: 0,
        };
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS_MAX {
            server.s3_port = free_port()?;
            server.admin_port = free_port()?;
            server.rpc_port = free_port()?;
            match server.spawn_and_wait().await {
                Ok(()) => return Ok(server),
                Err(error) => {
                    // Another process may have taken a port between our probe
                    // and the server's bind: only then is a retry useful.
                    let output = server.output();
                    server.kill_child();
                    if !looks_like_bind_failure(&output) {
                        return Err(error.context(output));
                    }
                    last_error = Some(error.context(output));
                }
            }
        }
        Err(last_error.expect("the loop ran at least once"))
    }

    /// `http` or, with `ServerOptions::tls`, `https`.
    pub fn scheme(&self) -> &'static str {
        if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// `http(s)://127.0.0.1:PORT` of the S3 endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.s3_port)
    }

    pub fn s3_port(&self) -> u16 {
        self.s3_port
    }

    pub fn s3_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.s3_port))
    }

    /// `http(s)://127.0.0.1:PORT` of the admin endpoint.
    pub fn admin_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.admin_port)
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    pub fn admin_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.admin_port))
    }

    /// `127.0.0.1:PORT` of the node-to-node RPC endpoint (cluster nodes).
    pub fn rpc_addr(&self) -> String {
        format!("127.0.0.1:{}", self.rpc_port)
    }

    /// Change how the node joins on its next start (after a wipe, say).
    pub fn set_cluster_node(&mut self, node: ClusterNode) {
        self.options.cluster = Some(node);
    }

    /// Freeze the process (SIGSTOP): alive but silent, like a long GC
    /// pause or a hung host.
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    /// Let a paused process run again (SIGCONT).
    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.pid().context("server is not running")?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .context("run kill")?;
        if !status.success() {
            bail!("kill {signal} {pid} failed: {status}");
        }
        Ok(())
    }

    /// Kill the process and delete its whole data directory.
    pub fn kill_and_wipe(&mut self) -> Result<()> {
        self.kill_child();
        std::fs::remove_dir_all(self.data_dir()).context("wipe the data dir")?;
        std::fs::create_dir_all(self.data_dir())?;
        Ok(())
    }

    /// Start again (after `kill9` or `kill_and_wipe`) without waiting for
    /// readiness; `wait_until_ready` waits.
    pub fn spawn_only(&mut self) -> Result<()> {
        self.kill_child();
        self.spawn()
    }

    /// Wait for `/health/ready` (bounded).
    pub async fn wait_until_ready(&mut self) -> Result<()> {
        let result = self.wait_ready().await;
        result.with_context(|| self.output())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The server certificate (PEM) when TLS is on.
    pub fn tls_cert_pem(&self) -> Option<&[u8]> {
        self.tls_cert_pem.as_deref()
    }

    /// Where `ServerOptions::settings_in_config_file` writes the TOML file.
    pub fn config_file_path(&self) -> PathBuf {
        self.work_dir.path().join("coffer.toml")
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A reqwest client that trusts exactly the server's certificate when
    /// TLS is on (and no built-in roots), plain HTTP otherwise.
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder().timeout(timeout);
        if let Some(pem) = &self.tls_cert_pem {
            builder = builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(pem)?);
        }
        Ok(builder.build()?)
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    pub fn region(&self) -> &str {
        self.options.region.as_deref().unwrap_or("us-east-1")
    }

    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    pub fn data_dir(&self) -> PathBuf {
        self.work_dir.path().join("data")
    }

    /// The block files' root (DESIGN.md §5).
    pub fn blocks_dir(&self) -> PathBuf {
        self.data_dir().join("blocks")
    }

    /// Kill the process with SIGKILL and reap it: a crash.
    pub fn kill9(&mut self) {
        self.kill_child();
    }

    /// Start again on the same data directory and ports.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill_child();
        let result = self.spawn_and_wait().await;
        result.with_context(|| self.output())
    }

    /// SIGTERM, then wait (bounded) for a clean exit. Returns the exit code.
    pub fn stop_graceful(&mut self) -> Result<i32> {
        let Some(mut child) = self.child.take() else {
            bail!("server is not running");
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .context("run kill -TERM")?;
        if !status.success() {
            bail!("kill -TERM failed: {status}");
        }
        let deadline = Instant::now() + Duration::from_millis(STOP_TIMEOUT_MS);
        loop {
            if let Some(exit) = child.try_wait()? {
                return Ok(exit.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("server did not exit within {STOP_TIMEOUT_MS} ms of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server printed in this run, for failure messages.
    pub fn output(&self) -> String {
        let read = |name: &str| {
            let path = self.log_path(name);
            std::fs::read_to_string(&path).unwrap_or_default()
        };
        let stderr = read("stderr");
        let stdout = read("stdout");
        let tail = |text: &str| {
            // The last lines matter most and the whole log can be long.
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(60)..].join("\n")
        };
        format!(
            "--- coffer stdout (run {}) ---\n{}\n--- coffer stderr ---\n{}",
            self.generation,
            tail(&stdout),
            tail(&stderr)
        )
    }

    /// GET a path on the admin endpoint; returns status and body.
    pub async fn admin_get(&self, path: &str) -> Result<(u16, String)> {
        let response = self
            .http_client(Duration::from_secs(ADMIN_REQUEST_TIMEOUT_SECONDS))?
            .get(format!("{}{}", self.admin_url(), path))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// The value of a metric line `name{labels} value` summed over all label
    /// sets whose labels contain every `label_filters` pair.
    pub async fn metric_sum(&self, name: &str, label_filters: &[(&str, &str)]) -> Result<f64> {
        let (status, body) = self.admin_get("/metrics").await?;
        if status != 200 {
            bail!("/metrics answered {status}");
        }
        Ok(sum_metric(&body, name, label_filters))
    }

    fn log_path(&self, stream: &str) -> PathBuf {
        self.work_dir
            .path()
            .join(format!("{stream}.{}.log", self.generation))
    }

    async fn spawn_and_wait(&mut self) -> Result<()> {
        self.spawn()?;
        self.wait_ready().await
    }

    fn spawn(&mut self) -> Result<()> {
        self.generation += 1;
        let binary = coffer_binary()?;
        let stdout = File::create(self.log_path("stdout"))?;
        let stderr = File::create(self.log_path("stderr"))?;
        let mut command = Command::new(&binary);
        command.arg("server");
        if self.options.settings_in_config_file {
            std::fs::write(self.config_file_path(), self.config_toml())
                .context("write the config file")?;
            command.arg("--config").arg(self.config_file_path());
        } else {
            command
                .arg("--data-dir")
                .arg(self.data_dir())
                .arg("--s3-listen")
                .arg(format!("127.0.0.1:{}", self.s3_port))
                .arg("--admin-listen")
                .arg(format!("127.0.0.1:{}", self.admin_port));
            if let Some(region) = &self.options.region {
                command.arg("--region").arg(region);
            }
            if let Some(identity) = &self.options.tls {
                command
                    .arg("--tls-cert")
                    .arg(&identity.cert_path)
                    .arg("--tls-key")
                    .arg(&identity.key_path);
            }
        }
        command
            .env("COFFER_ROOT_ACCESS_KEY", &self.access_key_id)
            .env("COFFER_ROOT_SECRET_KEY", &self.secret_access_key)
            .stdin(Stdio::null())
            .env(
                "RUST_LOG",
                std::env::var("COFFER_E2E_LOG").unwrap_or("info".into()),
            )
            .stdout(stdout)
            .stderr(stderr);
        // Only what this harness chose may configure the server.
        for (name, _) in std::env::vars_os() {
            let is_setting = name.to_string_lossy().starts_with("COFFER_");
            let is_ours = name == "COFFER_ROOT_ACCESS_KEY" || name == "COFFER_ROOT_SECRET_KEY";
            if is_setting && !is_ours {
                command.env_remove(&name);
            }
        }
        if let Some(domain) = &self.options.domain {
            command.arg("--domain").arg(domain);
        }
        if let Some(size) = self.options.block_size_bytes {
            command.arg("--block-size-bytes").arg(size.to_string());
        }
        if let Some(node) = &self.options.cluster {
            command
                .arg("--node-id")
                .arg(node.node_id.to_string())
                .arg("--zone")
                .arg(&node.zone)
                .arg("--rpc-listen")
                .arg(self.rpc_addr());
            match &node.join {
                None => {
                    command.arg("--init");
                }
                Some((address, token)) => {
                    command.arg("--join").arg(address);
                    // The token is a secret: pass it in the environment,
                    // where `ps` does not show it.
                    command.env("COFFER_JOIN_TOKEN", token);
                }
            }
        }
        command.args(&self.options.extra_args);
        let child = command
            .spawn()
            .with_context(|| format!("spawn {}", binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let client = self.http_client(Duration::from_secs(5))?;
        let url = format!("{}/health/ready", self.admin_url());
        let deadline = Instant::now() + Duration::from_millis(READY_TIMEOUT_MS);
        loop {
            let child = self.child.as_mut().context("no child")?;
            if let Some(status) = child.try_wait()? {
                self.child = None;
                bail!("coffer exited before it was ready: {status}");
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("coffer was not ready within {READY_TIMEOUT_MS} ms");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The settings `settings_in_config_file` moves out of the flags.
    fn config_toml(&self) -> String {
        let mut text = format!(
            "data_dir = {}\ns3_listen = \"127.0.0.1:{}\"\nadmin_listen = \"127.0.0.1:{}\"\n",
            toml_string(&self.data_dir().to_string_lossy()),
            self.s3_port,
            self.admin_port
        );
        if let Some(region) = &self.options.region {
            text.push_str(&format!("region = {}\n", toml_string(region)));
        }
        if let Some(identity) = &self.options.tls {
            text.push_str(&format!(
                "tls_cert = {}\ntls_key = {}\n",
                toml_string(&identity.cert_path.to_string_lossy()),
                toml_string(&identity.key_path.to_string_lossy())
            ));
        }
        text
    }

    fn kill_child(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_child();
        if std::thread::panicking() {
            eprintln!("{}", self.output());
        }
    }
}

/// `COFFER_BIN`, else `target/<profile>/coffer` next to this test binary
/// (which lives in `target/<profile>/deps/`).
pub fn coffer_binary() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("COFFER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("current_exe")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("test binary has no grandparent directory")?;
    let binary = profile_dir.join("coffer");
    if !binary.exists() {
        bail!(
            "{} does not exist: build it first (cargo build --bin coffer) or set COFFER_BIN",
            binary.display()
        );
    }
    Ok(binary)
}

/// reqwest is built without a bundled TLS provider (to keep aws-lc out of the
/// build): install ring's once per process before any client is built.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only means another provider is already installed: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn looks_like_bind_failure(output: &str) -> bool {
    let lower = output.to_lowercase();
    lower.contains("address already in use") || lower.contains("addrinuse")
}

fn random_token(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..length)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Sum of a Prometheus metric's samples whose labels include every filter.
pub fn sum_metric(body: &str, name: &str, label_filters: &[(&str, &str)]) -> f64 {
    let mut total = 0.0;
    for line in body.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (labels, value) = if let Some(after_brace) = rest.strip_prefix('{') {
            let Some(end) = after_brace.find('}') else {
                continue;
            };
            (&after_brace[..end], after_brace[end + 1..].trim())
        } else if rest.starts_with(' ') {
            ("", rest.trim())
        } else {
            // A longer metric name that shares the prefix.
            continue;
        };
        let matches = label_filters
            .iter()
            .all(|(key, wanted)| labels.contains(&format!("{key}=\"{wanted}\"")));
        if matches {
            if let Some(number) = value.split_whitespace().next() {
                total += number.parse::<f64>().unwrap_or(0.0);
            }
        }
    }
    total
}

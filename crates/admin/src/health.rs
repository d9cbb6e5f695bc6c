//! Liveness and readiness. Ready means this node can serve requests: Raft
//! knows a leader, this node is in touch with a quorum, its applied state
//! has caught up with what the region committed (a node that rejoined
//! empty is not ready while it installs a snapshot), and the data volume
//! accepts a durable write. The write
//! probe costs an fsync, so its result is cached and refreshed at most once
//! per `PROBE_INTERVAL_MS`, however often the endpoint is polled.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use tokio::task::JoinHandle;

use crate::AdminState;

/// How long a readiness check waits for this node to catch up with the
/// leader's commit index before it answers "not ready".
pub(crate) const CATCH_UP_WAIT_MS: u64 = 2_000;
/// Minimum time between two write probes of the data volume.
pub const PROBE_INTERVAL_MS: u64 = 5_000;
/// A probe slower than this counts as "not writable" (a hung disk must not
/// hang the readiness check too).
const PROBE_TIMEOUT_MS: u64 = 5_000;
const PROBE_FILE_NAME: &str = ".coffer-ready-probe";

pub(crate) async fn live() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

pub(crate) async fn ready(State(state): State<Arc<AdminState>>) -> (StatusCode, String) {
    let progress = state.status.progress();
    if !progress.has_leader {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no raft leader".to_owned(),
        );
    }
    if !progress.has_quorum {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no raft quorum".to_owned(),
        );
    }
    if let Err(reason) = state.status.caught_up().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        );
    }
    match state.disk_probe.check().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}"),
        ),
    }
}

/// A cached, rate-limited check that a directory accepts a write + fsync.
pub(crate) struct DiskProbe {
    dir: PathBuf,
    interval: Duration,
    state: tokio::sync::Mutex<ProbeState>,
}

struct ProbeState {
    checked_at: Option<Instant>,
    outcome: Result<(), String>,
    /// A probe that outlived its timeout; awaited again next time instead of
    /// starting another, so a hung disk never piles up blocking threads.
    pending: Option<JoinHandle<std::io::Result<()>>>,
}

impl DiskProbe {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self::with_interval(dir, Duration::from_millis(PROBE_INTERVAL_MS))
    }

    pub(crate) fn with_interval(dir: PathBuf, interval: Duration) -> Self {
        Self {
            dir,
            interval,
            state: tokio::sync::Mutex::new(ProbeState {
                checked_at: None,
                outcome: Err("not probed yet".to_owned()),
                pending: None,
            }),
        }
    }

    /// The latest outcome, probing again if the cached one is older than
    /// the interval. Concurrent callers wait for the same probe.
    pub(crate) async fn check(&self) -> Result<(), String> {
        let mut state = self.state.lock().await;
        if let Some(checked_at) = state.checked_at {
            if checked_at.elapsed() < self.interval {
                return state.outcome.clone();
            }
        }
        let mut probe = match state.pending.take() {
            Some(pending) => pending,
            None => {
                let dir = self.dir.clone();
                tokio::task::spawn_blocking(move || write_probe_file(&dir))
            }
        };
        let outcome = match tokio::time::timeout(
            Duration::from_millis(PROBE_TIMEOUT_MS),
            &mut probe,
        )
        .await
        {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => {
                tracing::warn!(dir = %self.dir.display(), %error, "data directory probe failed");
                Err(format!("data directory not writable: {error}"))
            }
            Ok(Err(join_error)) => {
                tracing::error!(%join_error, "data directory probe task failed");
                Err("data directory probe failed".to_owned())
            }
            Err(_elapsed) => {
                tracing::warn!(dir = %self.dir.display(), "data directory probe timed out");
                state.pending = Some(probe);
                Err("data directory probe timed out".to_owned())
            }
        };
        state.checked_at = Some(Instant::now());
        state.outcome = outcome.clone();
        outcome
    }
}

/// Write, fsync and remove a small file: what a block write needs to work.
fn write_probe_file(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(PROBE_FILE_NAME);
    let mut file = std::fs::File::create(&path)?;
    file.write_all(b"coffer readiness probe\n")?;
    file.sync_all()?;
    drop(file);
    std::fs::remove_file(&path)
}

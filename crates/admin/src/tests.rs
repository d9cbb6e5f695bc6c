//! Handler tests against a fake node: real HTTP requests through the router,
//! real probe files on a temp directory.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower::ServiceExt;

use crate::health::DiskProbe;
use crate::{router_with, NodeStatus, Progress};

mod accounts;
mod policy;

struct FakeNode {
    progress: Mutex<Progress>,
    totals: (u64, u64),
    probe_dir: PathBuf,
    /// What `caught_up` answers: `None` is caught up.
    catching_up: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl NodeStatus for FakeNode {
    fn progress(&self) -> Progress {
        *self.progress.lock().expect("test lock is never poisoned")
    }
    async fn caught_up(&self) -> Result<(), String> {
        match self.catching_up.lock().expect("test lock").clone() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
    fn block_totals(&self) -> (u64, u64) {
        self.totals
    }
    fn probe_dir(&self) -> PathBuf {
        self.probe_dir.clone()
    }
}

/// The recorder is process-global; every test shares one.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).expect("only this test module installs one");
            handle
        })
        .clone()
}

fn fake_node(has_leader: bool, probe_dir: PathBuf) -> Arc<FakeNode> {
    Arc::new(FakeNode {
        progress: Mutex::new(Progress {
            has_leader,
            has_quorum: has_leader,
            term: 3,
            leader_id: 1,
            is_leader: true,
            voters: 1,
            last_log_index: 42,
            purged_index: 0,
            committed_index: 42,
            applied_index: 41,
        }),
        totals: (7, 123_456),
        probe_dir,
        catching_up: Mutex::new(None),
    })
}

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .body(Body::empty())
        .expect("static request is valid");
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("router is infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("in-memory body")
        .to_bytes();
    (
        status,
        String::from_utf8(body.to_vec()).expect("handlers answer UTF-8"),
    )
}

#[tokio::test]
async fn live_answers_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = router_with(
        fake_node(false, dir.path().join("tmp")),
        metrics_handle(),
        crate::AdminApi::default(),
    );
    assert_eq!(
        get(&router, "/health/live").await,
        (StatusCode::OK, "ok".to_owned())
    );
}

#[tokio::test]
async fn ready_needs_a_leader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = fake_node(false, dir.path().join("tmp"));
    let router = router_with(node.clone(), metrics_handle(), crate::AdminApi::default());
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no raft leader"), "{body}");

    // A leader is known but this node cannot reach a quorum.
    node.progress.lock().expect("test lock").has_leader = true;
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no raft quorum"), "{body}");

    // In touch with a quorum, but still installing a snapshot.
    node.progress.lock().expect("test lock").has_quorum = true;
    *node.catching_up.lock().expect("test lock") = Some("catching up".to_owned());
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "not ready: catching up");

    *node.catching_up.lock().expect("test lock") = None;
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));
    // The probe cleans up after itself.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("tmp"))
        .expect("probe created tmp")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn ready_needs_a_writable_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A directory cannot be created under a regular file, whatever the
    // permissions of the user running the tests (root included).
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("write blocker");
    let router = router_with(
        fake_node(true, blocker.join("tmp")),
        metrics_handle(),
        crate::AdminApi::default(),
    );
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("not writable"), "{body}");
}

#[tokio::test]
async fn probe_result_is_cached_within_the_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let probe_dir = dir.path().join("tmp");
    let cached = DiskProbe::with_interval(probe_dir.clone(), Duration::from_secs(3600));
    let uncached = DiskProbe::with_interval(probe_dir.clone(), Duration::ZERO);
    assert_eq!(cached.check().await, Ok(()));
    assert_eq!(uncached.check().await, Ok(()));

    // Break the directory: replace it with a regular file.
    std::fs::remove_dir(&probe_dir).expect("remove probe dir");
    std::fs::write(&probe_dir, b"x").expect("write blocker");
    assert_eq!(
        cached.check().await,
        Ok(()),
        "within the interval the cached result stands"
    );
    assert!(
        uncached.check().await.is_err(),
        "an expired result is probed again"
    );
}

#[tokio::test]
async fn metrics_render_engine_gauges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let router = router_with(
        fake_node(true, dir.path().join("tmp")),
        metrics_handle(),
        crate::AdminApi::default(),
    );
    metrics::counter!("coffer_test_requests_total").increment(3);
    let (status, body) = get(&router, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "coffer_raft_committed_index 42",
        "coffer_raft_applied_index 41",
        "coffer_raft_has_leader 1",
        "coffer_block_files 7",
        "coffer_block_bytes 123456",
        "coffer_test_requests_total 3",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in:\n{body}"
        );
    }
}

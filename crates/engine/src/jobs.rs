//! Background jobs with progress, for `coffer admin job list|show`. The
//! one kind so far is repair: walk every block run that committed metadata
//! names and make each block's placement hold it (`BlockStore::
//! repair_block`), at a bounded rate. In a region the leader runs it when
//! it becomes leader, after every membership change (a node joined, came
//! back wiped, or left: this is also the rebalance) and periodically.
//! Only the most recent jobs are kept, in memory.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::Engine;

/// Jobs remembered (oldest dropped first).
const JOBS_KEPT_MAX: usize = 32;
/// Metadata records read per page while walking.
const RUNS_PAGE_RECORDS: usize = 256;
/// Copy at most this many bytes per second (repair must not starve
/// client traffic).
const REPAIR_BYTES_PER_SECOND_MAX: u64 = 64 * 1024 * 1024;
/// How often the leader checks whether a repair is due.
const CHECK_INTERVAL_MS: u64 = 2_000;
/// A full pass at least this often, to catch replicas lost silently.
const PERIODIC_PASS_INTERVAL_MS: u64 = 30 * 60 * 1000;
/// After a pass that copied something or met errors, the next one comes
/// this soon: writes that raced the pass (placed before a membership
/// change, or whose straggler replica failed) are then caught, and passes
/// repeat until one finds nothing to do.
const FOLLOW_UP_PASS_DELAY_MS: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Running,
    Done,
    Failed,
}

/// One job as the admin API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    pub id: u64,
    pub kind: &'static str,
    /// Why it started (e.g. "membership changed").
    pub reason: String,
    pub state: JobState,
    /// Blocks checked / blocks to check.
    pub done: u64,
    pub total: u64,
    pub bytes_copied: u64,
    pub replicas_copied: u64,
    /// Copies deleted from nodes placement no longer picks (rebalance).
    pub replicas_removed: u64,
    pub errors: u64,
    pub started_unix_ms: i64,
    pub elapsed_ms: u64,
    /// Estimated time left, from the rate so far (running jobs only).
    pub eta_ms: Option<u64>,
}

struct Job {
    view: JobView,
    started: Instant,
}

#[derive(Default)]
pub(crate) struct Jobs {
    jobs: Mutex<VecDeque<Job>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Jobs {
    pub(crate) fn start(&self, kind: &'static str, reason: String) -> u64 {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if jobs.len() >= JOBS_KEPT_MAX {
            jobs.pop_front();
        }
        jobs.push_back(Job {
            view: JobView {
                id,
                kind,
                reason,
                state: JobState::Running,
                done: 0,
                total: 0,
                bytes_copied: 0,
                replicas_copied: 0,
                replicas_removed: 0,
                errors: 0,
                started_unix_ms: coffer_types::now_unix_millis(),
                elapsed_ms: 0,
                eta_ms: None,
            },
            started: Instant::now(),
        });
        id
    }

    pub(crate) fn update(&self, id: u64, change: impl FnOnce(&mut JobView)) {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(job) = jobs.iter_mut().find(|job| job.view.id == id) {
            change(&mut job.view);
        }
    }

    /// End a job: `Done`, or `Failed` with one more error; its elapsed time
    /// stops here.
    pub(crate) fn finish(&self, id: u64, failed: bool) {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(job) = jobs.iter_mut().find(|job| job.view.id == id) {
            job.view.state = if failed {
                JobState::Failed
            } else {
                JobState::Done
            };
            job.view.errors += u64::from(failed);
            job.view.elapsed_ms = job.started.elapsed().as_millis() as u64;
            job.view.eta_ms = None;
        }
    }

    pub(crate) fn get(&self, id: u64) -> Option<JobView> {
        self.list().into_iter().find(|view| view.id == id)
    }

    /// Every remembered job, oldest first, with timing filled in.
    pub(crate) fn list(&self) -> Vec<JobView> {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        jobs.iter()
            .map(|job| {
                let mut view = job.view.clone();
                if view.state == JobState::Running {
                    view.elapsed_ms = job.started.elapsed().as_millis() as u64;
                    view.eta_ms = (view.done > 0 && view.total >= view.done).then(|| {
                        view.elapsed_ms.saturating_mul(view.total - view.done) / view.done
                    });
                }
                view
            })
            .collect()
    }
}

/// Walk every block run once and repair what is missing. Returns the job.
pub(crate) async fn repair_pass(engine: &Engine, reason: String) -> u64 {
    placement_pass(engine, "repair", reason, None).await
}

/// Copy every block to the placement it will have once `node_id` has left
/// (run before removing a node). Returns the job and whether it finished
/// without errors.
pub(crate) async fn drain_pass(engine: &Engine, node_id: u64) -> (u64, bool) {
    let id = placement_pass(
        engine,
        "drain",
        format!("before removing node {node_id}"),
        Some(node_id),
    )
    .await;
    let clean = engine
        .jobs
        .get(id)
        .is_some_and(|view| view.state == JobState::Done && view.errors == 0);
    (id, clean)
}

async fn placement_pass(
    engine: &Engine,
    kind: &'static str,
    reason: String,
    excluded: Option<u64>,
) -> u64 {
    let id = engine.jobs.start(kind, reason);
    let outcome = run_repair(engine, id, excluded).await;
    if let Err(error) = &outcome {
        tracing::warn!(%error, kind, "placement pass failed");
    }
    engine.jobs.finish(id, outcome.is_err());
    id
}

async fn run_repair(
    engine: &Engine,
    id: u64,
    excluded: Option<u64>,
) -> Result<(), coffer_meta::MetaError> {
    // First count, so progress has a total (a metadata-only walk).
    let mut total = 0u64;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let coffer_meta::DataRunsPage { runs, next } =
            engine.meta.data_runs(after.as_deref(), RUNS_PAGE_RECORDS)?;
        total += runs.iter().map(|(_, blocks)| blocks).sum::<u64>();
        engine.jobs.update(id, |view| view.total = total);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let started = Instant::now();
    let mut copied_bytes = 0u64;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let coffer_meta::DataRunsPage { runs, next } =
            engine.meta.data_runs(after.as_deref(), RUNS_PAGE_RECORDS)?;
        for (data_id, block_count) in runs {
            for index in 0..block_count {
                let repair = engine
                    .blocks
                    .repair_block_without(data_id, index, excluded)
                    .await;
                engine.jobs.update(id, |view| {
                    view.done += 1;
                    view.bytes_copied += repair.copied_bytes;
                    view.replicas_copied += u64::from(repair.copied);
                    view.replicas_removed += u64::from(repair.removed);
                    view.errors += u64::from(repair.failed);
                });
                if repair.copied_bytes > 0 {
                    metrics::counter!("coffer_repair_bytes_total").increment(repair.copied_bytes);
                    copied_bytes += repair.copied_bytes;
                    pace(started, copied_bytes, REPAIR_BYTES_PER_SECOND_MAX).await;
                }
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// Sleep until `bytes` moved since `started` keep under the rate bound.
pub(crate) async fn pace(started: Instant, bytes: u64, bytes_per_second_max: u64) {
    let earliest = Duration::from_secs_f64(bytes as f64 / bytes_per_second_max as f64);
    if let Some(wait) = earliest.checked_sub(started.elapsed()) {
        tokio::time::sleep(wait).await;
    }
}

/// The leader's repair loop: a pass when leadership or membership changed
/// since the last one, and periodically.
pub(crate) async fn repair_worker(engine: Arc<Engine>) {
    // (term, membership index, when, whether a follow-up is due)
    let mut last_pass: Option<(u64, u64, Instant, bool)> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(CHECK_INTERVAL_MS)).await;
        let status = engine.meta.status();
        if !status.is_leader || !status.has_quorum {
            last_pass = None;
            continue;
        }
        let membership = engine.meta.membership_index();
        let reason = match last_pass {
            None => "became leader".to_owned(),
            Some((term, index, _, _)) if term != status.term || index != membership => {
                "membership changed".to_owned()
            }
            Some((_, _, at, true))
                if at.elapsed() > Duration::from_millis(FOLLOW_UP_PASS_DELAY_MS) =>
            {
                "follow-up".to_owned()
            }
            Some((_, _, at, _))
                if at.elapsed() > Duration::from_millis(PERIODIC_PASS_INTERVAL_MS) =>
            {
                "periodic".to_owned()
            }
            Some(_) => continue,
        };
        let id = repair_pass(&engine, reason).await;
        let view = engine.jobs.get(id);
        let follow_up = view.as_ref().is_some_and(|view| {
            view.replicas_copied > 0 || view.replicas_removed > 0 || view.errors > 0
        });
        if let Some(view) = view {
            tracing::info!(
                job = id,
                blocks = view.total,
                copied = view.replicas_copied,
                errors = view.errors,
                "repair pass finished"
            );
        }
        last_pass = Some((status.term, membership, Instant::now(), follow_up));
    }
}

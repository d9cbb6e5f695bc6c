//! Garbage collection: a sweep of unreferenced block files at start (no
//! upload can be in flight then) and every ten minutes (only files older
//! than an hour, so in-flight uploads are never touched), and a worker that
//! drains the metadata GC queue: delete each entry's blocks, then propose
//! `GcDone` for the entries deleted.

use std::sync::Arc;
use std::time::Duration;

use coffer_meta::Command;
use tokio::time::Instant;

use crate::{errors, Engine, Result};

/// Queued garbage is kept this long so that in-flight reads of a replaced
/// or deleted version can finish.
pub(crate) const GRACE_MS_DEFAULT: u64 = 60_000;
/// GC entries handled per round.
const GC_BATCH_ENTRIES: usize = 256;
/// How long the worker waits for new garbage when the queue is empty.
const IDLE_WAIT_MS: u64 = 1_000;
const SWEEP_INTERVAL_SECONDS: u64 = 10 * 60;
/// Files younger than this may belong to an upload in flight.
const SWEEP_MIN_AGE_SECONDS: u64 = 60 * 60;
const BACKOFF_MS_MIN: u64 = 100;
const BACKOFF_MS_MAX: u64 = 60_000;

pub(crate) async fn start(engine: &Arc<Engine>) -> Result<tokio::task::JoinHandle<()>> {
    // Alone, nothing can be in flight at start. In a region, other nodes
    // may be writing blocks here for uploads this node has not seen commit
    // yet, so the usual age bound applies.
    let min_age = if engine.blocks.is_clustered() {
        Duration::from_secs(SWEEP_MIN_AGE_SECONDS)
    } else {
        Duration::ZERO
    };
    let removed = sweep(engine, min_age).await?;
    tracing::info!(removed, "startup sweep removed unreferenced block files");
    let engine = engine.clone();
    Ok(tokio::spawn(async move { worker(engine).await }))
}

/// Remove block files no committed record names. A failed reference check
/// counts as "referenced": never delete what might be live.
async fn sweep(engine: &Engine, min_age: Duration) -> Result<u64> {
    let meta = engine.meta.clone();
    let is_referenced = move |data_id: &coffer_types::DataId| {
        meta.data_is_referenced(data_id).unwrap_or_else(|error| {
            tracing::warn!(%error, %data_id, "reference check failed during sweep; keeping the data");
            true
        })
    };
    engine
        .blocks
        .sweep_unreferenced(is_referenced, min_age)
        .await
        .map_err(|error| errors::blob("sweep", error))
}

enum Round {
    /// Nothing is due yet.
    Idle,
    /// Every entry of a batch was handled.
    Progress,
    /// Some entries could not be handled; retry later.
    Failed,
}

async fn drain_once(engine: &Engine) -> Round {
    // In a region only the leader drains the queue (it deletes on every
    // member), so two nodes never race on the same entries.
    if engine.blocks.is_clustered() && !engine.meta.status().is_leader {
        return Round::Idle;
    }
    let batch = match engine.meta.gc_batch(GC_BATCH_ENTRIES) {
        Ok(batch) => batch,
        Err(error) => {
            tracing::warn!(%error, "reading the GC queue failed");
            return Round::Failed;
        }
    };
    // The queue is ordered oldest first, so the due entries are a prefix.
    let grace_ms = i64::try_from(
        engine
            .gc_grace_ms
            .load(std::sync::atomic::Ordering::Relaxed),
    )
    .unwrap_or(i64::MAX);
    let due_before_ms = coffer_types::now_unix_millis().saturating_sub(grace_ms);
    let due: Vec<_> = batch
        .into_iter()
        .take_while(|entry| entry.enqueued_ms <= due_before_ms)
        .collect();
    if due.is_empty() {
        return Round::Idle;
    }
    let batch = due;
    let mut done = Vec::with_capacity(batch.len());
    for entry in &batch {
        match engine
            .blocks
            .delete_data(entry.data_id, entry.block_count)
            .await
        {
            Ok(()) => done.push(entry.data_id),
            Err(error) => {
                tracing::warn!(%error, data_id = %entry.data_id, "deleting garbage blocks failed")
            }
        }
    }
    let all_done = done.len() == batch.len();
    if !done.is_empty() {
        if let Err(error) = engine
            .meta
            .propose(Command::GcDone { data_ids: done })
            .await
        {
            tracing::warn!(%error, "recording GC progress failed");
            return Round::Failed;
        }
    }
    if all_done {
        Round::Progress
    } else {
        Round::Failed
    }
}

async fn worker(engine: Arc<Engine>) {
    let sweep_interval = Duration::from_secs(SWEEP_INTERVAL_SECONDS);
    let mut next_sweep = Instant::now() + sweep_interval;
    let mut backoff_ms = BACKOFF_MS_MIN;
    loop {
        if Instant::now() >= next_sweep {
            match sweep(&engine, Duration::from_secs(SWEEP_MIN_AGE_SECONDS)).await {
                Ok(removed) => {
                    tracing::info!(removed, "periodic sweep removed unreferenced block files")
                }
                Err(error) => tracing::warn!(%error, "periodic sweep failed"),
            }
            next_sweep = Instant::now() + sweep_interval;
        }
        match drain_once(&engine).await {
            Round::Progress => backoff_ms = BACKOFF_MS_MIN,
            Round::Idle => {
                backoff_ms = BACKOFF_MS_MIN;
                let wait = tokio::time::sleep(Duration::from_millis(IDLE_WAIT_MS));
                tokio::select! {
                    _ = engine.gc_wakeup.notified() => {}
                    _ = wait => {}
                }
            }
            Round::Failed => {
                tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
                backoff_ms = (backoff_ms * 2).min(BACKOFF_MS_MAX);
            }
        }
    }
}

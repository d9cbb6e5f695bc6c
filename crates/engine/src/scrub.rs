//! Scrub: every node of a region re-reads the block replicas it holds and
//! checks each segment's AES-GCM tag, at a bounded rate, as a "scrub" job
//! (`coffer admin job list`). A replica that fails is removed and repaired
//! from another (`BlockStore::discard_corrupt_replica`), so bit rot is found
//! before a client reads it. Runs every `--scrub-interval-seconds` (default
//! a day); objects of uploads still in progress are not scrubbed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer_meta::ObjectVersion;
use coffer_types::{BucketName, ObjectKey, VersionId};

use crate::jobs;
use crate::{read, Engine};

/// Read at most this many bytes per second while scrubbing.
const SCRUB_BYTES_PER_SECOND_MAX: u64 = 32 * 1024 * 1024;
/// Object versions read per metadata page.
const VERSIONS_PAGE_MAX: usize = 256;
pub(crate) const SCRUB_INTERVAL_MS_DEFAULT: u64 = 24 * 3600 * 1000;

pub(crate) async fn scrub_worker(engine: Arc<Engine>) {
    loop {
        let interval = engine
            .scrub_interval_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(interval.max(1_000))).await;
        let id = scrub_pass(&engine).await;
        tracing::info!(job = id, "scrub pass finished");
    }
}

/// Verify every local replica once. Returns the job.
pub(crate) async fn scrub_pass(engine: &Engine) -> u64 {
    let id = engine.jobs.start("scrub", "periodic".to_owned());
    let outcome = scrub(engine, id).await;
    if let Err(error) = &outcome {
        tracing::warn!(%error, "scrub pass failed");
    }
    engine.jobs.finish(id, outcome.is_err());
    id
}

async fn scrub(engine: &Engine, id: u64) -> Result<(), coffer_meta::MetaError> {
    let started = Instant::now();
    let mut verified_bytes = 0u64;
    for bucket in engine.meta.buckets()? {
        let mut after: Option<(Vec<u8>, VersionId)> = None;
        loop {
            let page = engine.meta.list_object_versions(
                &bucket.name,
                "",
                after.as_ref().map(|(key, _)| key.as_slice()),
                after.as_ref().map(|(_, version)| version),
                VERSIONS_PAGE_MAX,
            )?;
            let Some((last_key, last_version)) = page.last() else {
                break;
            };
            after = Some((
                last_key.as_str().as_bytes().to_vec(),
                last_version.version_id.clone(),
            ));
            for (key, version) in &page {
                verified_bytes += scrub_version(engine, id, &bucket.name, key, version).await;
                jobs::pace(started, verified_bytes, SCRUB_BYTES_PER_SECOND_MAX).await;
            }
            if page.len() < VERSIONS_PAGE_MAX {
                break;
            }
        }
    }
    Ok(())
}

/// Verify this node's replicas of one version's blocks; returns bytes read.
async fn scrub_version(
    engine: &Engine,
    id: u64,
    bucket: &BucketName,
    key: &ObjectKey,
    version: &ObjectVersion,
) -> u64 {
    let Some(local) = engine.blocks.local_node_id() else {
        return 0;
    };
    let data_key = match engine.data_key(bucket, key, &version.encryption) {
        Ok(data_key) => Arc::new(data_key),
        Err(_) => {
            engine.jobs.update(id, |view| view.errors += 1);
            return 0;
        }
    };
    let mut read_bytes = 0u64;
    for part in &version.parts {
        for index in 0..part.block_count() {
            if !engine
                .blocks
                .replicas(&part.data_id, index)
                .contains(&local)
            {
                continue;
            }
            let sealed = match engine
                .blocks
                .read_local(part.data_id, index, 0, u64::MAX)
                .await
            {
                Ok(sealed) => sealed,
                // Missing: repair's business.
                Err(_) => continue,
            };
            read_bytes += sealed.len() as u64;
            let (checked_key, checked_part) = (data_key.clone(), part.clone());
            let verdict = tokio::task::spawn_blocking(move || {
                read::verify_block(&checked_key, &checked_part, index, sealed)
            })
            .await;
            let corrupt = !matches!(verdict, Ok(Ok(())));
            if corrupt {
                tracing::warn!(data_id = %part.data_id, index, "scrub: local replica fails authentication; replacing it");
                engine
                    .blocks
                    .discard_corrupt_replica(local, part.data_id, index);
            }
            engine.jobs.update(id, |view| {
                view.done += 1;
                if corrupt {
                    view.errors += 1;
                }
            });
        }
    }
    read_bytes
}

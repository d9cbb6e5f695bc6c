//! The run driver: what to run (`Workload`), how hard (`Load`), and the
//! loop that prepares the bucket, starts the workers, stops them at the
//! deadline, operation count or Ctrl-C, merges what they measured and
//! cleans up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio_util::sync::CancellationToken;

use crate::bucket;
use crate::client::Target;
use crate::progress::Progress;
use crate::report::Report;
use crate::size::SizeSpec;
use crate::stats::Stats;
use crate::workloads;

/// Share of each operation in the `mixed` workload, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    pub get: u32,
    pub head: u32,
    pub put: u32,
    pub delete: u32,
}

impl Default for Mix {
    /// warp's default mix.
    fn default() -> Self {
        Self {
            get: 45,
            head: 30,
            put: 15,
            delete: 10,
        }
    }
}

impl Mix {
    pub fn total(&self) -> u32 {
        self.get + self.head + self.put + self.delete
    }
}

/// What the workers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// PUT objects of `Load::size`.
    Put,
    /// GET random objects of a pre-filled set, verifying content.
    Get,
    /// GET / HEAD / PUT / DELETE over a pre-filled set.
    Mixed(Mix),
    /// Walk a pre-filled bucket with ListObjectsV2, `page_size` keys a page.
    List { page_size: i32 },
    /// Multipart uploads of `parts` × `part_size_bytes`, `parts_in_flight`
    /// parts at a time within each upload.
    Multipart {
        parts: u32,
        part_size_bytes: u64,
        parts_in_flight: usize,
    },
    /// Zero-byte PUTs to new keys: committed metadata writes per second.
    Meta,
}

impl Workload {
    pub fn name(&self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Mixed(_) => "mixed",
            Workload::List { .. } => "list",
            Workload::Multipart { .. } => "multipart",
            Workload::Meta => "meta",
        }
    }

    /// How many objects must exist before the measured phase starts (keys
    /// 0 … n-1, as `Put` with `objects` and `operations` both n writes them).
    pub fn prefill_count(&self, load: &Load) -> u64 {
        match self {
            Workload::Get | Workload::List { .. } => load.objects.unwrap_or(DEFAULT_OBJECTS),
            Workload::Mixed(_) => mixed_object_count(load),
            Workload::Put | Workload::Multipart { .. } | Workload::Meta => 0,
        }
    }
}

/// Writers pre-filling a bucket, at least.
const PREFILL_CONCURRENCY_MIN: usize = 32;

/// Pre-filled objects when `--objects` is not given.
pub const DEFAULT_OBJECTS: u64 = 100;

/// `mixed` gives every worker its own keys (so it knows which exist), hence
/// at least one key per worker.
pub(crate) fn mixed_object_count(load: &Load) -> u64 {
    load.objects
        .unwrap_or(DEFAULT_OBJECTS)
        .max(load.concurrency as u64)
}

/// How hard and for how long.
#[derive(Clone, Debug)]
pub struct Load {
    /// Workers issuing operations at the same time.
    pub concurrency: usize,
    pub size: SizeSpec,
    /// Distinct keys: the pre-filled set for get/mixed/list; for put, keys
    /// are reused modulo this (default: every PUT writes a new key).
    pub objects: Option<u64>,
    /// Stop after this long (ignored when `operations` is set).
    pub duration: Duration,
    /// Stop after this many operations (for list: walks; for multipart:
    /// whole uploads).
    pub operations: Option<u64>,
    /// Keys are spread over this many prefixes (`p0000/`, `p0001/`, …).
    pub prefixes: u64,
    /// Seeds object content, object sizes and the random choices.
    pub seed: u64,
    /// Bucket to use; a fresh `coffer-bench-<random>` when `None`.
    pub bucket: Option<String>,
    /// Leave the bucket and its objects in place afterwards.
    pub keep_bucket: bool,
    /// Write the objects get/mixed/list read first. Without it they must
    /// already be in `bucket` (from an earlier run with the same seed,
    /// sizes and `keep_bucket`), e.g. to measure reads after a restart.
    pub prefill: bool,
    /// Draw a progress bar on stderr (when it is a terminal).
    pub progress: bool,
}

impl Default for Load {
    fn default() -> Self {
        Self {
            concurrency: 16,
            size: SizeSpec::Fixed(1 << 20),
            objects: None,
            duration: Duration::from_secs(30),
            operations: None,
            prefixes: 1,
            seed: 1,
            bucket: None,
            keep_bucket: false,
            prefill: true,
            progress: true,
        }
    }
}

/// Limits that keep a typo from exhausting the machine.
pub const CONCURRENCY_MAX: usize = 4_096;
pub const PREFIXES_MAX: u64 = 10_000;
pub const PARTS_MAX: u32 = 10_000;
pub const PART_SIZE_MIN_BYTES: u64 = 5 << 20;
pub const PART_SIZE_MAX_BYTES: u64 = 5 << 30;

impl Load {
    fn validate(&self, workload: &Workload) -> Result<()> {
        if self.concurrency == 0 || self.concurrency > CONCURRENCY_MAX {
            bail!("concurrency must be 1..={CONCURRENCY_MAX}");
        }
        if self.prefixes == 0 || self.prefixes > PREFIXES_MAX {
            bail!("prefixes must be 1..={PREFIXES_MAX}");
        }
        if self.objects == Some(0) {
            bail!("objects must be at least 1");
        }
        if self.operations == Some(0) {
            bail!("operations must be at least 1");
        }
        match workload {
            Workload::Mixed(mix) if mix.total() == 0 => bail!("the mix is all zeros"),
            Workload::List { page_size } if !(1..=1000).contains(page_size) => {
                bail!("page size must be 1..=1000")
            }
            Workload::Multipart {
                parts,
                part_size_bytes,
                parts_in_flight,
            } => {
                if *parts == 0 || *parts > PARTS_MAX {
                    bail!("parts must be 1..={PARTS_MAX}");
                }
                // S3's minimum applies to every part but the last; all our
                // parts have the same size, so one part may be smaller.
                if *parts > 1 && *part_size_bytes < PART_SIZE_MIN_BYTES {
                    bail!("part size must be at least 5MiB when there is more than one part");
                }
                if *part_size_bytes > PART_SIZE_MAX_BYTES {
                    bail!("part size must be at most 5GiB");
                }
                if *parts_in_flight == 0 || *parts_in_flight > CONCURRENCY_MAX {
                    bail!("parts in flight must be 1..={CONCURRENCY_MAX}");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// The S3 key of object number `key_index`.
pub fn object_key(key_index: u64, prefixes: u64) -> String {
    format!("p{:04}/{key_index:012}", key_index % prefixes)
}

/// Hands out operation numbers until the operation count is reached.
#[derive(Debug)]
pub(crate) struct Tickets {
    next: AtomicU64,
    limit: Option<u64>,
}

impl Tickets {
    pub(crate) fn new(limit: Option<u64>) -> Self {
        Self {
            next: AtomicU64::new(0),
            limit,
        }
    }

    pub(crate) fn take(&self) -> Option<u64> {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        match self.limit {
            Some(limit) if ticket >= limit => None,
            _ => Some(ticket),
        }
    }
}

/// What one worker hands back: stats per operation name, keys listed, and
/// a few error messages to show the user.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub stats: BTreeMap<&'static str, Stats>,
    pub keys_listed: u64,
    pub error_samples: Vec<String>,
}

/// Error messages kept per run; the count is in the stats.
const ERROR_SAMPLES_MAX: usize = 5;

impl Tally {
    pub(crate) fn op(&mut self, name: &'static str) -> &mut Stats {
        self.stats.entry(name).or_default()
    }

    pub(crate) fn error(&mut self, name: &'static str, message: String) {
        self.op(name).record_error();
        self.sample(format!("{name}: {message}"));
    }

    pub(crate) fn verify_error(&mut self, name: &'static str, message: String) {
        self.op(name).record_verify_error();
        self.sample(format!("{name}: {message}"));
    }

    fn sample(&mut self, message: String) {
        if self.error_samples.len() < ERROR_SAMPLES_MAX {
            self.error_samples.push(message);
        }
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (name, stats) in other.stats {
            self.op(name).merge(&stats);
        }
        self.keys_listed += other.keys_listed;
        for message in other.error_samples {
            self.sample(message);
        }
    }
}

/// Shared by the workers of one phase.
pub(crate) struct Context {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub load: Load,
    pub workload: Workload,
    /// Cancelled at the deadline or on interrupt; workers abandon the
    /// operation in flight (it is not counted).
    pub stop: CancellationToken,
    pub tickets: Tickets,
    /// Operations finished, for the progress bar.
    pub finished: AtomicU64,
}

impl Context {
    /// The key a writing operation uses: a new one per ticket, or reused
    /// modulo `--objects`.
    pub(crate) fn write_key_index(&self, ticket: u64) -> u64 {
        match self.load.objects {
            Some(objects) => ticket % objects,
            None => ticket,
        }
    }

    pub(crate) fn key(&self, key_index: u64) -> String {
        object_key(key_index, self.load.prefixes)
    }

    pub(crate) fn object_seed(&self, key_index: u64) -> u64 {
        crate::content::object_seed(self.load.seed, key_index)
    }

    pub(crate) fn finished_one(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// Run `workload` against `target` and report. `interrupt` is the user's
/// Ctrl-C: the measured phase stops and what was measured is reported.
pub async fn run(
    target: &Target,
    workload: Workload,
    load: &Load,
    interrupt: &CancellationToken,
) -> Result<Report> {
    load.validate(&workload)?;
    let client = target.client()?;
    let bucket = load
        .bucket
        .clone()
        .unwrap_or_else(|| format!("coffer-bench-{:016x}", rand::random::<u64>()));
    bucket::create(&client, &bucket).await?;
    let outcome = measure(&client, &bucket, workload, load, interrupt).await;
    // The bucket goes even when measuring failed or was interrupted; a
    // failed clean-up is reported but does not discard the measurements.
    let cleanup_error = if load.keep_bucket {
        None
    } else {
        bucket::remove(&client, &bucket, load.progress)
            .await
            .err()
            .map(|error| format!("removing bucket {bucket}: {error:#}"))
    };
    let (tally, elapsed) = outcome?;
    let mut report = Report::new(
        target,
        workload,
        load,
        &bucket,
        tally,
        elapsed,
        interrupt.is_cancelled(),
    );
    report.cleanup_error = cleanup_error;
    Ok(report)
}

/// Write the objects `workload` reads into `load.bucket` (created if
/// needed), as the run itself would before measuring: for callers that
/// measure a run with `prefill: false` and want the writing kept out of
/// their own measurements (the scenario runner's CPU and RSS readings).
pub async fn prefill(
    target: &Target,
    workload: Workload,
    load: &Load,
    interrupt: &CancellationToken,
) -> Result<()> {
    let Some(bucket) = &load.bucket else {
        bail!("pre-filling needs a named bucket");
    };
    let client = target.client()?;
    bucket::create(&client, bucket).await?;
    prefill_bucket(&client, bucket, workload, load, interrupt).await
}

/// PUT keys 0 … n-1 (n = `prefill_count`); any failure fails the run.
async fn prefill_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    workload: Workload,
    load: &Load,
    interrupt: &CancellationToken,
) -> Result<()> {
    let prefill_count = workload.prefill_count(load);
    if prefill_count == 0 {
        return Ok(());
    }
    // Pre-filling is not measured: use enough writers to finish soon.
    let concurrency = load
        .concurrency
        .max(PREFILL_CONCURRENCY_MIN)
        .min(prefill_count as usize);
    let context = Context {
        client: client.clone(),
        bucket: bucket.to_owned(),
        load: Load {
            concurrency,
            ..load.clone()
        },
        workload,
        stop: interrupt.child_token(),
        tickets: Tickets::new(Some(prefill_count)),
        finished: AtomicU64::new(0),
    };
    let (tally, _) = phase(context, "prefill", Some(prefill_count), workloads::prefill).await;
    let failed: u64 = tally.stats.values().map(Stats::error_count).sum();
    if interrupt.is_cancelled() {
        bail!("interrupted while pre-filling {bucket}");
    }
    if failed > 0 {
        bail!(
            "pre-filling {bucket}: {failed} of {prefill_count} PUTs failed: {:?}",
            tally.error_samples
        );
    }
    Ok(())
}

async fn measure(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    workload: Workload,
    load: &Load,
    interrupt: &CancellationToken,
) -> Result<(Tally, Duration)> {
    if load.prefill {
        prefill_bucket(client, bucket, workload, load, interrupt).await?;
    }

    let stop = interrupt.child_token();
    let context = Context {
        client: client.clone(),
        bucket: bucket.to_owned(),
        load: load.clone(),
        workload,
        stop: stop.clone(),
        tickets: Tickets::new(load.operations),
        finished: AtomicU64::new(0),
    };
    let deadline = match load.operations {
        Some(_) => None,
        None => {
            let stop = stop.clone();
            let duration = load.duration;
            Some(tokio::spawn(async move {
                tokio::time::sleep(duration).await;
                stop.cancel();
            }))
        }
    };
    let worker = match workload {
        Workload::Put | Workload::Meta => workloads::put,
        Workload::Get => workloads::get,
        Workload::Mixed(_) => workloads::mixed,
        Workload::List { .. } => workloads::list,
        Workload::Multipart { .. } => workloads::multipart,
    };
    let result = phase(context, workload.name(), load.operations, worker).await;
    if let Some(deadline) = deadline {
        deadline.abort();
    }
    Ok(result)
}

type Worker = fn(Arc<Context>, usize) -> futures::future::BoxFuture<'static, Tally>;

/// Run `load.concurrency` copies of `worker` to completion, with a progress
/// bar; returns the merged tally and the wall time.
async fn phase(
    context: Context,
    label: &'static str,
    total_operations: Option<u64>,
    worker: Worker,
) -> (Tally, Duration) {
    let context = Arc::new(context);
    let progress = Progress::start(
        label,
        context.load.progress,
        total_operations,
        context.load.duration,
        Arc::clone(&context),
    );
    let started = Instant::now();
    let handles: Vec<_> = (0..context.load.concurrency)
        .map(|index| tokio::spawn(worker(Arc::clone(&context), index)))
        .collect();
    let mut tally = Tally::default();
    for handle in handles {
        match handle.await {
            Ok(worker_tally) => tally.merge(worker_tally),
            Err(error) => tally.sample(format!("worker failed: {error}")),
        }
    }
    let elapsed = started.elapsed();
    progress.finish();
    (tally, elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_stop_at_the_limit_and_are_unbounded_without_one() {
        let tickets = Tickets::new(Some(3));
        let taken: Vec<_> = std::iter::from_fn(|| tickets.take()).collect();
        assert_eq!(taken, vec![0, 1, 2]);
        assert_eq!(tickets.take(), None);
        let unbounded = Tickets::new(None);
        for expected in 0..1000 {
            assert_eq!(unbounded.take(), Some(expected));
        }
    }

    #[test]
    fn keys_sort_by_prefix_then_index() {
        assert_eq!(object_key(5, 1), "p0000/000000000005");
        assert_eq!(object_key(5, 4), "p0001/000000000005");
    }

    #[test]
    fn tallies_merge_stats_by_name_and_cap_error_samples() {
        let mut left = Tally::default();
        left.op("put").record_ok(Duration::from_millis(1), 10);
        for index in 0..4 {
            left.error("get", format!("e{index}"));
        }
        let mut right = Tally::default();
        right.op("put").record_ok(Duration::from_millis(2), 5);
        right.keys_listed = 7;
        for index in 0..4 {
            right.verify_error("get", format!("v{index}"));
        }
        left.merge(right);
        assert_eq!(left.stats["put"].ok_count(), 2);
        assert_eq!(left.stats["put"].bytes(), 15);
        assert_eq!(left.stats["get"].error_count(), 4);
        assert_eq!(left.stats["get"].verify_error_count(), 4);
        assert_eq!(left.keys_listed, 7);
        assert_eq!(left.error_samples.len(), ERROR_SAMPLES_MAX);
    }

    #[test]
    fn load_validation_names_the_bad_setting() {
        let load = Load::default();
        assert!(load.validate(&Workload::Put).is_ok());
        let zero = Load {
            concurrency: 0,
            ..Load::default()
        };
        assert!(zero.validate(&Workload::Put).is_err());
        let small_parts = Workload::Multipart {
            parts: 2,
            part_size_bytes: 1 << 20,
            parts_in_flight: 1,
        };
        assert!(load.validate(&small_parts).is_err());
        let one_small_part = Workload::Multipart {
            parts: 1,
            part_size_bytes: 1 << 20,
            parts_in_flight: 1,
        };
        assert!(load.validate(&one_small_part).is_ok());
        assert!(load.validate(&Workload::List { page_size: 1001 }).is_err());
        let no_mix = Mix {
            get: 0,
            head: 0,
            put: 0,
            delete: 0,
        };
        assert!(load.validate(&Workload::Mixed(no_mix)).is_err());
    }
}

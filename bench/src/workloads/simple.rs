//! `put`/`meta` (and the pre-fill that other workloads start with) and
//! `get`.

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::objects::{get_object, put_object, ReadOutcome};
use crate::content::mix;
use crate::workload::{Context, Tally, DEFAULT_OBJECTS};

/// PUT until stopped: a new key per operation, or keys modulo `--objects`.
pub(crate) fn put(context: Arc<Context>, _worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let mut tally = Tally::default();
        while let Some(ticket) = context.tickets.take() {
            let key_index = context.write_key_index(ticket);
            if !timed_put(&context, key_index, &mut tally).await {
                break;
            }
        }
        tally
    })
}

/// PUT keys 0, 1, … up to the pre-fill count (the tickets' limit).
pub(crate) fn prefill(context: Arc<Context>, _worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let mut tally = Tally::default();
        while let Some(key_index) = context.tickets.take() {
            if !timed_put(&context, key_index, &mut tally).await {
                break;
            }
        }
        tally
    })
}

/// One measured PUT; false when the phase was stopped before it finished.
async fn timed_put(context: &Context, key_index: u64, tally: &mut Tally) -> bool {
    let started = Instant::now();
    match context
        .stop
        .run_until_cancelled(put_object(context, key_index))
        .await
    {
        None => return false,
        Some(Ok(bytes)) => tally.op("put").record_ok(started.elapsed(), bytes),
        Some(Err(message)) => tally.error("put", message),
    }
    context.finished_one();
    true
}

/// GET random objects of the pre-filled set, verifying each.
pub(crate) fn get(context: Arc<Context>, worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let mut tally = Tally::default();
        let objects = context.load.objects.unwrap_or(DEFAULT_OBJECTS);
        let mut random = worker_random(&context, worker);
        while context.tickets.take().is_some() {
            let key_index = random.gen_range(0..objects);
            match context
                .stop
                .run_until_cancelled(get_object(&context, key_index))
                .await
            {
                None => break,
                Some(outcome) => record_read(&mut tally, "get", outcome),
            }
            context.finished_one();
        }
        tally
    })
}

/// A worker's own random sequence, reproducible from the run's seed.
pub(super) fn worker_random(context: &Context, worker: usize) -> StdRng {
    StdRng::seed_from_u64(mix(context.load.seed ^ mix(worker as u64 + 1)))
}

pub(super) fn record_read(tally: &mut Tally, name: &'static str, outcome: ReadOutcome) {
    match outcome {
        ReadOutcome::Verified { latency, bytes } => tally.op(name).record_ok(latency, bytes),
        ReadOutcome::Failed(message) => tally.error(name, message),
        ReadOutcome::Mismatch(message) => tally.verify_error(name, message),
    }
}

//! `mixed`: GET / HEAD / PUT / DELETE in the configured proportions.
//!
//! Each worker owns the keys `worker, worker + concurrency, …` of the
//! pre-filled set and tracks which of them exist, so a GET of a key it
//! deleted is never expected to succeed and a 404 on a key that must exist
//! is a real error.

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use rand::Rng;

use super::objects::{delete_object, get_object, head_object, put_object};
use super::simple::{record_read, worker_random};
use crate::workload::{mixed_object_count, Context, Mix, Tally, Workload};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Get,
    Head,
    Put,
    Delete,
}

fn choose(mix: &Mix, roll: u32) -> Choice {
    if roll < mix.get {
        Choice::Get
    } else if roll < mix.get + mix.head {
        Choice::Head
    } else if roll < mix.get + mix.head + mix.put {
        Choice::Put
    } else {
        Choice::Delete
    }
}

pub(crate) fn mixed(context: Arc<Context>, worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let Workload::Mixed(mix) = context.workload else {
            unreachable!("the driver runs `mixed` only for Workload::Mixed");
        };
        let mut tally = Tally::default();
        let mut random = worker_random(&context, worker);
        let objects = mixed_object_count(&context.load);
        let step = context.load.concurrency;
        let mut present: Vec<u64> = (worker as u64..objects).step_by(step).collect();
        let mut absent: Vec<u64> = Vec::with_capacity(present.len());
        while context.tickets.take().is_some() {
            let mut choice = choose(&mix, random.gen_range(0..mix.total()));
            // Reads and deletes need an existing key; with none left, write.
            if present.is_empty() && choice != Choice::Put {
                choice = Choice::Put;
            }
            let stop = &context.stop;
            let finished = match choice {
                Choice::Get => {
                    let key_index = present[random.gen_range(0..present.len())];
                    let outcome = stop
                        .run_until_cancelled(get_object(&context, key_index))
                        .await;
                    outcome.map(|outcome| record_read(&mut tally, "get", outcome))
                }
                Choice::Head => {
                    let key_index = present[random.gen_range(0..present.len())];
                    let outcome = stop
                        .run_until_cancelled(head_object(&context, key_index))
                        .await;
                    outcome.map(|outcome| record_read(&mut tally, "head", outcome))
                }
                Choice::Put => {
                    // Prefer a key that does not exist; else overwrite one.
                    let (key_index, absent_position) = if absent.is_empty() {
                        (present[random.gen_range(0..present.len())], None)
                    } else {
                        let position = random.gen_range(0..absent.len());
                        (absent[position], Some(position))
                    };
                    let started = Instant::now();
                    let outcome = stop
                        .run_until_cancelled(put_object(&context, key_index))
                        .await;
                    outcome.map(|result| match result {
                        Ok(bytes) => {
                            tally.op("put").record_ok(started.elapsed(), bytes);
                            if let Some(position) = absent_position {
                                absent.swap_remove(position);
                                present.push(key_index);
                            }
                        }
                        Err(message) => tally.error("put", message),
                    })
                }
                Choice::Delete => {
                    let position = random.gen_range(0..present.len());
                    let key_index = present[position];
                    let started = Instant::now();
                    let outcome = stop
                        .run_until_cancelled(delete_object(&context, key_index))
                        .await;
                    outcome.map(|result| match result {
                        Ok(()) => {
                            tally.op("delete").record_ok(started.elapsed(), 0);
                            present.swap_remove(position);
                            absent.push(key_index);
                        }
                        Err(message) => tally.error("delete", message),
                    })
                }
            };
            if finished.is_none() {
                break;
            }
            context.finished_one();
        }
        tally
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_map_to_the_mix_proportions() {
        let mix = Mix::default();
        let mut counts = [0u32; 4];
        for roll in 0..mix.total() {
            counts[choose(&mix, roll) as usize] += 1;
        }
        assert_eq!(counts, [45, 30, 15, 10]);
        let only_puts = Mix {
            get: 0,
            head: 0,
            put: 1,
            delete: 0,
        };
        assert_eq!(choose(&only_puts, 0), Choice::Put);
    }
}

//! File and byte counters kept in step with every write and delete, so
//! `/metrics` never has to walk the disk.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::BlockStats;

#[derive(Debug, Default)]
pub(crate) struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    pub(crate) fn new(initial: BlockStats) -> Self {
        Self {
            files: AtomicU64::new(initial.files),
            bytes: AtomicU64::new(initial.bytes),
        }
    }

    pub(crate) fn added(&self, size_bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size_bytes, Ordering::Relaxed);
    }

    pub(crate) fn removed(&self, size_bytes: u64) {
        // Saturate instead of wrapping: a file changed behind our back (or a
        // racing overwrite of the same block) must not make the gauge absurd.
        let _ = self
            .files
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(1))
            });
        let _ = self
            .bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(size_bytes))
            });
    }

    pub(crate) fn snapshot(&self) -> BlockStats {
        BlockStats {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

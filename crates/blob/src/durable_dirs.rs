//! Remembers which fan-out directories this process has made durable, so
//! each write fsyncs a parent directory only the first time it uses it.
//!
//! Why not "fsync the parent only if this call created the directory": two
//! writers racing to create the same directory would let the loser (who saw
//! `AlreadyExists`) acknowledge its block before the winner's parent fsync
//! finished. A bit is set only after the fsync completes, and anyone who
//! does not see it set does the fsync itself.
//!
//! Bounded: one bit per possible directory (256 + 65,536 bits, 8.2 KiB).

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer_types::DataId;

use crate::files::{create_dir_if_missing, sync_dir};
use crate::layout;

pub(crate) struct DurableDirs {
    fanout: Vec<AtomicU64>,
    leaf: Vec<AtomicU64>,
}

impl DurableDirs {
    pub(crate) fn new() -> Self {
        Self {
            fanout: (0..256 / 64).map(|_| AtomicU64::new(0)).collect(),
            leaf: (0..65_536 / 64).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Make sure `blocks/<aa>/<bb>` of `data_id` exists and that its entry
    /// and its parent's entry are on disk.
    pub(crate) fn ensure(&self, blocks_dir: &Path, data_id: &DataId) -> io::Result<()> {
        let leaf_dir = layout::data_dir(blocks_dir, data_id);
        let fanout_dir = leaf_dir
            .parent()
            .expect("a data dir always has its fan-out dir as parent");
        let fanout_bit = usize::from(data_id.0[0]);
        let leaf_bit = usize::from(u16::from_be_bytes([data_id.0[0], data_id.0[1]]));
        ensure_one(&self.fanout, fanout_bit, fanout_dir, blocks_dir)?;
        ensure_one(&self.leaf, leaf_bit, &leaf_dir, fanout_dir)
    }
}

fn ensure_one(bits: &[AtomicU64], bit: usize, dir: &Path, parent: &Path) -> io::Result<()> {
    let word = &bits[bit / 64];
    let mask = 1u64 << (bit % 64);
    if word.load(Ordering::Acquire) & mask != 0 {
        return Ok(());
    }
    create_dir_if_missing(dir)?;
    sync_dir(parent)?;
    word.fetch_or(mask, Ordering::Release);
    Ok(())
}

//! Removal of block files that no committed metadata names: leftovers of
//! writes whose metadata never committed, and of GC runs a crash cut short.
//! Files younger than `min_age` are spared so a write in flight (blocks on
//! disk, metadata not yet committed) is never swept from under its writer.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use coffer_types::DataId;

use crate::files::{for_each_leaf_dir, remove_counted};
use crate::layout;
use crate::stats::Counters;

pub(crate) fn sweep(
    blocks_dir: &Path,
    counters: &Counters,
    is_referenced: &(dyn Fn(&DataId) -> bool + Send + Sync),
    min_age: Duration,
) -> io::Result<u64> {
    let now = SystemTime::now();
    let mut removed = 0;
    for_each_leaf_dir(blocks_dir, |leaf| {
        removed += sweep_leaf(leaf, blocks_dir, counters, is_referenced, min_age, now)?;
        Ok(())
    })?;
    Ok(removed)
}

fn sweep_leaf(
    leaf: &Path,
    blocks_dir: &Path,
    counters: &Counters,
    is_referenced: &(dyn Fn(&DataId) -> bool + Send + Sync),
    min_age: Duration,
    now: SystemTime,
) -> io::Result<u64> {
    // One answer per data id per directory: a data id's blocks share a
    // directory, and asking the metadata store once per file is wasteful.
    // Bounded by the directory's size, not the tree's.
    let mut decisions: HashMap<DataId, bool> = HashMap::new();
    let mut removed = 0;
    for entry in fs::read_dir(leaf)? {
        let entry = entry?;
        let path = entry.path();
        let Some((data_id, _index)) = entry.file_name().to_str().and_then(layout::parse_file_name)
        else {
            tracing::warn!(path = %path.display(), "unparseable name in the block tree; left alone");
            continue;
        };
        // A well-formed name in the wrong directory was not written by us.
        if layout::data_dir(blocks_dir, &data_id) != leaf {
            tracing::warn!(path = %path.display(), "block file in the wrong directory; left alone");
            continue;
        }
        let metadata = match entry.metadata() {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if !metadata.is_file() {
            tracing::warn!(path = %path.display(), "non-file entry in the block tree; left alone");
            continue;
        }
        // A modification time in the future counts as age zero: young.
        let age = now
            .duration_since(metadata.modified()?)
            .unwrap_or(Duration::ZERO);
        if age < min_age {
            continue;
        }
        let referenced = *decisions
            .entry(data_id)
            .or_insert_with(|| is_referenced(&data_id));
        if referenced {
            continue;
        }
        if remove_counted(&path, counters)? {
            tracing::debug!(path = %path.display(), "swept an unreferenced block");
            removed += 1;
        }
    }
    Ok(removed)
}

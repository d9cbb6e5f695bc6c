//! The blocking file operations behind `BlockStore`. Each public method of
//! the store runs one of these inside a single `spawn_blocking` call.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use coffer_types::DataId;
use rand::RngCore;

use crate::durable_dirs::DurableDirs;
use crate::layout;
use crate::stats::Counters;
use crate::{BlobError, BlockStats};

/// fsync a directory so the entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Create `path` if missing; when this call created it, fsync the parent so
/// the new entry is durable.
pub(crate) fn create_dir_durable(path: &Path) -> io::Result<()> {
    if create_dir_if_missing(path)? {
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Create `path` unless it is already a directory. Returns whether this
/// call created it.
pub(crate) fn create_dir_if_missing(path: &Path) -> io::Result<bool> {
    match fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            if path.is_dir() {
                Ok(false)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a directory", path.display()),
                ))
            }
        }
        Err(error) => Err(error),
    }
}

/// Remove every entry of the temp directory: leftovers of writes that a
/// crash interrupted before their rename. Returns how many were removed.
pub(crate) fn clear_dir(dir: &Path) -> io::Result<u64> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let result = if entry.file_type()?.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

/// Count the files and bytes under `blocks/<2 hex>/<2 hex>/`, one directory
/// at a time (no list of the whole tree is ever held).
pub(crate) fn count_blocks(blocks_dir: &Path) -> io::Result<BlockStats> {
    let mut stats = BlockStats::default();
    for_each_leaf_dir(blocks_dir, |leaf| {
        for entry in fs::read_dir(leaf)? {
            let entry = entry?;
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                // Removed between readdir and stat.
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            if metadata.is_file() {
                stats.files += 1;
                stats.bytes += metadata.len();
            }
        }
        Ok(())
    })?;
    Ok(stats)
}

/// Call `visit` on each `blocks/<2 hex>/<2 hex>` directory. Entries whose
/// names are not two lowercase hex digits are logged and skipped.
pub(crate) fn for_each_leaf_dir(
    blocks_dir: &Path,
    mut visit: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<()> {
    for first in fs::read_dir(blocks_dir)? {
        let first = first?;
        if !is_fanout_dir(&first)? {
            continue;
        }
        for second in fs::read_dir(first.path())? {
            let second = second?;
            if !is_fanout_dir(&second)? {
                continue;
            }
            visit(&second.path())?;
        }
    }
    Ok(())
}

fn is_fanout_dir(entry: &fs::DirEntry) -> io::Result<bool> {
    let name = entry.file_name();
    let fits = name.to_str().is_some_and(layout::is_fanout_dir_name) && entry.file_type()?.is_dir();
    if !fits {
        tracing::warn!(path = %entry.path().display(), "unexpected entry in the block tree; left alone");
    }
    Ok(fits)
}

pub(crate) struct WriteTarget<'a> {
    pub blocks_dir: &'a Path,
    pub tmp_dir: &'a Path,
    pub counters: &'a Counters,
    pub durable_dirs: &'a DurableDirs,
}

/// Write a block durably: temp file, fsync, rename into place, fsync the
/// destination directory (and any directory created on the way).
pub(crate) fn write_block(
    target: &WriteTarget<'_>,
    data_id: &DataId,
    index: u64,
    bytes: &[u8],
) -> io::Result<()> {
    let temp_path = temp_path(target.tmp_dir);
    if let Err(error) = write_synced(&temp_path, bytes) {
        remove_quietly(&temp_path);
        return Err(error);
    }
    let result = place(target, data_id, index, &temp_path, bytes.len() as u64);
    if result.is_err() {
        remove_quietly(&temp_path);
    }
    result
}

fn place(
    target: &WriteTarget<'_>,
    data_id: &DataId,
    index: u64,
    temp_path: &Path,
    size_bytes: u64,
) -> io::Result<()> {
    target.durable_dirs.ensure(target.blocks_dir, data_id)?;
    let leaf = layout::data_dir(target.blocks_dir, data_id);
    let destination = leaf.join(layout::file_name(data_id, index));
    // Rewriting a block (a retry or a repair) replaces the old file, whose
    // size must leave the counters.
    let replaced_size_bytes = match fs::metadata(&destination) {
        Ok(metadata) => Some(metadata.len()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    fs::rename(temp_path, &destination)?;
    sync_dir(&leaf)?;
    if let Some(old) = replaced_size_bytes {
        target.counters.removed(old);
    }
    target.counters.added(size_bytes);
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    // Data and length must be on disk before the rename makes the name
    // visible; otherwise a crash could leave a named, truncated block.
    file.sync_data()
}

fn temp_path(tmp_dir: &Path) -> PathBuf {
    let mut random = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut random);
    tmp_dir.join(format!("{}.tmp", hex::encode(random)))
}

fn remove_quietly(path: &Path) {
    if let Err(error) = fs::remove_file(path) {
        if error.kind() != io::ErrorKind::NotFound {
            // open() clears tmp/ on the next start, so this only costs space.
            tracing::warn!(path = %path.display(), %error, "could not remove a temp block file");
        }
    }
}

pub(crate) fn read_range(
    blocks_dir: &Path,
    data_id: DataId,
    index: u64,
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, BlobError> {
    let path = layout::block_path(blocks_dir, &data_id, index);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(BlobError::NotFound { data_id, index });
        }
        Err(error) => return Err(error.into()),
    };
    let file_size_bytes = file.metadata()?.len();
    // Size the buffer from the file, never from the caller's length alone.
    let available_bytes = file_size_bytes.saturating_sub(offset).min(length);
    let capacity = usize::try_from(available_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "range larger than memory"))?;
    let mut buffer = Vec::with_capacity(capacity);
    if available_bytes > 0 {
        file.seek(SeekFrom::Start(offset))?;
        file.take(available_bytes).read_to_end(&mut buffer)?;
    }
    Ok(buffer)
}

/// Remove blocks `0..block_count`; absent files are fine. Returns how many
/// files were removed.
pub(crate) fn delete_data(
    blocks_dir: &Path,
    counters: &Counters,
    data_id: &DataId,
    block_count: u64,
) -> io::Result<u64> {
    let mut removed = 0;
    for index in 0..block_count {
        let path = layout::block_path(blocks_dir, data_id, index);
        if remove_counted(&path, counters)? {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Stat then remove one file, keeping the counters in step. Returns false
/// when the file was already gone.
pub(crate) fn remove_counted(path: &Path, counters: &Counters) -> io::Result<bool> {
    let size_bytes = match fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    };
    match fs::remove_file(path) {
        Ok(()) => {
            counters.removed(size_bytes);
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

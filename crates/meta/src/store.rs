//! The RocksDB database and its column families, and a read interface
//! (`KvRead`) shared by the read path (`DbView`, committed state only) and
//! by `apply` (`Txn`, which also sees the writes of earlier entries of the
//! same batch before they are committed in one `WriteBatch`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rocksdb::{
    ColumnFamily, ColumnFamilyDescriptor, DBIteratorWithThreadMode, Direction, IteratorMode,
    Options, ReadOptions, WriteBatch, DB,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{codec, MetaError};

/// Raft log entries keyed by big-endian index.
pub const CF_RAFT_LOG: &str = "raft_log";
/// Vote, committed log id, last purged log id.
pub const CF_RAFT_STATE: &str = "raft_state";
/// The state machine's records (layout in `keys`).
pub const CF_SM_DATA: &str = "sm_data";
/// The state machine's last applied log id and last membership.
pub const CF_SM_META: &str = "sm_meta";

pub(crate) const COLUMN_FAMILIES: [&str; 4] = [CF_RAFT_LOG, CF_RAFT_STATE, CF_SM_DATA, CF_SM_META];

pub fn storage_error(context: &str, error: impl std::fmt::Display) -> MetaError {
    MetaError::Storage(format!("{context}: {error}"))
}

/// Open (or create) the database with every column family.
pub fn open_db(dir: &Path) -> Result<Arc<DB>, MetaError> {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.create_missing_column_families(true);
    let descriptors = COLUMN_FAMILIES
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
    let db = DB::open_cf_descriptors(&options, dir, descriptors)
        .map_err(|error| storage_error("open rocksdb", error))?;
    Ok(Arc::new(db))
}

/// Sync the WAL and write every column family's memtable to disk, so the
/// next open replays nothing.
pub fn flush_all(db: &DB) -> Result<(), MetaError> {
    db.flush_wal(true)
        .map_err(|error| storage_error("sync WAL", error))?;
    for name in COLUMN_FAMILIES {
        db.flush_cf(cf(db, name))
            .map_err(|error| storage_error("flush", error))?;
    }
    Ok(())
}

pub fn cf<'a>(db: &'a DB, name: &str) -> &'a ColumnFamily {
    db.cf_handle(name)
        .expect("open_db creates every column family")
}

/// What `visit` tells a scan to do next.
pub enum Step {
    Continue,
    Stop,
}

/// The callback of `KvRead::scan`: one record's key and value.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> Result<Step, MetaError> + 'a;

/// A stored record as RocksDB's iterator returns it.
type StoredRecord = (Box<[u8]>, Box<[u8]>);

/// Reads over the state-machine column family.
pub trait KvRead {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError>;

    /// Visit records whose key starts with `prefix`, from `start` (which
    /// must be ≥ `prefix`) in key order, until `visit` says stop.
    fn scan(&self, prefix: &[u8], start: &[u8], visit: &mut Visit<'_>) -> Result<(), MetaError>;

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, MetaError> {
        self.get_raw(key)?
            .map(|bytes| codec::decode(&bytes))
            .transpose()
    }

    fn contains(&self, key: &[u8]) -> Result<bool, MetaError> {
        Ok(self.get_raw(key)?.is_some())
    }

    /// At most `limit` records under `prefix` from `start`, decoded.
    fn scan_values<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
        start: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, T)>, MetaError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        self.scan(prefix, start, &mut |key, value| {
            found.push((key.to_vec(), codec::decode(value)?));
            Ok(if found.len() >= limit {
                Step::Stop
            } else {
                Step::Continue
            })
        })?;
        Ok(found)
    }

    /// The first record under `prefix`, decoded.
    fn first<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Option<(Vec<u8>, T)>, MetaError> {
        Ok(self.scan_values(prefix, prefix, 1)?.pop())
    }
}

/// The smallest key greater than every key starting with `prefix`, if
/// one exists (not for an empty or all-0xFF prefix).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// An iterator over the state-machine records under `prefix`, from
/// `start`. The upper bound stops RocksDB at the prefix's end: without it,
/// a scan that finds nothing visible under its prefix steps over every
/// deleted entry that follows (thousands after a bulk delete) before it
/// sees the first key outside.
fn prefix_iterator<'a>(
    db: &'a DB,
    prefix: &[u8],
    start: &[u8],
) -> DBIteratorWithThreadMode<'a, DB> {
    let mut options = ReadOptions::default();
    if let Some(end) = prefix_end(prefix) {
        options.set_iterate_upper_bound(end);
    }
    db.iterator_cf_opt(
        cf(db, CF_SM_DATA),
        options,
        IteratorMode::From(start, Direction::Forward),
    )
}

/// Committed state, read straight from the database.
pub struct DbView<'a> {
    pub db: &'a DB,
}

impl KvRead for DbView<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        self.db
            .get_cf(cf(self.db, CF_SM_DATA), key)
            .map_err(|error| storage_error("read", error))
    }

    fn scan(&self, prefix: &[u8], start: &[u8], visit: &mut Visit<'_>) -> Result<(), MetaError> {
        for item in prefix_iterator(self.db, prefix, start) {
            let (key, value) = item.map_err(|error| storage_error("scan", error))?;
            if !key.starts_with(prefix) {
                break;
            }
            if let Step::Stop = visit(&key, &value)? {
                break;
            }
        }
        Ok(())
    }
}

/// The writes of one `apply` batch, layered over committed state.
pub struct Txn<'a> {
    db: &'a DB,
    /// `None` marks a deletion.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Txn<'a> {
    pub fn new(db: &'a DB) -> Self {
        Self {
            db,
            writes: BTreeMap::new(),
        }
    }

    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), MetaError> {
        self.writes.insert(key, Some(codec::encode(value)?));
        Ok(())
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Move the writes into `batch` (state-machine column family).
    pub fn write_into(self, batch: &mut WriteBatch) {
        let data = cf(self.db, CF_SM_DATA);
        for (key, value) in self.writes {
            match value {
                Some(value) => batch.put_cf(data, key, value),
                None => batch.delete_cf(data, key),
            }
        }
    }
}

impl KvRead for Txn<'_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => DbView { db: self.db }.get_raw(key),
        }
    }

    /// A merge of the database iterator and the pending writes; a pending
    /// write shadows the stored record with the same key.
    fn scan(&self, prefix: &[u8], start: &[u8], visit: &mut Visit<'_>) -> Result<(), MetaError> {
        let mut stored = prefix_iterator(self.db, prefix, start)
            .map(|item| item.map_err(|error| storage_error("scan", error)));
        let mut pending = self
            .writes
            .range(start.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .peekable();
        let mut next_stored = || -> Result<Option<StoredRecord>, MetaError> {
            match stored.next().transpose()? {
                Some((key, value)) if key.starts_with(prefix) => Ok(Some((key, value))),
                _ => Ok(None),
            }
        };
        let mut stored_head = next_stored()?;
        loop {
            let take_pending = match (&stored_head, pending.peek()) {
                (None, None) => return Ok(()),
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((stored_key, _)), Some((pending_key, _))) => {
                    pending_key.as_slice() <= &stored_key[..]
                }
            };
            let step = if take_pending {
                let (key, value) = pending.next().expect("peeked above");
                if stored_head
                    .as_ref()
                    .is_some_and(|(stored_key, _)| &stored_key[..] == key.as_slice())
                {
                    stored_head = next_stored()?;
                }
                match value {
                    Some(value) => visit(key, value)?,
                    None => Step::Continue,
                }
            } else {
                let (key, value) = stored_head.take().expect("checked above");
                stored_head = next_stored()?;
                visit(&key, &value)?
            };
            if let Step::Stop = step {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_follow_the_last_byte_below_0xff() {
        assert_eq!(prefix_end(b"obj/"), Some(b"obj0".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xFF, 0xFF]), Some(vec![b'b']));
        assert_eq!(prefix_end(&[0xFF]), None);
        assert_eq!(prefix_end(b""), None);
    }

    fn collect(view: &impl KvRead, prefix: &[u8], start: &[u8]) -> Vec<(Vec<u8>, u32)> {
        view.scan_values(prefix, start, usize::MAX).expect("scan")
    }

    #[test]
    fn txn_scan_merges_pending_writes_over_stored_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_db(dir.path()).expect("open");
        let mut batch = WriteBatch::default();
        for (key, value) in [(&b"p/a"[..], 1u32), (b"p/c", 3), (b"p/e", 5), (b"q/x", 9)] {
            batch.put_cf(
                cf(&db, CF_SM_DATA),
                key,
                codec::encode(&value).expect("encode"),
            );
        }
        db.write(batch).expect("write");

        let mut txn = Txn::new(&db);
        txn.put(b"p/b".to_vec(), &2u32).expect("put");
        txn.put(b"p/c".to_vec(), &33u32).expect("put");
        txn.delete(b"p/e".to_vec());
        txn.put(b"p/f".to_vec(), &6u32).expect("put");
        txn.put(b"r/z".to_vec(), &0u32).expect("put");

        let expected: Vec<(Vec<u8>, u32)> = vec![
            (b"p/a".to_vec(), 1),
            (b"p/b".to_vec(), 2),
            (b"p/c".to_vec(), 33),
            (b"p/f".to_vec(), 6),
        ];
        assert_eq!(collect(&txn, b"p/", b"p/"), expected);
        assert_eq!(collect(&txn, b"p/", b"p/bb"), expected[2..].to_vec());
        assert_eq!(txn.get::<u32>(b"p/e").expect("get"), None);
        assert_eq!(txn.get::<u32>(b"p/a").expect("get"), Some(1));
        assert_eq!(
            txn.scan_values::<u32>(b"p/", b"p/", 2).expect("scan").len(),
            2
        );
        // Committed state is untouched until the batch is written.
        assert_eq!(collect(&DbView { db: &db }, b"p/", b"p/").len(), 3);
    }
}

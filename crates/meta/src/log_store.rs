//! The Raft log and vote, in their own column families. `append` writes
//! all entries of a call in one `WriteBatch` with `sync = true` — one fsync
//! per call — and reports them persisted right after. Group commit happens
//! above, in `batcher`: each entry carries a batch of commands.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, OptionalSend, StorageIOError};
use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions, DB};

use crate::codec;
use crate::raft_types::{Entry, LogId, StorageError, TypeConfig, Vote};
use crate::store::{cf, CF_RAFT_LOG, CF_RAFT_STATE};

const VOTE_KEY: &[u8] = b"vote";
const COMMITTED_KEY: &[u8] = b"committed";
const LAST_PURGED_KEY: &[u8] = b"last_purged";

#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
    /// Last committed index, for `MetaStore::progress`.
    committed_index: Arc<AtomicU64>,
}

fn read_error(error: impl std::fmt::Display) -> StorageError {
    StorageIOError::read_logs(AnyError::error(error)).into()
}

fn write_error(error: impl std::fmt::Display) -> StorageError {
    StorageIOError::write_logs(AnyError::error(error)).into()
}

fn synced() -> WriteOptions {
    let mut options = WriteOptions::default();
    options.set_sync(true);
    options
}

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

impl LogStore {
    pub fn new(db: Arc<DB>, committed_index: Arc<AtomicU64>) -> Self {
        Self {
            db,
            committed_index,
        }
    }

    fn read_state<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        let bytes = self
            .db
            .get_cf(cf(&self.db, CF_RAFT_STATE), key)
            .map_err(read_error)?;
        bytes
            .map(|bytes| codec::decode(&bytes).map_err(read_error))
            .transpose()
    }

    /// The committed index saved by an earlier run (0 if none).
    pub fn saved_committed_index(&self) -> Result<u64, StorageError> {
        Ok(self
            .read_state::<Option<LogId>>(COMMITTED_KEY)?
            .flatten()
            .map_or(0, |log_id| log_id.index))
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(index) => *index,
            Bound::Excluded(index) => index.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let mut entries = Vec::new();
        let from = index_key(start);
        for item in self.db.iterator_cf(
            cf(&self.db, CF_RAFT_LOG),
            IteratorMode::From(&from, Direction::Forward),
        ) {
            let (key, value) = item.map_err(read_error)?;
            let index = u64::from_be_bytes(
                key.as_ref()
                    .try_into()
                    .map_err(|_| read_error("log key is not 8 bytes"))?,
            );
            if !range.contains(&index) {
                break;
            }
            let entry: Entry = codec::decode(&value).map_err(read_error)?;
            if entry.log_id.index != index {
                return Err(read_error(format!(
                    "log entry at {index} has index {}",
                    entry.log_id.index
                )));
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id: Option<LogId> =
            self.read_state::<Option<LogId>>(LAST_PURGED_KEY)?.flatten();
        let last = self
            .db
            .iterator_cf(cf(&self.db, CF_RAFT_LOG), IteratorMode::End)
            .next()
            .transpose()
            .map_err(read_error)?;
        let last_log_id = match last {
            Some((_, value)) => Some(codec::decode::<Entry>(&value).map_err(read_error)?.log_id),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let bytes = codec::encode(vote)
            .map_err(|error| StorageIOError::write_vote(AnyError::error(error)))?;
        self.db
            .put_cf_opt(cf(&self.db, CF_RAFT_STATE), VOTE_KEY, bytes, &synced())
            .map_err(|error| StorageIOError::write_vote(AnyError::error(error)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.read_state(VOTE_KEY)
    }

    /// Saved without a sync: openraft treats it as a hint, and after a crash
    /// the committed entries are re-applied from `last_applied` anyway.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let bytes = codec::encode(&committed).map_err(write_error)?;
        self.db
            .put_cf(cf(&self.db, CF_RAFT_STATE), COMMITTED_KEY, bytes)
            .map_err(write_error)?;
        if let Some(log_id) = committed {
            self.committed_index
                .fetch_max(log_id.index, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.read_state::<Option<LogId>>(COMMITTED_KEY)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let log = cf(&self.db, CF_RAFT_LOG);
        let mut batch = WriteBatch::default();
        for entry in entries {
            batch.put_cf(
                log,
                index_key(entry.log_id.index),
                codec::encode(&entry).map_err(write_error)?,
            );
        }
        self.db.write_opt(batch, &synced()).map_err(write_error)?;
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(
            cf(&self.db, CF_RAFT_LOG),
            index_key(log_id.index),
            index_key(u64::MAX),
        );
        batch.delete_cf(cf(&self.db, CF_RAFT_LOG), index_key(u64::MAX));
        self.db.write_opt(batch, &synced()).map_err(write_error)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(
            cf(&self.db, CF_RAFT_STATE),
            LAST_PURGED_KEY,
            codec::encode(&Some(log_id)).map_err(write_error)?,
        );
        batch.delete_range_cf(
            cf(&self.db, CF_RAFT_LOG),
            index_key(0),
            index_key(log_id.index.saturating_add(1)),
        );
        self.db.write_opt(batch, &synced()).map_err(write_error)
    }
}

//! The state machine: applies committed commands to the `sm_data` column
//! family and keeps `last_applied` and the last membership in `sm_meta`,
//! all of one `apply` call in one `WriteBatch`, so the stored state always
//! matches a log position.
//!
//! Snapshots are simple for now: every `sm_data` record, read from one
//! RocksDB snapshot, serialized into one buffer held in memory. That is fine
//! for a single node (openraft only needs a snapshot to feed a lagging
//! follower) but memory grows with the metadata; DESIGN §4's streamed
//! RocksDB checkpoint replaces it when clusters arrive (issue 4). The
//! current snapshot is not persisted: after a restart the first one is built
//! on demand.

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{AnyError, EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError};
use rocksdb::{IteratorMode, WriteBatch, WriteOptions, DB};
use serde::{Deserialize, Serialize};

use crate::apply::apply_command;
use crate::codec;
use crate::model::CommandResult;
use crate::raft_types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::store::{cf, Txn, CF_SM_DATA, CF_SM_META};

const LAST_APPLIED_KEY: &[u8] = b"last_applied";
const LAST_MEMBERSHIP_KEY: &[u8] = b"last_membership";

/// Every `sm_data` key sorts below this: keys start with an ASCII tag.
const SM_DATA_END: &[u8] = &[0xFF];

/// The body of a snapshot (its meta travels beside it).
#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    records: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Clone)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    body: Vec<u8>,
}

#[derive(Clone)]
pub struct StateMachine {
    db: Arc<DB>,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
    /// Makes snapshot ids unique within this process.
    snapshot_counter: Arc<AtomicU64>,
}

fn read_error(error: impl std::fmt::Display) -> StorageError {
    StorageIOError::read_state_machine(AnyError::error(error)).into()
}

fn write_error(error: impl std::fmt::Display) -> StorageError {
    StorageIOError::write_state_machine(AnyError::error(error)).into()
}

fn snapshot_error(error: impl std::fmt::Display) -> StorageError {
    StorageIOError::write_snapshot(None, AnyError::error(error)).into()
}

impl StateMachine {
    pub fn new(db: Arc<DB>) -> Self {
        Self {
            db,
            current_snapshot: Arc::new(Mutex::new(None)),
            snapshot_counter: Arc::new(AtomicU64::new(0)),
        }
    }

    fn meta_value<T: serde::de::DeserializeOwned>(
        bytes: Option<Vec<u8>>,
    ) -> Result<Option<T>, StorageError> {
        bytes
            .map(|bytes| codec::decode(&bytes).map_err(read_error))
            .transpose()
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<StoredSnapshot>> {
        // A panic while holding the lock cannot leave a half-written value:
        // the only writes replace the whole option.
        self.current_snapshot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // Openraft builds snapshots concurrently with `apply`; one RocksDB
        // snapshot makes the records and `last_applied` agree.
        let view = self.db.snapshot();
        let sm_meta = cf(&self.db, CF_SM_META);
        let last_log_id: Option<LogId> =
            Self::meta_value::<LogId>(view.get_cf(sm_meta, LAST_APPLIED_KEY).map_err(read_error)?)?;
        let last_membership: StoredMembership = Self::meta_value::<StoredMembership>(
            view.get_cf(sm_meta, LAST_MEMBERSHIP_KEY)
                .map_err(read_error)?,
        )?
        .unwrap_or_default();
        let mut records = Vec::new();
        for item in view.iterator_cf(cf(&self.db, CF_SM_DATA), IteratorMode::Start) {
            let (key, value) = item.map_err(read_error)?;
            records.push((key.into_vec(), value.into_vec()));
        }
        let body = codec::encode(&SnapshotBody { records }).map_err(snapshot_error)?;
        let counter = self.snapshot_counter.fetch_add(1, Ordering::Relaxed);
        let snapshot_id = match &last_log_id {
            Some(log_id) => format!("{}-{}-{counter}", log_id.leader_id, log_id.index),
            None => format!("none-{counter}"),
        };
        let meta = SnapshotMeta {
            last_log_id,
            last_membership,
            snapshot_id,
        };
        *self.current() = Some(StoredSnapshot {
            meta: meta.clone(),
            body: body.clone(),
        });
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(body)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let sm_meta = cf(&self.db, CF_SM_META);
        let last_applied = Self::meta_value::<LogId>(
            self.db
                .get_cf(sm_meta, LAST_APPLIED_KEY)
                .map_err(read_error)?,
        )?;
        let membership = Self::meta_value::<StoredMembership>(
            self.db
                .get_cf(sm_meta, LAST_MEMBERSHIP_KEY)
                .map_err(read_error)?,
        )?
        .unwrap_or_default();
        Ok((last_applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Vec<CommandResult>>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let db = self.db.clone();
        let mut txn = Txn::new(&db);
        let mut results = Vec::new();
        let mut last_applied: Option<LogId> = None;
        let mut membership: Option<StoredMembership> = None;
        for entry in entries {
            let result = match entry.payload {
                EntryPayload::Blank => Vec::new(),
                EntryPayload::Normal(batch) => {
                    let mut batch_results = Vec::with_capacity(batch.commands.len());
                    for command in &batch.commands {
                        let result = apply_command(&mut txn, command).map_err(|error| {
                            StorageError::from(StorageIOError::apply(
                                entry.log_id,
                                AnyError::error(error),
                            ))
                        })?;
                        batch_results.push(result);
                    }
                    batch_results
                }
                EntryPayload::Membership(config) => {
                    membership = Some(StoredMembership::new(Some(entry.log_id), config));
                    Vec::new()
                }
            };
            last_applied = Some(entry.log_id);
            results.push(result);
        }
        let Some(last_applied) = last_applied else {
            return Ok(results);
        };
        let mut batch = WriteBatch::default();
        txn.write_into(&mut batch);
        let sm_meta = cf(&db, CF_SM_META);
        batch.put_cf(
            sm_meta,
            LAST_APPLIED_KEY,
            codec::encode(&last_applied).map_err(write_error)?,
        );
        if let Some(membership) = membership {
            batch.put_cf(
                sm_meta,
                LAST_MEMBERSHIP_KEY,
                codec::encode(&membership).map_err(write_error)?,
            );
        }
        // No sync: the entries are durable in the log, and the WAL recovers
        // a prefix, so a lost batch is re-applied from `last_applied`.
        db.write(batch).map_err(write_error)?;
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let body = snapshot.into_inner();
        let decoded: SnapshotBody = codec::decode(&body).map_err(snapshot_error)?;
        let sm_data = cf(&self.db, CF_SM_DATA);
        let sm_meta = cf(&self.db, CF_SM_META);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(sm_data, &[][..], SM_DATA_END);
        for (key, value) in &decoded.records {
            batch.put_cf(sm_data, key, value);
        }
        match &meta.last_log_id {
            Some(log_id) => batch.put_cf(
                sm_meta,
                LAST_APPLIED_KEY,
                codec::encode(log_id).map_err(write_error)?,
            ),
            None => batch.delete_cf(sm_meta, LAST_APPLIED_KEY),
        }
        batch.put_cf(
            sm_meta,
            LAST_MEMBERSHIP_KEY,
            codec::encode(&meta.last_membership).map_err(write_error)?,
        );
        // Synced: openraft purges the log behind an installed snapshot.
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch, &options).map_err(write_error)?;
        *self.current() = Some(StoredSnapshot {
            meta: meta.clone(),
            body,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.current().clone().map(|stored| Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.body)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use coffer_types::{AccountId, BucketName};
    use openraft::{CommittedLeaderId, RaftSnapshotBuilder};

    use super::*;
    use crate::batcher::CommandBatch;
    use crate::model::{BucketRecord, Command, VersioningState};
    use crate::queries;
    use crate::store::{open_db, DbView};

    fn create_bucket(name: &str) -> Command {
        let bucket = BucketRecord {
            name: BucketName::parse(name).expect("valid name"),
            owner: AccountId("111122223333".to_owned()),
            region: "us-east-1".to_owned(),
            created_at_ms: 1,
            versioning: VersioningState::Unversioned,
        };
        Command::CreateBucket { bucket }
    }

    fn entry(index: u64, commands: Vec<Command>) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(CommandBatch { commands }),
        }
    }

    fn bucket_names(db: &DB) -> Vec<String> {
        queries::buckets(&DbView { db })
            .expect("list")
            .into_iter()
            .map(|bucket| bucket.name.to_string())
            .collect()
    }

    #[tokio::test]
    async fn apply_answers_per_entry_and_snapshots_install_elsewhere() {
        let leader_dir = tempfile::tempdir().expect("temp dir");
        let mut leader = StateMachine::new(open_db(leader_dir.path()).expect("open"));
        // Commands of one entry, and entries of one call, see each other's
        // writes before they are committed together: the second create fails.
        let results = leader
            .apply([
                entry(1, vec![create_bucket("alpha"), create_bucket("alpha")]),
                entry(2, vec![]),
                entry(3, vec![create_bucket("beta"), create_bucket("alpha")]),
            ])
            .await
            .expect("apply");
        let codes: Vec<Vec<Option<coffer_types::ErrorCode>>> = results
            .iter()
            .map(|batch| {
                batch
                    .iter()
                    .map(|result| match result {
                        CommandResult::Failed(error) => Some(error.code),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let owned = Some(coffer_types::ErrorCode::BucketAlreadyOwnedByYou);
        assert_eq!(codes, vec![vec![None, owned], vec![], vec![None, owned]]);
        let snapshot = leader
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .expect("build");
        assert_eq!(
            snapshot.meta.last_log_id.map(|log_id| log_id.index),
            Some(3)
        );

        let follower_dir = tempfile::tempdir().expect("temp dir");
        let mut follower = StateMachine::new(open_db(follower_dir.path()).expect("open"));
        follower
            .apply([entry(1, vec![create_bucket("stale")])])
            .await
            .expect("apply");
        follower
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");

        assert_eq!(bucket_names(&follower.db), ["alpha", "beta"]);
        let (last_applied, _) = follower.applied_state().await.expect("state");
        assert_eq!(last_applied.map(|log_id| log_id.index), Some(3));
        let current = follower
            .get_current_snapshot()
            .await
            .expect("read")
            .expect("installed snapshot is current");
        assert_eq!(current.meta, snapshot.meta);
    }
}

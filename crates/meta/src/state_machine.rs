//! The state machine: applies committed commands to the `sm_data` column
//! family and keeps `last_applied` and the last membership in `sm_meta`,
//! all of one `apply` call in one `WriteBatch`, so the stored state always
//! matches a log position.
//!
//! Snapshots are RocksDB checkpoints on disk (`snapshot`); building and
//! installing one runs on a blocking thread, and the current snapshot
//! survives a restart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{AnyError, EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError};
use rocksdb::{WriteBatch, DB};

use crate::apply::apply_command;
use crate::codec;
use crate::model::CommandResult;
use crate::raft_types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};
use crate::snapshot::{self, SnapshotDirs, SnapshotFiles, LAST_APPLIED_KEY, LAST_MEMBERSHIP_KEY};
use crate::store::{cf, Txn, CF_SM_META};
use crate::MetaError;

#[derive(Clone)]
struct CurrentSnapshot {
    meta: SnapshotMeta,
    files: SnapshotFiles,
}

#[derive(Clone)]
pub struct StateMachine {
    db: Arc<DB>,
    dirs: Arc<SnapshotDirs>,
    current_snapshot: Arc<Mutex<Option<CurrentSnapshot>>>,
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

/// Run blocking snapshot work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MetaError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(snapshot_error)?
        .map_err(snapshot_error)
}

impl StateMachine {
    /// The state machine over `db`, with snapshots under `snapshot_root`.
    /// Finishes an install a crash interrupted before anything reads.
    pub fn open(db: Arc<DB>, snapshot_root: PathBuf) -> Result<Self, MetaError> {
        let dirs = SnapshotDirs::open(snapshot_root)?;
        dirs.recover(&db)?;
        let current = dirs
            .latest()?
            .map(|(meta, files)| CurrentSnapshot { meta, files });
        Ok(Self {
            db,
            dirs: Arc::new(dirs),
            current_snapshot: Arc::new(Mutex::new(current)),
            snapshot_counter: Arc::new(AtomicU64::new(0)),
        })
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Option<CurrentSnapshot>> {
        // A panic while holding the lock cannot leave a half-written value:
        // the only writes replace the whole option.
        self.current_snapshot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // Openraft builds snapshots concurrently with `apply`; the
        // checkpoint is one point in time, and its meta is read from it.
        let counter = self.snapshot_counter.fetch_add(1, Ordering::Relaxed);
        let (db, dirs) = (self.db.clone(), self.dirs.clone());
        let (meta, files) = blocking(move || {
            dirs.build(&db, |last_log_id: Option<&LogId>| match last_log_id {
                Some(log_id) => format!("{}-{}-{counter}", log_id.leader_id, log_id.index),
                None => format!("none-{counter}"),
            })
        })
        .await?;
        *self.current() = Some(CurrentSnapshot {
            meta: meta.clone(),
            files: files.clone(),
        });
        Ok(Snapshot {
            meta,
            snapshot: Box::new(files),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        snapshot::applied_state(&self.db).map_err(read_error)
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

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<SnapshotFiles>, StorageError> {
        Ok(Box::new(self.dirs.staging().map_err(snapshot_error)?))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<SnapshotFiles>,
    ) -> Result<(), StorageError> {
        let (db, dirs, owned_meta) = (self.db.clone(), self.dirs.clone(), meta.clone());
        let files = blocking(move || dirs.install(&db, &owned_meta, *snapshot)).await?;
        *self.current() = Some(CurrentSnapshot {
            meta: meta.clone(),
            files,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.current().clone().map(|current| Snapshot {
            meta: current.meta,
            snapshot: Box::new(current.files),
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

    fn open_state_machine(dir: &std::path::Path) -> StateMachine {
        StateMachine::open(open_db(dir).expect("open"), dir.join("snapshots"))
            .expect("state machine")
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
        let mut leader = open_state_machine(leader_dir.path());
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
        let mut follower = open_state_machine(follower_dir.path());
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

    /// The path the RPC layer takes: files copied into a staging directory
    /// from `begin_receiving_snapshot`, then installed; installing the same
    /// state twice changes nothing; the snapshot survives a restart.
    #[tokio::test]
    async fn staged_snapshot_installs_and_survives_restart() {
        let leader_dir = tempfile::tempdir().expect("temp dir");
        let mut leader = open_state_machine(leader_dir.path());
        leader
            .apply([entry(
                1,
                vec![create_bucket("alpha"), create_bucket("gamma")],
            )])
            .await
            .expect("apply");
        let snapshot = leader
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .expect("build");

        let follower_dir = tempfile::tempdir().expect("temp dir");
        {
            let mut follower = open_state_machine(follower_dir.path());
            follower
                .apply([entry(
                    1,
                    vec![create_bucket("beta"), create_bucket("gamma")],
                )])
                .await
                .expect("apply");
            for _ in 0..2 {
                let staged = follower.begin_receiving_snapshot().await.expect("staging");
                for (name, _) in snapshot.snapshot.files().expect("list") {
                    std::fs::copy(
                        snapshot.snapshot.checkpoint_dir().join(&name),
                        staged.checkpoint_dir().join(&name),
                    )
                    .expect("copy");
                }
                follower
                    .install_snapshot(&snapshot.meta, staged)
                    .await
                    .expect("install");
                assert_eq!(bucket_names(&follower.db), ["alpha", "gamma"]);
            }
        }
        let mut reopened = open_state_machine(follower_dir.path());
        assert_eq!(bucket_names(&reopened.db), ["alpha", "gamma"]);
        let current = reopened
            .get_current_snapshot()
            .await
            .expect("read")
            .expect("the installed snapshot is still current");
        assert_eq!(current.meta, snapshot.meta);
        let (last_applied, _) = reopened.applied_state().await.expect("state");
        assert_eq!(last_applied, snapshot.meta.last_log_id);
    }
}

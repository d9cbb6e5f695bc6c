//! Raft snapshots as RocksDB checkpoints on disk (DESIGN §4).
//!
//! A snapshot is a directory `<meta dir>/snapshots/snap-<index>-<n>/` that
//! holds `checkpoint/` (a RocksDB checkpoint of the metadata database: hard
//! links to its SST files, so building one costs a flush, not a copy) and
//! `snapshot.meta` (the Raft snapshot meta, versioned). Openraft hands the
//! directory around as the snapshot data; the RPC layer streams the files
//! of `checkpoint/` to a follower in bounded chunks, which writes them into
//! a staging directory (`incoming-<n>`) and installs from there.
//!
//! Installing replaces the follower's state-machine records in one atomic
//! step: a merge walk over the local records and the checkpoint's writes one
//! SST file of puts (records that differ) and deletes (records the snapshot
//! lacks), which RocksDB ingests atomically, so a reader never sees a
//! half-installed state. A marker in `sm_meta`, written before the ingest
//! and removed with the new `last_applied`, lets `recover` finish an
//! install that a crash interrupted. Nothing here is ever named after
//! network input: directory names come from a local counter, file names
//! are checked by `is_checkpoint_file_name`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::checkpoint::Checkpoint;
use rocksdb::{
    IngestExternalFileOptions, IteratorMode, Options, SstFileWriter, WriteBatch, WriteOptions, DB,
};

use crate::codec;
use crate::raft_types::{LogId, SnapshotMeta, StoredMembership};
use crate::store::{cf, storage_error, CF_SM_DATA, CF_SM_META, COLUMN_FAMILIES};
use crate::MetaError;

pub(crate) const LAST_APPLIED_KEY: &[u8] = b"last_applied";
pub(crate) const LAST_MEMBERSHIP_KEY: &[u8] = b"last_membership";
/// Present while an install is between its ingest and its new
/// `last_applied`: the name of the snapshot directory being installed.
const INSTALLING_KEY: &[u8] = b"installing_snapshot";

const CHECKPOINT_DIR: &str = "checkpoint";
const META_FILE: &str = "snapshot.meta";
const INSTALL_SST: &str = "install.sst";
const SNAPSHOT_PREFIX: &str = "snap-";
const STAGING_PREFIXES: [&str; 2] = ["incoming-", "building-"];
/// Snapshots kept: the current one and the one before, which a follower
/// may still be receiving.
const SNAPSHOTS_KEPT: usize = 2;
/// Longest file name a checkpoint holds (`MANIFEST-000123`, `000042.sst`).
const FILE_NAME_CHARS_MAX: usize = 64;

/// The snapshot data openraft moves around: a snapshot directory.
#[derive(Clone, Debug)]
pub struct SnapshotFiles {
    dir: PathBuf,
}

impl SnapshotFiles {
    /// The directory whose files make up the checkpoint (flat: RocksDB
    /// checkpoints have no subdirectories).
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.dir.join(CHECKPOINT_DIR)
    }

    /// The checkpoint's files and their sizes, in name order.
    pub fn files(&self) -> io::Result<Vec<(String, u64)>> {
        let mut files = Vec::new();
        for entry in fs::read_dir(self.checkpoint_dir())? {
            let entry = entry?;
            let name = entry.file_name().into_string().map_err(|name| {
                io::Error::new(io::ErrorKind::InvalidData, format!("file name {name:?}"))
            })?;
            let metadata = entry.metadata()?;
            if !metadata.is_file() || !is_checkpoint_file_name(&name) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected entry {name:?} in a checkpoint"),
                ));
            }
            files.push((name, metadata.len()));
        }
        files.sort();
        Ok(files)
    }

    /// Remove a staging directory whose transfer failed.
    pub fn discard(self) {
        if let Err(error) = fs::remove_dir_all(&self.dir) {
            tracing::warn!(%error, dir = %self.dir.display(), "could not remove a failed snapshot transfer");
        }
    }

    /// Make every received file and the directories durable.
    pub fn sync_all(&self) -> io::Result<()> {
        let checkpoint = self.checkpoint_dir();
        for (name, _) in self.files()? {
            fs::File::open(checkpoint.join(name))?.sync_all()?;
        }
        sync_dir(&checkpoint)?;
        sync_dir(&self.dir)
    }
}

/// Whether `name` may be a file of a RocksDB checkpoint: letters, digits,
/// `.`, `_`, `-`, not starting with a dot. Names from the network are
/// checked with this before any file is created.
pub fn is_checkpoint_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= FILE_NAME_CHARS_MAX
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

fn io_error(context: &str) -> impl Fn(io::Error) -> MetaError + '_ {
    move |error| storage_error(context, error)
}

fn rocks_error(context: &str) -> impl Fn(rocksdb::Error) -> MetaError + '_ {
    move |error| storage_error(context, error)
}

/// The snapshot directories of one node.
pub struct SnapshotDirs {
    root: PathBuf,
    /// Makes directory names unique within this process.
    counter: AtomicU64,
}

impl SnapshotDirs {
    /// Open `root`, removing staging directories a crash left behind.
    pub fn open(root: PathBuf) -> Result<Self, MetaError> {
        fs::create_dir_all(&root).map_err(io_error("create snapshot dir"))?;
        for entry in fs::read_dir(&root).map_err(io_error("list snapshots"))? {
            let entry = entry.map_err(io_error("list snapshots"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if STAGING_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                fs::remove_dir_all(entry.path()).map_err(io_error("remove staging"))?;
            }
        }
        Ok(Self {
            root,
            counter: AtomicU64::new(0),
        })
    }

    fn fresh_name(&self, prefix: &str, index: u64) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{index:020}-{nanos}-{counter}")
    }

    /// An empty staging directory for a snapshot being received.
    pub fn staging(&self) -> Result<SnapshotFiles, MetaError> {
        let dir = self.root.join(self.fresh_name(STAGING_PREFIXES[0], 0));
        fs::create_dir_all(dir.join(CHECKPOINT_DIR)).map_err(io_error("create staging"))?;
        Ok(SnapshotFiles { dir })
    }

    /// The most recent complete snapshot, if any.
    pub fn latest(&self) -> Result<Option<(SnapshotMeta, SnapshotFiles)>, MetaError> {
        Ok(self.complete()?.pop())
    }

    /// Complete snapshots, oldest first.
    fn complete(&self) -> Result<Vec<(SnapshotMeta, SnapshotFiles)>, MetaError> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(io_error("list snapshots"))? {
            let entry = entry.map_err(io_error("list snapshots"))?;
            if !entry
                .file_name()
                .to_string_lossy()
                .starts_with(SNAPSHOT_PREFIX)
            {
                continue;
            }
            let dir = entry.path();
            match fs::read(dir.join(META_FILE)) {
                Ok(bytes) => {
                    let meta: SnapshotMeta = codec::decode(&bytes)?;
                    found.push((meta, SnapshotFiles { dir }));
                }
                // Published directories always hold their meta; one
                // without is not ours to judge, so it is left alone.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(storage_error("read snapshot meta", error)),
            }
        }
        // The same snapshot may be installed twice (a leader retries a
        // transfer); directory names, which grow with time, order those, so
        // pruning never removes the copy just installed.
        found.sort_by(|(left, left_files), (right, right_files)| {
            (left.last_log_id, &left.snapshot_id, &left_files.dir).cmp(&(
                right.last_log_id,
                &right.snapshot_id,
                &right_files.dir,
            ))
        });
        Ok(found)
    }

    /// Remove all but the newest `SNAPSHOTS_KEPT` snapshots.
    fn prune(&self) -> Result<(), MetaError> {
        let complete = self.complete()?;
        let excess = complete.len().saturating_sub(SNAPSHOTS_KEPT);
        for (_, files) in complete.into_iter().take(excess) {
            fs::remove_dir_all(&files.dir).map_err(io_error("remove old snapshot"))?;
        }
        Ok(())
    }

    /// Publish `files` (staged or built) under a `snap-` name with `meta`.
    fn publish(
        &self,
        files: SnapshotFiles,
        meta: &SnapshotMeta,
    ) -> Result<SnapshotFiles, MetaError> {
        let index = meta.last_log_id.map_or(0, |log_id| log_id.index);
        let dir = self.root.join(self.fresh_name(SNAPSHOT_PREFIX, index));
        let source_is_ours = files.dir.parent() == Some(self.root.as_path());
        if source_is_ours {
            fs::write(files.dir.join(META_FILE), codec::encode(meta)?)
                .map_err(io_error("write snapshot meta"))?;
            files.sync_all().map_err(io_error("sync snapshot"))?;
            fs::rename(&files.dir, &dir).map_err(io_error("publish snapshot"))?;
        } else {
            // A snapshot handed over from another store (openraft's test
            // suite does this): copy it, leaving the original in place.
            let staged = self.staging()?;
            for (name, _) in files.files().map_err(io_error("list snapshot"))? {
                fs::copy(
                    files.checkpoint_dir().join(&name),
                    staged.checkpoint_dir().join(&name),
                )
                .map_err(io_error("copy snapshot"))?;
            }
            return self.publish(staged, meta);
        }
        sync_dir(&self.root).map_err(io_error("sync snapshot dir"))?;
        Ok(SnapshotFiles { dir })
    }

    /// Build a snapshot of `db` as it is now: a checkpoint, with the meta
    /// read from the checkpoint itself so that the two always agree.
    pub fn build(
        &self,
        db: &DB,
        snapshot_id: impl FnOnce(Option<&LogId>) -> String,
    ) -> Result<(SnapshotMeta, SnapshotFiles), MetaError> {
        let staging = SnapshotFiles {
            dir: self.root.join(self.fresh_name(STAGING_PREFIXES[1], 0)),
        };
        fs::create_dir_all(&staging.dir).map_err(io_error("create snapshot"))?;
        Checkpoint::new(db)
            .and_then(|checkpoint| checkpoint.create_checkpoint(staging.checkpoint_dir()))
            .map_err(rocks_error("create checkpoint"))?;
        let (last_log_id, last_membership) = {
            let checkpoint = open_read_only(&staging.checkpoint_dir())?;
            applied_state(&checkpoint)?
        };
        let meta = SnapshotMeta {
            snapshot_id: snapshot_id(last_log_id.as_ref()),
            last_log_id,
            last_membership,
        };
        let published = self.publish(staging, &meta)?;
        self.prune()?;
        Ok((meta, published))
    }

    /// Replace the state machine of `db` with the snapshot in `files`,
    /// which becomes the current snapshot.
    pub fn install(
        &self,
        db: &DB,
        meta: &SnapshotMeta,
        files: SnapshotFiles,
    ) -> Result<SnapshotFiles, MetaError> {
        let published = self.publish(files, meta)?;
        {
            let checkpoint = open_read_only(&published.checkpoint_dir())?;
            let (last_log_id, _) = applied_state(&checkpoint)?;
            if last_log_id != meta.last_log_id {
                return Err(MetaError::Storage(format!(
                    "snapshot {} holds state up to {last_log_id:?}, its meta says {:?}",
                    meta.snapshot_id, meta.last_log_id
                )));
            }
            write_difference(db, &checkpoint, &published.dir.join(INSTALL_SST))?;
        }
        let marker = published
            .dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut synced = WriteOptions::default();
        synced.set_sync(true);
        db.put_cf_opt(
            cf(db, CF_SM_META),
            INSTALLING_KEY,
            marker.as_bytes(),
            &synced,
        )
        .map_err(rocks_error("mark install"))?;
        finish_install(db, &published.dir, meta)?;
        self.prune()?;
        Ok(published)
    }

    /// Finish an install that a crash interrupted (see the module comment).
    /// Runs before Raft starts.
    pub fn recover(&self, db: &DB) -> Result<(), MetaError> {
        let Some(marker) = db
            .get_cf(cf(db, CF_SM_META), INSTALLING_KEY)
            .map_err(rocks_error("read install marker"))?
        else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(&marker).into_owned();
        let dir = self.root.join(&name);
        if !name.starts_with(SNAPSHOT_PREFIX) || !is_checkpoint_file_name(&name) || !dir.is_dir() {
            return Err(MetaError::Storage(format!(
                "an interrupted snapshot install names {name:?}, which is not a snapshot here"
            )));
        }
        let meta: SnapshotMeta =
            codec::decode(&fs::read(dir.join(META_FILE)).map_err(io_error("read snapshot meta"))?)?;
        tracing::warn!(snapshot = %meta.snapshot_id, "finishing a snapshot install interrupted by a crash");
        finish_install(db, &dir, &meta)
    }
}

/// Ingest the install SST (if the states differed at all) and record the
/// snapshot's position, clearing the marker. Idempotent: the SST holds the
/// snapshot's values and deletes, so ingesting it twice changes nothing.
fn finish_install(db: &DB, dir: &Path, meta: &SnapshotMeta) -> Result<(), MetaError> {
    let sst = dir.join(INSTALL_SST);
    if sst.exists() {
        let mut options = IngestExternalFileOptions::default();
        // Copy, so the file survives for a retry until the marker is gone.
        options.set_move_files(false);
        db.ingest_external_file_cf_opts(cf(db, CF_SM_DATA), &options, vec![&sst])
            .map_err(rocks_error("ingest snapshot"))?;
    }
    let sm_meta = cf(db, CF_SM_META);
    let mut batch = WriteBatch::default();
    match &meta.last_log_id {
        Some(log_id) => batch.put_cf(sm_meta, LAST_APPLIED_KEY, codec::encode(log_id)?),
        None => batch.delete_cf(sm_meta, LAST_APPLIED_KEY),
    }
    batch.put_cf(
        sm_meta,
        LAST_MEMBERSHIP_KEY,
        codec::encode(&meta.last_membership)?,
    );
    batch.delete_cf(sm_meta, INSTALLING_KEY);
    // Synced: openraft purges the log behind an installed snapshot.
    let mut synced = WriteOptions::default();
    synced.set_sync(true);
    db.write_opt(batch, &synced)
        .map_err(rocks_error("record installed snapshot"))?;
    match fs::remove_file(&sst) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(storage_error("remove install file", error)),
    }
}

fn open_read_only(dir: &Path) -> Result<DB, MetaError> {
    DB::open_cf_for_read_only(&Options::default(), dir, COLUMN_FAMILIES, false)
        .map_err(rocks_error("open checkpoint"))
}

/// The applied position and membership stored in `db`'s `sm_meta`.
pub(crate) fn applied_state(db: &DB) -> Result<(Option<LogId>, StoredMembership), MetaError> {
    let sm_meta = cf(db, CF_SM_META);
    let read = |key: &[u8]| db.get_cf(sm_meta, key).map_err(rocks_error("read sm_meta"));
    let last_applied = read(LAST_APPLIED_KEY)?
        .map(|bytes| codec::decode::<LogId>(&bytes))
        .transpose()?;
    let membership = read(LAST_MEMBERSHIP_KEY)?
        .map(|bytes| codec::decode::<StoredMembership>(&bytes))
        .transpose()?
        .unwrap_or_default();
    Ok((last_applied, membership))
}

/// One step of the merge walk: which side's record comes next.
enum Next {
    OnlyLocal(Box<[u8]>),
    OnlySnapshot(Box<[u8]>, Box<[u8]>),
    Both(Box<[u8]>, Box<[u8]>, Box<[u8]>),
}

/// Write to `path` an SST that turns `db`'s state-machine records into the
/// checkpoint's: a put for every record that is new or differs, a delete
/// for every record the checkpoint lacks. No file when nothing differs.
/// Both sides are read in key order, so memory stays at one record each.
fn write_difference(db: &DB, checkpoint: &DB, path: &Path) -> Result<(), MetaError> {
    let options = Options::default();
    let mut writer = SstFileWriter::create(&options);
    writer
        .open(path)
        .map_err(rocks_error("create install file"))?;
    let mut local = db.iterator_cf(cf(db, CF_SM_DATA), IteratorMode::Start);
    let mut remote = checkpoint.iterator_cf(cf(checkpoint, CF_SM_DATA), IteratorMode::Start);
    let read = rocks_error("read records");
    let mut next_local = local.next().transpose().map_err(&read)?;
    let mut next_remote = remote.next().transpose().map_err(&read)?;
    let mut changes: u64 = 0;
    loop {
        let step = match (next_local.take(), next_remote.take()) {
            (None, None) => break,
            (Some((key, _)), None) => Next::OnlyLocal(key),
            (None, Some((key, value))) => Next::OnlySnapshot(key, value),
            (Some((local_key, local_value)), Some((remote_key, remote_value))) => {
                match local_key.cmp(&remote_key) {
                    std::cmp::Ordering::Less => {
                        next_remote = Some((remote_key, remote_value));
                        Next::OnlyLocal(local_key)
                    }
                    std::cmp::Ordering::Greater => {
                        next_local = Some((local_key, local_value));
                        Next::OnlySnapshot(remote_key, remote_value)
                    }
                    std::cmp::Ordering::Equal => Next::Both(remote_key, local_value, remote_value),
                }
            }
        };
        match step {
            Next::OnlyLocal(key) => {
                writer
                    .delete(&key)
                    .map_err(rocks_error("write install file"))?;
                changes += 1;
                next_local = local.next().transpose().map_err(&read)?;
            }
            Next::OnlySnapshot(key, value) => {
                writer
                    .put(&key, &value)
                    .map_err(rocks_error("write install file"))?;
                changes += 1;
                next_remote = remote.next().transpose().map_err(&read)?;
            }
            Next::Both(key, local_value, remote_value) => {
                if local_value != remote_value {
                    writer
                        .put(&key, &remote_value)
                        .map_err(rocks_error("write install file"))?;
                    changes += 1;
                }
                next_local = local.next().transpose().map_err(&read)?;
                next_remote = remote.next().transpose().map_err(&read)?;
            }
        }
    }
    if changes == 0 {
        // RocksDB refuses to finish an SST without entries.
        drop(writer);
        return match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(storage_error("remove empty install file", error)),
        };
    }
    writer
        .finish()
        .map_err(rocks_error("finish install file"))?;
    fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io_error("sync install file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_db;

    fn put_record(db: &DB, key: &[u8], value: &[u8]) {
        db.put_cf(cf(db, CF_SM_DATA), key, value).expect("put");
    }

    fn records(db: &DB) -> Vec<(Vec<u8>, Vec<u8>)> {
        db.iterator_cf(cf(db, CF_SM_DATA), IteratorMode::Start)
            .map(|item| {
                let (key, value) = item.expect("read");
                (key.into_vec(), value.into_vec())
            })
            .collect()
    }

    #[test]
    fn checkpoint_file_names_are_plain() {
        for good in [
            "000012.sst",
            "MANIFEST-000005",
            "CURRENT",
            "OPTIONS-000007",
            "000004.log",
        ] {
            assert!(is_checkpoint_file_name(good), "{good}");
        }
        let long = "a".repeat(FILE_NAME_CHARS_MAX + 1);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            ".hidden",
            "a\\b",
            "nul\0",
            "é",
            long.as_str(),
        ] {
            assert!(!is_checkpoint_file_name(bad), "{bad:?}");
        }
    }

    /// A crash after the install marker is written leaves the records and
    /// `last_applied` of before; `recover` finishes the install.
    #[test]
    fn recover_finishes_an_interrupted_install() {
        let leader_dir = tempfile::tempdir().expect("temp dir");
        let leader = open_db(leader_dir.path()).expect("open");
        put_record(&leader, b"b/alpha", b"1");
        put_record(&leader, b"b/gamma", b"3");
        let log_id = LogId::new(openraft::CommittedLeaderId::new(2, 1), 7);
        leader
            .put_cf(
                cf(&leader, CF_SM_META),
                LAST_APPLIED_KEY,
                codec::encode(&log_id).expect("encode"),
            )
            .expect("put");
        let leader_dirs = SnapshotDirs::open(leader_dir.path().join("snapshots")).expect("dirs");
        let (meta, files) = leader_dirs
            .build(&leader, |_| "s1".to_owned())
            .expect("build");
        assert_eq!(meta.last_log_id, Some(log_id));

        let follower_dir = tempfile::tempdir().expect("temp dir");
        let root = follower_dir.path().join("snapshots");
        {
            let follower = open_db(follower_dir.path()).expect("open");
            put_record(&follower, b"b/alpha", b"old");
            put_record(&follower, b"b/beta", b"2");
            let dirs = SnapshotDirs::open(root.clone()).expect("dirs");
            // The install's first half, as `install` runs it, then a crash.
            let published = dirs.publish(files, &meta).expect("publish");
            let checkpoint = open_read_only(&published.checkpoint_dir()).expect("open checkpoint");
            write_difference(&follower, &checkpoint, &published.dir.join(INSTALL_SST))
                .expect("diff");
            let name = published
                .dir
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            follower
                .put_cf(cf(&follower, CF_SM_META), INSTALLING_KEY, name.as_bytes())
                .expect("marker");
            assert_eq!(applied_state(&follower).expect("state").0, None);
        }
        let follower = open_db(follower_dir.path()).expect("reopen");
        let dirs = SnapshotDirs::open(root).expect("dirs");
        dirs.recover(&follower).expect("recover");
        assert_eq!(
            records(&follower),
            [
                (b"b/alpha".to_vec(), b"1".to_vec()),
                (b"b/gamma".to_vec(), b"3".to_vec())
            ]
        );
        assert_eq!(applied_state(&follower).expect("state").0, Some(log_id));
        let marker = follower
            .get_cf(cf(&follower, CF_SM_META), INSTALLING_KEY)
            .expect("read");
        assert_eq!(marker, None);
        // Recovering again is a no-op.
        dirs.recover(&follower).expect("recover twice");
        assert_eq!(
            dirs.latest()
                .expect("latest")
                .map(|(meta, _)| meta.snapshot_id),
            Some("s1".to_owned())
        );
    }
}

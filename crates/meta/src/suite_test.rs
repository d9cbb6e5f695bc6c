//! openraft's storage test suite over the RocksDB log store and state
//! machine: log state, purge and truncate, vote, membership bookkeeping in
//! `apply`, and snapshot build/install between two stores.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use openraft::testing::{StoreBuilder, Suite};

use crate::log_store::LogStore;
use crate::raft_types::{StorageError, TypeConfig};
use crate::state_machine::StateMachine;
use crate::store;

struct RocksBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for RocksBuilder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().expect("a temp dir for the test store");
        let db = store::open_db(dir.path()).expect("open a fresh rocksdb");
        let log_store = LogStore::new(db.clone(), Arc::new(AtomicU64::new(0)));
        let state_machine =
            StateMachine::open(db, dir.path().join("snapshots")).expect("open the state machine");
        Ok((dir, log_store, state_machine))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(RocksBuilder).expect("openraft storage suite passes");
}

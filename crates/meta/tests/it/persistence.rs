//! Restart: state and `last_applied` survive a shutdown and reopen of the
//! same directory, the node does not re-initialize, and writes continue.

use coffer_meta::*;
use coffer_types::ErrorCode;

use crate::common::*;

#[tokio::test]
async fn state_survives_restart_and_writes_continue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = bucket_name("photos");
    let applied_before = {
        let store = MetaStore::open(dir.path(), 1).await.expect("open");
        create_bucket(&store, "photos").await;
        for index in 0..20u8 {
            let object_key = key(&format!("k{index:02}"));
            assert_eq!(
                put(
                    &store,
                    &bucket,
                    &object_key,
                    version(i64::from(index), data_id(index), 1, "\"e\"")
                )
                .await,
                CommandResult::Ok
            );
        }
        let delete = Command::DeleteObject {
            bucket: bucket.clone(),
            key: key("k00"),
            version_id: None,
            now_ms: 77,
        };
        assert_eq!(
            store.propose(delete).await.expect("propose"),
            CommandResult::Deleted { existed: true }
        );
        let progress = store.progress();
        store.shutdown().await.expect("shutdown");
        assert!(matches!(
            store.propose(Command::GcDone { data_ids: vec![] }).await,
            Err(MetaError::ShuttingDown)
        ));
        // Reads still work after shutdown.
        assert!(store.bucket(&bucket).expect("read").is_some());
        progress.applied_index
    };

    for round in 0..2u8 {
        let store = MetaStore::open(dir.path(), 1).await.expect("reopen");
        let progress = store.progress();
        assert!(progress.has_leader);
        assert!(
            progress.applied_index >= applied_before,
            "{} < {applied_before}",
            progress.applied_index
        );
        assert!(store.bucket(&bucket).expect("read").is_some());
        let listed = store.list_objects(&bucket, "", None, 1000).expect("list");
        assert_eq!(listed.len(), 19 + usize::from(round));
        assert_eq!(gc_entries(&store), vec![(data_id(0), 1, 77)]);

        // The bucket still exists for the state machine, and new writes apply.
        let again = store
            .propose(Command::CreateBucket {
                bucket: store.bucket(&bucket).expect("read").expect("exists"),
            })
            .await;
        assert_failed(&again.expect("propose"), ErrorCode::BucketAlreadyOwnedByYou);
        let object_key = key(&format!("after-restart-{round}"));
        assert_eq!(
            put(
                &store,
                &bucket,
                &object_key,
                version(500, data_id(50 + round), 1, "\"e\"")
            )
            .await,
            CommandResult::Ok
        );
        assert!(store.progress().applied_index > progress.applied_index);
        store.shutdown().await.expect("shutdown");
    }
}

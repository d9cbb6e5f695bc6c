//! Concurrent proposals from many tasks: conditional writes are decided by
//! log order, and every proposal gets its own answer.

use std::sync::Arc;

use coffer_meta::*;
use coffer_types::ErrorCode;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_if_none_match_has_exactly_one_winner() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let contenders = 200u8;
    let mut tasks = Vec::new();
    for seed in 0..contenders {
        let store = Arc::clone(&store);
        let bucket = bucket.clone();
        tasks.push(tokio::spawn(async move {
            let command = Command::PutObject {
                bucket,
                key: key("contended"),
                version: version(
                    1_000 + i64::from(seed),
                    data_id(seed),
                    1,
                    &format!("\"{seed}\""),
                ),
                precondition: Some(WritePrecondition::IfNoneMatchAny),
            };
            (seed, store.propose(command).await.expect("propose"))
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (seed, result) = task.await.expect("task");
        match result {
            CommandResult::Ok => winners.push(seed),
            other => assert_failed(&other, ErrorCode::PreconditionFailed),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let stored = store
        .object(&bucket, &key("contended"), None)
        .expect("read")
        .expect("exists");
    assert_eq!(stored.parts[0].data_id, data_id(winners[0]));
    assert!(gc_entries(&store).is_empty(), "losers replaced nothing");
    for seed in 0..contenders {
        assert_eq!(
            store.data_is_referenced(&data_id(seed)).expect("read"),
            seed == winners[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_to_distinct_keys_all_apply() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let mut tasks = Vec::new();
    for index in 0..300u32 {
        let store = Arc::clone(&store);
        let bucket = bucket.clone();
        tasks.push(tokio::spawn(async move {
            let object_key = key(&format!("key-{index:04}"));
            let object = version(i64::from(index), data_id((index % 250) as u8), 1, "\"e\"");
            store
                .propose(Command::PutObject {
                    bucket,
                    key: object_key,
                    version: object,
                    precondition: None,
                })
                .await
                .expect("propose")
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), CommandResult::Ok);
    }
    let listed = store
        .list_objects(&bucket, "key-", None, 1000)
        .expect("list");
    assert_eq!(listed.len(), 300);
    assert!(listed.windows(2).all(|pair| pair[0].0 < pair[1].0));
}

/// Group commit: on a current-thread runtime every spawned proposal is
/// queued before the batcher task runs again, so 300 proposals need only a
/// few log entries (each entry is one append and one fsync).
#[tokio::test(flavor = "current_thread")]
async fn concurrent_proposals_share_log_entries() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let applied_before = store.progress().applied_index;
    let proposals = 300u32;
    let mut tasks = Vec::new();
    for index in 0..proposals {
        let store = Arc::clone(&store);
        let bucket = bucket.clone();
        tasks.push(tokio::spawn(async move {
            let object = version(i64::from(index), data_id((index % 250) as u8), 1, "\"e\"");
            let command = Command::PutObject {
                bucket,
                key: key(&format!("k{index}")),
                version: object,
                precondition: None,
            };
            store.propose(command).await.expect("propose")
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), CommandResult::Ok);
    }
    let entries = store.progress().applied_index - applied_before;
    assert!(
        entries >= 2,
        "256 commands at most per entry, got {entries} entries"
    );
    assert!(
        entries <= 10,
        "{proposals} proposals took {entries} log entries"
    );
    assert_eq!(
        store
            .list_objects(&bucket, "k", None, 1000)
            .expect("list")
            .len(),
        proposals as usize
    );
}

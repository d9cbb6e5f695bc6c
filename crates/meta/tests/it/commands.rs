//! Round trips of the non-multipart commands, including every failure code.

use coffer_meta::*;
use coffer_types::{AccountId, ErrorCode, VersionId};

use crate::common::*;

#[tokio::test]
async fn ensure_account_is_idempotent_and_adds_missing_keys() {
    let (_dir, store) = open_store().await;
    let first = Command::EnsureAccount {
        account: account_record(OWNER, "root"),
        access_key: access_key_record("AKIAFIRST", OWNER),
    };
    assert_eq!(
        store.propose(first.clone()).await.expect("propose"),
        CommandResult::Ok
    );
    assert_eq!(
        store.propose(first).await.expect("propose"),
        CommandResult::Ok
    );

    // A second start with a rotated key: the account stays, the key is added.
    let second = Command::EnsureAccount {
        account: account_record(OWNER, "renamed"),
        access_key: access_key_record("AKIASECOND", OWNER),
    };
    assert_eq!(
        store.propose(second).await.expect("propose"),
        CommandResult::Ok
    );

    let account = store
        .account(&AccountId(OWNER.to_owned()))
        .expect("read")
        .expect("account exists");
    assert_eq!(account.display_name, "root");
    for access_key_id in ["AKIAFIRST", "AKIASECOND"] {
        let (access_key, account) = store
            .access_key(access_key_id)
            .expect("read")
            .expect("key exists");
        assert_eq!(access_key.access_key_id, access_key_id);
        assert_eq!(account.id.0, OWNER);
    }
    assert!(store.access_key("AKIAMISSING").expect("read").is_none());
    assert!(store
        .account(&AccountId(OTHER_OWNER.to_owned()))
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn create_bucket_reports_owner_conflicts() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    create_bucket(&store, "archive").await;

    let mine = store.bucket(&bucket).expect("read").expect("bucket exists");
    let again = store
        .propose(Command::CreateBucket {
            bucket: mine.clone(),
        })
        .await
        .expect("propose");
    assert_failed(&again, ErrorCode::BucketAlreadyOwnedByYou);

    let theirs = BucketRecord {
        owner: AccountId(OTHER_OWNER.to_owned()),
        ..mine.clone()
    };
    let taken = store
        .propose(Command::CreateBucket { bucket: theirs })
        .await
        .expect("propose");
    assert_failed(&taken, ErrorCode::BucketAlreadyExists);

    assert_eq!(store.bucket(&bucket).expect("read"), Some(mine));
    let names: Vec<String> = store
        .buckets()
        .expect("list")
        .into_iter()
        .map(|bucket| bucket.name.to_string())
        .collect();
    assert_eq!(names, ["archive", "photos"]);
    assert!(store
        .bucket(&bucket_name("missing"))
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn delete_bucket_checks_existence_and_emptiness() {
    let (_dir, store) = open_store().await;
    let missing = store
        .propose(Command::DeleteBucket {
            bucket: bucket_name("missing"),
        })
        .await
        .expect("propose");
    assert_failed(&missing, ErrorCode::NoSuchBucket);

    let bucket = create_bucket(&store, "photos").await;
    assert!(store.bucket_is_empty(&bucket).expect("read"));
    assert_eq!(
        put(
            &store,
            &bucket,
            &key("a"),
            version(10, data_id(1), 5, "\"e1\"")
        )
        .await,
        CommandResult::Ok
    );
    assert!(!store.bucket_is_empty(&bucket).expect("read"));
    let not_empty = store
        .propose(Command::DeleteBucket {
            bucket: bucket.clone(),
        })
        .await
        .expect("propose");
    assert_failed(&not_empty, ErrorCode::BucketNotEmpty);

    let delete = Command::DeleteObject {
        bucket: bucket.clone(),
        key: key("a"),
        version_id: None,
        now_ms: 20,
    };
    assert_eq!(
        store.propose(delete).await.expect("propose"),
        CommandResult::Deleted { existed: true }
    );

    // An upload in progress does not keep the bucket alive: it is aborted
    // and its parts go to the GC queue.
    let upload = upload_record(&bucket, &key("big"), 30);
    assert_eq!(
        store
            .propose(Command::CreateUpload {
                upload: upload.clone()
            })
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    let put_part = Command::PutPart {
        bucket: bucket.clone(),
        key: key("big"),
        upload_id: upload.upload_id.clone(),
        part: part(1, data_id(2), 3, "\"p1\"", 40),
    };
    assert_eq!(
        store.propose(put_part).await.expect("propose"),
        CommandResult::Ok
    );

    assert_eq!(
        store
            .propose(Command::DeleteBucket {
                bucket: bucket.clone()
            })
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    assert!(store.bucket(&bucket).expect("read").is_none());
    assert!(store
        .upload(&bucket, &key("big"), &upload.upload_id)
        .expect("read")
        .is_none());
    assert!(store
        .list_parts(&upload.upload_id, 0, 100)
        .expect("read")
        .is_empty());
    assert_eq!(
        gc_entries(&store),
        vec![(data_id(1), 1, 20), (data_id(2), 1, 40)]
    );
    assert!(store.data_is_referenced(&data_id(2)).expect("read"));
}

#[tokio::test]
async fn put_object_replaces_and_checks_preconditions() {
    let (_dir, store) = open_store().await;
    let bucket = bucket_name("photos");
    let object_key = key("cat.jpg");
    assert_failed(
        &put(
            &store,
            &bucket,
            &object_key,
            version(1, data_id(1), 1, "\"e\""),
        )
        .await,
        ErrorCode::NoSuchBucket,
    );
    create_bucket(&store, "photos").await;

    let conditional = |object: ObjectVersion, precondition: WritePrecondition| Command::PutObject {
        bucket: bucket.clone(),
        key: object_key.clone(),
        version: object,
        precondition: Some(precondition),
    };
    let if_match_absent = store
        .propose(conditional(
            version(5, data_id(1), 1, "\"e\""),
            WritePrecondition::IfMatch("\"e\"".into()),
        ))
        .await;
    assert_failed(&if_match_absent.expect("propose"), ErrorCode::NoSuchKey);

    let created = store
        .propose(conditional(
            version(10, data_id(1), 10 * MIB, "\"e1\""),
            WritePrecondition::IfNoneMatchAny,
        ))
        .await;
    assert_eq!(created.expect("propose"), CommandResult::Ok);
    let exists = store
        .propose(conditional(
            version(11, data_id(2), 1, "\"e2\""),
            WritePrecondition::IfNoneMatchAny,
        ))
        .await;
    assert_failed(&exists.expect("propose"), ErrorCode::PreconditionFailed);
    let mismatch = store
        .propose(conditional(
            version(12, data_id(2), 1, "\"e2\""),
            WritePrecondition::IfMatch("\"other\"".into()),
        ))
        .await;
    assert_failed(&mismatch.expect("propose"), ErrorCode::PreconditionFailed);
    assert_eq!(
        store
            .object(&bucket, &object_key, None)
            .expect("read")
            .map(|found| found.etag),
        Some("\"e1\"".to_owned())
    );
    assert!(
        gc_entries(&store).is_empty(),
        "failed commands change nothing"
    );

    // ETags compare without their quotes.
    let matched = store
        .propose(conditional(
            version(20, data_id(2), 7, "\"e2\""),
            WritePrecondition::IfMatch("e1".into()),
        ))
        .await;
    assert_eq!(matched.expect("propose"), CommandResult::Ok);
    let star = store
        .propose(conditional(
            version(30, data_id(3), 0, "\"e3\""),
            WritePrecondition::IfMatch("*".into()),
        ))
        .await;
    assert_eq!(star.expect("propose"), CommandResult::Ok);

    let current = store
        .object(&bucket, &object_key, None)
        .expect("read")
        .expect("exists");
    assert_eq!(current, version(30, data_id(3), 0, "\"e3\""));
    assert_eq!(
        store
            .object(&bucket, &object_key, Some(&VersionId::null()))
            .expect("read"),
        Some(current)
    );
    assert!(store
        .object(&bucket, &object_key, Some(&VersionId("v2".into())))
        .expect("read")
        .is_none());
    assert_eq!(
        store
            .list_objects(&bucket, "", None, 10)
            .expect("list")
            .len(),
        1,
        "one null version per key"
    );
    // 10 MiB in 4 MiB blocks is 3 blocks; replaced data is queued at the new
    // version's time.
    assert_eq!(
        gc_entries(&store),
        vec![(data_id(1), 3, 20), (data_id(2), 1, 30)]
    );
    for (seed, referenced) in [(1, true), (2, true), (3, true), (4, false)] {
        assert_eq!(
            store.data_is_referenced(&data_id(seed)).expect("read"),
            referenced,
            "data {seed}"
        );
    }
}

#[tokio::test]
async fn put_object_retried_with_the_same_data_does_not_collect_it() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let object = version(10, data_id(1), 1, "\"e1\"");
    assert_eq!(
        put(&store, &bucket, &key("k"), object.clone()).await,
        CommandResult::Ok
    );
    assert_eq!(
        put(&store, &bucket, &key("k"), object.clone()).await,
        CommandResult::Ok
    );
    assert!(gc_entries(&store).is_empty());
    assert_eq!(
        store.object(&bucket, &key("k"), None).expect("read"),
        Some(object)
    );
}

#[tokio::test]
async fn delete_object_and_delete_objects() {
    let (_dir, store) = open_store().await;
    let delete =
        |name: &str, object_key: &str, version_id: Option<&str>, now_ms| Command::DeleteObject {
            bucket: bucket_name(name),
            key: key(object_key),
            version_id: version_id.map(|id| VersionId(id.to_owned())),
            now_ms,
        };
    assert_failed(
        &store
            .propose(delete("photos", "a", None, 1))
            .await
            .expect("propose"),
        ErrorCode::NoSuchBucket,
    );
    let bucket = create_bucket(&store, "photos").await;
    assert_eq!(
        store
            .propose(delete("photos", "a", None, 1))
            .await
            .expect("propose"),
        CommandResult::Deleted { existed: false }
    );

    for (seed, name) in [(1, "a"), (2, "b"), (3, "c")] {
        assert_eq!(
            put(
                &store,
                &bucket,
                &key(name),
                version(10, data_id(seed), 1, "\"e\"")
            )
            .await,
            CommandResult::Ok
        );
    }
    // Only the null version exists: another id deletes nothing.
    assert_eq!(
        store
            .propose(delete("photos", "a", Some("3HL4kqtJlcpXroDTDmJ"), 50))
            .await
            .expect("propose"),
        CommandResult::Deleted { existed: false }
    );
    assert!(store
        .object(&bucket, &key("a"), None)
        .expect("read")
        .is_some());
    assert_eq!(
        store
            .propose(delete("photos", "a", Some("null"), 50))
            .await
            .expect("propose"),
        CommandResult::Deleted { existed: true }
    );
    assert!(store
        .object(&bucket, &key("a"), None)
        .expect("read")
        .is_none());
    assert_eq!(gc_entries(&store), vec![(data_id(1), 1, 50)]);

    let targets = ["b", "missing", "b", "c"]
        .iter()
        .map(|name| DeleteTarget {
            key: key(name),
            version_id: None,
        })
        .collect();
    let many = Command::DeleteObjects {
        bucket: bucket.clone(),
        targets,
        now_ms: 60,
    };
    assert_eq!(
        store.propose(many).await.expect("propose"),
        CommandResult::DeletedMany(vec![Ok(()), Ok(()), Ok(()), Ok(())])
    );
    assert!(store.bucket_is_empty(&bucket).expect("read"));
    assert_eq!(
        gc_entries(&store),
        vec![
            (data_id(1), 1, 50),
            (data_id(2), 1, 60),
            (data_id(3), 1, 60)
        ]
    );

    let no_bucket = Command::DeleteObjects {
        bucket: bucket_name("missing"),
        targets: Vec::new(),
        now_ms: 70,
    };
    assert_failed(
        &store.propose(no_bucket).await.expect("propose"),
        ErrorCode::NoSuchBucket,
    );
}

#[tokio::test]
async fn put_object_tags_on_current_or_named_version() {
    let (_dir, store) = open_store().await;
    let tag = |name: &str, object_key: &str, version_id: Option<&str>, value: &str| {
        Command::PutObjectTags {
            bucket: bucket_name(name),
            key: key(object_key),
            version_id: version_id.map(|id| VersionId(id.to_owned())),
            tags: vec![("project".to_owned(), value.to_owned())],
        }
    };
    assert_failed(
        &store
            .propose(tag("photos", "a", None, "x"))
            .await
            .expect("propose"),
        ErrorCode::NoSuchBucket,
    );
    let bucket = create_bucket(&store, "photos").await;
    assert_failed(
        &store
            .propose(tag("photos", "a", None, "x"))
            .await
            .expect("propose"),
        ErrorCode::NoSuchKey,
    );
    assert_eq!(
        put(
            &store,
            &bucket,
            &key("a"),
            version(10, data_id(1), 1, "\"e\"")
        )
        .await,
        CommandResult::Ok
    );
    assert_failed(
        &store
            .propose(tag("photos", "a", Some("v9"), "x"))
            .await
            .expect("propose"),
        ErrorCode::NoSuchVersion,
    );

    assert_eq!(
        store
            .propose(tag("photos", "a", None, "one"))
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    assert_eq!(
        store
            .propose(tag("photos", "a", Some("null"), "two"))
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    let tagged = store
        .object(&bucket, &key("a"), None)
        .expect("read")
        .expect("exists");
    assert_eq!(tagged.tags, vec![("project".to_owned(), "two".to_owned())]);
    assert_eq!(tagged.etag, "\"e\"", "tagging changes nothing else");
}

#[tokio::test]
async fn gc_queue_is_ordered_and_gc_done_drops_references() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    for (seed, now_ms) in [(1u8, 300), (2, 100), (3, 200)] {
        let object_key = key(&format!("k{seed}"));
        assert_eq!(
            put(
                &store,
                &bucket,
                &object_key,
                version(10, data_id(seed), 1, "\"e\"")
            )
            .await,
            CommandResult::Ok
        );
        let delete = Command::DeleteObject {
            bucket: bucket.clone(),
            key: object_key,
            version_id: None,
            now_ms,
        };
        assert_eq!(
            store.propose(delete).await.expect("propose"),
            CommandResult::Deleted { existed: true }
        );
    }
    assert_eq!(
        put(
            &store,
            &bucket,
            &key("live"),
            version(10, data_id(9), 1, "\"e\"")
        )
        .await,
        CommandResult::Ok
    );

    let oldest: Vec<_> = store
        .gc_batch(2)
        .expect("gc")
        .into_iter()
        .map(|entry| entry.data_id)
        .collect();
    assert_eq!(oldest, vec![data_id(2), data_id(3)]);

    // A stale GcDone naming live data must not expose it to GC.
    let done = Command::GcDone {
        data_ids: vec![data_id(2), data_id(3), data_id(9), data_id(77)],
    };
    assert_eq!(
        store.propose(done).await.expect("propose"),
        CommandResult::Ok
    );
    assert_eq!(gc_entries(&store), vec![(data_id(1), 1, 300)]);
    assert!(!store.data_is_referenced(&data_id(2)).expect("read"));
    assert!(store.data_is_referenced(&data_id(1)).expect("read"));
    assert!(store.data_is_referenced(&data_id(9)).expect("read"));
    assert!(store.gc_batch(0).expect("gc").is_empty());
}

#[tokio::test]
async fn progress_reports_leader_and_indexes() {
    let (_dir, store) = open_store().await;
    let before = store.progress();
    assert!(before.has_leader, "open waits for the single node to lead");
    create_bucket(&store, "photos").await;
    let after = store.progress();
    assert!(after.applied_index > before.applied_index);
    assert!(after.committed_index >= after.applied_index);
}

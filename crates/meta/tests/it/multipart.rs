//! Multipart uploads: create, parts, complete (each validation failure),
//! abort, and paging of uploads and parts.

use coffer_meta::*;
use coffer_types::{ErrorCode, UploadId};

use crate::common::*;

async fn start_upload(
    store: &MetaStore,
    bucket: &coffer_types::BucketName,
    name: &str,
    initiated_ms: i64,
) -> UploadRecord {
    let upload = upload_record(bucket, &key(name), initiated_ms);
    assert_eq!(
        store
            .propose(Command::CreateUpload {
                upload: upload.clone()
            })
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    upload
}

async fn put_part(store: &MetaStore, upload: &UploadRecord, record: PartRecord) -> CommandResult {
    let command = Command::PutPart {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        upload_id: upload.upload_id.clone(),
        part: record,
    };
    store.propose(command).await.expect("propose")
}

fn complete(
    upload: &UploadRecord,
    parts: &[(u32, &str)],
    precondition: Option<WritePrecondition>,
) -> Command {
    let mut final_version = version(1_000, data_id(0), 0, "\"md5s-2\"");
    final_version.parts.clear();
    Command::CompleteUpload {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        upload_id: upload.upload_id.clone(),
        parts: parts
            .iter()
            .map(|(number, etag)| (*number, etag.to_string()))
            .collect(),
        version: final_version,
        precondition,
    }
}

#[tokio::test]
async fn create_upload_and_put_part_failures() {
    let (_dir, store) = open_store().await;
    let missing_bucket = upload_record(&bucket_name("missing"), &key("k"), 5);
    assert_failed(
        &store
            .propose(Command::CreateUpload {
                upload: missing_bucket,
            })
            .await
            .expect("propose"),
        ErrorCode::NoSuchBucket,
    );

    let bucket = create_bucket(&store, "photos").await;
    let upload = start_upload(&store, &bucket, "k", 5).await;
    assert_eq!(
        store
            .upload(&bucket, &key("k"), &upload.upload_id)
            .expect("read"),
        Some(upload.clone())
    );

    // The upload exists only under its own bucket and key.
    let mut wrong_key = upload.clone();
    wrong_key.key = key("other");
    assert_failed(
        &put_part(&store, &wrong_key, part(1, data_id(1), 1, "\"a\"", 6)).await,
        ErrorCode::NoSuchUpload,
    );
    let mut unknown = upload.clone();
    unknown.upload_id = UploadId::generate(6);
    assert_failed(
        &put_part(&store, &unknown, part(1, data_id(1), 1, "\"a\"", 6)).await,
        ErrorCode::NoSuchUpload,
    );
    assert!(!store.data_is_referenced(&data_id(1)).expect("read"));

    // Uploading a part number again replaces the part and collects the old data.
    assert_eq!(
        put_part(&store, &upload, part(1, data_id(1), 9 * MIB, "\"a\"", 7)).await,
        CommandResult::Ok
    );
    assert_eq!(
        put_part(&store, &upload, part(1, data_id(2), 1, "\"b\"", 8)).await,
        CommandResult::Ok
    );
    assert_eq!(gc_entries(&store), vec![(data_id(1), 3, 8)]);
    let parts = store.list_parts(&upload.upload_id, 0, 10).expect("read");
    assert_eq!(parts, vec![part(1, data_id(2), 1, "\"b\"", 8)]);
}

#[tokio::test]
async fn complete_upload_validates_the_part_list() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let upload = start_upload(&store, &bucket, "big", 5).await;
    for (number, seed, size_bytes) in [
        (1, 1, 5 * MIB),
        (2, 2, 5 * MIB - 1),
        (3, 3, 100),
        (4, 4, 5 * MIB),
    ] {
        let etag = format!("\"etag{number}\"");
        assert_eq!(
            put_part(
                &store,
                &upload,
                part(number, data_id(seed), size_bytes, &etag, 10)
            )
            .await,
            CommandResult::Ok
        );
    }

    let mut gone = upload.clone();
    gone.upload_id = UploadId::generate(1);
    assert_failed(
        &store
            .propose(complete(&gone, &[(1, "\"etag1\"")], None))
            .await
            .expect("propose"),
        ErrorCode::NoSuchUpload,
    );
    let cases: Vec<(Vec<(u32, &str)>, ErrorCode)> = vec![
        (vec![], ErrorCode::MalformedXML),
        (
            vec![(3, "\"etag3\""), (1, "\"etag1\"")],
            ErrorCode::InvalidPartOrder,
        ),
        (
            vec![(1, "\"etag1\""), (1, "\"etag1\"")],
            ErrorCode::InvalidPartOrder,
        ),
        (
            vec![(1, "\"etag1\""), (5, "\"etag5\"")],
            ErrorCode::InvalidPart,
        ),
        (
            vec![(1, "\"etag1\""), (3, "\"wrong\"")],
            ErrorCode::InvalidPart,
        ),
        (
            vec![(2, "\"etag2\""), (3, "\"etag3\"")],
            ErrorCode::EntityTooSmall,
        ),
        (
            vec![(3, "\"etag3\""), (4, "\"etag4\"")],
            ErrorCode::EntityTooSmall,
        ),
    ];
    for (parts, code) in cases {
        let result = store
            .propose(complete(&upload, &parts, None))
            .await
            .expect("propose");
        assert_failed(&result, code);
    }
    assert_eq!(
        put(
            &store,
            &bucket,
            &key("big"),
            version(20, data_id(8), 1, "\"old\"")
        )
        .await,
        CommandResult::Ok
    );
    let refused = store
        .propose(complete(
            &upload,
            &[(1, "\"etag1\"")],
            Some(WritePrecondition::IfNoneMatchAny),
        ))
        .await;
    assert_failed(&refused.expect("propose"), ErrorCode::PreconditionFailed);
    assert_eq!(
        store
            .list_parts(&upload.upload_id, 0, 10)
            .expect("read")
            .len(),
        4,
        "failures change nothing"
    );
    assert!(gc_entries(&store).is_empty());

    // Parts 1 and 3 (quotes optional on the client's ETags); the last part
    // may be small; parts 2 and 4 are not named and are collected.
    let done = store
        .propose(complete(
            &upload,
            &[(1, "etag1"), (3, "\"etag3\"")],
            Some(WritePrecondition::IfMatch("\"old\"".into())),
        ))
        .await;
    let CommandResult::Completed(installed) = done.expect("propose") else {
        panic!("expected Completed")
    };
    assert_eq!(installed.size_bytes, 5 * MIB + 100);
    assert!(installed.multipart);
    assert_eq!(installed.etag, "\"md5s-2\"");
    let data_ids: Vec<_> = installed
        .parts
        .iter()
        .map(|layout| (layout.part_number, layout.data_id))
        .collect();
    assert_eq!(data_ids, vec![(1, data_id(1)), (3, data_id(3))]);
    assert_eq!(
        store.object(&bucket, &key("big"), None).expect("read"),
        Some(*installed.clone())
    );

    assert!(store
        .upload(&bucket, &key("big"), &upload.upload_id)
        .expect("read")
        .is_none());
    assert!(store
        .list_parts(&upload.upload_id, 0, 10)
        .expect("read")
        .is_empty());
    assert_eq!(
        gc_entries(&store),
        vec![
            (data_id(2), 2, 1_000),
            (data_id(4), 2, 1_000),
            (data_id(8), 1, 1_000)
        ]
    );
    for seed in [1, 3, 2, 4, 8] {
        assert!(
            store.data_is_referenced(&data_id(seed)).expect("read"),
            "data {seed}"
        );
    }
    let again = store
        .propose(complete(&upload, &[(1, "etag1")], None))
        .await
        .expect("propose");
    assert_failed(&again, ErrorCode::NoSuchUpload);
}

#[tokio::test]
async fn abort_upload_collects_every_part() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let upload = start_upload(&store, &bucket, "big", 5).await;
    for number in 1..=3u32 {
        assert_eq!(
            put_part(
                &store,
                &upload,
                part(number, data_id(number as u8), MIB, "\"p\"", 10)
            )
            .await,
            CommandResult::Ok
        );
    }
    let abort = |upload_id: UploadId| Command::AbortUpload {
        bucket: bucket.clone(),
        key: key("big"),
        upload_id,
        now_ms: 99,
    };
    assert_failed(
        &store
            .propose(abort(UploadId::generate(1)))
            .await
            .expect("propose"),
        ErrorCode::NoSuchUpload,
    );
    assert_eq!(
        store
            .propose(abort(upload.upload_id.clone()))
            .await
            .expect("propose"),
        CommandResult::Ok
    );
    assert_eq!(
        gc_entries(&store),
        vec![
            (data_id(1), 1, 99),
            (data_id(2), 1, 99),
            (data_id(3), 1, 99)
        ]
    );
    assert!(store
        .upload(&bucket, &key("big"), &upload.upload_id)
        .expect("read")
        .is_none());
    assert_failed(
        &store
            .propose(abort(upload.upload_id.clone()))
            .await
            .expect("propose"),
        ErrorCode::NoSuchUpload,
    );
}

#[tokio::test]
async fn list_uploads_and_parts_page_through_everything() {
    let (_dir, store) = open_store().await;
    let bucket = create_bucket(&store, "photos").await;
    let other = create_bucket(&store, "photos2").await;
    start_upload(&store, &other, "a/1", 1).await;
    let mut expected = Vec::new();
    for (name, initiated_ms) in [
        ("b", 30),
        ("a/1", 20),
        ("a/1", 10),
        ("a/2", 5),
        ("a\u{0}x", 7),
        ("é", 1),
    ] {
        expected.push(start_upload(&store, &bucket, name, initiated_ms).await);
    }
    expected.sort_by(|left, right| {
        (left.key.as_str().as_bytes(), &left.upload_id)
            .cmp(&(right.key.as_str().as_bytes(), &right.upload_id))
    });
    assert_eq!(
        store
            .list_uploads(&bucket, "", None, None, 100)
            .expect("list"),
        expected
    );

    // Page two at a time with both markers.
    let mut paged = Vec::new();
    let (mut key_marker, mut upload_marker): (Option<Vec<u8>>, Option<UploadId>) = (None, None);
    loop {
        let page = store
            .list_uploads(
                &bucket,
                "",
                key_marker.as_deref(),
                upload_marker.as_ref(),
                2,
            )
            .expect("list");
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        key_marker = Some(last.key.as_str().as_bytes().to_vec());
        upload_marker = Some(last.upload_id.clone());
        paged.extend(page);
    }
    assert_eq!(paged, expected);

    let under_a: Vec<_> = store
        .list_uploads(&bucket, "a/", None, None, 100)
        .expect("list")
        .into_iter()
        .map(|u| u.key.to_string())
        .collect();
    assert_eq!(under_a, ["a/1", "a/1", "a/2"]);
    // A key marker alone skips every upload of that key.
    let after_a1: Vec<_> = store
        .list_uploads(&bucket, "", Some(b"a/1"), None, 100)
        .expect("list")
        .into_iter()
        .map(|u| u.key.to_string())
        .collect();
    // "a\0x" sorts before "a/1" (NUL < '/').
    assert_eq!(after_a1, ["a/2", "b", "é"]);

    let upload = &expected[0];
    for number in [3u32, 1, 10_000, 2] {
        assert_eq!(
            put_part(
                &store,
                upload,
                part(number, data_id(number as u8), 1, "\"p\"", 1)
            )
            .await,
            CommandResult::Ok
        );
    }
    let numbers = |marker, limit| -> Vec<u32> {
        store
            .list_parts(&upload.upload_id, marker, limit)
            .expect("list")
            .into_iter()
            .map(|p| p.layout.part_number)
            .collect()
    };
    assert_eq!(numbers(0, 100), [1, 2, 3, 10_000]);
    assert_eq!(numbers(0, 2), [1, 2]);
    assert_eq!(numbers(2, 2), [3, 10_000]);
    assert_eq!(numbers(10_000, 2), Vec::<u32>::new());
    assert_eq!(numbers(u32::MAX, 2), Vec::<u32>::new());
    assert!(
        store
            .list_parts(&expected[1].upload_id, 0, 100)
            .expect("list")
            .is_empty(),
        "parts belong to their upload"
    );
}

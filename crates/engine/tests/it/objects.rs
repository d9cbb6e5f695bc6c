//! PutObject / GetObject / HeadObject / DeleteObject behaviour.

use base64::Engine as _;
use coffer_engine::*;
use coffer_meta::{ChecksumAlgorithm, WritePrecondition};
use coffer_types::ErrorCode;
use md5::{Digest, Md5};

use crate::{body_of, code, data, failing_body, key_of, Harness, BLOCK_SIZE_BYTES};

const KIB: usize = 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_at_segment_and_block_boundaries() {
    let h = Harness::new().await;
    let block = BLOCK_SIZE_BYTES as usize;
    let sizes = [
        0,
        1,
        64 * KIB - 1,
        64 * KIB,
        64 * KIB + 1,
        block,
        block + 1,
        4 * 1024 * KIB + 1,
        3 * block + 777,
    ];
    for (seed, size) in sizes.into_iter().enumerate() {
        let key = format!("object-{size}");
        let bytes = data(size, seed as u64);
        let version = h.put(&key, &bytes).await;
        if size == 0 {
            assert_eq!(h.block_files(), 0, "a zero-byte body has no blocks");
        }
        assert_eq!(version.size_bytes, size as u64);
        assert_eq!(
            version.etag,
            format!("\"{}\"", hex::encode(Md5::digest(&bytes))),
            "size {size}"
        );
        let (outcome, body) = h.get(h.get_request(&key)).await.expect("get");
        assert!(!outcome.partial);
        assert_eq!((outcome.start, outcome.end), (0, size as u64));
        assert!(body == bytes, "round trip of {size} bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges() {
    let h = Harness::new().await;
    let bytes = data(300 * KIB + 5, 7);
    h.put("ranged", &bytes).await;
    let size = bytes.len() as u64;
    let cases = [
        (RangeRequest::FromTo { first: 0, last: 0 }, 0..1),
        (
            RangeRequest::FromTo {
                first: 65_530,
                last: 65_550,
            },
            65_530..65_551,
        ),
        (
            RangeRequest::FromTo {
                first: 100_000,
                last: 270_000,
            },
            100_000..270_001,
        ),
        (
            RangeRequest::FromTo {
                first: 10,
                last: size * 2,
            },
            10..size,
        ),
        (RangeRequest::From { first: 131_072 }, 131_072..size),
        (RangeRequest::Suffix { length: 70_000 }, size - 70_000..size),
        (RangeRequest::Suffix { length: size + 10 }, 0..size),
    ];
    for (range, expected) in cases {
        let mut request = h.get_request("ranged");
        request.range = Some(range);
        let (outcome, body) = h.get(request).await.expect("ranged get");
        assert!(outcome.partial, "{range:?}");
        assert_eq!(
            outcome.start..outcome.end,
            expected.start..expected.end,
            "{range:?}"
        );
        assert!(
            body == bytes[expected.start as usize..expected.end as usize],
            "{range:?}"
        );
    }
    for range in [
        RangeRequest::From { first: size },
        RangeRequest::FromTo {
            first: size + 1,
            last: size + 5,
        },
    ] {
        let mut request = h.get_request("ranged");
        request.range = Some(range);
        assert_eq!(
            code(h.engine.get_object(request, true).await),
            ErrorCode::InvalidRange
        );
    }
    h.put("empty", b"").await;
    let mut request = h.get_request("empty");
    request.range = Some(RangeRequest::FromTo { first: 0, last: 10 });
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::InvalidRange
    );
    // Range and partNumber together are refused.
    let mut request = h.get_request("ranged");
    request.range = Some(RangeRequest::From { first: 0 });
    request.part_number = Some(1);
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::InvalidRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_things_and_head() {
    let h = Harness::new().await;
    assert_eq!(
        code(h.engine.get_object(h.get_request("nope"), true).await),
        ErrorCode::NoSuchKey
    );
    let mut request = h.get_request("nope");
    request.bucket = coffer_types::BucketName::parse("no-such-bucket").expect("valid");
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::NoSuchBucket
    );
    h.put("k", b"hello").await;
    let mut request = h.get_request("k");
    request.version_id = Some(coffer_types::VersionId("other".to_owned()));
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::NoSuchVersion
    );
    let head = h
        .engine
        .get_object(h.get_request("k"), false)
        .await
        .expect("head");
    assert!(head.body.is_none());
    assert_eq!(head.version.size_bytes, 5);
    let mut request = h.get_request("k");
    request.part_number = Some(1);
    let (outcome, body) = h.get(request).await.expect("part 1 of a simple object");
    assert_eq!(body, b"hello");
    assert!(outcome.partial);
    let mut request = h.get_request("k");
    request.part_number = Some(2);
    assert_eq!(
        code(h.engine.get_object(request, true).await),
        ErrorCode::InvalidPartNumber
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_conditions_in_aws_order() {
    let h = Harness::new().await;
    let version = h.put("c", b"conditional").await;
    let etag = version.etag.clone();
    let modified_ms = version.last_modified_ms;
    let run = |conditions: ReadConditions| {
        let mut request = h.get_request("c");
        request.conditions = conditions;
        let engine = h.engine.clone();
        async move {
            engine
                .get_object(request, false)
                .await
                .map(|_| ())
                .map_err(|error| error.code)
        }
    };
    let second_later = modified_ms + 1000;
    let second_earlier = modified_ms - 1000;
    let cases: Vec<(ReadConditions, Result<(), ErrorCode>)> = vec![
        (
            ReadConditions {
                if_match: Some(etag.clone()),
                ..Default::default()
            },
            Ok(()),
        ),
        (
            ReadConditions {
                if_match: Some(etag.trim_matches('"').to_owned()),
                ..Default::default()
            },
            Ok(()),
        ),
        (
            ReadConditions {
                if_match: Some("\"other\", *".to_owned()),
                ..Default::default()
            },
            Ok(()),
        ),
        (
            ReadConditions {
                if_match: Some("\"other\"".to_owned()),
                ..Default::default()
            },
            Err(ErrorCode::PreconditionFailed),
        ),
        (
            ReadConditions {
                if_unmodified_since_ms: Some(second_earlier),
                ..Default::default()
            },
            Err(ErrorCode::PreconditionFailed),
        ),
        (
            ReadConditions {
                if_unmodified_since_ms: Some(modified_ms),
                ..Default::default()
            },
            Ok(()),
        ),
        // If-Match true wins over a false If-Unmodified-Since.
        (
            ReadConditions {
                if_match: Some(etag.clone()),
                if_unmodified_since_ms: Some(second_earlier),
                ..Default::default()
            },
            Ok(()),
        ),
        (
            ReadConditions {
                if_none_match: Some(etag.clone()),
                ..Default::default()
            },
            Err(ErrorCode::NotModified),
        ),
        (
            ReadConditions {
                if_none_match: Some("\"other\"".to_owned()),
                ..Default::default()
            },
            Ok(()),
        ),
        (
            ReadConditions {
                if_modified_since_ms: Some(second_later),
                ..Default::default()
            },
            Err(ErrorCode::NotModified),
        ),
        (
            ReadConditions {
                if_modified_since_ms: Some(second_earlier),
                ..Default::default()
            },
            Ok(()),
        ),
        // If-None-Match false (no match) wins over If-Modified-Since.
        (
            ReadConditions {
                if_none_match: Some("\"other\"".to_owned()),
                if_modified_since_ms: Some(second_later),
                ..Default::default()
            },
            Ok(()),
        ),
        // 412 is decided before 304.
        (
            ReadConditions {
                if_match: Some("\"other\"".to_owned()),
                if_none_match: Some(etag.clone()),
                ..Default::default()
            },
            Err(ErrorCode::PreconditionFailed),
        ),
    ];
    for (conditions, expected) in cases {
        let described = format!("{conditions:?}");
        assert_eq!(run(conditions).await, expected, "{described}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_are_verified_and_failures_leave_no_blocks() {
    let h = Harness::new().await;
    let bytes = data(400 * KIB, 3);
    let md5_base64 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&bytes));

    let mut request = h.put_request("md5", Some(bytes.len() as u64));
    request.content_md5_base64 = Some(md5_base64.clone());
    h.engine
        .put_object(request, body_of(&bytes))
        .await
        .expect("matching Content-MD5");
    let files_before = h.block_files();

    let mut request = h.put_request("bad-md5", Some(bytes.len() as u64));
    request.content_md5_base64 =
        Some(base64::engine::general_purpose::STANDARD.encode(Md5::digest(b"other")));
    assert_eq!(
        code(h.engine.put_object(request, body_of(&bytes)).await),
        ErrorCode::BadDigest
    );
    let mut request = h.put_request("bad-md5", Some(bytes.len() as u64));
    request.content_md5_base64 = Some("not-md5".to_owned());
    assert_eq!(
        code(h.engine.put_object(request, body_of(&bytes)).await),
        ErrorCode::InvalidDigest
    );

    let sha256 = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    let mut request = h.put_request("sha", Some(bytes.len() as u64));
    request.checksum = Some(ChecksumRequest {
        algorithm: ChecksumAlgorithm::Sha256,
        expected: ExpectedChecksum::Value(sha256.clone()),
    });
    let version = h
        .engine
        .put_object(request, body_of(&bytes))
        .await
        .expect("matching checksum")
        .version;
    assert_eq!(
        version.checksum.expect("stored checksum").value_base64,
        sha256
    );
    let files_after_good = h.block_files();
    assert!(files_after_good > files_before);

    let crc =
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(b"other").to_be_bytes());
    let mut request = h.put_request("crc", Some(bytes.len() as u64));
    request.checksum = Some(ChecksumRequest {
        algorithm: ChecksumAlgorithm::Crc32,
        expected: ExpectedChecksum::Value(crc),
    });
    let error = h
        .engine
        .put_object(request, body_of(&bytes))
        .await
        .err()
        .expect("bad checksum");
    assert_eq!(error.code, ErrorCode::BadDigest);
    assert!(
        error.message.contains("x-amz-checksum-crc32"),
        "{}",
        error.message
    );

    let mut request = h.put_request("trailer", None);
    request.checksum = Some(ChecksumRequest {
        algorithm: ChecksumAlgorithm::Crc32c,
        expected: ExpectedChecksum::Trailer(Box::new(|| Some("AAAAAA==".to_owned()))),
    });
    assert_eq!(
        code(h.engine.put_object(request, body_of(&bytes)).await),
        ErrorCode::BadDigest
    );

    // Short body, long body, client gone.
    let request = h.put_request("short", Some(bytes.len() as u64 + 1));
    assert_eq!(
        code(h.engine.put_object(request, body_of(&bytes)).await),
        ErrorCode::IncompleteBody
    );
    let request = h.put_request("long", Some(bytes.len() as u64 - 1));
    assert!(matches!(
        code(h.engine.put_object(request, body_of(&bytes)).await),
        ErrorCode::IncompleteBody | ErrorCode::InvalidRequest
    ));
    let request = h.put_request("gone", None);
    assert_eq!(
        code(h.engine.put_object(request, failing_body(&bytes)).await),
        ErrorCode::IncompleteBody
    );
    let request = h.put_request("huge", Some(5 * 1024 * 1024 * 1024 + 1));
    assert_eq!(
        code(h.engine.put_object(request, body_of(b"")).await),
        ErrorCode::EntityTooLarge
    );

    // Every failed write removed its blocks before returning.
    assert_eq!(h.block_files(), files_after_good);
    for key in ["bad-md5", "crc", "trailer", "short", "long", "gone"] {
        assert_eq!(
            code(h.engine.get_object(h.get_request(key), false).await),
            ErrorCode::NoSuchKey,
            "{key}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_preconditions_metadata_and_tags() {
    let h = Harness::new().await;
    let mut request = h.put_request("p", Some(1));
    request.precondition = Some(WritePrecondition::IfNoneMatchAny);
    h.engine
        .put_object(request, body_of(b"1"))
        .await
        .expect("first create");
    let files = h.block_files();
    let mut request = h.put_request("p", Some(1));
    request.precondition = Some(WritePrecondition::IfNoneMatchAny);
    assert_eq!(
        code(h.engine.put_object(request, body_of(b"2")).await),
        ErrorCode::PreconditionFailed
    );
    assert_eq!(h.block_files(), files);
    assert_eq!(h.get_bytes("p").await, b"1");

    let mut request = h.put_request("m", Some(1));
    request.user_metadata = vec![("big".to_owned(), "x".repeat(2048))];
    assert_eq!(
        code(h.engine.put_object(request, body_of(b"1")).await),
        ErrorCode::MetadataTooLarge
    );
    let mut request = h.put_request("m", Some(1));
    request.tags = vec![
        ("a".to_owned(), "1".to_owned()),
        ("a".to_owned(), "2".to_owned()),
    ];
    assert_eq!(
        code(h.engine.put_object(request, body_of(b"1")).await),
        ErrorCode::InvalidTag
    );

    let mut request = h.put_request("t", Some(1));
    request.tags = vec![("a".to_owned(), "1".to_owned())];
    request.user_metadata = vec![("color".to_owned(), "blue".to_owned())];
    h.engine
        .put_object(request, body_of(b"1"))
        .await
        .expect("tagged put");
    let (version, tags) = h
        .engine
        .get_object_tagging(&h.bucket, &key_of("t"), None)
        .await
        .expect("tags");
    assert_eq!(tags, vec![("a".to_owned(), "1".to_owned())]);
    assert_eq!(
        version.user_metadata,
        vec![("color".to_owned(), "blue".to_owned())]
    );
    h.engine
        .put_object_tagging(
            &h.bucket,
            &key_of("t"),
            None,
            vec![("b".to_owned(), "2".to_owned())],
        )
        .await
        .expect("put tags");
    let (_, tags) = h
        .engine
        .get_object_tagging(&h.bucket, &key_of("t"), None)
        .await
        .expect("tags");
    assert_eq!(tags, vec![("b".to_owned(), "2".to_owned())]);
    assert_eq!(
        code(
            h.engine
                .get_object_tagging(&h.bucket, &key_of("none"), None)
                .await
        ),
        ErrorCode::NoSuchKey
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_and_buckets() {
    let h = Harness::new().await;
    h.put("d1", b"one").await;
    h.put("d2", b"two").await;
    let outcome = h
        .engine
        .delete_object(&h.bucket, &key_of("d1"), None)
        .await
        .expect("delete");
    assert!(outcome.version_id.is_none());
    h.engine
        .delete_object(&h.bucket, &key_of("d1"), None)
        .await
        .expect("deleting a missing key succeeds");
    assert_eq!(
        code(h.engine.get_object(h.get_request("d1"), false).await),
        ErrorCode::NoSuchKey
    );
    assert_eq!(
        code(h.engine.delete_bucket(&h.bucket).await),
        ErrorCode::BucketNotEmpty
    );
    let targets = vec![
        coffer_meta::DeleteTarget {
            key: key_of("d2"),
            version_id: None,
        },
        coffer_meta::DeleteTarget {
            key: key_of("never"),
            version_id: None,
        },
    ];
    let results = h
        .engine
        .delete_objects(&h.bucket, targets)
        .await
        .expect("batch");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|result| result.is_ok()));

    // Buckets: us-east-1 re-create is fine, other constraints are refused.
    h.engine
        .create_bucket(
            &h.owner,
            &h.bucket,
            None,
            coffer_meta::BucketAccess::new_bucket_defaults(),
        )
        .await
        .expect("re-create own bucket in us-east-1");
    let other = coffer_types::BucketName::parse("other-bucket").expect("valid");
    assert_eq!(
        code(
            h.engine
                .create_bucket(
                    &h.owner,
                    &other,
                    Some("eu-west-1"),
                    coffer_meta::BucketAccess::new_bucket_defaults()
                )
                .await
        ),
        ErrorCode::InvalidLocationConstraint
    );
    h.engine
        .create_bucket(
            &h.owner,
            &other,
            Some("us-east-1"),
            coffer_meta::BucketAccess::new_bucket_defaults(),
        )
        .await
        .expect("explicit us-east-1");
    let names: Vec<String> = h
        .engine
        .list_buckets(&h.owner)
        .await
        .expect("list")
        .into_iter()
        .map(|b| b.name.to_string())
        .collect();
    assert_eq!(
        names,
        vec!["other-bucket".to_owned(), "test-bucket".to_owned()]
    );
    assert!(h
        .engine
        .list_buckets(&coffer_types::AccountId("000000000000".to_owned()))
        .await
        .expect("list")
        .is_empty());
    h.engine
        .delete_bucket(&h.bucket)
        .await
        .expect("empty bucket deletes");
    assert_eq!(
        code(h.engine.head_bucket(&h.bucket).await),
        ErrorCode::NoSuchBucket
    );
    assert_eq!(
        code(h.engine.delete_bucket(&h.bucket).await),
        ErrorCode::NoSuchBucket
    );

    // Credentials round trip through the wrapped secret.
    let credentials = h
        .engine
        .credentials("AKIATESTROOT")
        .expect("read")
        .expect("exists");
    assert_eq!(credentials.secret_access_key.as_str(), "secret-key");
    assert_eq!(credentials.account.id, h.owner);
    assert!(h.engine.credentials("AKIAUNKNOWN").expect("read").is_none());
    let again = h
        .engine
        .ensure_root_account("AKIATESTROOT", "secret-key")
        .await
        .expect("idempotent");
    assert_eq!(again.id, h.owner);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_upload_removes_its_blocks() {
    let h = Harness::new().await;
    let bytes = data(600 * 1024, 8);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    // The body stalls forever after its chunks, like a client that stopped sending.
    let body: BodyStream = Box::pin(futures::StreamExt::chain(
        futures::stream::iter(chunks),
        futures::stream::pending(),
    ));
    let engine = h.engine.clone();
    let request = h.put_request("cancelled", None);
    let upload = tokio::spawn(async move { engine.put_object(request, body).await.map(|_| ()) });
    h.wait_for("blocks written by the stalled upload", || {
        h.block_files() >= 3
    })
    .await;
    upload.abort();
    assert!(upload.await.expect_err("aborted").is_cancelled());
    h.wait_for("cleanup of the cancelled upload", || h.block_files() == 0)
        .await;
    assert_eq!(
        code(h.engine.get_object(h.get_request("cancelled"), false).await),
        ErrorCode::NoSuchKey
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corruption_truncates_only_reads_that_touch_it() {
    let h = Harness::new().await;
    let bytes = data(300 * 1024, 12);
    let version = h.put("corrupt", &bytes).await;
    // Flip one byte in the second segment of block 1 (object bytes 192..256 KiB).
    let path = h.engine.blocks().block_path(version.parts[0].data_id, 1);
    let mut file = std::fs::read(&path).expect("read block file");
    let offset = 64 * 1024 + 16 + 100;
    file[offset] ^= 0x01;
    std::fs::write(&path, &file).expect("write block file");

    let mut outcome = h
        .engine
        .get_object(h.get_request("corrupt"), true)
        .await
        .expect("get");
    let result = crate::collect(outcome.body.take().expect("body")).await;
    assert_eq!(
        result.expect_err("corruption is detected").kind(),
        std::io::ErrorKind::InvalidData
    );
    // Ranges that avoid the damaged segment still read: segments are opened lazily.
    for (first, last) in [
        (0, 128 * 1024),
        (128 * 1024, 192 * 1024 - 1),
        (256 * 1024, 300 * 1024 - 1),
    ] {
        let mut request = h.get_request("corrupt");
        request.range = Some(RangeRequest::FromTo { first, last });
        let (_, body) = h.get(request).await.expect("undamaged range");
        assert!(
            body == bytes[first as usize..=last as usize],
            "{first}-{last}"
        );
    }
}

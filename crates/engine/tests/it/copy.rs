//! CopyObject semantics.

use coffer_engine::*;
use coffer_meta::ContentHeaders;
use coffer_types::ErrorCode;

use crate::{code, data, key_of, Harness};

fn copy_request(h: &Harness, source: &str, destination: &str) -> CopyObjectRequest {
    CopyObjectRequest {
        source_bucket: h.bucket.clone(),
        source_key: key_of(source),
        source_version_id: None,
        source_conditions: ReadConditions::default(),
        bucket: h.bucket.clone(),
        key: key_of(destination),
        owner: h.owner.clone(),
        metadata: MetadataDirective::Copy,
        tagging: TaggingDirective::Copy,
        checksum_algorithm: None,
        precondition: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_reencrypts_and_keeps_or_replaces_metadata() {
    let h = Harness::new().await;
    let bytes = data(450 * 1024 + 3, 11);
    let mut request = h.put_request("source", Some(bytes.len() as u64));
    request.user_metadata = vec![("origin".to_owned(), "yes".to_owned())];
    request.tags = vec![("t".to_owned(), "1".to_owned())];
    let source = h
        .engine
        .put_object(request, crate::body_of(&bytes))
        .await
        .expect("put")
        .version;

    let copied = h
        .engine
        .copy_object(copy_request(&h, "source", "copy"))
        .await
        .expect("copy");
    assert_eq!(
        copied.version.etag, source.etag,
        "a copy's ETag is the MD5 of the data"
    );
    assert_ne!(copied.version.parts[0].data_id, source.parts[0].data_id);
    assert_ne!(
        copied.version.encryption, source.encryption,
        "fresh data key"
    );
    assert_eq!(copied.version.user_metadata, source.user_metadata);
    assert_eq!(copied.version.tags, source.tags);
    assert!(h.get_bytes("copy").await == bytes);

    // Onto itself without changes: refused; with REPLACE: allowed.
    let error = h
        .engine
        .copy_object(copy_request(&h, "source", "source"))
        .await
        .err()
        .expect("illegal self copy");
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert!(error.message.contains("copy an object to itself"));
    let mut request = copy_request(&h, "source", "source");
    request.metadata = MetadataDirective::Replace {
        headers: ContentHeaders {
            content_type: Some("text/plain".to_owned()),
            ..Default::default()
        },
        user_metadata: vec![("new".to_owned(), "1".to_owned())],
    };
    let replaced = h
        .engine
        .copy_object(request)
        .await
        .expect("self copy with REPLACE");
    assert_eq!(
        replaced.version.headers.content_type.as_deref(),
        Some("text/plain")
    );
    assert_eq!(
        replaced.version.user_metadata,
        vec![("new".to_owned(), "1".to_owned())]
    );
    assert!(h.get_bytes("source").await == bytes);

    // Source conditions fail with 412, never 304.
    let mut request = copy_request(&h, "source", "c2");
    request.source_conditions.if_none_match = Some(replaced.version.etag.clone());
    assert_eq!(
        code(h.engine.copy_object(request).await),
        ErrorCode::PreconditionFailed
    );
    let mut request = copy_request(&h, "source", "c2");
    request.source_conditions.if_match = Some("\"nope\"".to_owned());
    assert_eq!(
        code(h.engine.copy_object(request).await),
        ErrorCode::PreconditionFailed
    );
    let mut request = copy_request(&h, "source", "c2");
    request.source_conditions.if_modified_since_ms =
        Some(replaced.version.last_modified_ms + 10_000);
    assert_eq!(
        code(h.engine.copy_object(request).await),
        ErrorCode::PreconditionFailed
    );

    assert_eq!(
        code(
            h.engine
                .copy_object(copy_request(&h, "missing", "c3"))
                .await
        ),
        ErrorCode::NoSuchKey
    );
    let mut request = copy_request(&h, "source", "c3");
    request.bucket = coffer_types::BucketName::parse("no-such-bucket").expect("valid");
    assert_eq!(
        code(h.engine.copy_object(request).await),
        ErrorCode::NoSuchBucket
    );

    // An empty object copies too.
    h.put("empty", b"").await;
    h.engine
        .copy_object(copy_request(&h, "empty", "empty-copy"))
        .await
        .expect("copy empty");
    assert!(h.get_bytes("empty-copy").await.is_empty());
}

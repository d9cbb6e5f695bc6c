//! PutObject / GetObject / HeadObject / DeleteObject: bodies, metadata and
//! content headers, SSE response headers, response-* overrides.

use std::collections::HashMap;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::ServerSideEncryption;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{assert_s3_error, error_status, md5_hex, random_bytes, unique_bucket, Server};

#[tokio::test(flavor = "multi_thread")]
async fn put_get_head_delete_round_trip() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("obj");
    create_bucket(&client, &bucket).await?;

    // Sizes around the 64 KiB segment and a multi-segment body.
    for size in [0usize, 1, 65_535, 65_536, 65_537, 1_000_003] {
        let key = format!("size-{size}");
        let body = random_bytes(size);
        let put = put_bytes(&client, &bucket, &key, &body).await?;
        assert_eq!(
            put.e_tag(),
            Some(format!("\"{}\"", md5_hex(&body)).as_str())
        );
        assert_eq!(
            put.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        let got = client.get_object().bucket(&bucket).key(&key).send().await?;
        assert_eq!(got.content_length(), Some(size as i64));
        assert_eq!(got.e_tag(), put.e_tag());
        assert_eq!(
            got.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        assert!(got.last_modified().is_some());
        let bytes = got.body.collect().await?.into_bytes();
        assert!(bytes.as_ref() == body.as_slice(), "body of {key} differs");
        let head = client
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await?;
        assert_eq!(head.content_length(), Some(size as i64));
        assert_eq!(head.e_tag(), put.e_tag());
        assert_eq!(
            head.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
    }

    // Overwrite replaces the body.
    put_bytes(&client, &bucket, "size-1", b"new").await?;
    assert_eq!(get_bytes(&client, &bucket, "size-1").await?, b"new");

    client
        .delete_object()
        .bucket(&bucket)
        .key("size-1")
        .send()
        .await?;
    assert_s3_error(
        client
            .get_object()
            .bucket(&bucket)
            .key("size-1")
            .send()
            .await,
        404,
        Some("NoSuchKey"),
    );
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("size-1")
        .send()
        .await;
    assert_eq!(head.as_ref().err().and_then(error_status), Some(404));
    // Deleting a missing key is a success (204).
    client
        .delete_object()
        .bucket(&bucket)
        .key("never-was")
        .send()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_and_content_headers_round_trip() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("meta");
    create_bucket(&client, &bucket).await?;

    let expires = DateTime::from_secs(4_102_444_800); // 2100-01-01
    client
        .put_object()
        .bucket(&bucket)
        .key("doc")
        .body(ByteStream::from_static(b"hello"))
        .content_type("text/x-coffer")
        .content_encoding("gzip")
        .content_disposition("attachment; filename=\"a.txt\"")
        .content_language("de-CH")
        .cache_control("max-age=60")
        .expires(expires)
        .metadata("color", "blue")
        .metadata("multi-word", "a value with spaces")
        .send()
        .await?;
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("doc")
        .send()
        .await?;
    let wanted: HashMap<String, String> = [
        ("color".to_owned(), "blue".to_owned()),
        ("multi-word".to_owned(), "a value with spaces".to_owned()),
    ]
    .into();
    assert_eq!(head.metadata(), Some(&wanted));
    assert_eq!(head.content_type(), Some("text/x-coffer"));
    assert_eq!(head.content_encoding(), Some("gzip"));
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"a.txt\"")
    );
    assert_eq!(head.content_language(), Some("de-CH"));
    assert_eq!(head.cache_control(), Some("max-age=60"));
    assert_eq!(head.expires_string(), Some("Fri, 01 Jan 2100 00:00:00 GMT"));
    let got = client
        .get_object()
        .bucket(&bucket)
        .key("doc")
        .send()
        .await?;
    assert_eq!(got.metadata(), Some(&wanted));
    assert_eq!(got.content_type(), Some("text/x-coffer"));
    assert_eq!(got.cache_control(), Some("max-age=60"));

    // Response overrides on a signed GET.
    let overridden = client
        .get_object()
        .bucket(&bucket)
        .key("doc")
        .response_content_type("application/x-override")
        .response_content_disposition("inline")
        .response_content_language("fr")
        .response_cache_control("no-cache")
        .response_content_encoding("identity")
        .response_expires(DateTime::from_secs(0))
        .send()
        .await?;
    assert_eq!(overridden.content_type(), Some("application/x-override"));
    assert_eq!(overridden.content_disposition(), Some("inline"));
    assert_eq!(overridden.content_language(), Some("fr"));
    assert_eq!(overridden.cache_control(), Some("no-cache"));
    assert_eq!(overridden.content_encoding(), Some("identity"));
    assert_eq!(
        overridden.expires_string(),
        Some("Thu, 01 Jan 1970 00:00:00 GMT")
    );

    // Just under 2 KB of user metadata is accepted, above is refused.
    let near_limit = "v".repeat(1_900);
    client
        .put_object()
        .bucket(&bucket)
        .key("near")
        .body(ByteStream::from_static(b"x"))
        .metadata("k", &near_limit)
        .send()
        .await?;
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key("too-much")
            .body(ByteStream::from_static(b"x"))
            .metadata("k", "v".repeat(2_100))
            .send()
            .await,
        400,
        Some("MetadataTooLarge"),
    );
    let missing = client
        .head_object()
        .bucket(&bucket)
        .key("too-much")
        .send()
        .await;
    assert_eq!(missing.as_ref().err().and_then(error_status), Some(404));
    Ok(())
}

//! Conditional PutObject, CopyObject, DeleteObjects.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{Delete, MetadataDirective, ObjectIdentifier};
use coffer_e2e::ops::{create_bucket, get_bytes, list_all_keys, put_bytes};
use coffer_e2e::{assert_s3_error, error_code, error_status, unique_bucket, Server};

#[tokio::test(flavor = "multi_thread")]
async fn conditional_put() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("cput");
    create_bucket(&client, &bucket).await?;

    let first = client
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"one"))
        .send()
        .await?;
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key("k")
            .if_none_match("*")
            .body(ByteStream::from_static(b"two"))
            .send()
            .await,
        412,
        Some("PreconditionFailed"),
    );
    assert_s3_error(
        client
            .put_object()
            .bucket(&bucket)
            .key("k")
            .if_match("\"00000000000000000000000000000000\"")
            .body(ByteStream::from_static(b"three"))
            .send()
            .await,
        412,
        Some("PreconditionFailed"),
    );
    assert_eq!(get_bytes(&client, &bucket, "k").await?, b"one");
    client
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_match(first.e_tag().expect("ETag"))
        .body(ByteStream::from_static(b"four"))
        .send()
        .await?;
    assert_eq!(get_bytes(&client, &bucket, "k").await?, b"four");

    // Racing creators: exactly one wins.
    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for writer in 0..16u8 {
        let client = Arc::clone(&client);
        let bucket = bucket.clone();
        tasks.push(tokio::spawn(async move {
            client
                .put_object()
                .bucket(&bucket)
                .key("race")
                .if_none_match("*")
                .body(ByteStream::from(vec![writer; 1000]))
                .send()
                .await
        }));
    }
    let mut winners = Vec::new();
    for (writer, task) in tasks.into_iter().enumerate() {
        match task.await? {
            Ok(_) => winners.push(writer as u8),
            Err(error) => {
                let status = error_status(&error);
                assert!(
                    status == Some(412) || status == Some(409),
                    "writer {writer}: {status:?} {:?}",
                    error_code(&error)
                );
            }
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        get_bytes(&client, &bucket, "race").await?,
        vec![winners[0]; 1000]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_object() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("copy");
    let other = unique_bucket("copy-dst");
    create_bucket(&client, &bucket).await?;
    create_bucket(&client, &other).await?;
    let body = coffer_e2e::random_bytes(300_000);
    let put = client
        .put_object()
        .bucket(&bucket)
        .key("src")
        .body(ByteStream::from(body.clone()))
        .content_type("text/source")
        .metadata("origin", "src")
        .send()
        .await?;
    let etag = put.e_tag().expect("ETag").to_owned();
    let source = format!("{bucket}/src");

    // COPY (default) keeps metadata and content type.
    let copied = client
        .copy_object()
        .bucket(&other)
        .key("dst")
        .copy_source(&source)
        .send()
        .await?;
    let result = copied.copy_object_result().expect("CopyObjectResult");
    assert_eq!(result.e_tag(), Some(etag.as_str()));
    assert!(result.last_modified().is_some());
    let head = client
        .head_object()
        .bucket(&other)
        .key("dst")
        .send()
        .await?;
    assert_eq!(head.content_type(), Some("text/source"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("src")
    );
    assert_eq!(get_bytes(&client, &other, "dst").await?, body);

    // REPLACE takes the request's metadata.
    client
        .copy_object()
        .bucket(&other)
        .key("replaced")
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/replaced")
        .metadata("origin", "replaced")
        .send()
        .await?;
    let head = client
        .head_object()
        .bucket(&other)
        .key("replaced")
        .send()
        .await?;
    assert_eq!(head.content_type(), Some("text/replaced"));
    let wanted: HashMap<String, String> = [("origin".to_owned(), "replaced".to_owned())].into();
    assert_eq!(head.metadata(), Some(&wanted));

    // Source conditions.
    let copy = || {
        client
            .copy_object()
            .bucket(&other)
            .key("cond")
            .copy_source(&source)
    };
    copy().copy_source_if_match(&etag).send().await?;
    assert_s3_error(
        copy().copy_source_if_match("\"0000\"").send().await,
        412,
        Some("PreconditionFailed"),
    );
    assert_s3_error(
        copy().copy_source_if_none_match(&etag).send().await,
        412,
        Some("PreconditionFailed"),
    );
    let modified = head_secs(&client, &bucket, "src").await?;
    assert_s3_error(
        copy()
            .copy_source_if_unmodified_since(DateTime::from_secs(modified - 86_400))
            .send()
            .await,
        412,
        Some("PreconditionFailed"),
    );
    assert_s3_error(
        copy()
            .copy_source_if_modified_since(DateTime::from_secs(modified + 86_400))
            .send()
            .await,
        412,
        Some("PreconditionFailed"),
    );
    copy()
        .copy_source_if_modified_since(DateTime::from_secs(modified - 86_400))
        .send()
        .await?;

    // Onto itself: only with REPLACE.
    assert_s3_error(
        client
            .copy_object()
            .bucket(&bucket)
            .key("src")
            .copy_source(&source)
            .send()
            .await,
        400,
        Some("InvalidRequest"),
    );
    client
        .copy_object()
        .bucket(&bucket)
        .key("src")
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .metadata("origin", "self")
        .send()
        .await?;
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("src")
        .send()
        .await?;
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("self")
    );
    assert_eq!(get_bytes(&client, &bucket, "src").await?, body);

    assert_s3_error(
        client
            .copy_object()
            .bucket(&other)
            .key("x")
            .copy_source(format!("{bucket}/missing"))
            .send()
            .await,
        404,
        Some("NoSuchKey"),
    );
    Ok(())
}

async fn head_secs(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<i64> {
    let head = client.head_object().bucket(bucket).key(key).send().await?;
    Ok(head.last_modified().expect("Last-Modified").secs())
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("delete");
    create_bucket(&client, &bucket).await?;
    for index in 0..5 {
        put_bytes(&client, &bucket, &format!("k{index}"), b"x").await?;
    }
    let identifiers = |keys: &[&str]| -> anyhow::Result<Delete> {
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(*key).build())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Delete::builder().set_objects(Some(objects)).build()?)
    };
    // Verbose: every key (present or not) is reported deleted.
    let verbose = client
        .delete_objects()
        .bucket(&bucket)
        .delete(identifiers(&["k0", "k1", "absent"])?)
        .send()
        .await?;
    let mut deleted: Vec<&str> = verbose.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["absent", "k0", "k1"]);
    assert!(verbose.errors().is_empty());

    // Quiet: successes are not reported.
    let mut quiet = identifiers(&["k2", "k3"])?;
    quiet.quiet = Some(true);
    let quiet = client
        .delete_objects()
        .bucket(&bucket)
        .delete(quiet)
        .send()
        .await?;
    assert!(quiet.deleted().is_empty(), "{:?}", quiet.deleted());
    assert!(quiet.errors().is_empty());
    assert_eq!(list_all_keys(&client, &bucket, 1000).await?, ["k4"]);

    // 1000 keys are fine, 1001 are MalformedXML.
    let thousand: Vec<String> = (0..1000).map(|i| format!("bulk-{i}")).collect();
    let refs: Vec<&str> = thousand.iter().map(String::as_str).collect();
    client
        .delete_objects()
        .bucket(&bucket)
        .delete(identifiers(&refs)?)
        .send()
        .await?;
    let mut too_many = thousand.clone();
    too_many.push("one-more".into());
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_s3_error(
        client
            .delete_objects()
            .bucket(&bucket)
            .delete(identifiers(&refs)?)
            .send()
            .await,
        400,
        Some("MalformedXML"),
    );
    Ok(())
}

//! GetObject ranges, partNumber and conditional requests (304 / 412).

use aws_sdk_s3::primitives::DateTime;
use coffer_e2e::ops::{create_bucket, put_bytes};
use coffer_e2e::{assert_s3_error, error_status, random_bytes, unique_bucket, Server};

async fn get_range(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    range: &str,
) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let output = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(range)
        .send()
        .await?;
    let content_range = output.content_range().map(str::to_owned);
    let bytes = output.body.collect().await?.into_bytes().to_vec();
    Ok((bytes, content_range))
}

#[tokio::test(flavor = "multi_thread")]
async fn ranges() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("range");
    create_bucket(&client, &bucket).await?;
    // Crosses 64 KiB segment boundaries.
    let size = 200_000usize;
    let body = random_bytes(size);
    put_bytes(&client, &bucket, "r", &body).await?;

    let cases: [(&str, usize, usize); 6] = [
        ("bytes=0-9", 0, 9),
        ("bytes=65530-65545", 65_530, 65_545),
        ("bytes=199990-", 199_990, size - 1),
        ("bytes=-10", size - 10, size - 1),
        // The last position clamps to the object's end.
        ("bytes=199000-300000", 199_000, size - 1),
        // A suffix longer than the object is the whole object.
        ("bytes=-300000", 0, size - 1),
    ];
    for (range, first, last) in cases {
        let (bytes, content_range) = get_range(&client, &bucket, "r", range).await?;
        assert!(bytes == body[first..=last], "{range}: wrong bytes");
        assert_eq!(
            content_range.as_deref(),
            Some(format!("bytes {first}-{last}/{size}").as_str()),
            "{range}"
        );
    }
    assert_s3_error(
        client
            .get_object()
            .bucket(&bucket)
            .key("r")
            .range("bytes=200000-")
            .send()
            .await,
        416,
        Some("InvalidRange"),
    );
    put_bytes(&client, &bucket, "empty", b"").await?;
    assert_s3_error(
        client
            .get_object()
            .bucket(&bucket)
            .key("empty")
            .range("bytes=0-0")
            .send()
            .await,
        416,
        Some("InvalidRange"),
    );

    // partNumber=1 of a single-part object is the whole object.
    let part = client
        .get_object()
        .bucket(&bucket)
        .key("r")
        .part_number(1)
        .send()
        .await?;
    assert_eq!(part.content_length(), Some(size as i64));
    assert!(part.body.collect().await?.into_bytes().as_ref() == body.as_slice());
    let beyond = client
        .get_object()
        .bucket(&bucket)
        .key("r")
        .part_number(2)
        .send()
        .await;
    assert_eq!(
        beyond.as_ref().err().and_then(error_status),
        Some(416),
        "{beyond:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_reads() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("cond");
    create_bucket(&client, &bucket).await?;
    let put = put_bytes(&client, &bucket, "c", b"conditional").await?;
    let etag = put.e_tag().expect("ETag").to_owned();
    let head = client.head_object().bucket(&bucket).key("c").send().await?;
    let modified_secs = head.last_modified().expect("Last-Modified").secs();
    let before = DateTime::from_secs(modified_secs - 86_400);
    let at = DateTime::from_secs(modified_secs);

    let get = || client.get_object().bucket(&bucket).key("c");
    // If-Match
    get().if_match(&etag).send().await?;
    get().if_match("*").send().await?;
    assert_s3_error(
        get().if_match("\"0000\"").send().await,
        412,
        Some("PreconditionFailed"),
    );
    // If-None-Match
    let not_modified = get().if_none_match(&etag).send().await;
    assert_eq!(
        not_modified.as_ref().err().and_then(error_status),
        Some(304)
    );
    get().if_none_match("\"0000\"").send().await?;
    // If-Modified-Since
    let not_modified = get().if_modified_since(at).send().await;
    assert_eq!(
        not_modified.as_ref().err().and_then(error_status),
        Some(304)
    );
    get().if_modified_since(before).send().await?;
    // If-Unmodified-Since
    get().if_unmodified_since(at).send().await?;
    assert_s3_error(
        get().if_unmodified_since(before).send().await,
        412,
        Some("PreconditionFailed"),
    );
    // AWS precedence: If-Match true + If-Unmodified-Since false → 200.
    get()
        .if_match(&etag)
        .if_unmodified_since(before)
        .send()
        .await?;
    // If-None-Match false + If-Modified-Since true → 304.
    let not_modified = get()
        .if_none_match(&etag)
        .if_modified_since(before)
        .send()
        .await;
    assert_eq!(
        not_modified.as_ref().err().and_then(error_status),
        Some(304)
    );

    // HEAD follows the same rules (no body, so status only).
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("c")
        .if_match("\"0000\"")
        .send()
        .await;
    assert_eq!(head.as_ref().err().and_then(error_status), Some(412));
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("c")
        .if_none_match(&etag)
        .send()
        .await;
    assert_eq!(head.as_ref().err().and_then(error_status), Some(304));
    Ok(())
}

//! Multipart uploads: create, upload part (and part copy with a range),
//! complete (ETag, InvalidPart, InvalidPartOrder, EntityTooSmall), abort,
//! ListParts, ListMultipartUploads paging, GET by partNumber.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use coffer_e2e::ops::{create_bucket, get_bytes, put_bytes};
use coffer_e2e::{assert_s3_error, md5_hex, multipart_etag, random_bytes, unique_bucket, Server};

const MIB: usize = 1024 * 1024;

async fn upload_part(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    number: i32,
    body: &[u8],
) -> anyhow::Result<String> {
    let output = client
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .part_number(number)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await?;
    let etag = output.e_tag().expect("part ETag").to_owned();
    assert_eq!(etag, format!("\"{}\"", md5_hex(body)));
    Ok(etag)
}

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(number, etag)| {
                    CompletedPart::builder()
                        .part_number(*number)
                        .e_tag(*etag)
                        .build()
                })
                .collect(),
        ))
        .build()
}

async fn create_upload(client: &Client, bucket: &str, key: &str) -> anyhow::Result<String> {
    let created = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await?;
    Ok(created.upload_id().expect("UploadId").to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_upload_with_part_copy() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("mpu");
    create_bucket(&client, &bucket).await?;
    let source = random_bytes(6 * MIB);
    put_bytes(&client, &bucket, "source", &source).await?;

    let upload_id = create_upload(&client, &bucket, "big").await?;
    let part1 = random_bytes(5 * MIB);
    let etag1 = upload_part(&client, &bucket, "big", &upload_id, 1, &part1).await?;
    // Part 2 copies bytes [100, 100 + 5 MiB) of another object.
    let copy_range = 100..100 + 5 * MIB;
    let copied = client
        .upload_part_copy()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .part_number(2)
        .copy_source(format!("{bucket}/source"))
        .copy_source_range(format!("bytes={}-{}", copy_range.start, copy_range.end - 1))
        .send()
        .await?;
    let part2 = &source[copy_range];
    let etag2 = copied
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("CopyPartResult ETag")
        .to_owned();
    assert_eq!(etag2, format!("\"{}\"", md5_hex(part2)));
    let part3 = random_bytes(1);
    let etag3 = upload_part(&client, &bucket, "big", &upload_id, 3, &part3).await?;

    // ListParts, paged one at a time.
    let mut listed = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let page = client
            .list_parts()
            .bucket(&bucket)
            .key("big")
            .upload_id(&upload_id)
            .max_parts(1)
            .set_part_number_marker(marker.clone())
            .send()
            .await?;
        for part in page.parts() {
            listed.push((
                part.part_number(),
                part.e_tag().map(str::to_owned),
                part.size(),
            ));
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        marker = page.next_part_number_marker().map(str::to_owned);
    }
    assert_eq!(
        listed,
        vec![
            (Some(1), Some(etag1.clone()), Some(5 * MIB as i64)),
            (Some(2), Some(etag2.clone()), Some(5 * MIB as i64)),
            (Some(3), Some(etag3.clone()), Some(1)),
        ]
    );

    let complete = client
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("big")
        .upload_id(&upload_id)
        .multipart_upload(completed(&[(1, &etag1), (2, &etag2), (3, &etag3)]))
        .send()
        .await?;
    let expected_etag = multipart_etag(&[&part1, part2, &part3]);
    assert_eq!(complete.e_tag(), Some(expected_etag.as_str()));
    let mut whole = part1.clone();
    whole.extend_from_slice(part2);
    whole.extend_from_slice(&part3);
    assert!(get_bytes(&client, &bucket, "big").await? == whole);
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("big")
        .send()
        .await?;
    assert_eq!(head.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(head.content_length(), Some(whole.len() as i64));

    // GET ?partNumber selects one part and reports the part count.
    let second = client
        .get_object()
        .bucket(&bucket)
        .key("big")
        .part_number(2)
        .send()
        .await?;
    assert_eq!(second.parts_count(), Some(3));
    assert_eq!(second.content_length(), Some(5 * MIB as i64));
    assert_eq!(
        second.content_range(),
        Some(format!("bytes {}-{}/{}", 5 * MIB, 10 * MIB - 1, whole.len()).as_str())
    );
    assert!(second.body.collect().await?.into_bytes().as_ref() == part2);

    // The upload is gone once completed.
    assert_s3_error(
        client
            .list_parts()
            .bucket(&bucket)
            .key("big")
            .upload_id(&upload_id)
            .send()
            .await,
        404,
        Some("NoSuchUpload"),
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_errors() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("mpu-err");
    create_bucket(&client, &bucket).await?;

    let upload_id = create_upload(&client, &bucket, "k").await?;
    let small = random_bytes(1024);
    let etag1 = upload_part(&client, &bucket, "k", &upload_id, 1, &small).await?;
    let etag2 = upload_part(&client, &bucket, "k", &upload_id, 2, &small).await?;
    let complete = |parts: CompletedMultipartUpload| {
        client
            .complete_multipart_upload()
            .bucket(&bucket)
            .key("k")
            .upload_id(&upload_id)
            .multipart_upload(parts)
            .send()
    };
    assert_s3_error(
        complete(completed(&[(1, "\"00000000000000000000000000000000\"")])).await,
        400,
        Some("InvalidPart"),
    );
    assert_s3_error(
        complete(completed(&[(1, &etag1), (5, &etag2)])).await,
        400,
        Some("InvalidPart"),
    );
    assert_s3_error(
        complete(completed(&[(2, &etag2), (1, &etag1)])).await,
        400,
        Some("InvalidPartOrder"),
    );
    // Part 1 is below 5 MiB and not the last.
    assert_s3_error(
        complete(completed(&[(1, &etag1), (2, &etag2)])).await,
        400,
        Some("EntityTooSmall"),
    );
    // A failed completion leaves the upload usable: a single small part is fine.
    client
        .complete_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(&upload_id)
        .multipart_upload(completed(&[(1, &etag1)]))
        .send()
        .await?;
    assert_eq!(get_bytes(&client, &bucket, "k").await?, small);

    // Part numbers are 1..=10000.
    let upload_id = create_upload(&client, &bucket, "numbers").await?;
    for bad in [0, 10_001] {
        assert_s3_error(
            client
                .upload_part()
                .bucket(&bucket)
                .key("numbers")
                .upload_id(&upload_id)
                .part_number(bad)
                .body(ByteStream::from_static(b"x"))
                .send()
                .await,
            400,
            Some("InvalidArgument"),
        );
    }
    upload_part(&client, &bucket, "numbers", &upload_id, 10_000, b"last").await?;

    // Abort → NoSuchUpload for everything afterwards.
    client
        .abort_multipart_upload()
        .bucket(&bucket)
        .key("numbers")
        .upload_id(&upload_id)
        .send()
        .await?;
    assert_s3_error(
        client
            .list_parts()
            .bucket(&bucket)
            .key("numbers")
            .upload_id(&upload_id)
            .send()
            .await,
        404,
        Some("NoSuchUpload"),
    );
    assert_s3_error(
        client
            .upload_part()
            .bucket(&bucket)
            .key("numbers")
            .upload_id(&upload_id)
            .part_number(1)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        404,
        Some("NoSuchUpload"),
    );
    assert_s3_error(
        client
            .abort_multipart_upload()
            .bucket(&bucket)
            .key("numbers")
            .upload_id(&upload_id)
            .send()
            .await,
        404,
        Some("NoSuchUpload"),
    );
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("numbers")
        .send()
        .await;
    assert!(head.is_err(), "aborted upload created an object");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn list_multipart_uploads_paging() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = server.client();
    let bucket = unique_bucket("mpu-list");
    create_bucket(&client, &bucket).await?;
    // Created in this order; S3 lists by key, then by initiation time.
    let mut expected = Vec::new();
    for key in ["k2", "k1", "k2", "k1", "dir/k3"] {
        let upload_id = create_upload(&client, &bucket, key).await?;
        expected.push((key.to_owned(), upload_id));
    }
    // Stable sort keeps creation order within a key.
    expected.sort_by(|a, b| a.0.cmp(&b.0));

    let mut listed = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut upload_id_marker: Option<String> = None;
    for _ in 0..20 {
        let page = client
            .list_multipart_uploads()
            .bucket(&bucket)
            .max_uploads(2)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(upload_id_marker.clone())
            .send()
            .await?;
        assert!(page.uploads().len() <= 2);
        for upload in page.uploads() {
            listed.push((
                upload.key().unwrap_or_default().to_owned(),
                upload.upload_id().unwrap_or_default().to_owned(),
            ));
            assert!(upload.initiated().is_some());
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        upload_id_marker = page.next_upload_id_marker().map(str::to_owned);
    }
    assert_eq!(listed, expected);

    // Prefix and delimiter.
    let page = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await?;
    let prefixes: Vec<&str> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["dir/"]);
    assert_eq!(page.uploads().len(), 4);
    let page = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .prefix("k1")
        .send()
        .await?;
    assert_eq!(page.uploads().len(), 2);
    Ok(())
}

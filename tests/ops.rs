//! Short forms of common SDK calls, so tests read as the behaviour they
//! check.

use anyhow::{Context, Result};
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

pub async fn create_bucket(client: &Client, bucket: &str) -> Result<()> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("create bucket {bucket}"))?;
    Ok(())
}

pub async fn put_bytes(
    client: &Client,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<PutObjectOutput> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .with_context(|| format!("put {bucket}/{key:?}"))
}

pub async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let output = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("get {bucket}/{key:?}"))?;
    let body = output.body.collect().await.context("read body")?;
    Ok(body.into_bytes().to_vec())
}

/// Every key of a bucket, via ListObjectsV2 pages of `page_size`.
pub async fn list_all_keys(client: &Client, bucket: &str, page_size: i32) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    // Bounded: a test bucket never holds more than this many pages.
    for _ in 0..10_000 {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(page_size)
            .set_continuation_token(token.clone())
            .send()
            .await?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key().map(str::to_owned)),
        );
        if page.is_truncated() == Some(true) {
            token = Some(
                page.next_continuation_token()
                    .context("truncated page without token")?
                    .to_owned(),
            );
        } else {
            return Ok(keys);
        }
    }
    anyhow::bail!("listing did not end")
}

/// Files under `dir` (recursively), as paths relative to it.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                files.push(relative.to_path_buf());
            }
        }
    }
    files
}

/// Block files of a data directory: every file under `blocks/` except the
/// server's scratch directory `blocks/tmp`.
pub fn block_files(blocks_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    files_under(blocks_dir)
        .into_iter()
        .filter(|path| !path.starts_with("tmp"))
        .collect()
}

/// A whole multipart upload: create, upload `parts` in order as part
/// numbers 1.., complete with the ETags the server returned.
pub async fn multipart_put(
    client: &Client,
    bucket: &str,
    key: &str,
    parts: &[&[u8]],
) -> Result<aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput> {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let upload = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("create multipart upload {bucket}/{key}"))?;
    let upload_id = upload.upload_id().context("no UploadId")?.to_owned();
    let mut completed = Vec::with_capacity(parts.len());
    for (index, body) in parts.iter().enumerate() {
        let number = index as i32 + 1;
        let output = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .with_context(|| format!("upload part {number} of {bucket}/{key}"))?;
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(output.e_tag().context("part without ETag")?)
                .build(),
        );
    }
    let output = client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("complete multipart upload {bucket}/{key}"))?;
    Ok(output)
}

//! The benchmark's own bucket: created before a run, emptied and removed
//! after it.

use anyhow::{bail, Context as _, Result};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use futures::{StreamExt as _, TryStreamExt as _};
use indicatif::{ProgressBar, ProgressDrawTarget};

use crate::workloads::describe;

/// Deletes in flight while emptying a bucket whose store has no
/// DeleteObjects.
const SINGLE_DELETES_IN_FLIGHT: usize = 16;

/// Create `bucket`; one we already own is fine (`--bucket` reuse).
pub async fn create(client: &Client, bucket: &str) -> Result<()> {
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(error) if error.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(error) => {
            // Some stores answer BucketAlreadyExists even to the owner; a
            // bucket we can read is one we can use.
            if client.head_bucket().bucket(bucket).send().await.is_ok() {
                return Ok(());
            }
            bail!("creating bucket {bucket}: {}", describe(error))
        }
    }
}

/// Abort every multipart upload, delete every object, delete the bucket.
pub async fn remove(client: &Client, bucket: &str, progress: bool) -> Result<()> {
    let bar = if progress {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_message(format!("removing {bucket}"));
    abort_uploads(client, bucket).await?;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .map_err(|error| anyhow::anyhow!(describe(error)))
            .context("listing objects to delete")?;
        let keys: Vec<String> = page
            .contents()
            .iter()
            .filter_map(|object| object.key().map(str::to_owned))
            .collect();
        if keys.is_empty() {
            break;
        }
        delete_keys(client, bucket, &keys).await?;
        bar.inc(keys.len() as u64);
    }
    bar.finish_and_clear();
    client
        .delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|error| anyhow::anyhow!(describe(error)))
        .context("deleting the bucket")?;
    Ok(())
}

async fn abort_uploads(client: &Client, bucket: &str) -> Result<()> {
    loop {
        let Ok(page) = client.list_multipart_uploads().bucket(bucket).send().await else {
            // A store without ListMultipartUploads has nothing we could abort.
            return Ok(());
        };
        if page.uploads().is_empty() {
            return Ok(());
        }
        for upload in page.uploads() {
            let (Some(key), Some(upload_id)) = (upload.key(), upload.upload_id()) else {
                continue;
            };
            client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await
                .map_err(|error| anyhow::anyhow!(describe(error)))
                .context("aborting a multipart upload")?;
        }
    }
}

/// DeleteObjects for up to 1000 keys; one DeleteObject each where the store
/// does not implement it.
async fn delete_keys(client: &Client, bucket: &str, keys: &[String]) -> Result<()> {
    let objects = keys
        .iter()
        .map(|key| ObjectIdentifier::builder().key(key).build())
        .collect::<Result<Vec<_>, _>>()?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(true)
        .build()?;
    match client
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
    {
        Ok(output) if output.errors().is_empty() => return Ok(()),
        Ok(output) => bail!("DeleteObjects failed for some keys: {:?}", output.errors()),
        Err(error) if error.code() == Some("NotImplemented") || error.code().is_none() => {}
        Err(error) => bail!("DeleteObjects: {}", describe(error)),
    }
    futures::stream::iter(keys)
        .map(|key| async move {
            client
                .delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|error| anyhow::anyhow!("deleting {key}: {}", describe(error)))
        })
        .buffer_unordered(SINGLE_DELETES_IN_FLIGHT)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

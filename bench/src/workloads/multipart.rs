//! `multipart`: whole multipart uploads of generated content, with a
//! bounded number of parts in flight within each upload.

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::future::BoxFuture;
use futures::{StreamExt as _, TryStreamExt as _};

use super::describe;
use crate::content::GeneratedBody;
use crate::workload::{Context, Tally, Workload};

pub(crate) fn multipart(context: Arc<Context>, _worker: usize) -> BoxFuture<'static, Tally> {
    Box::pin(async move {
        let mut tally = Tally::default();
        while let Some(ticket) = context.tickets.take() {
            let key_index = context.write_key_index(ticket);
            let started = Instant::now();
            let mut upload_id = None;
            let upload = upload(&context, key_index, &mut tally, &mut upload_id);
            let outcome = context.stop.run_until_cancelled(upload).await;
            match outcome {
                None => {
                    abort(&context, key_index, upload_id).await;
                    break;
                }
                Some(Ok(bytes)) => tally.op("upload").record_ok(started.elapsed(), bytes),
                Some(Err(message)) => {
                    abort(&context, key_index, upload_id).await;
                    tally.error("upload", message);
                }
            }
            context.finished_one();
        }
        tally
    })
}

/// Create, upload every part, complete; returns the object's size.
async fn upload(
    context: &Context,
    key_index: u64,
    tally: &mut Tally,
    upload_id_out: &mut Option<String>,
) -> Result<u64, String> {
    let Workload::Multipart {
        parts,
        part_size_bytes,
        parts_in_flight,
    } = context.workload
    else {
        unreachable!("the driver runs `multipart` only for Workload::Multipart");
    };
    let key = context.key(key_index);
    let object_seed = context.object_seed(key_index);
    let created = context
        .client
        .create_multipart_upload()
        .bucket(&context.bucket)
        .key(&key)
        .send()
        .await
        .map_err(describe)?;
    let upload_id = created
        .upload_id()
        .ok_or("CreateMultipartUpload returned no UploadId")?
        .to_owned();
    *upload_id_out = Some(upload_id.clone());

    let part_results: Vec<(i32, String, std::time::Duration)> =
        futures::stream::iter(1..=parts as i32)
            .map(|part_number| {
                let (key, upload_id) = (&key, &upload_id);
                async move {
                    let offset = (part_number as u64 - 1) * part_size_bytes;
                    let body = GeneratedBody::new(object_seed, offset, part_size_bytes);
                    let started = Instant::now();
                    let output = context
                        .client
                        .upload_part()
                        .bucket(&context.bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(part_number)
                        .content_length(part_size_bytes as i64)
                        .body(ByteStream::from_body_1_x(body))
                        .send()
                        .await
                        .map_err(describe)?;
                    let etag = output
                        .e_tag()
                        .ok_or_else(|| format!("part {part_number}: no ETag"))?
                        .to_owned();
                    Ok::<_, String>((part_number, etag, started.elapsed()))
                }
            })
            .buffer_unordered(parts_in_flight)
            .inspect_ok(|(_, _, latency)| tally.op("part").record_ok(*latency, part_size_bytes))
            .try_collect()
            .await?;

    let mut completed: Vec<CompletedPart> = part_results
        .into_iter()
        .map(|(part_number, etag, _)| {
            CompletedPart::builder()
                .part_number(part_number)
                .e_tag(etag)
                .build()
        })
        .collect();
    completed.sort_by_key(|part| part.part_number());
    let output = context
        .client
        .complete_multipart_upload()
        .bucket(&context.bucket)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .map_err(describe)?;
    // A multipart ETag ends in `-<part count>`; anything else means the
    // store did not assemble what was uploaded.
    let suffix = format!("-{parts}\"");
    match output.e_tag() {
        Some(etag) if etag.ends_with(&suffix) => Ok(parts as u64 * part_size_bytes),
        other => Err(format!("{key}: completed with ETag {other:?}")),
    }
}

/// Best effort: the bucket clean-up aborts whatever is left.
async fn abort(context: &Context, key_index: u64, upload_id: Option<String>) {
    if let Some(upload_id) = upload_id {
        let _ = context
            .client
            .abort_multipart_upload()
            .bucket(&context.bucket)
            .key(context.key(key_index))
            .upload_id(upload_id)
            .send()
            .await;
    }
}

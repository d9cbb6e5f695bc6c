//! Single-object operations on generated content, shared by the workloads.

use std::time::{Duration, Instant};

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;

use super::describe;
use crate::content::{GeneratedBody, Verifier};
use crate::workload::Context;

/// How a read went.
pub(crate) enum ReadOutcome {
    /// Content verified: latency (time to first byte for GET) and bytes.
    Verified { latency: Duration, bytes: u64 },
    /// The request failed.
    Failed(String),
    /// A response arrived with the wrong content or length.
    Mismatch(String),
}

/// PUT object `key_index` with its generated content; returns the bytes
/// sent. Latency is to the last byte: the response arrives after the body.
pub(crate) async fn put_object(context: &Context, key_index: u64) -> Result<u64, String> {
    let object_seed = context.object_seed(key_index);
    let size_bytes = context.load.size.size_for(object_seed);
    let body = GeneratedBody::new(object_seed, 0, size_bytes);
    context
        .client
        .put_object()
        .bucket(&context.bucket)
        .key(context.key(key_index))
        .content_length(size_bytes as i64)
        .body(ByteStream::from_body_1_x(body))
        .send()
        .await
        .map_err(describe)?;
    Ok(size_bytes)
}

/// GET object `key_index` and verify every byte. Latency is time to first
/// byte (or to the response, for an empty object).
pub(crate) async fn get_object(context: &Context, key_index: u64) -> ReadOutcome {
    let object_seed = context.object_seed(key_index);
    let expected_bytes = context.load.size.size_for(object_seed);
    let started = Instant::now();
    let output = match context
        .client
        .get_object()
        .bucket(&context.bucket)
        .key(context.key(key_index))
        .send()
        .await
    {
        Ok(output) => output,
        Err(error) => return ReadOutcome::Failed(describe(error)),
    };
    let mut body = output.body;
    let mut verifier = Verifier::new(object_seed, expected_bytes);
    let mut first_byte_latency = None;
    loop {
        match body.next().await {
            None => break,
            Some(Ok(chunk)) => {
                first_byte_latency.get_or_insert_with(|| started.elapsed());
                verifier.update(&chunk);
            }
            Some(Err(error)) => return ReadOutcome::Failed(DisplayErrorContext(error).to_string()),
        }
    }
    let latency = first_byte_latency.unwrap_or_else(|| started.elapsed());
    if !verifier.finish() {
        return ReadOutcome::Mismatch(format!(
            "{}: content differs from what was written",
            context.key(key_index)
        ));
    }
    ReadOutcome::Verified {
        latency,
        bytes: expected_bytes,
    }
}

/// HEAD object `key_index`; its Content-Length must be the written size.
pub(crate) async fn head_object(context: &Context, key_index: u64) -> ReadOutcome {
    let expected_bytes = context.load.size.size_for(context.object_seed(key_index));
    let started = Instant::now();
    match context
        .client
        .head_object()
        .bucket(&context.bucket)
        .key(context.key(key_index))
        .send()
        .await
    {
        Err(error) => ReadOutcome::Failed(describe(error)),
        Ok(output) if output.content_length() != Some(expected_bytes as i64) => {
            ReadOutcome::Mismatch(format!(
                "{}: Content-Length {:?}, wrote {expected_bytes}",
                context.key(key_index),
                output.content_length()
            ))
        }
        Ok(_) => ReadOutcome::Verified {
            latency: started.elapsed(),
            bytes: 0,
        },
    }
}

pub(crate) async fn delete_object(context: &Context, key_index: u64) -> Result<(), String> {
    context
        .client
        .delete_object()
        .bucket(&context.bucket)
        .key(context.key(key_index))
        .send()
        .await
        .map_err(describe)?;
    Ok(())
}

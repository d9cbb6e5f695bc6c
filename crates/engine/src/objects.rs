//! PutObject, GetObject/HeadObject, DeleteObject(s) and object tagging.

use std::sync::Arc;

use coffer_crypto::PartCipher;
use coffer_meta::{
    ChecksumAlgorithm, Command, CommandResult, ContentHeaders, Encryption, ObjectVersion,
    PartLayout, WritePrecondition,
};
use coffer_types::limits::PUT_OBJECT_SIZE_BYTES_MAX;
use coffer_types::{AccountId, BucketName, DataId, ErrorCode, ObjectKey, S3Error, VersionId};

use crate::api::*;
use crate::checksum::{self, etag_of_md5};
use crate::conditions::{self, Selection};
use crate::pipeline::{self, WriteSpec, WrittenData};
use crate::{errors, read, validate, Engine, Result};

/// Split a checksum request into the algorithm and what to compare with,
/// refusing a malformed header value before any data is read.
pub(crate) fn checksum_parts(
    checksum: Option<ChecksumRequest>,
) -> Result<(Option<ChecksumAlgorithm>, ExpectedChecksum)> {
    match checksum {
        None => Ok((None, ExpectedChecksum::None)),
        Some(ChecksumRequest {
            algorithm,
            expected,
        }) => {
            if let ExpectedChecksum::Value(value) = &expected {
                checksum::decode_expected(algorithm, value)?;
            }
            Ok((Some(algorithm), expected))
        }
    }
}

/// A fail-fast check of a write precondition before the body is stored;
/// `apply` decides for real, in log order.
pub(crate) fn precheck_write(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    precondition: Option<&WritePrecondition>,
) -> Result<()> {
    let Some(precondition) = precondition else {
        return Ok(());
    };
    let current = engine
        .meta
        .object(bucket, key, None)
        .map_err(|error| errors::meta("read object", error))?;
    match (precondition, current) {
        (WritePrecondition::IfNoneMatchAny, Some(_)) => Err(ErrorCode::PreconditionFailed.into()),
        (WritePrecondition::IfMatch(_), None) => Err(ErrorCode::NoSuchKey.into()),
        (WritePrecondition::IfMatch(etag), Some(current))
            if !conditions::etag_list_matches(etag, &current.etag) =>
        {
            Err(ErrorCode::PreconditionFailed.into())
        }
        _ => Ok(()),
    }
}

/// The layout of freshly written data stored as part `part_number`.
pub(crate) fn part_layout(
    written: &WrittenData,
    part_number: u32,
    block_size_bytes: u64,
) -> PartLayout {
    PartLayout {
        part_number,
        data_id: written.data_id,
        size_bytes: written.size_bytes,
        block_size_bytes,
        etag: etag_of_md5(&written.digests.md5),
        checksum: written.checksum(),
    }
}

/// What a new single-part object carries besides its data.
pub(crate) struct ObjectAttributes {
    pub owner: AccountId,
    pub headers: ContentHeaders,
    pub user_metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub encryption: Encryption,
}

/// Make freshly written data the current version of `bucket/key` as a
/// single-part object. PutObject and CopyObject both end here, so the two
/// store versions of the same shape; `apply` checks `precondition` for real.
pub(crate) async fn commit_single_part(
    engine: &Engine,
    bucket: BucketName,
    key: ObjectKey,
    precondition: Option<WritePrecondition>,
    written: WrittenData,
    attributes: ObjectAttributes,
) -> Result<ObjectVersion> {
    let part = part_layout(&written, 1, engine.block_size_bytes());
    let version = ObjectVersion {
        version_id: VersionId::null(),
        last_modified_ms: coffer_types::now_unix_millis(),
        size_bytes: written.size_bytes,
        etag: part.etag.clone(),
        owner: attributes.owner,
        headers: attributes.headers,
        user_metadata: attributes.user_metadata,
        tags: attributes.tags,
        checksum: part.checksum.clone(),
        encryption: attributes.encryption,
        parts: vec![part],
        multipart: false,
    };
    let command = Command::PutObject {
        bucket,
        key,
        version: version.clone(),
        precondition,
    };
    engine.propose_with_blocks(written.blocks, command).await?;
    Ok(version)
}

pub(crate) async fn put_object(
    engine: &Engine,
    request: PutObjectRequest,
    body: BodyStream,
) -> Result<PutObjectOutcome> {
    if request
        .content_length
        .is_some_and(|length| length > PUT_OBJECT_SIZE_BYTES_MAX)
    {
        return Err(ErrorCode::EntityTooLarge.into());
    }
    validate::user_metadata(&request.user_metadata)?;
    crate::validate_tags(&request.tags)?;
    let content_md5 = request
        .content_md5_base64
        .as_deref()
        .map(checksum::decode_content_md5)
        .transpose()?;
    let (checksum_algorithm, expected_checksum) = checksum_parts(request.checksum)?;
    engine.require_bucket(&request.bucket)?;
    precheck_write(
        engine,
        &request.bucket,
        &request.key,
        request.precondition.as_ref(),
    )?;

    let (data_key, encryption) = engine.new_data_key(&request.bucket, &request.key);
    let data_id = DataId::random();
    let cipher = Arc::new(PartCipher::new(&data_key, data_id, 1));
    let block_size_bytes = engine.block_size_bytes();
    let spec = WriteSpec {
        block_size_bytes,
        expected_length_bytes: request.content_length,
        size_limit_bytes: PUT_OBJECT_SIZE_BYTES_MAX,
        checksum_algorithm,
        expected_checksum,
        content_md5,
    };
    let written = pipeline::write_data(&engine.blocks, cipher, data_id, spec, body).await?;
    let attributes = ObjectAttributes {
        owner: request.owner,
        headers: request.headers,
        user_metadata: request.user_metadata,
        tags: request.tags,
        encryption,
    };
    let version = commit_single_part(
        engine,
        request.bucket,
        request.key,
        request.precondition,
        written,
        attributes,
    )
    .await?;
    Ok(PutObjectOutcome { version })
}

pub(crate) fn get_object(
    engine: &Engine,
    request: GetObjectRequest,
    with_body: bool,
) -> Result<GetObjectOutcome> {
    let version =
        engine.lookup_object(&request.bucket, &request.key, request.version_id.as_ref())?;
    conditions::check(&request.conditions, &version, false)?;
    let selection = match (request.range, request.part_number) {
        (Some(_), Some(_)) => {
            return Err(errors::invalid_request(
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        (Some(range), None) => conditions::resolve_range(range, version.size_bytes)?,
        (None, Some(part_number)) => conditions::resolve_part(part_number, &version)?,
        (None, None) => Selection {
            start: 0,
            end: version.size_bytes,
            partial: false,
            parts_count: None,
        },
    };
    let body = if with_body {
        let data_key = engine.data_key(&request.bucket, &request.key, &version.encryption)?;
        Some(read::data_stream(
            engine.blocks.clone(),
            Arc::new(data_key),
            &version.parts,
            selection.start,
            selection.end,
        ))
    } else {
        None
    };
    Ok(GetObjectOutcome {
        version,
        start: selection.start,
        end: selection.end,
        partial: selection.partial,
        parts_count: selection.parts_count,
        body,
    })
}

pub(crate) async fn delete_object(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<VersionId>,
) -> Result<DeleteObjectOutcome> {
    let command = Command::DeleteObject {
        bucket: bucket.clone(),
        key: key.clone(),
        version_id,
        now_ms: coffer_types::now_unix_millis(),
    };
    engine.propose(command).await?;
    engine.gc_wakeup.notify_one();
    // Unversioned buckets: AWS sends no x-amz-version-id.
    Ok(DeleteObjectOutcome { version_id: None })
}

pub(crate) async fn delete_objects(
    engine: &Engine,
    bucket: &BucketName,
    targets: Vec<coffer_meta::DeleteTarget>,
) -> Result<Vec<Result<DeleteObjectOutcome>>> {
    let count = targets.len();
    let command = Command::DeleteObjects {
        bucket: bucket.clone(),
        targets,
        now_ms: coffer_types::now_unix_millis(),
    };
    let result = engine.propose(command).await?;
    engine.gc_wakeup.notify_one();
    match result {
        CommandResult::DeletedMany(results) if results.len() == count => Ok(results
            .into_iter()
            .map(|result| result.map(|()| DeleteObjectOutcome { version_id: None }))
            .collect()),
        other => {
            tracing::error!(?other, "DeleteObjects answered with an unexpected result");
            Err(S3Error::internal())
        }
    }
}

pub(crate) async fn put_object_tagging(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<VersionId>,
    tags: Vec<(String, String)>,
) -> Result<VersionId> {
    crate::validate_tags(&tags)?;
    let version = engine.lookup_object(bucket, key, version_id.as_ref())?;
    let command = Command::PutObjectTags {
        bucket: bucket.clone(),
        key: key.clone(),
        version_id,
        tags,
    };
    engine.propose(command).await?;
    Ok(version.version_id)
}

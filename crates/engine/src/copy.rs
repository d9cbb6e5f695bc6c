//! CopyObject and UploadPartCopy: the source is decrypted lazily and fed,
//! re-encrypted under the destination's data key, through the same write
//! pipeline as an upload, so no copy holds a whole object in memory.

use std::sync::Arc;

use coffer_crypto::PartCipher;
use coffer_meta::{ChecksumAlgorithm, ObjectVersion, PartRecord};
use coffer_types::limits::{PART_SIZE_BYTES_MAX, PUT_OBJECT_SIZE_BYTES_MAX};
use coffer_types::{BucketName, DataId, ErrorCode, ObjectKey, S3Error, VersionId};

use crate::api::*;
use crate::objects::{commit_single_part, precheck_write, ObjectAttributes};
use crate::pipeline::{self, WriteSpec, WrittenData};
use crate::{conditions, errors, read, validate, Engine, Result};

/// The source version after its conditions held.
fn source_version(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&VersionId>,
    source_conditions: &ReadConditions,
) -> Result<ObjectVersion> {
    let version = engine.lookup_object(bucket, key, version_id)?;
    conditions::check(source_conditions, &version, true)?;
    Ok(version)
}

/// Re-encrypt `start..end` of the source under `cipher` as data id `data_id`.
#[allow(clippy::too_many_arguments)]
async fn copy_data(
    engine: &Engine,
    source_bucket: &BucketName,
    source_key: &ObjectKey,
    source: &ObjectVersion,
    (start, end): (u64, u64),
    cipher: Arc<PartCipher>,
    data_id: DataId,
    checksum_algorithm: Option<ChecksumAlgorithm>,
) -> Result<WrittenData> {
    let source_key_material = engine.data_key(source_bucket, source_key, &source.encryption)?;
    let body = read::data_stream(
        engine.blocks.clone(),
        Arc::new(source_key_material),
        &source.parts,
        start,
        end,
    );
    let spec = WriteSpec {
        block_size_bytes: engine.block_size_bytes(),
        expected_length_bytes: Some(end - start),
        size_limit_bytes: end - start,
        checksum_algorithm,
        expected_checksum: ExpectedChecksum::None,
        content_md5: None,
    };
    pipeline::write_data(&engine.blocks, cipher, data_id, spec, body)
        .await
        .map_err(|error| {
            // The source body failing means stored data is unreadable (already
            // logged); the client sees an internal error, not a body error.
            if error.code == ErrorCode::IncompleteBody {
                S3Error::internal()
            } else {
                error
            }
        })
}

pub(crate) async fn copy_object(
    engine: &Engine,
    request: CopyObjectRequest,
) -> Result<CopyObjectOutcome> {
    let source = source_version(
        engine,
        &request.source_bucket,
        &request.source_key,
        request.source_version_id.as_ref(),
        &request.source_conditions,
    )?;
    if source.size_bytes > PUT_OBJECT_SIZE_BYTES_MAX {
        return Err(errors::invalid_request(format!(
            "The specified copy source is larger than the maximum allowable size for a copy source: {PUT_OBJECT_SIZE_BYTES_MAX}"
        )));
    }
    let source_algorithm = source.checksum.as_ref().map(|checksum| checksum.algorithm);
    let onto_itself = request.source_bucket == request.bucket && request.source_key == request.key;
    let changes_checksum = request
        .checksum_algorithm
        .is_some_and(|algorithm| Some(algorithm) != source_algorithm);
    if onto_itself
        && matches!(request.metadata, MetadataDirective::Copy)
        && matches!(request.tagging, TaggingDirective::Copy)
        && !changes_checksum
    {
        return Err(errors::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let (headers, user_metadata) = match request.metadata {
        MetadataDirective::Copy => (source.headers.clone(), source.user_metadata.clone()),
        MetadataDirective::Replace {
            headers,
            user_metadata,
        } => {
            validate::user_metadata(&user_metadata)?;
            (headers, user_metadata)
        }
    };
    let tags = match request.tagging {
        TaggingDirective::Copy => source.tags.clone(),
        TaggingDirective::Replace(tags) => {
            crate::validate_tags(&tags)?;
            tags
        }
    };
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
    // A copy keeps the source's checksum algorithm unless another is asked
    // for; either way it is recomputed over the whole data.
    let checksum_algorithm = request.checksum_algorithm.or(source_algorithm);
    let range = (0, source.size_bytes);
    let written = copy_data(
        engine,
        &request.source_bucket,
        &request.source_key,
        &source,
        range,
        cipher,
        data_id,
        checksum_algorithm,
    )
    .await?;
    let attributes = ObjectAttributes {
        owner: request.owner,
        headers,
        user_metadata,
        tags,
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
    Ok(CopyObjectOutcome {
        version,
        source_version_id: source.version_id,
    })
}

pub(crate) async fn upload_part_copy(
    engine: &Engine,
    request: UploadPartCopyRequest,
) -> Result<(PartRecord, VersionId)> {
    crate::multipart::check_part_number(request.part_number)?;
    let upload = crate::multipart::require_upload(
        engine,
        &request.bucket,
        &request.key,
        &request.upload_id,
    )?;
    let source = source_version(
        engine,
        &request.source_bucket,
        &request.source_key,
        request.source_version_id.as_ref(),
        &request.source_conditions,
    )?;
    let (start, end) = match request.source_range {
        None => (0, source.size_bytes),
        Some((first, last)) if first > last => {
            return Err(errors::invalid_argument(format!(
                "Range specified is not valid for source object of size: {}",
                source.size_bytes
            )));
        }
        Some((_, last)) if last >= source.size_bytes => {
            return Err(S3Error::new(
                ErrorCode::InvalidRange,
                "The requested range is not satisfiable",
            ));
        }
        Some((first, last)) => (first, last + 1),
    };
    if end - start > PART_SIZE_BYTES_MAX {
        return Err(errors::invalid_request(format!(
            "The specified copy source is larger than the maximum allowable size for a copy source: {PART_SIZE_BYTES_MAX}"
        )));
    }
    let data_key = engine.data_key(&request.bucket, &request.key, &upload.encryption)?;
    let data_id = DataId::random();
    let cipher = Arc::new(PartCipher::new(&data_key, data_id, request.part_number));
    let written = copy_data(
        engine,
        &request.source_bucket,
        &request.source_key,
        &source,
        (start, end),
        cipher,
        data_id,
        upload.checksum_algorithm,
    )
    .await?;
    let part = crate::multipart::commit_part(
        engine,
        request.bucket,
        request.key,
        request.upload_id,
        request.part_number,
        written,
    )
    .await?;
    Ok((part, source.version_id))
}

//! Multipart uploads: create, upload parts, complete, abort, list parts.
//! Every part of an upload is sealed under the upload's one data key, each
//! under a fresh `DataId`, so re-uploading a part never reuses a segment key.

use std::collections::HashMap;
use std::sync::Arc;

use coffer_crypto::PartCipher;
use coffer_meta::{
    Checksum, Command, CommandResult, ObjectVersion, PartLayout, PartRecord, UploadRecord,
};
use coffer_types::limits::{LIST_KEYS_MAX, PART_NUMBER_MAX, PART_SIZE_BYTES_MAX};
use coffer_types::{BucketName, DataId, ErrorCode, ObjectKey, S3Error, UploadId, VersionId};

use crate::api::*;
use crate::checksum;
use crate::objects::{checksum_parts, part_layout};
use crate::pipeline::{self, WriteSpec, WrittenData};
use crate::{errors, validate, Engine, Result};

pub(crate) fn check_part_number(part_number: u32) -> Result<()> {
    if part_number == 0 || part_number > PART_NUMBER_MAX {
        return Err(errors::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    Ok(())
}

pub(crate) fn require_upload(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &UploadId,
) -> Result<UploadRecord> {
    engine.require_bucket(bucket)?;
    engine
        .meta
        .upload(bucket, key, upload_id)
        .map_err(|error| errors::meta("read upload", error))?
        .ok_or_else(|| ErrorCode::NoSuchUpload.into())
}

pub(crate) async fn create_upload(
    engine: &Engine,
    request: CreateUploadRequest,
) -> Result<UploadRecord> {
    validate::user_metadata(&request.user_metadata)?;
    crate::validate_tags(&request.tags)?;
    engine.require_bucket(&request.bucket)?;
    let (_, encryption) = engine.new_data_key(&request.bucket, &request.key);
    let now_ms = coffer_types::now_unix_millis();
    let upload = UploadRecord {
        upload_id: UploadId::generate(now_ms),
        bucket: request.bucket,
        key: request.key,
        initiated_ms: now_ms,
        owner: request.owner,
        headers: request.headers,
        user_metadata: request.user_metadata,
        tags: request.tags,
        checksum_algorithm: request.checksum_algorithm,
        encryption,
    };
    engine
        .propose(Command::CreateUpload {
            upload: upload.clone(),
        })
        .await?;
    Ok(upload)
}

pub(crate) async fn upload_part(
    engine: &Engine,
    request: UploadPartRequest,
    body: BodyStream,
) -> Result<PartRecord> {
    check_part_number(request.part_number)?;
    if request
        .content_length
        .is_some_and(|length| length > PART_SIZE_BYTES_MAX)
    {
        return Err(ErrorCode::EntityTooLarge.into());
    }
    let content_md5 = request
        .content_md5_base64
        .as_deref()
        .map(checksum::decode_content_md5)
        .transpose()?;
    let (requested_algorithm, expected_checksum) = checksum_parts(request.checksum)?;
    let upload = require_upload(engine, &request.bucket, &request.key, &request.upload_id)?;
    // Parts of an upload created with a checksum algorithm all carry it.
    let checksum_algorithm = match (upload.checksum_algorithm, requested_algorithm) {
        (Some(expected), Some(actual)) if expected != actual => {
            return Err(errors::invalid_request(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                checksum::header_name(expected).trim_start_matches("x-amz-checksum-"),
                checksum::header_name(actual).trim_start_matches("x-amz-checksum-"),
            )));
        }
        (upload_algorithm, requested) => requested.or(upload_algorithm),
    };
    let data_key = engine.data_key(&request.bucket, &request.key, &upload.encryption)?;
    let data_id = DataId::random();
    let cipher = Arc::new(PartCipher::new(&data_key, data_id, request.part_number));
    let block_size_bytes = engine.block_size_bytes();
    let spec = WriteSpec {
        block_size_bytes,
        expected_length_bytes: request.content_length,
        size_limit_bytes: PART_SIZE_BYTES_MAX,
        checksum_algorithm,
        expected_checksum,
        content_md5,
    };
    let written = pipeline::write_data(&engine.blocks, cipher, data_id, spec, body).await?;
    commit_part(
        engine,
        request.bucket,
        request.key,
        request.upload_id,
        request.part_number,
        written,
    )
    .await
}

/// Record freshly written data as part `part_number` of an upload, making
/// its blocks visible. UploadPart and UploadPartCopy both end here.
pub(crate) async fn commit_part(
    engine: &Engine,
    bucket: BucketName,
    key: ObjectKey,
    upload_id: UploadId,
    part_number: u32,
    written: WrittenData,
) -> Result<PartRecord> {
    let part = PartRecord {
        layout: part_layout(&written, part_number, engine.block_size_bytes()),
        last_modified_ms: coffer_types::now_unix_millis(),
    };
    let command = Command::PutPart {
        bucket,
        key,
        upload_id,
        part: part.clone(),
    };
    engine.propose_with_blocks(written.blocks, command).await?;
    Ok(part)
}

/// Every stored part of an upload (at most 10,000), by part number.
fn stored_parts(engine: &Engine, upload_id: &UploadId) -> Result<HashMap<u32, PartLayout>> {
    let mut parts = HashMap::new();
    let mut marker = 0;
    loop {
        let page = engine
            .meta
            .list_parts(upload_id, marker, LIST_KEYS_MAX)
            .map_err(|error| errors::meta("list parts", error))?;
        let Some(last) = page.last() else { break };
        let next_marker = last.layout.part_number;
        if next_marker <= marker || parts.len() > PART_NUMBER_MAX as usize {
            tracing::error!(%next_marker, marker, "list_parts did not advance");
            return Err(S3Error::internal());
        }
        marker = next_marker;
        let full = page.len() == LIST_KEYS_MAX;
        parts.extend(
            page.into_iter()
                .map(|part| (part.layout.part_number, part.layout)),
        );
        if !full {
            break;
        }
    }
    Ok(parts)
}

/// The composite checksum `base64(hash(raw part checksums)) + "-N"`, when
/// every listed part has one of the upload's algorithm. A missing part
/// yields `None`: `apply` refuses the list with InvalidPart anyway.
fn composite_checksum(
    upload: &UploadRecord,
    listed: &[(u32, String)],
    stored: &HashMap<u32, PartLayout>,
) -> Result<Option<Checksum>> {
    let Some(algorithm) = upload.checksum_algorithm else {
        return Ok(None);
    };
    let mut concatenated = Vec::new();
    for (part_number, _) in listed {
        let Some(checksum) = stored
            .get(part_number)
            .and_then(|part| part.checksum.as_ref())
        else {
            return Ok(None);
        };
        if checksum.algorithm != algorithm {
            return Ok(None);
        }
        concatenated.extend(
            checksum::decode_expected(algorithm, &checksum.value_base64).map_err(|error| {
                tracing::error!(%error, "stored part checksum is malformed");
                S3Error::internal()
            })?,
        );
    }
    let value = checksum::base64_encode(&checksum::checksum_of(algorithm, &concatenated));
    Ok(Some(Checksum {
        algorithm,
        value_base64: format!("{value}-{}", listed.len()),
    }))
}

pub(crate) async fn complete_upload(
    engine: &Engine,
    request: CompleteUploadRequest,
) -> Result<ObjectVersion> {
    if request.parts.is_empty() {
        return Err(S3Error::new(
            ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        ));
    }
    if request.parts.len() > PART_NUMBER_MAX as usize {
        return Err(ErrorCode::InvalidPart.into());
    }
    let upload = require_upload(engine, &request.bucket, &request.key, &request.upload_id)?;
    let listed_etags: Vec<&str> = request
        .parts
        .iter()
        .map(|(_, etag)| etag.as_str())
        .collect();
    let etag = checksum::multipart_etag(&listed_etags)?;
    let stored = stored_parts(engine, &request.upload_id)?;
    let checksum = composite_checksum(&upload, &request.parts, &stored)?;
    let size_bytes = request
        .parts
        .iter()
        .filter_map(|(number, _)| stored.get(number))
        .map(|part| part.size_bytes)
        .sum();
    let version = ObjectVersion {
        version_id: VersionId::null(),
        last_modified_ms: coffer_types::now_unix_millis(),
        size_bytes,
        etag,
        owner: upload.owner,
        headers: upload.headers,
        user_metadata: upload.user_metadata,
        tags: upload.tags,
        checksum,
        encryption: upload.encryption,
        // Filled in by `apply` from the stored parts.
        parts: Vec::new(),
        multipart: true,
    };
    let command = Command::CompleteUpload {
        bucket: request.bucket,
        key: request.key,
        upload_id: request.upload_id,
        parts: request.parts,
        version: version.clone(),
        precondition: request.precondition,
    };
    let result = engine.propose(command).await?;
    engine.gc_wakeup.notify_one();
    match result {
        CommandResult::Completed(installed) => Ok(*installed),
        other => {
            tracing::error!(?other, "CompleteUpload answered with an unexpected result");
            Err(S3Error::internal())
        }
    }
}

pub(crate) async fn abort_upload(
    engine: &Engine,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &UploadId,
) -> Result<()> {
    let command = Command::AbortUpload {
        bucket: bucket.clone(),
        key: key.clone(),
        upload_id: upload_id.clone(),
        now_ms: coffer_types::now_unix_millis(),
    };
    engine.propose(command).await?;
    engine.gc_wakeup.notify_one();
    Ok(())
}

pub(crate) fn list_parts(engine: &Engine, request: ListPartsRequest) -> Result<ListPartsPage> {
    let upload = require_upload(engine, &request.bucket, &request.key, &request.upload_id)?;
    let max_parts = request.max_parts.min(LIST_KEYS_MAX);
    if max_parts == 0 {
        return Ok(ListPartsPage {
            upload,
            parts: Vec::new(),
            is_truncated: false,
            next_part_number_marker: None,
        });
    }
    let mut parts = engine
        .meta
        .list_parts(
            &request.upload_id,
            request.part_number_marker,
            max_parts + 1,
        )
        .map_err(|error| errors::meta("list parts", error))?;
    let is_truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let next_part_number_marker = parts.last().map(|part| part.layout.part_number);
    Ok(ListPartsPage {
        upload,
        parts,
        is_truncated,
        next_part_number_marker,
    })
}

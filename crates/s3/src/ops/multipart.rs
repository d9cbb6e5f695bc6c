//! CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts, ListMultipartUploads.

use coffer_engine::{
    CompleteUploadRequest, CreateUploadRequest, ListPartsRequest, ListUploadsRequest,
    UploadPartCopyRequest, UploadPartRequest,
};
use coffer_types::limits::PART_NUMBER_MAX;
use coffer_types::{ErrorCode, UploadId};
use s3s::dto::*;
use s3s::S3Request;

use super::list::{ListQuery, Owners};
use super::object::{checksum_request, content_length, tags_header};
use super::{body_stream, existing_bucket, object_key, principal, version_id_dto, Gateway, Result};
use crate::convert::{self, ChecksumFields};
use crate::{error, limits};

fn upload_id(raw: &str) -> Result<UploadId> {
    UploadId::parse(raw).ok_or_else(|| error::code(ErrorCode::NoSuchUpload))
}

fn part_number(raw: i32) -> Result<u32> {
    if raw < 1 || raw as u32 > PART_NUMBER_MAX {
        return Err(error::with_message(
            ErrorCode::InvalidArgument,
            format!("Part number must be an integer between 1 and {PART_NUMBER_MAX}, inclusive"),
        ));
    }
    Ok(raw as u32)
}

/// The initiator of an upload is the account that created it, which is
/// also the upload's owner.
fn initiator(owner: &Owner) -> Initiator {
    Initiator {
        display_name: owner.display_name.clone(),
        id: owner.id.clone(),
    }
}

impl Gateway {
    pub(super) async fn create_multipart_upload_impl(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> Result<CreateMultipartUploadOutput> {
        let account = principal(&req)?;
        let input = &req.input;
        let (bucket, key) = (existing_bucket(&input.bucket)?, object_key(&input.key)?);
        // The object it completes into is owned as a PUT's would be, and
        // gets the ACL asked for here.
        let (owner, acl) = self.new_object_ownership(&req, &bucket, &account)?;
        let request = CreateUploadRequest {
            bucket: bucket.clone(),
            key: key.clone(),
            owner,
            headers: convert::content_headers(&req.headers),
            user_metadata: convert::user_metadata(&req.headers)?,
            tags: tags_header(input.tagging.as_deref())?,
            checksum_algorithm: input
                .checksum_algorithm
                .as_ref()
                .map(convert::checksum_algorithm)
                .transpose()?,
        };
        let upload = self.engine.create_upload(request).await?;
        if let Some(acl) = acl {
            self.engine
                .set_upload_acl(&bucket, &key, &upload.upload_id, acl)
                .await?;
        }
        Ok(CreateMultipartUploadOutput {
            bucket: Some(upload.bucket.as_str().to_owned()),
            key: Some(upload.key.as_str().to_owned()),
            upload_id: Some(upload.upload_id.0.clone()),
            checksum_algorithm: upload
                .checksum_algorithm
                .map(convert::checksum_algorithm_dto),
            server_side_encryption: convert::sse(),
            ..CreateMultipartUploadOutput::default()
        })
    }

    pub(super) async fn upload_part_impl(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> Result<UploadPartOutput> {
        let checksum = checksum_request(
            &req.headers,
            req.trailing_headers.clone(),
            req.input.checksum_algorithm.as_ref(),
        )?;
        let input = &req.input;
        let request = UploadPartRequest {
            bucket: existing_bucket(&input.bucket)?,
            key: object_key(&input.key)?,
            upload_id: upload_id(&input.upload_id)?,
            part_number: part_number(input.part_number)?,
            content_length: content_length(input.content_length)?,
            content_md5_base64: input.content_md5.clone(),
            checksum,
        };
        let body = body_stream(req.input.body.take());
        let part = self.engine.upload_part(request, body).await?;
        let checksums = ChecksumFields::from_checksum(part.layout.checksum.as_ref());
        Ok(UploadPartOutput {
            e_tag: Some(convert::etag(&part.layout.etag)),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            server_side_encryption: convert::sse(),
            ..UploadPartOutput::default()
        })
    }

    pub(super) async fn upload_part_copy_impl(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> Result<UploadPartCopyOutput> {
        let input = &req.input;
        let (source_bucket, source_key, source_version_id) =
            convert::copy_source(&input.copy_source)?;
        let request = UploadPartCopyRequest {
            bucket: existing_bucket(&input.bucket)?,
            key: object_key(&input.key)?,
            upload_id: upload_id(&input.upload_id)?,
            part_number: part_number(input.part_number)?,
            source_bucket,
            source_key,
            source_version_id,
            source_conditions: convert::read_conditions(
                input.copy_source_if_match.as_ref(),
                input.copy_source_if_none_match.as_ref(),
                input.copy_source_if_modified_since.as_ref(),
                input.copy_source_if_unmodified_since.as_ref(),
            ),
            source_range: input
                .copy_source_range
                .as_deref()
                .map(limits::parse_copy_source_range)
                .transpose()?,
        };
        let (part, source_version) = self.engine.upload_part_copy(request).await?;
        let checksums = ChecksumFields::from_checksum(part.layout.checksum.as_ref());
        Ok(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                checksum_crc32: checksums.crc32,
                checksum_crc32c: checksums.crc32c,
                checksum_crc64nvme: checksums.crc64nvme,
                checksum_sha1: checksums.sha1,
                checksum_sha256: checksums.sha256,
                e_tag: Some(convert::etag(&part.layout.etag)),
                last_modified: Some(convert::timestamp(part.last_modified_ms)),
            }),
            copy_source_version_id: version_id_dto(&source_version),
            server_side_encryption: convert::sse(),
            ..UploadPartCopyOutput::default()
        })
    }

    pub(super) async fn complete_multipart_upload_impl(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> Result<CompleteMultipartUploadOutput> {
        let input = &req.input;
        let bucket = existing_bucket(&input.bucket)?;
        let key = object_key(&input.key)?;
        let listed = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_ref());
        let Some(listed) = listed.filter(|p| !p.is_empty()) else {
            return Err(error::with_message(
                ErrorCode::MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema.",
            ));
        };
        if listed.len() > PART_NUMBER_MAX as usize {
            return Err(error::code(ErrorCode::MalformedXML));
        }
        let mut parts = Vec::with_capacity(listed.len());
        for part in listed {
            let (Some(number), Some(etag)) = (part.part_number, part.e_tag.as_ref()) else {
                return Err(error::code(ErrorCode::MalformedXML));
            };
            parts.push((part_number(number)?, format!("\"{}\"", etag.value())));
        }
        let request = CompleteUploadRequest {
            bucket: bucket.clone(),
            key: key.clone(),
            upload_id: upload_id(&input.upload_id)?,
            parts,
            precondition: convert::write_precondition(
                input.if_match.as_ref(),
                input.if_none_match.as_ref(),
            )?,
        };
        let version = self.engine.complete_upload(request).await?;
        let checksums = ChecksumFields::from_checksum(version.checksum.as_ref());
        Ok(CompleteMultipartUploadOutput {
            bucket: Some(bucket.as_str().to_owned()),
            key: Some(key.as_str().to_owned()),
            location: Some(format!("/{}/{}", bucket, convert::url_encode(key.as_str()))),
            e_tag: Some(convert::etag(&version.etag)),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: convert::checksum_type(version.checksum.as_ref()),
            server_side_encryption: convert::sse(),
            version_id: convert::version_id_dto(&version),
            ..CompleteMultipartUploadOutput::default()
        })
    }

    pub(super) async fn abort_multipart_upload_impl(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> Result<AbortMultipartUploadOutput> {
        let input = &req.input;
        let bucket = existing_bucket(&input.bucket)?;
        let key = object_key(&input.key)?;
        self.engine
            .abort_upload(&bucket, &key, &upload_id(&input.upload_id)?)
            .await?;
        Ok(AbortMultipartUploadOutput::default())
    }

    pub(super) async fn list_parts_impl(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> Result<ListPartsOutput> {
        let input = &req.input;
        let max_parts = limits::page_size(input.max_parts, "max-parts")?;
        let part_number_marker = match input.part_number_marker {
            Some(m) if m < 0 => {
                return Err(error::with_message(
                    ErrorCode::InvalidArgument,
                    "part-number-marker must not be negative",
                ))
            }
            Some(m) => m as u32,
            None => 0,
        };
        let page = self
            .engine
            .list_parts(ListPartsRequest {
                bucket: existing_bucket(&input.bucket)?,
                key: object_key(&input.key)?,
                upload_id: upload_id(&input.upload_id)?,
                part_number_marker,
                max_parts,
            })
            .await?;
        let mut owners = Owners::new(self);
        let owner = owners.owner(&page.upload.owner)?;
        let parts = page
            .parts
            .iter()
            .map(|part| {
                let checksums = ChecksumFields::from_checksum(part.layout.checksum.as_ref());
                Part {
                    checksum_crc32: checksums.crc32,
                    checksum_crc32c: checksums.crc32c,
                    checksum_crc64nvme: checksums.crc64nvme,
                    checksum_sha1: checksums.sha1,
                    checksum_sha256: checksums.sha256,
                    e_tag: Some(convert::etag(&part.layout.etag)),
                    last_modified: Some(convert::timestamp(part.last_modified_ms)),
                    part_number: Some(part.layout.part_number as i32),
                    size: Some(part.layout.size_bytes as i64),
                }
            })
            .collect::<Vec<_>>();
        Ok(ListPartsOutput {
            bucket: Some(page.upload.bucket.as_str().to_owned()),
            checksum_algorithm: page
                .upload
                .checksum_algorithm
                .map(convert::checksum_algorithm_dto),
            initiator: Some(initiator(&owner)),
            is_truncated: Some(page.is_truncated),
            key: Some(page.upload.key.as_str().to_owned()),
            max_parts: Some(max_parts as i32),
            next_part_number_marker: page.next_part_number_marker.map(|n| n as i32),
            owner: Some(owner),
            part_number_marker: Some(part_number_marker as i32),
            parts: (!parts.is_empty()).then_some(parts),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            upload_id: Some(page.upload.upload_id.0.clone()),
            ..ListPartsOutput::default()
        })
    }

    pub(super) async fn list_multipart_uploads_impl(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> Result<ListMultipartUploadsOutput> {
        let input = &req.input;
        let ListQuery {
            bucket,
            encoder,
            page_size: max_uploads,
            prefix,
            delimiter,
        } = ListQuery::parse(
            &input.bucket,
            input.encoding_type.as_ref(),
            (input.max_uploads, "max-uploads"),
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
        )?;
        let key_marker = input.key_marker.clone().filter(|m| !m.is_empty());
        // An upload-id marker is ignored without a key marker (AWS).
        let upload_id_marker = match (
            &key_marker,
            input.upload_id_marker.as_deref().filter(|m| !m.is_empty()),
        ) {
            (Some(_), Some(marker)) => Some(upload_id(marker).map_err(|_| {
                error::with_message(ErrorCode::InvalidArgument, "Invalid uploadId marker")
            })?),
            _ => None,
        };
        let page = self
            .engine
            .list_uploads(ListUploadsRequest {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                delimiter: delimiter.clone(),
                key_marker: key_marker.clone(),
                upload_id_marker: upload_id_marker.clone(),
                max_uploads,
            })
            .await?;
        let mut owners = Owners::new(self);
        let mut uploads = Vec::with_capacity(page.uploads.len());
        for upload in &page.uploads {
            let owner = owners.owner(&upload.owner)?;
            uploads.push(MultipartUpload {
                checksum_algorithm: upload
                    .checksum_algorithm
                    .map(convert::checksum_algorithm_dto),
                initiated: Some(convert::timestamp(upload.initiated_ms)),
                initiator: Some(initiator(&owner)),
                key: Some(encoder.text(upload.key.as_str())),
                owner: Some(owner),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                upload_id: Some(upload.upload_id.0.clone()),
                ..MultipartUpload::default()
            });
        }
        Ok(ListMultipartUploadsOutput {
            bucket: Some(bucket.as_str().to_owned()),
            common_prefixes: encoder.prefixes(&page.common_prefixes),
            delimiter: encoder.opt(delimiter.as_deref()),
            encoding_type: encoder.echo(),
            is_truncated: Some(page.is_truncated),
            key_marker: encoder.echo_marker(key_marker.as_deref()),
            max_uploads: Some(max_uploads as i32),
            next_key_marker: encoder.opt(page.next_key_marker.as_deref()),
            next_upload_id_marker: page.next_upload_id_marker.map(|u| u.0),
            prefix: Some(encoder.text(&prefix)),
            request_charged: None,
            upload_id_marker: Some(upload_id_marker.map(|u| u.0).unwrap_or_default()),
            uploads: (!uploads.is_empty()).then_some(uploads),
        })
    }
}

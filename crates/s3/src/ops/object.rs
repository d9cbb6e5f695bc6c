//! PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use coffer_engine::{
    ChecksumRequest, CopyObjectRequest, ExpectedChecksum, GetObjectOutcome, GetObjectRequest,
    MetadataDirective, PutObjectRequest, TaggingDirective,
};
use coffer_meta::{DeleteTarget, ObjectVersion};
use coffer_types::limits::DELETE_OBJECTS_KEYS_MAX;
use coffer_types::{ErrorCode, ObjectKey, S3Error, VersionId};
use http::{HeaderMap, HeaderValue};
use s3s::dto::*;
use s3s::{S3Request, S3Response, TrailingHeaders};

use super::{
    body_stream, existing_bucket, object_key, principal, principal_facts, response_body,
    version_id_dto, Gateway, Result,
};
use crate::access::{request_bucket, Authorizer};
use crate::context::Principal;
use crate::convert::{self, ChecksumFields};
use crate::error;

/// What the client said about the upload's checksum: a header value, an
/// aws-chunked trailer, or only an algorithm (x-amz-sdk-checksum-algorithm).
pub(super) fn checksum_request(
    headers: &HeaderMap,
    trailing: Option<TrailingHeaders>,
    sdk_algorithm: Option<&ChecksumAlgorithm>,
) -> Result<Option<ChecksumRequest>> {
    let mut from_headers = convert::CHECKSUM_ALGORITHMS
        .into_iter()
        .filter_map(|a| headers.get(convert::checksum_header(a)).map(|v| (a, v)));
    if let Some((algorithm, value)) = from_headers.next() {
        if from_headers.next().is_some() {
            return Err(error::with_message(
                ErrorCode::InvalidRequest,
                "Expecting a single x-amz-checksum- header",
            ));
        }
        let value = value.to_str().map_err(|_| {
            error::with_message(ErrorCode::InvalidRequest, "Invalid checksum header value")
        })?;
        return Ok(Some(ChecksumRequest {
            algorithm,
            expected: ExpectedChecksum::Value(value.to_owned()),
        }));
    }
    if let (Some(algorithm), Some(trailing)) =
        (convert::trailer_checksum_algorithm(headers), trailing)
    {
        let name = convert::checksum_header(algorithm);
        // Read after the body is consumed: the trailer follows the last chunk.
        let read = move || {
            trailing
                .read(|h| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned))
                .flatten()
        };
        return Ok(Some(ChecksumRequest {
            algorithm,
            expected: ExpectedChecksum::Trailer(Box::new(read)),
        }));
    }
    match sdk_algorithm {
        Some(algorithm) => Ok(Some(ChecksumRequest {
            algorithm: convert::checksum_algorithm(algorithm)?,
            expected: ExpectedChecksum::None,
        })),
        None => Ok(None),
    }
}

pub(super) fn tags_header(tagging: Option<&str>) -> Result<Vec<(String, String)>> {
    match tagging {
        Some(query) => {
            let tags = convert::parse_tag_query(query)?;
            coffer_engine::validate_tags(&tags)?;
            Ok(tags)
        }
        None => Ok(Vec::new()),
    }
}

pub(super) fn content_length(length: Option<i64>) -> Result<Option<u64>> {
    match length {
        Some(l) if l < 0 => Err(error::with_message(
            ErrorCode::InvalidArgument,
            "Content-Length must not be negative",
        )),
        Some(l) => Ok(Some(l as u64)),
        None => Ok(None),
    }
}

fn part_number(value: Option<i32>) -> Result<Option<u32>> {
    match value {
        Some(n) if n < 1 => Err(error::with_message(
            ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        )),
        Some(n) => Ok(Some(n as u32)),
        None => Ok(None),
    }
}

/// `If-Match` / `If-None-Match` from raw headers (CopyObject's DTO has no
/// fields for them in this s3s version).
fn raw_write_precondition(headers: &HeaderMap) -> Result<Option<coffer_meta::WritePrecondition>> {
    let parse = |name: &str| -> Result<Option<ETagCondition>> {
        match headers.get(name) {
            Some(value) => ETagCondition::parse_http_header(value.as_bytes())
                .map(Some)
                .map_err(|_| {
                    error::with_message(
                        ErrorCode::InvalidArgument,
                        format!("Invalid {name} header"),
                    )
                }),
            None => Ok(None),
        }
    };
    convert::write_precondition(
        parse("if-match")?.as_ref(),
        parse("if-none-match")?.as_ref(),
    )
}

/// Headers s3s's DTOs cannot carry faithfully: `Expires` exactly as stored.
fn extra_headers(version: &ObjectVersion, expires_overridden: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if !expires_overridden {
        if let Some(value) = version
            .headers
            .expires
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(http::header::EXPIRES, value);
        }
    }
    headers
}

/// GetObject and HeadObject take the same request fields, but in two
/// distinct s3s input types with no common trait; one macro reads both so
/// that the two operations cannot drift apart.
macro_rules! get_object_request {
    ($input:expr) => {
        GetObjectRequest {
            bucket: existing_bucket(&$input.bucket)?,
            key: object_key(&$input.key)?,
            version_id: $input.version_id.clone().map(VersionId),
            range: $input.range.as_ref().map(convert::range),
            part_number: part_number($input.part_number)?,
            conditions: convert::read_conditions(
                $input.if_match.as_ref(),
                $input.if_none_match.as_ref(),
                $input.if_modified_since.as_ref(),
                $input.if_unmodified_since.as_ref(),
            ),
        }
    };
}

/// The headers GetObject and HeadObject answer alike (HEAD is GET without
/// the body), filled into either s3s output type; `{ field: value, .. }`
/// adds what only one of them carries.
macro_rules! object_read_output {
    ($output:ident, $outcome:expr, $checksum_mode:expr, { $($field:ident $(: $value:expr)?),* $(,)? }) => {{
        let outcome: &GetObjectOutcome = &$outcome;
        let version = &outcome.version;
        let headers = &version.headers;
        let checksums = read_checksums($checksum_mode, outcome);
        $output {
            accept_ranges: Some("bytes".to_owned()),
            cache_control: headers.cache_control.clone(),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            content_disposition: headers.content_disposition.clone(),
            content_encoding: headers.content_encoding.clone(),
            content_language: headers.content_language.clone(),
            content_length: Some((outcome.end - outcome.start) as i64),
            content_range: content_range(outcome),
            content_type: headers.content_type.clone(),
            e_tag: Some(convert::etag(&version.etag)),
            last_modified: Some(convert::timestamp(version.last_modified_ms)),
            metadata: convert::metadata_map(&version.user_metadata),
            parts_count: outcome.parts_count.map(|n| n as i32),
            server_side_encryption: convert::sse(),
            version_id: convert::version_id_dto(version),
            $($field $(: $value)?,)*
            ..$output::default()
        }
    }};
}

/// Checksums are answered only when asked for, and only for the whole
/// object: a range's bytes do not match the stored checksum.
fn read_checksums(
    checksum_mode: Option<&ChecksumMode>,
    outcome: &GetObjectOutcome,
) -> ChecksumFields {
    if convert::is_checksum_mode_enabled(checksum_mode) && !outcome.partial {
        ChecksumFields::from_checksum(outcome.version.checksum.as_ref())
    } else {
        ChecksumFields::default()
    }
}

fn content_range(outcome: &GetObjectOutcome) -> Option<String> {
    (outcome.partial && outcome.end > outcome.start).then(|| {
        format!(
            "bytes {}-{}/{}",
            outcome.start,
            outcome.end - 1,
            outcome.version.size_bytes
        )
    })
}

impl Gateway {
    pub(super) async fn put_object_impl(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> Result<PutObjectOutput> {
        let account = principal(&req)?;
        let bucket = existing_bucket(&req.input.bucket)?;
        let key = object_key(&req.input.key)?;
        let checksum = checksum_request(
            &req.headers,
            req.trailing_headers.clone(),
            req.input.checksum_algorithm.as_ref(),
        )?;
        let (owner, acl) = self.new_object_ownership(&req, &bucket, &account)?;
        let request = PutObjectRequest {
            bucket: bucket.clone(),
            key: key.clone(),
            owner,
            content_length: content_length(req.input.content_length)?,
            content_md5_base64: req.input.content_md5.clone(),
            checksum,
            headers: convert::content_headers(&req.headers),
            user_metadata: convert::user_metadata(&req.headers)?,
            tags: tags_header(req.input.tagging.as_deref())?,
            precondition: convert::write_precondition(
                req.input.if_match.as_ref(),
                req.input.if_none_match.as_ref(),
            )?,
        };
        let body = body_stream(req.input.body.take());
        let outcome = self.engine.put_object(request, body).await?;
        let version = outcome.version;
        self.store_new_object_acl(&bucket, &key, &version, acl)
            .await?;
        let checksums = ChecksumFields::from_checksum(version.checksum.as_ref());
        Ok(PutObjectOutput {
            e_tag: Some(convert::etag(&version.etag)),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: convert::checksum_type(version.checksum.as_ref()),
            server_side_encryption: convert::sse(),
            version_id: convert::version_id_dto(&version),
            ..PutObjectOutput::default()
        })
    }

    pub(super) async fn get_object_impl(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> Result<S3Response<GetObjectOutput>> {
        let input = &req.input;
        let request = get_object_request!(input);
        let mut outcome = hide_missing_key(&req, self.engine.get_object(request, true).await)?;
        let body = outcome.body.take().map(response_body);
        let version = &outcome.version;
        let output = object_read_output!(
            GetObjectOutput,
            outcome,
            input.checksum_mode.as_ref(),
            {
                body,
                tag_count: (!version.tags.is_empty()).then_some(version.tags.len() as i32),
            }
        );
        Ok(S3Response::with_headers(
            output,
            extra_headers(version, input.response_expires.is_some()),
        ))
    }

    pub(super) async fn head_object_impl(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> Result<S3Response<HeadObjectOutput>> {
        let input = &req.input;
        let request = get_object_request!(input);
        let outcome = hide_missing_key(&req, self.engine.get_object(request, false).await)?;
        let output =
            object_read_output!(HeadObjectOutput, outcome, input.checksum_mode.as_ref(), {});
        let mut response = S3Response::with_headers(
            output,
            extra_headers(&outcome.version, input.response_expires.is_some()),
        );
        if outcome.partial {
            // s3s sets 206 only for GetObject; a ranged HEAD is 206 on AWS too.
            response.status = Some(http::StatusCode::PARTIAL_CONTENT);
        }
        Ok(response)
    }

    pub(super) async fn delete_object_impl(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> Result<DeleteObjectOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        let key = object_key(&req.input.key)?;
        let version_id = req.input.version_id.clone().map(VersionId);
        let outcome = self.engine.delete_object(&bucket, &key, version_id).await?;
        Ok(DeleteObjectOutput {
            version_id: outcome.version_id.as_ref().and_then(version_id_dto),
            ..DeleteObjectOutput::default()
        })
    }

    pub(super) async fn delete_objects_impl(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> Result<DeleteObjectsOutput> {
        let bucket = existing_bucket(&req.input.bucket)?;
        // x-amz-bypass-governance-retention is accepted: there is no object
        // lock yet, so there is nothing to bypass.
        let objects = &req.input.delete.objects;
        if objects.len() > DELETE_OBJECTS_KEYS_MAX {
            return Err(error::code(ErrorCode::MalformedXML));
        }
        let quiet = req.input.delete.quiet.unwrap_or(false);

        // Keys that cannot exist fail on their own; the rest go to the engine
        // in one batch and their results are merged back in request order.
        let mut parsed: Vec<std::result::Result<DeleteTarget, S3Error>> =
            Vec::with_capacity(objects.len());
        for object in objects {
            parsed.push(ObjectKey::parse(&object.key).map(|key| DeleteTarget {
                key,
                version_id: object.version_id.clone().map(VersionId),
            }));
        }
        // Each key needs its own permission (there is no bucket-wide one).
        // Fail closed: without the access check's authorizer, nothing.
        let authorizer = req
            .extensions
            .get::<Authorizer>()
            .cloned()
            .ok_or_else(|| error::code(ErrorCode::AccessDenied))?;
        let facts = principal_facts(&req)?;
        // A missing bucket is answered by the engine (NoSuchBucket).
        let context = request_bucket(&req, &bucket)?;
        if let Some(context) = &context {
            for target in parsed.iter_mut() {
                let Ok(delete) = target else {
                    continue;
                };
                let action = if delete.version_id.is_some() {
                    "s3:DeleteObjectVersion"
                } else {
                    "s3:DeleteObject"
                };
                if let Err(denied) =
                    authorizer.require_object_action(&facts, action, context, delete.key.as_str())
                {
                    *target = Err(denied);
                }
            }
        }
        let targets: Vec<DeleteTarget> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut results = self
            .engine
            .delete_objects(&bucket, targets)
            .await?
            .into_iter();

        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (object, target) in objects.iter().zip(parsed) {
            let result = match target {
                Ok(_) => results.next().unwrap_or_else(|| {
                    Err(error::with_message(
                        ErrorCode::InternalError,
                        "missing delete result",
                    ))
                }),
                Err(failure) => Err(failure),
            };
            match result {
                Ok(outcome) => {
                    if !quiet {
                        deleted.push(DeletedObject {
                            key: Some(object.key.clone()),
                            version_id: object
                                .version_id
                                .clone()
                                .or_else(|| outcome.version_id.as_ref().and_then(version_id_dto)),
                            ..DeletedObject::default()
                        });
                    }
                }
                Err(failure) => errors.push(Error {
                    code: Some(failure.code.as_str().to_owned()),
                    key: Some(object.key.clone()),
                    message: Some(failure.message),
                    version_id: object.version_id.clone(),
                }),
            }
        }
        Ok(DeleteObjectsOutput {
            deleted: (!deleted.is_empty()).then_some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            request_charged: None,
        })
    }

    pub(super) async fn copy_object_impl(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> Result<CopyObjectOutput> {
        let account = principal(&req)?;
        let input = &req.input;
        let (source_bucket, source_key, source_version_id) =
            convert::copy_source(&input.copy_source)?;
        let (bucket, key) = (existing_bucket(&input.bucket)?, object_key(&input.key)?);
        // The copy is a new object: its owner and ACL follow the
        // destination bucket's Object Ownership, as a PUT's do.
        let (owner, acl) = self.new_object_ownership(&req, &bucket, &account)?;
        let metadata = match input
            .metadata_directive
            .as_ref()
            .map(|d| d.as_str().to_ascii_uppercase())
        {
            None => MetadataDirective::Copy,
            Some(d) if d == "COPY" => MetadataDirective::Copy,
            Some(d) if d == "REPLACE" => MetadataDirective::Replace {
                headers: convert::content_headers(&req.headers),
                user_metadata: convert::user_metadata(&req.headers)?,
            },
            Some(_) => {
                return Err(error::with_message(
                    ErrorCode::InvalidArgument,
                    "Unknown metadata directive.",
                ))
            }
        };
        let tagging = match input
            .tagging_directive
            .as_ref()
            .map(|d| d.as_str().to_ascii_uppercase())
        {
            None => TaggingDirective::Copy,
            Some(d) if d == "COPY" => TaggingDirective::Copy,
            Some(d) if d == "REPLACE" => {
                TaggingDirective::Replace(tags_header(input.tagging.as_deref())?)
            }
            Some(_) => {
                return Err(error::with_message(
                    ErrorCode::InvalidArgument,
                    "Unknown tagging directive.",
                ))
            }
        };
        let request = CopyObjectRequest {
            source_bucket,
            source_key,
            source_version_id,
            source_conditions: convert::read_conditions(
                input.copy_source_if_match.as_ref(),
                input.copy_source_if_none_match.as_ref(),
                input.copy_source_if_modified_since.as_ref(),
                input.copy_source_if_unmodified_since.as_ref(),
            ),
            bucket: bucket.clone(),
            key: key.clone(),
            owner,
            metadata,
            tagging,
            checksum_algorithm: input
                .checksum_algorithm
                .as_ref()
                .map(convert::checksum_algorithm)
                .transpose()?,
            precondition: raw_write_precondition(&req.headers)?,
        };
        let outcome = self.engine.copy_object(request).await?;
        let version = &outcome.version;
        self.store_new_object_acl(&bucket, &key, version, acl)
            .await?;
        let checksums = ChecksumFields::from_checksum(version.checksum.as_ref());
        Ok(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                checksum_crc32: checksums.crc32,
                checksum_crc32c: checksums.crc32c,
                checksum_crc64nvme: checksums.crc64nvme,
                checksum_sha1: checksums.sha1,
                checksum_sha256: checksums.sha256,
                checksum_type: convert::checksum_type(version.checksum.as_ref()),
                e_tag: Some(convert::etag(&version.etag)),
                last_modified: Some(convert::timestamp(version.last_modified_ms)),
            }),
            copy_source_version_id: version_id_dto(&outcome.source_version_id),
            server_side_encryption: convert::sse(),
            version_id: convert::version_id_dto(version),
            ..CopyObjectOutput::default()
        })
    }
}

/// A missing key is 404 NoSuchKey only for callers who may list the
/// bucket; everyone else gets 403, so keys cannot be probed.
fn hide_missing_key<I, T>(req: &S3Request<I>, result: Result<T>) -> Result<T> {
    match result {
        Err(failure) if failure.code == ErrorCode::NoSuchKey => {
            let may_list = req
                .extensions
                .get::<Principal>()
                .is_some_and(|principal| principal.list_bucket_allowed);
            Err(if may_list {
                failure
            } else {
                error::code(ErrorCode::AccessDenied)
            })
        }
        other => other,
    }
}

impl Gateway {
    /// Store the ACL a write asked for on exactly the version it wrote (a
    /// later write keeps its own).
    async fn store_new_object_acl(
        &self,
        bucket: &coffer_types::BucketName,
        key: &coffer_types::ObjectKey,
        version: &coffer_meta::ObjectVersion,
        acl: Option<coffer_meta::ObjectAclRecord>,
    ) -> Result<()> {
        let Some(acl) = acl else {
            return Ok(());
        };
        self.engine
            .set_object_acl(
                bucket,
                key,
                Some(version.version_id.clone()),
                Some(version.last_modified_ms),
                acl,
            )
            .await
    }

    /// Who owns a new object and the ACL to store with it (when ACLs are
    /// enabled and the request set one): under BucketOwnerEnforced the
    /// bucket owner (no ACL); under BucketOwnerPreferred the bucket owner
    /// when the writer granted it full control; else the writer.
    pub(super) fn new_object_ownership<T>(
        &self,
        req: &S3Request<T>,
        bucket: &coffer_types::BucketName,
        writer: &coffer_meta::AccountRecord,
    ) -> Result<(
        coffer_types::AccountId,
        Option<coffer_meta::ObjectAclRecord>,
    )> {
        let context =
            request_bucket(req, bucket)?.ok_or_else(|| error::code(ErrorCode::NoSuchBucket))?;
        let bucket_owner = &context.owner;
        let ownership = context.access.ownership_or_default();
        if ownership == coffer_meta::OwnershipRecord::BucketOwnerEnforced {
            return Ok((bucket_owner.id.clone(), None));
        }
        let acl = crate::acl_convert::acl_from_headers(
            &req.headers,
            &writer.canonical_id.0,
            Some(&bucket_owner.canonical_id.0),
            &*self.engine,
        )?;
        let bucket_owner_has_full_control = acl.as_ref().is_some_and(|acl| {
            acl.grants.iter().any(|grant| {
                grant.permission == coffer_policy::Permission::FullControl
                    && grant.grantee
                        == coffer_policy::Grantee::CanonicalUser(
                            bucket_owner.canonical_id.0.clone(),
                        )
            })
        });
        let owner = match ownership {
            coffer_meta::OwnershipRecord::BucketOwnerPreferred if bucket_owner_has_full_control => {
                bucket_owner.id.clone()
            }
            _ => writer.id.clone(),
        };
        let record = acl.map(|acl| coffer_meta::ObjectAclRecord {
            grants: acl
                .grants
                .iter()
                .map(crate::acl_convert::grant_record)
                .collect(),
        });
        Ok((owner, record))
    }
}

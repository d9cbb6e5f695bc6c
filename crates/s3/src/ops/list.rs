//! ListObjects (v1), ListObjectsV2 and ListObjectVersions, including
//! `encoding-type=url` and the owner fields.

use std::collections::HashMap;

use coffer_engine::{ListEntry, ListObjectsRequest, ListVersionsRequest};
use coffer_meta::AccountRecord;
use coffer_types::{AccountId, BucketName, ErrorCode, S3Error, VersionId};
use s3s::dto::*;
use s3s::S3Request;

use super::{existing_bucket, Gateway, Result};
use crate::{convert, error, limits};

/// Applies `encoding-type=url` to every key-like field of a list answer.
pub(super) struct Encoder {
    url: bool,
}

impl Encoder {
    pub(super) fn new(encoding_type: Option<&EncodingType>) -> Result<Self> {
        match encoding_type.map(|e| e.as_str()) {
            None => Ok(Self { url: false }),
            Some(e) if e.eq_ignore_ascii_case("url") => Ok(Self { url: true }),
            Some(_) => Err(error::with_message(
                ErrorCode::InvalidArgument,
                "Invalid Encoding Method specified in Request",
            )),
        }
    }

    pub(super) fn text(&self, text: &str) -> String {
        if self.url {
            convert::url_encode(text)
        } else {
            text.to_owned()
        }
    }

    pub(super) fn opt(&self, text: Option<&str>) -> Option<String> {
        text.map(|t| self.text(t))
    }

    /// A marker echoed back: always present, empty when none was given.
    pub(super) fn echo_marker(&self, marker: Option<&str>) -> Option<String> {
        Some(marker.map(|m| self.text(m)).unwrap_or_default())
    }

    pub(super) fn echo(&self) -> Option<EncodingType> {
        self.url
            .then(|| EncodingType::from_static(EncodingType::URL))
    }

    pub(super) fn prefixes(&self, prefixes: &[String]) -> Option<CommonPrefixList> {
        (!prefixes.is_empty()).then(|| {
            prefixes
                .iter()
                .map(|p| CommonPrefix {
                    prefix: Some(self.text(p)),
                })
                .collect()
        })
    }
}

/// Looks each owner up once per request.
pub(super) struct Owners<'a> {
    gateway: &'a Gateway,
    cache: HashMap<AccountId, Option<AccountRecord>>,
}

impl<'a> Owners<'a> {
    pub(super) fn new(gateway: &'a Gateway) -> Self {
        Self {
            gateway,
            cache: HashMap::new(),
        }
    }

    pub(super) fn owner(&mut self, id: &AccountId) -> Result<Owner> {
        if !self.cache.contains_key(id) {
            let record = self.gateway.engine.meta().account(id).map_err(|failure| {
                tracing::error!(error = %failure, "account lookup failed");
                S3Error::internal()
            })?;
            self.cache.insert(id.clone(), record);
        }
        Ok(match self.cache.get(id).and_then(Option::as_ref) {
            Some(account) => convert::owner(account),
            // An owner whose account is gone still has an id to show.
            None => Owner {
                display_name: None,
                id: Some(id.0.clone()),
            },
        })
    }
}

/// The query fields every list operation shares, read in one order so that
/// each operation refuses a bad request with the same error first.
pub(super) struct ListQuery {
    pub(super) bucket: BucketName,
    pub(super) encoder: Encoder,
    pub(super) page_size: usize,
    pub(super) prefix: String,
    /// An empty delimiter is no delimiter.
    pub(super) delimiter: Option<String>,
}

impl ListQuery {
    /// `page_size_name` is the query parameter's name, for the error.
    pub(super) fn parse(
        bucket: &str,
        encoding_type: Option<&EncodingType>,
        (page_size, page_size_name): (Option<i32>, &str),
        prefix: Option<&String>,
        delimiter: Option<&String>,
    ) -> Result<Self> {
        Ok(Self {
            bucket: existing_bucket(bucket)?,
            encoder: Encoder::new(encoding_type)?,
            page_size: limits::page_size(page_size, page_size_name)?,
            prefix: prefix.cloned().unwrap_or_default(),
            delimiter: delimiter.filter(|d| !d.is_empty()).cloned(),
        })
    }
}

fn object(entry: &ListEntry, encoder: &Encoder, owner: Option<Owner>) -> Object {
    Object {
        e_tag: Some(convert::etag(&entry.version.etag)),
        key: Some(encoder.text(entry.key.as_str())),
        last_modified: Some(convert::timestamp(entry.version.last_modified_ms)),
        owner,
        size: Some(entry.version.size_bytes as i64),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        checksum_algorithm: entry
            .version
            .checksum
            .as_ref()
            .map(|c| vec![convert::checksum_algorithm_dto(c.algorithm)]),
        ..Object::default()
    }
}

impl Gateway {
    /// The Contents of a ListObjects or ListObjectsV2 page; owners are
    /// looked up only when they are shown.
    fn contents(
        &self,
        entries: &[ListEntry],
        encoder: &Encoder,
        with_owner: bool,
    ) -> Result<Vec<Object>> {
        let mut owners = Owners::new(self);
        let mut contents = Vec::with_capacity(entries.len());
        for entry in entries {
            let owner = if with_owner {
                Some(owners.owner(&entry.version.owner)?)
            } else {
                None
            };
            contents.push(object(entry, encoder, owner));
        }
        Ok(contents)
    }

    pub(super) async fn list_objects_impl(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> Result<ListObjectsOutput> {
        let input = &req.input;
        let ListQuery {
            bucket,
            encoder,
            page_size: max_keys,
            prefix,
            delimiter,
        } = ListQuery::parse(
            &input.bucket,
            input.encoding_type.as_ref(),
            (input.max_keys, "max-keys"),
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
        )?;
        let marker = input.marker.clone().filter(|m| !m.is_empty());
        let page = self
            .engine
            .list_objects(ListObjectsRequest {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                delimiter: delimiter.clone(),
                after: marker.clone(),
                max_keys,
            })
            .await?;
        let contents = self.contents(&page.objects, &encoder, true)?;
        // AWS sends NextMarker only when a delimiter was given; without one
        // the client uses the last key as the next marker.
        let next_marker = (page.is_truncated && delimiter.is_some())
            .then(|| page.last_returned.as_deref().map(|m| encoder.text(m)))
            .flatten();
        Ok(ListObjectsOutput {
            name: Some(bucket.as_str().to_owned()),
            prefix: Some(encoder.text(&prefix)),
            marker: encoder.echo_marker(marker.as_deref()),
            max_keys: Some(max_keys as i32),
            is_truncated: Some(page.is_truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: encoder.prefixes(&page.common_prefixes),
            delimiter: encoder.opt(delimiter.as_deref()),
            next_marker,
            encoding_type: encoder.echo(),
            request_charged: None,
        })
    }

    pub(super) async fn list_objects_v2_impl(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> Result<ListObjectsV2Output> {
        let input = &req.input;
        let ListQuery {
            bucket,
            encoder,
            page_size: max_keys,
            prefix,
            delimiter,
        } = ListQuery::parse(
            &input.bucket,
            input.encoding_type.as_ref(),
            (input.max_keys, "max-keys"),
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
        )?;
        let start_after = input.start_after.clone().filter(|s| !s.is_empty());
        // A continuation token wins over start-after, as on AWS.
        let after = match input.continuation_token.as_deref() {
            Some(token) => Some(convert::decode_continuation_token(token)?),
            None => start_after.clone(),
        };
        let page = self
            .engine
            .list_objects(ListObjectsRequest {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                delimiter: delimiter.clone(),
                after,
                max_keys,
            })
            .await?;
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let contents = self.contents(&page.objects, &encoder, fetch_owner)?;
        let key_count = (page.objects.len() + page.common_prefixes.len()) as i32;
        let next_continuation_token = page
            .is_truncated
            .then(|| {
                page.last_returned
                    .as_deref()
                    .map(convert::encode_continuation_token)
            })
            .flatten();
        Ok(ListObjectsV2Output {
            name: Some(bucket.as_str().to_owned()),
            prefix: Some(encoder.text(&prefix)),
            max_keys: Some(max_keys as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token.clone(),
            is_truncated: Some(page.is_truncated),
            next_continuation_token,
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: encoder.prefixes(&page.common_prefixes),
            delimiter: encoder.opt(delimiter.as_deref()),
            encoding_type: encoder.echo(),
            start_after: encoder.opt(start_after.as_deref()),
            request_charged: None,
        })
    }

    pub(super) async fn list_object_versions_impl(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> Result<ListObjectVersionsOutput> {
        let input = &req.input;
        let ListQuery {
            bucket,
            encoder,
            page_size: max_keys,
            prefix,
            delimiter,
        } = ListQuery::parse(
            &input.bucket,
            input.encoding_type.as_ref(),
            (input.max_keys, "max-keys"),
            input.prefix.as_ref(),
            input.delimiter.as_ref(),
        )?;
        let key_marker = input.key_marker.clone().filter(|m| !m.is_empty());
        let version_id_marker = input.version_id_marker.clone().filter(|m| !m.is_empty());
        if version_id_marker.is_some() && key_marker.is_none() {
            return Err(error::with_message(
                ErrorCode::InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            ));
        }
        let page = self
            .engine
            .list_object_versions(ListVersionsRequest {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                delimiter: delimiter.clone(),
                key_marker: key_marker.clone(),
                version_id_marker: version_id_marker.clone().map(VersionId),
                max_keys,
            })
            .await?;
        let mut owners = Owners::new(self);
        let mut versions = Vec::with_capacity(page.versions.len());
        let mut previous_key: Option<&str> = None;
        for entry in &page.versions {
            // Versions of a key come newest first, so the first one listed
            // for a key is its latest (no delete markers exist yet).
            let is_latest = previous_key != Some(entry.key.as_str());
            previous_key = Some(entry.key.as_str());
            versions.push(s3s::dto::ObjectVersion {
                e_tag: Some(convert::etag(&entry.version.etag)),
                is_latest: Some(is_latest),
                key: Some(encoder.text(entry.key.as_str())),
                last_modified: Some(convert::timestamp(entry.version.last_modified_ms)),
                owner: Some(owners.owner(&entry.version.owner)?),
                size: Some(entry.version.size_bytes as i64),
                storage_class: Some(ObjectVersionStorageClass::from_static(
                    ObjectVersionStorageClass::STANDARD,
                )),
                version_id: Some(entry.version.version_id.0.clone()),
                checksum_algorithm: entry
                    .version
                    .checksum
                    .as_ref()
                    .map(|c| vec![convert::checksum_algorithm_dto(c.algorithm)]),
                ..s3s::dto::ObjectVersion::default()
            });
        }
        Ok(ListObjectVersionsOutput {
            common_prefixes: encoder.prefixes(&page.common_prefixes),
            delete_markers: None,
            delimiter: encoder.opt(delimiter.as_deref()),
            encoding_type: encoder.echo(),
            is_truncated: Some(page.is_truncated),
            key_marker: encoder.echo_marker(key_marker.as_deref()),
            max_keys: Some(max_keys as i32),
            name: Some(bucket.as_str().to_owned()),
            next_key_marker: encoder.opt(page.next_key_marker.as_deref()),
            next_version_id_marker: page.next_version_id_marker.map(|v| v.0),
            prefix: Some(encoder.text(&prefix)),
            request_charged: None,
            version_id_marker: Some(version_id_marker.unwrap_or_default()),
            versions: (!versions.is_empty()).then_some(versions),
        })
    }
}

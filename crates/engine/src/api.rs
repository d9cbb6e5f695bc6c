//! The engine's request and outcome types. They speak S3's semantics
//! (ranges, preconditions, list paging) but no wire format: the gateway
//! converts s3s DTOs to these at its edge.

use std::pin::Pin;

use bytes::Bytes;
use coffer_meta::{
    ChecksumAlgorithm, ContentHeaders, ObjectVersion, PartRecord, UploadRecord, WritePrecondition,
};
use coffer_types::{AccountId, BucketName, ObjectKey, UnixMillis, UploadId, VersionId};
use futures::Stream;

/// A request body: a stream of chunks. Errors (client gone, bad chunk
/// signature) abort the write and leave nothing visible.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Object data for a response, decrypted lazily segment by segment.
pub type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// What the client expects a checksum to be.
pub enum ExpectedChecksum {
    /// Computed and stored, nothing to compare (x-amz-sdk-checksum-algorithm only).
    None,
    /// From a header, base64.
    Value(String),
    /// From an aws-chunked trailer: known only after the body is read.
    Trailer(Box<dyn FnOnce() -> Option<String> + Send>),
}

/// Checksum request for an upload: which algorithm and what to compare with.
pub struct ChecksumRequest {
    pub algorithm: ChecksumAlgorithm,
    pub expected: ExpectedChecksum,
}

/// Everything about a new object except its body.
pub struct PutObjectRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub owner: AccountId,
    /// Content-Length when the client sent one; the body must match it.
    pub content_length: Option<u64>,
    /// Content-MD5, base64, verified → BadDigest.
    pub content_md5_base64: Option<String>,
    pub checksum: Option<ChecksumRequest>,
    pub headers: ContentHeaders,
    pub user_metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub precondition: Option<WritePrecondition>,
}

pub struct PutObjectOutcome {
    pub version: ObjectVersion,
}

/// A byte range as the client asked for it (`Range: bytes=...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// `first-last`, inclusive.
    FromTo { first: u64, last: u64 },
    /// `first-`.
    From { first: u64 },
    /// `-length`: the last `length` bytes.
    Suffix { length: u64 },
}

/// GET/HEAD (and copy-source) preconditions, evaluated in AWS's order:
/// If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
#[derive(Clone, Debug, Default)]
pub struct ReadConditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since_ms: Option<UnixMillis>,
    pub if_unmodified_since_ms: Option<UnixMillis>,
}

pub struct GetObjectRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub version_id: Option<VersionId>,
    pub range: Option<RangeRequest>,
    pub part_number: Option<u32>,
    pub conditions: ReadConditions,
}

pub struct GetObjectOutcome {
    pub version: ObjectVersion,
    /// The bytes sent: `start..end` (end exclusive) of the object.
    pub start: u64,
    pub end: u64,
    /// True when a Range or partNumber selected part of the object (206).
    pub partial: bool,
    /// Parts count, for `x-amz-mp-parts-count` on partNumber requests.
    pub parts_count: Option<u32>,
    /// `None` for HEAD.
    pub body: Option<DataStream>,
}

pub enum MetadataDirective {
    Copy,
    Replace {
        headers: ContentHeaders,
        user_metadata: Vec<(String, String)>,
    },
}

pub enum TaggingDirective {
    Copy,
    Replace(Vec<(String, String)>),
}

pub struct CopyObjectRequest {
    pub source_bucket: BucketName,
    pub source_key: ObjectKey,
    pub source_version_id: Option<VersionId>,
    pub source_conditions: ReadConditions,
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub owner: AccountId,
    pub metadata: MetadataDirective,
    pub tagging: TaggingDirective,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub precondition: Option<WritePrecondition>,
}

pub struct CopyObjectOutcome {
    pub version: ObjectVersion,
    pub source_version_id: VersionId,
}

pub struct DeleteObjectOutcome {
    pub version_id: Option<VersionId>,
}

/// ListObjects (v1) and ListObjectsV2 share this; the gateway turns
/// markers and continuation tokens into `after`.
pub struct ListObjectsRequest {
    pub bucket: BucketName,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Exclusive start: a marker, a start-after, or a decoded token.
    pub after: Option<String>,
    /// 0..=1000 (the gateway clamps).
    pub max_keys: usize,
}

pub struct ListEntry {
    pub key: ObjectKey,
    pub version: ObjectVersion,
}

pub struct ListObjectsPage {
    /// Keys and common prefixes, each in binary order; together at most
    /// `max_keys` items.
    pub objects: Vec<ListEntry>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix returned, for NextMarker and the next
    /// continuation token.
    pub last_returned: Option<String>,
}

pub struct ListVersionsRequest {
    pub bucket: BucketName,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<VersionId>,
    pub max_keys: usize,
}

pub struct ListVersionsPage {
    pub versions: Vec<ListEntry>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<VersionId>,
}

pub struct CreateUploadRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub owner: AccountId,
    pub headers: ContentHeaders,
    pub user_metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
}

pub struct UploadPartRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub upload_id: UploadId,
    pub part_number: u32,
    pub content_length: Option<u64>,
    pub content_md5_base64: Option<String>,
    pub checksum: Option<ChecksumRequest>,
}

pub struct UploadPartCopyRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub upload_id: UploadId,
    pub part_number: u32,
    pub source_bucket: BucketName,
    pub source_key: ObjectKey,
    pub source_version_id: Option<VersionId>,
    pub source_conditions: ReadConditions,
    /// `x-amz-copy-source-range: bytes=first-last` (inclusive).
    pub source_range: Option<(u64, u64)>,
}

pub struct CompleteUploadRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub upload_id: UploadId,
    /// (part number, ETag) as listed by the client.
    pub parts: Vec<(u32, String)>,
    pub precondition: Option<WritePrecondition>,
}

pub struct ListUploadsRequest {
    pub bucket: BucketName,
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<UploadId>,
    pub max_uploads: usize,
}

pub struct ListUploadsPage {
    pub uploads: Vec<UploadRecord>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<UploadId>,
}

pub struct ListPartsRequest {
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub upload_id: UploadId,
    pub part_number_marker: u32,
    pub max_parts: usize,
}

pub struct ListPartsPage {
    pub upload: UploadRecord,
    pub parts: Vec<PartRecord>,
    pub is_truncated: bool,
    pub next_part_number_marker: Option<u32>,
}

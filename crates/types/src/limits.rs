//! Limits, from AWS's documented quotas and from DESIGN.md. Every request
//! path checks against these constants; nothing is unbounded.

/// Largest object key, in bytes of UTF-8.
pub const KEY_LENGTH_BYTES_MAX: usize = 1024;
/// Largest single PutObject body (AWS: 5 GiB).
pub const PUT_OBJECT_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024;
/// Smallest part of a multipart upload, except the last (AWS: 5 MiB).
pub const PART_SIZE_BYTES_MIN: u64 = 5 * 1024 * 1024;
/// Largest part of a multipart upload (AWS: 5 GiB).
pub const PART_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024;
/// Part numbers run from 1 to this (AWS: 10,000).
pub const PART_NUMBER_MAX: u32 = 10_000;
/// Largest object (AWS: 5 TiB, via multipart).
pub const OBJECT_SIZE_BYTES_MAX: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// Page size cap for every list operation.
pub const LIST_KEYS_MAX: usize = 1000;
/// Keys per DeleteObjects request.
pub const DELETE_OBJECTS_KEYS_MAX: usize = 1000;
/// Total size of user metadata (`x-amz-meta-*` names and values; AWS: 2 KB).
pub const USER_METADATA_BYTES_MAX: usize = 2 * 1024;
/// Tags per object.
pub const OBJECT_TAGS_MAX: usize = 10;
/// Tag key length in Unicode characters.
pub const TAG_KEY_LENGTH_MAX: usize = 128;
/// Tag value length in Unicode characters.
pub const TAG_VALUE_LENGTH_MAX: usize = 256;
/// Largest XML request body we parse (CompleteMultipartUpload with 10,000
/// parts is about 1 MiB; DeleteObjects with 1,000 long keys is about 1.1 MiB).
pub const XML_BODY_BYTES_MAX: usize = 2 * 1024 * 1024;
/// Plaintext bytes per block file (DESIGN §5).
pub const BLOCK_SIZE_BYTES_DEFAULT: u64 = 4 * 1024 * 1024;
/// Plaintext bytes per AEAD segment (DESIGN §6).
pub const SEGMENT_SIZE_BYTES: usize = 64 * 1024;
/// Presigned URL lifetime (AWS: 7 days).
pub const PRESIGNED_EXPIRES_SECONDS_MAX: u64 = 604_800;
/// Allowed clock skew for signed requests (AWS: 15 minutes).
pub const CLOCK_SKEW_SECONDS_MAX: i64 = 15 * 60;

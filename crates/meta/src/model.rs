//! Persisted records and the Raft command set. These types are the contract
//! between `meta` and `engine`; they are stored with bincode behind a
//! one-byte format version (see `codec`), so never change a field in place:
//! add a new version and a migration.

use coffer_types::{
    AccountId, BucketName, CanonicalId, DataId, ObjectKey, S3Error, UnixMillis, UploadId, VersionId,
};
use serde::{Deserialize, Serialize};

/// An account: the owner of buckets. Issue 2 has only the root account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: AccountId,
    pub canonical_id: CanonicalId,
    pub display_name: String,
    pub created_at_ms: UnixMillis,
}

/// An access key. The secret is stored wrapped by the region master key
/// (DESIGN §6), never in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account: AccountId,
    pub secret_wrapped: Vec<u8>,
    pub created_at_ms: UnixMillis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersioningState {
    /// Never versioned: every key holds one `null` version.
    Unversioned,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: BucketName,
    pub owner: AccountId,
    pub region: String,
    pub created_at_ms: UnixMillis,
    pub versioning: VersioningState,
}

/// How an object's data is encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// SSE-S3: the data key is wrapped by the region-managed key.
    SseS3 { dek_wrapped: Vec<u8> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

/// A stored checksum: the algorithm and the base64 value S3 returns. For a
/// multipart object `composite` marks a checksum-of-checksums (`...-N`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    pub value_base64: String,
}

/// One contiguous run of object data: the whole body of a single PUT (part
/// number 1) or one part of a completed multipart upload. Its plaintext is
/// stored in `ceil(size_bytes / block_size_bytes)` block files named by
/// `data_id` and block index; a zero-byte part has no blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartLayout {
    pub part_number: u32,
    pub data_id: DataId,
    pub size_bytes: u64,
    pub block_size_bytes: u64,
    /// The part's ETag as S3 shows it, with quotes (`"<md5 hex>"`).
    pub etag: String,
    pub checksum: Option<Checksum>,
}

/// One page of `MetaStore::data_runs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataRunsPage {
    /// (data id, block count) of each part met on this page.
    pub runs: Vec<(DataId, u64)>,
    /// Pass as `after` for the next page; `None` when the walk is done.
    pub next: Option<Vec<u8>>,
}

impl PartLayout {
    /// Block files of this part: its size in whole or partial blocks.
    pub fn block_count(&self) -> u64 {
        let block_size_bytes = if self.block_size_bytes == 0 {
            coffer_types::limits::BLOCK_SIZE_BYTES_DEFAULT
        } else {
            self.block_size_bytes
        };
        self.size_bytes.div_ceil(block_size_bytes)
    }
}

/// Standard headers stored with an object and returned on GET/HEAD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    /// The `Expires` header exactly as the client sent it.
    pub expires: Option<String>,
}

/// One version of an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectVersion {
    pub version_id: VersionId,
    pub last_modified_ms: UnixMillis,
    pub size_bytes: u64,
    /// With quotes, as S3 returns it: `"<md5>"` or `"<md5 of md5s>-N"`.
    pub etag: String,
    pub owner: AccountId,
    pub headers: ContentHeaders,
    /// `x-amz-meta-*` pairs, names lowercased, in the order received.
    pub user_metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub checksum: Option<Checksum>,
    pub encryption: Encryption,
    /// Parts in ascending part-number order. A single PUT has one part.
    pub parts: Vec<PartLayout>,
    /// True when created by CompleteMultipartUpload (GET partNumber and the
    /// `-N` ETag depend on it).
    pub multipart: bool,
}

/// A multipart upload in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: UploadId,
    pub bucket: BucketName,
    pub key: ObjectKey,
    pub initiated_ms: UnixMillis,
    pub owner: AccountId,
    pub headers: ContentHeaders,
    pub user_metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// One data key per upload; every part is sealed under it.
    pub encryption: Encryption,
}

/// One uploaded part of an upload in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub layout: PartLayout,
    pub last_modified_ms: UnixMillis,
}

/// Block files whose data is no longer referenced; a GC worker deletes them
/// and then proposes `Command::GcDone`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcEntry {
    pub data_id: DataId,
    pub block_count: u64,
    pub enqueued_ms: UnixMillis,
}

/// A condition on the current version of a key, decided inside `apply` so
/// that concurrent conditional writes are ordered by the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WritePrecondition {
    /// `If-None-Match: *`: fail if the key has a current version.
    IfNoneMatchAny,
    /// `If-Match: "etag"`: fail unless the current version has this ETag
    /// (`*` matches any existing version). Quotes included.
    IfMatch(String),
}

/// One key to delete in a DeleteObjects batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteTarget {
    pub key: ObjectKey,
    pub version_id: Option<VersionId>,
}

/// An account's details beyond `AccountRecord` (kept apart so that
/// accounts stored before they existed still decode).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountProfile {
    pub email: Option<String>,
}

/// The four Block Public Access settings, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlockRecord {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnershipRecord {
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupRecord {
    AllUsers,
    AuthenticatedUsers,
    LogDelivery,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GranteeRecord {
    /// A canonical user id (e-mail grants are resolved before storing).
    CanonicalUser(String),
    Group(GroupRecord),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PermissionRecord {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub grantee: GranteeRecord,
    pub permission: PermissionRecord,
}

/// What governs access to a bucket besides its owner. A bucket created
/// before these existed has no record: it reads as `BucketAccess::legacy()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketAccess {
    /// The bucket policy as the client sent it (GetBucketPolicy returns
    /// it verbatim).
    pub policy: Option<String>,
    /// `None`: never set (GetPublicAccessBlock answers 404).
    pub public_access_block: Option<PublicAccessBlockRecord>,
    /// `None`: never set; behaves as BucketOwnerEnforced.
    pub ownership: Option<OwnershipRecord>,
    /// The bucket ACL's grants beyond the owner's FULL_CONTROL.
    pub acl: Vec<GrantRecord>,
}

impl BucketAccess {
    /// AWS's defaults for a new bucket: Block Public Access on, ACLs off.
    pub fn new_bucket_defaults() -> Self {
        Self {
            policy: None,
            public_access_block: Some(PublicAccessBlockRecord {
                block_public_acls: true,
                ignore_public_acls: true,
                block_public_policy: true,
                restrict_public_buckets: true,
            }),
            ownership: Some(OwnershipRecord::BucketOwnerEnforced),
            acl: Vec::new(),
        }
    }

    /// A bucket from before access records: nothing set.
    pub fn legacy() -> Self {
        Self {
            policy: None,
            public_access_block: None,
            ownership: None,
            acl: Vec::new(),
        }
    }

    pub fn ownership_or_default(&self) -> OwnershipRecord {
        self.ownership
            .unwrap_or(OwnershipRecord::BucketOwnerEnforced)
    }
}

/// An object version's ACL grants (the owner is the version's `owner`).
/// No record: the private ACL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectAclRecord {
    pub grants: Vec<GrantRecord>,
}

/// One change to a bucket's `BucketAccess`; `apply` checks it against the
/// rest (an ACL under BucketOwnerEnforced, Enforced over a granting ACL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BucketAccessChange {
    Policy(Option<String>),
    PublicAccessBlock(Option<PublicAccessBlockRecord>),
    Ownership(Option<OwnershipRecord>),
    Acl(Vec<GrantRecord>),
}

/// Every change to metadata. The proposer fills in every id, timestamp and
/// random value; `apply` is a pure function of state and command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Create the account and its access key if no account with this id
    /// exists (idempotent: the root account on first start).
    EnsureAccount {
        account: AccountRecord,
        access_key: AccessKeyRecord,
    },
    CreateBucket {
        bucket: BucketRecord,
    },
    DeleteBucket {
        bucket: BucketName,
    },
    /// Install `version` as the key's current version. Data of a replaced
    /// version goes to the GC queue.
    PutObject {
        bucket: BucketName,
        key: ObjectKey,
        version: ObjectVersion,
        precondition: Option<WritePrecondition>,
    },
    DeleteObject {
        bucket: BucketName,
        key: ObjectKey,
        version_id: Option<VersionId>,
        now_ms: UnixMillis,
    },
    DeleteObjects {
        bucket: BucketName,
        targets: Vec<DeleteTarget>,
        now_ms: UnixMillis,
    },
    PutObjectTags {
        bucket: BucketName,
        key: ObjectKey,
        version_id: Option<VersionId>,
        tags: Vec<(String, String)>,
    },
    CreateUpload {
        upload: UploadRecord,
    },
    /// Record a part; a part previously stored under the same number goes to
    /// the GC queue.
    PutPart {
        bucket: BucketName,
        key: ObjectKey,
        upload_id: UploadId,
        part: PartRecord,
    },
    /// Validate the client's part list against the stored parts (InvalidPart,
    /// InvalidPartOrder, EntityTooSmall), then install the object. Parts not
    /// named go to the GC queue. `version.parts` is filled in by `apply`
    /// from the stored parts; the proposer leaves it empty.
    CompleteUpload {
        bucket: BucketName,
        key: ObjectKey,
        upload_id: UploadId,
        /// (part number, ETag with quotes) as the client listed them.
        parts: Vec<(u32, String)>,
        version: ObjectVersion,
        precondition: Option<WritePrecondition>,
    },
    AbortUpload {
        bucket: BucketName,
        key: ObjectKey,
        upload_id: UploadId,
        now_ms: UnixMillis,
    },
    /// Blocks of these data ids were deleted from disk.
    GcDone {
        data_ids: Vec<DataId>,
    },
    // New variants go last: the log stores commands by variant index.
    /// Create a bucket with its access settings in one step.
    CreateBucketWithAccess {
        bucket: BucketRecord,
        access: BucketAccess,
    },
    ChangeBucketAccess {
        bucket: BucketName,
        change: BucketAccessChange,
    },
    /// A new account with its first access key. Fails with
    /// EntityAlreadyExists if the id, access key or e-mail is taken.
    CreateAccount {
        account: AccountRecord,
        profile: AccountProfile,
        access_key: AccessKeyRecord,
    },
    /// Remove an account, its profile and its access keys. Fails with
    /// DeleteConflict while it owns buckets.
    DeleteAccount {
        account: AccountId,
    },
    SetAccountPublicAccessBlock {
        account: AccountId,
        settings: Option<PublicAccessBlockRecord>,
    },
    /// Replace the ACL of an object version (the current one when
    /// `version_id` is `None`). With `last_modified_ms`, only that exact
    /// version: a PUT's ACL never lands on an object written after it.
    SetObjectAcl {
        bucket: BucketName,
        key: ObjectKey,
        version_id: Option<VersionId>,
        last_modified_ms: Option<UnixMillis>,
        acl: ObjectAclRecord,
    },
    /// A change to the IAM users, keys and policies of `account`.
    Iam {
        account: AccountId,
        change: crate::iam_apply::IamChange,
    },
    /// The ACL a multipart upload's object gets when it completes.
    SetUploadAcl {
        bucket: BucketName,
        key: ObjectKey,
        upload_id: UploadId,
        acl: ObjectAclRecord,
    },
}

/// What `apply` answers for a command. A business failure (NoSuchBucket,
/// PreconditionFailed, ...) is a normal, committed outcome: the log entry is
/// applied and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    Ok,
    Failed(S3Error),
    /// DeleteObject: whether a version existed and what was removed.
    Deleted {
        existed: bool,
    },
    /// DeleteObjects: one result per target, in order.
    DeletedMany(Vec<Result<(), S3Error>>),
    /// CompleteUpload: the installed version (with its parts).
    Completed(Box<ObjectVersion>),
    /// A numbered thing was created (CreatePolicyVersion: its number).
    Created(u64),
}

impl CommandResult {
    /// Turn a `Failed` into an `Err` for `?` at the call site.
    pub fn into_result(self) -> Result<CommandResult, S3Error> {
        match self {
            CommandResult::Failed(error) => Err(error),
            other => Ok(other),
        }
    }
}

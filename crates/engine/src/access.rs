//! Accounts and the access settings of buckets (policy, Block Public
//! Access, Object Ownership, ACL). The gateway validates and converts; the
//! engine reads and proposes, and `apply` decides the checks that depend on
//! state.

use coffer_meta::{
    AccessKeyRecord, AccountProfile, AccountRecord, BucketAccess, BucketAccessChange, BucketRecord,
    Command, ObjectAclRecord, ObjectVersion, PublicAccessBlockRecord,
};
use coffer_types::{
    AccountId, BucketName, CanonicalId, ErrorCode, ObjectKey, S3Error, UnixMillis, VersionId,
};
use rand::Rng;

use crate::{errors, Engine, Result};

/// Characters of generated access key ids (AWS uses upper-case letters and
/// digits).
pub(crate) const KEY_ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Display names are shown in ACLs and listings; keep them printable.
const DISPLAY_NAME_CHARS_MAX: usize = 64;

/// A new account and the secret of its first access key (shown once).
pub struct NewAccount {
    pub account: AccountRecord,
    pub profile: AccountProfile,
    pub access_key_id: String,
    pub secret_access_key: zeroize::Zeroizing<String>,
}

pub(crate) fn random_string(alphabet: &[u8], length: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..length)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// A new access key id with AWS's shape (`AKIA` + 16 characters).
pub(crate) fn new_access_key_id() -> String {
    format!("AKIA{}", random_string(KEY_ID_CHARS, 16))
}

pub(crate) fn new_secret() -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(random_string(SECRET_CHARS, 40))
}

fn invalid(message: &str) -> S3Error {
    S3Error::new(ErrorCode::InvalidArgument, message)
}

impl Engine {
    /// Create an account with a fresh 12-digit id, canonical id and access
    /// key.
    pub async fn create_account(
        &self,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<NewAccount> {
        let display_name = display_name.trim();
        if display_name.is_empty()
            || display_name.len() > DISPLAY_NAME_CHARS_MAX
            || display_name.chars().any(char::is_control)
        {
            return Err(invalid("An account name is 1 to 64 printable characters."));
        }
        if let Some(email) = email {
            let plausible = email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !email
                    .chars()
                    .any(|character| character.is_whitespace() || character.is_control());
            if !plausible {
                return Err(invalid("The e-mail address is not valid."));
            }
        }
        let (id, canonical_id) = {
            let mut rng = rand::thread_rng();
            let id = format!(
                "{:012}",
                rng.gen_range(100_000_000_000u64..1_000_000_000_000)
            );
            let canonical: [u8; 32] = rng.gen();
            (AccountId(id), CanonicalId(hex::encode(canonical)))
        };
        let now_ms = coffer_types::now_unix_millis();
        let account = AccountRecord {
            id: id.clone(),
            canonical_id,
            display_name: display_name.to_owned(),
            created_at_ms: now_ms,
        };
        let profile = AccountProfile {
            email: email.map(str::to_owned),
        };
        let access_key_id = new_access_key_id();
        let secret_access_key = new_secret();
        let access_key = AccessKeyRecord {
            access_key_id: access_key_id.clone(),
            account: id,
            secret_wrapped: self.wrap_access_secret(&access_key_id, &secret_access_key),
            created_at_ms: now_ms,
        };
        self.propose(Command::CreateAccount {
            account: account.clone(),
            profile: profile.clone(),
            access_key,
        })
        .await?;
        Ok(NewAccount {
            account,
            profile,
            access_key_id,
            secret_access_key,
        })
    }

    pub async fn delete_account(&self, account: &AccountId) -> Result<()> {
        self.propose(Command::DeleteAccount {
            account: account.clone(),
        })
        .await
        .map(|_| ())
    }

    pub async fn accounts(&self) -> Result<Vec<(AccountRecord, AccountProfile)>> {
        self.read_barrier().await?;
        let accounts = self
            .meta
            .accounts()
            .map_err(|error| errors::meta("list accounts", error))?;
        accounts
            .into_iter()
            .map(|account| {
                let profile = self
                    .meta
                    .account_profile(&account.id)
                    .map_err(|error| errors::meta("read account profile", error))?;
                Ok((account, profile))
            })
            .collect()
    }

    /// An account by id.
    pub fn account_record(&self, id: &AccountId) -> Result<Option<AccountRecord>> {
        self.meta
            .account(id)
            .map_err(|error| errors::meta("read account", error))
    }

    /// The account behind a canonical id or an e-mail address (ACL grants).
    pub fn account_by_canonical_id(&self, canonical_id: &str) -> Result<Option<AccountRecord>> {
        self.meta
            .account_by_canonical_id(canonical_id)
            .map_err(|error| errors::meta("find account", error))
    }

    pub fn account_by_email(&self, email: &str) -> Result<Option<AccountRecord>> {
        let Some(id) = self
            .meta
            .account_by_email(email)
            .map_err(|error| errors::meta("find account", error))?
        else {
            return Ok(None);
        };
        self.account_record(&id)
    }

    pub fn account_public_access_block(
        &self,
        id: &AccountId,
    ) -> Result<Option<PublicAccessBlockRecord>> {
        self.meta
            .account_public_access_block(id)
            .map_err(|error| errors::meta("read account public access block", error))
    }

    pub async fn set_account_public_access_block(
        &self,
        id: &AccountId,
        settings: Option<PublicAccessBlockRecord>,
    ) -> Result<()> {
        self.propose(Command::SetAccountPublicAccessBlock {
            account: id.clone(),
            settings,
        })
        .await
        .map(|_| ())
    }

    /// A bucket and its access settings, as of the last applied entry
    /// (the access check runs before the handler's read barrier).
    pub fn bucket_with_access(&self, bucket: &BucketName) -> Result<(BucketRecord, BucketAccess)> {
        let record = self.require_bucket(bucket)?;
        let access = self
            .meta
            .bucket_access(bucket)
            .map_err(|error| errors::meta("read bucket access", error))?;
        Ok((record, access))
    }

    /// The same, after a read barrier (for Get* handlers).
    pub async fn bucket_access(&self, bucket: &BucketName) -> Result<(BucketRecord, BucketAccess)> {
        self.read_barrier().await?;
        self.bucket_with_access(bucket)
    }

    pub async fn change_bucket_access(
        &self,
        bucket: &BucketName,
        change: BucketAccessChange,
    ) -> Result<()> {
        self.propose(Command::ChangeBucketAccess {
            bucket: bucket.clone(),
            change,
        })
        .await
        .map(|_| ())
    }

    /// An object version and its ACL as of the last applied entry (the
    /// access check runs before the handler's read barrier).
    pub fn object_acl_now(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<&VersionId>,
    ) -> Result<Option<(ObjectVersion, ObjectAclRecord)>> {
        self.meta
            .object_acl(bucket, key, version_id)
            .map_err(|error| errors::meta("read object acl", error))
    }

    /// The same after a read barrier; a missing object is NoSuchKey (or
    /// NoSuchVersion).
    pub async fn object_acl(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<&VersionId>,
    ) -> Result<(ObjectVersion, ObjectAclRecord)> {
        self.read_barrier().await?;
        self.require_bucket(bucket)?;
        self.object_acl_now(bucket, key, version_id)?
            .ok_or_else(|| {
                S3Error::from(if version_id.is_some() {
                    ErrorCode::NoSuchVersion
                } else {
                    ErrorCode::NoSuchKey
                })
            })
    }

    /// Replace an object version's ACL (see `Command::SetObjectAcl`).
    /// The ACL the object of multipart upload `upload_id` gets when the
    /// upload completes.
    pub async fn set_upload_acl(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &coffer_types::UploadId,
        acl: ObjectAclRecord,
    ) -> Result<()> {
        self.propose(Command::SetUploadAcl {
            bucket: bucket.clone(),
            key: key.clone(),
            upload_id: upload_id.clone(),
            acl,
        })
        .await
        .map(|_| ())
    }

    pub async fn set_object_acl(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        version_id: Option<VersionId>,
        last_modified_ms: Option<UnixMillis>,
        acl: ObjectAclRecord,
    ) -> Result<()> {
        self.propose(Command::SetObjectAcl {
            bucket: bucket.clone(),
            key: key.clone(),
            version_id,
            last_modified_ms,
            acl,
        })
        .await
        .map(|_| ())
    }
}

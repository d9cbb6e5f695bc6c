//! `apply` for accounts and for the access settings of buckets: the checks
//! that depend on state (names taken, an ACL under BucketOwnerEnforced, a
//! switch to Enforced over a granting ACL) are decided here, in log order.

use coffer_types::{AccountId, BucketName, ErrorCode, ObjectKey, S3Error, UnixMillis, VersionId};

use crate::keys;
use crate::model::*;
use crate::queries;
use crate::store::{KvRead, Txn};
use crate::MetaError;

fn failed(code: ErrorCode, message: &str) -> CommandResult {
    CommandResult::Failed(S3Error::new(code, message))
}

fn failed_code(code: ErrorCode) -> CommandResult {
    CommandResult::Failed(S3Error::from(code))
}

pub(crate) fn create_bucket_with_access(
    txn: &mut Txn<'_>,
    bucket: &BucketRecord,
    access: &BucketAccess,
) -> Result<CommandResult, MetaError> {
    if let Some(existing) = queries::bucket(txn, &bucket.name)? {
        return Ok(failed_code(if existing.owner == bucket.owner {
            ErrorCode::BucketAlreadyOwnedByYou
        } else {
            ErrorCode::BucketAlreadyExists
        }));
    }
    if access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced {
        let owner = owner_canonical_id(txn, &bucket.owner)?;
        if !grants_only_to(&access.acl, &owner) {
            return Ok(failed_code(ErrorCode::InvalidBucketAclWithObjectOwnership));
        }
    }
    txn.put(keys::bucket(&bucket.name), bucket)?;
    txn.put(keys::bucket_access(&bucket.name), access)?;
    Ok(CommandResult::Ok)
}

fn owner_canonical_id(view: &impl KvRead, owner: &AccountId) -> Result<String, MetaError> {
    Ok(queries::account(view, owner)?
        .map(|account| account.canonical_id.0)
        .unwrap_or_default())
}

/// Whether every grant is to the owner (an empty list is the private ACL).
fn grants_only_to(grants: &[GrantRecord], owner_canonical_id: &str) -> bool {
    grants.iter().all(|grant| {
        matches!(&grant.grantee, GranteeRecord::CanonicalUser(id) if id.eq_ignore_ascii_case(owner_canonical_id))
    })
}

pub(crate) fn change_bucket_access(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    change: &BucketAccessChange,
) -> Result<CommandResult, MetaError> {
    let Some(record) = queries::bucket(txn, bucket)? else {
        return Ok(failed_code(ErrorCode::NoSuchBucket));
    };
    let mut access = queries::bucket_access(txn, bucket)?;
    let owner = owner_canonical_id(txn, &record.owner)?;
    match change {
        BucketAccessChange::Policy(policy) => access.policy = policy.clone(),
        BucketAccessChange::PublicAccessBlock(settings) => access.public_access_block = *settings,
        BucketAccessChange::Ownership(ownership) => {
            let enforced = ownership.unwrap_or(OwnershipRecord::BucketOwnerEnforced)
                == OwnershipRecord::BucketOwnerEnforced;
            if enforced && !grants_only_to(&access.acl, &owner) {
                return Ok(failed_code(ErrorCode::InvalidBucketAclWithObjectOwnership));
            }
            access.ownership = *ownership;
        }
        BucketAccessChange::Acl(grants) => {
            if access.ownership_or_default() == OwnershipRecord::BucketOwnerEnforced
                && !grants_only_to(grants, &owner)
            {
                return Ok(failed_code(ErrorCode::AccessControlListNotSupported));
            }
            access.acl = grants.clone();
        }
    }
    txn.put(keys::bucket_access(bucket), &access)?;
    Ok(CommandResult::Ok)
}

pub(crate) fn create_account(
    txn: &mut Txn<'_>,
    account: &AccountRecord,
    profile: &AccountProfile,
    access_key: &AccessKeyRecord,
) -> Result<CommandResult, MetaError> {
    if txn.contains(&keys::account(&account.id.0))? {
        return Ok(failed(
            ErrorCode::EntityAlreadyExists,
            "An account with this id already exists.",
        ));
    }
    if txn.contains(&keys::access_key(&access_key.access_key_id))? {
        return Ok(failed(
            ErrorCode::EntityAlreadyExists,
            "The access key id is taken.",
        ));
    }
    if let Some(email) = &profile.email {
        if txn.contains(&keys::email(email))? {
            return Ok(failed(
                ErrorCode::EntityAlreadyExists,
                "An account with this e-mail address already exists.",
            ));
        }
        txn.put(keys::email(email), &account.id)?;
    }
    txn.put(keys::account(&account.id.0), account)?;
    txn.put(keys::account_profile(&account.id.0), profile)?;
    txn.put(keys::access_key(&access_key.access_key_id), access_key)?;
    Ok(CommandResult::Ok)
}

pub(crate) fn delete_account(
    txn: &mut Txn<'_>,
    account: &AccountId,
) -> Result<CommandResult, MetaError> {
    if !txn.contains(&keys::account(&account.0))? {
        return Ok(failed(
            ErrorCode::NoSuchEntity,
            "The account does not exist.",
        ));
    }
    if queries::buckets(txn)?
        .iter()
        .any(|bucket| &bucket.owner == account)
    {
        return Ok(failed(
            ErrorCode::DeleteConflict,
            "The account still owns buckets; delete them first.",
        ));
    }
    for (key, access_key) in
        txn.scan_values::<AccessKeyRecord>(keys::ACCESS_KEY, keys::ACCESS_KEY, usize::MAX)?
    {
        if &access_key.account == account {
            txn.delete(key);
        }
    }
    if let Some(profile) = txn.get::<AccountProfile>(&keys::account_profile(&account.0))? {
        if let Some(email) = profile.email {
            txn.delete(keys::email(&email));
        }
    }
    crate::iam::delete_all_of(txn, account)?;
    crate::iam_apply::forget_session_count(txn, account);
    txn.delete(keys::account_profile(&account.0));
    txn.delete(keys::account_public_access_block(&account.0));
    txn.delete(keys::account(&account.0));
    Ok(CommandResult::Ok)
}

pub(crate) fn set_account_public_access_block(
    txn: &mut Txn<'_>,
    account: &AccountId,
    settings: Option<&PublicAccessBlockRecord>,
) -> Result<CommandResult, MetaError> {
    if !txn.contains(&keys::account(&account.0))? {
        return Ok(failed(
            ErrorCode::NoSuchEntity,
            "The account does not exist.",
        ));
    }
    let key = keys::account_public_access_block(&account.0);
    match settings {
        Some(settings) => txn.put(key, settings)?,
        None => txn.delete(key),
    }
    Ok(CommandResult::Ok)
}

pub(crate) fn set_object_acl(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&VersionId>,
    last_modified_ms: Option<UnixMillis>,
    acl: &ObjectAclRecord,
) -> Result<CommandResult, MetaError> {
    if queries::bucket(txn, bucket)?.is_none() {
        return Ok(failed_code(ErrorCode::NoSuchBucket));
    }
    let raw_key = key.as_str().as_bytes();
    let found = match version_id {
        Some(version_id) => queries::version_entry(txn, bucket, raw_key, version_id)?,
        None => queries::current_version(txn, bucket, raw_key)?,
    };
    let Some((version_key, version)) = found else {
        return Ok(failed_code(if version_id.is_some() {
            ErrorCode::NoSuchVersion
        } else {
            ErrorCode::NoSuchKey
        }));
    };
    if last_modified_ms.is_some_and(|expected| expected != version.last_modified_ms) {
        // Replaced since the write this ACL belongs to.
        return Ok(failed_code(ErrorCode::NoSuchKey));
    }
    let acl_key = keys::object_acl(&version_key);
    if acl.grants.is_empty() {
        txn.delete(acl_key);
    } else {
        txn.put(acl_key, acl)?;
    }
    Ok(CommandResult::Ok)
}

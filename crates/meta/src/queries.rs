//! Reads of the state machine, written once over `KvRead` so that `apply`
//! (through `Txn`) and the read path (through `DbView`) agree on them. Every
//! lookup is a point read or a bounded range scan under a key prefix; none
//! walks the whole column family.

use coffer_types::{AccountId, BucketName, DataId, ObjectKey, UploadId, VersionId};

use crate::keys;
use crate::model::*;
use crate::store::{KvRead, Step};
use crate::MetaError;

pub fn bucket(view: &impl KvRead, name: &BucketName) -> Result<Option<BucketRecord>, MetaError> {
    view.get(&keys::bucket(name))
}

pub fn buckets(view: &impl KvRead) -> Result<Vec<BucketRecord>, MetaError> {
    Ok(view
        .scan_values(keys::BUCKET, keys::BUCKET, usize::MAX)?
        .into_iter()
        .map(|(_, bucket)| bucket)
        .collect())
}

/// A bucket's access settings (`legacy()` for a bucket from before them).
pub fn bucket_access(view: &impl KvRead, name: &BucketName) -> Result<BucketAccess, MetaError> {
    Ok(view
        .get(&keys::bucket_access(name))?
        .unwrap_or_else(BucketAccess::legacy))
}

pub fn accounts(view: &impl KvRead) -> Result<Vec<AccountRecord>, MetaError> {
    Ok(view
        .scan_values(keys::ACCOUNT, keys::ACCOUNT, usize::MAX)?
        .into_iter()
        .map(|(_, account)| account)
        .collect())
}

pub fn account_profile(view: &impl KvRead, id: &AccountId) -> Result<AccountProfile, MetaError> {
    Ok(view.get(&keys::account_profile(&id.0))?.unwrap_or_default())
}

pub fn account_by_email(view: &impl KvRead, email: &str) -> Result<Option<AccountId>, MetaError> {
    view.get(&keys::email(email))
}

pub fn account_by_canonical_id(
    view: &impl KvRead,
    canonical_id: &str,
) -> Result<Option<AccountRecord>, MetaError> {
    Ok(accounts(view)?
        .into_iter()
        .find(|account| account.canonical_id.0.eq_ignore_ascii_case(canonical_id)))
}

pub fn account_public_access_block(
    view: &impl KvRead,
    id: &AccountId,
) -> Result<Option<PublicAccessBlockRecord>, MetaError> {
    view.get(&keys::account_public_access_block(&id.0))
}

/// The access keys of an account.
pub fn access_keys_of(
    view: &impl KvRead,
    id: &AccountId,
) -> Result<Vec<AccessKeyRecord>, MetaError> {
    Ok(view
        .scan_values::<AccessKeyRecord>(keys::ACCESS_KEY, keys::ACCESS_KEY, usize::MAX)?
        .into_iter()
        .map(|(_, key)| key)
        .filter(|key| &key.account == id)
        .collect())
}

/// An object version (the current one without `version_id`) and its ACL.
pub fn object_acl(
    view: &impl KvRead,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&VersionId>,
) -> Result<Option<(ObjectVersion, ObjectAclRecord)>, MetaError> {
    let raw_key = key.as_str().as_bytes();
    let found = match version_id {
        Some(version_id) => version_entry(view, bucket, raw_key, version_id)?,
        None => current_version(view, bucket, raw_key)?,
    };
    let Some((version_key, version)) = found else {
        return Ok(None);
    };
    let acl = view
        .get(&keys::object_acl(&version_key))?
        .unwrap_or_default();
    Ok(Some((version, acl)))
}

pub fn account(view: &impl KvRead, id: &AccountId) -> Result<Option<AccountRecord>, MetaError> {
    view.get(&keys::account(&id.0))
}

pub fn access_key(
    view: &impl KvRead,
    access_key_id: &str,
) -> Result<Option<(AccessKeyRecord, AccountRecord)>, MetaError> {
    let Some(access_key) = view.get::<AccessKeyRecord>(&keys::access_key(access_key_id))? else {
        return Ok(None);
    };
    let account = account(view, &access_key.account)?.ok_or_else(|| {
        MetaError::Storage(format!(
            "access key {access_key_id} names a missing account"
        ))
    })?;
    Ok(Some((access_key, account)))
}

pub fn upload(
    view: &impl KvRead,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &UploadId,
) -> Result<Option<UploadRecord>, MetaError> {
    view.get(&keys::upload(bucket, key.as_str().as_bytes(), upload_id))
}

/// The newest version of a key, with its record key.
pub fn current_version(
    view: &impl KvRead,
    bucket: &BucketName,
    raw_key: &[u8],
) -> Result<Option<(Vec<u8>, ObjectVersion)>, MetaError> {
    view.first(&keys::key_exact(keys::OBJECT, bucket, raw_key))
}

/// A given version of a key, with its record key. Walks the key's versions
/// only (one today).
pub fn version_entry(
    view: &impl KvRead,
    bucket: &BucketName,
    raw_key: &[u8],
    version_id: &VersionId,
) -> Result<Option<(Vec<u8>, ObjectVersion)>, MetaError> {
    let prefix = keys::key_exact(keys::OBJECT, bucket, raw_key);
    let mut found = None;
    view.scan(&prefix, &prefix, &mut |record_key, value| {
        let version: ObjectVersion = crate::codec::decode(value)?;
        if &version.version_id == version_id {
            found = Some((record_key.to_vec(), version));
            return Ok(Step::Stop);
        }
        Ok(Step::Continue)
    })?;
    Ok(found)
}

fn object_key_from(raw: Vec<u8>) -> Result<ObjectKey, MetaError> {
    let text = String::from_utf8(raw)
        .map_err(|_| MetaError::Storage("stored object key is not UTF-8".to_owned()))?;
    ObjectKey::parse(&text)
        .map_err(|error| MetaError::Storage(format!("stored object key: {error}")))
}

pub fn list_objects(
    view: &impl KvRead,
    bucket: &BucketName,
    prefix: &str,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<(ObjectKey, ObjectVersion)>, MetaError> {
    let scope = keys::bucket_scope(keys::OBJECT, bucket);
    let range = keys::key_prefix(keys::OBJECT, bucket, prefix.as_bytes());
    let start = match after {
        Some(after) => range
            .clone()
            .max(keys::key_successor(keys::OBJECT, bucket, after)),
        None => range.clone(),
    };
    let mut found: Vec<(ObjectKey, ObjectVersion)> = Vec::new();
    if limit == 0 {
        return Ok(found);
    }
    let mut last_raw_key: Option<Vec<u8>> = None;
    view.scan(&range, &start, &mut |record_key, value| {
        let raw_key = keys::object_key_of(&scope, record_key)?;
        // The first record of a key is its newest version; skip the rest.
        if last_raw_key.as_deref() == Some(raw_key.as_slice()) {
            return Ok(Step::Continue);
        }
        last_raw_key = Some(raw_key.clone());
        found.push((object_key_from(raw_key)?, crate::codec::decode(value)?));
        Ok(if found.len() >= limit {
            Step::Stop
        } else {
            Step::Continue
        })
    })?;
    Ok(found)
}

pub fn list_object_versions(
    view: &impl KvRead,
    bucket: &BucketName,
    prefix: &str,
    key_marker: Option<&[u8]>,
    version_id_marker: Option<&VersionId>,
    limit: usize,
) -> Result<Vec<(ObjectKey, ObjectVersion)>, MetaError> {
    let scope = keys::bucket_scope(keys::OBJECT, bucket);
    let range = keys::key_prefix(keys::OBJECT, bucket, prefix.as_bytes());
    // With both markers, start at the marker key and skip its versions up to
    // and including the marker version.
    let (start, mut skipping) = match (key_marker, version_id_marker) {
        (None, _) => (range.clone(), None),
        (Some(marker), None) => (
            range
                .clone()
                .max(keys::key_successor(keys::OBJECT, bucket, marker)),
            None,
        ),
        (Some(marker), Some(_)) => (
            range
                .clone()
                .max(keys::key_exact(keys::OBJECT, bucket, marker)),
            Some(marker.to_vec()),
        ),
    };
    let mut found = Vec::new();
    if limit == 0 {
        return Ok(found);
    }
    view.scan(&range, &start, &mut |record_key, value| {
        let raw_key = keys::object_key_of(&scope, record_key)?;
        let version: ObjectVersion = crate::codec::decode(value)?;
        if let Some(marker) = &skipping {
            if *marker == raw_key {
                if Some(&version.version_id) == version_id_marker {
                    skipping = None;
                }
                return Ok(Step::Continue);
            }
            skipping = None;
        }
        found.push((object_key_from(raw_key)?, version));
        Ok(if found.len() >= limit {
            Step::Stop
        } else {
            Step::Continue
        })
    })?;
    Ok(found)
}

pub fn list_uploads(
    view: &impl KvRead,
    bucket: &BucketName,
    prefix: &str,
    key_marker: Option<&[u8]>,
    upload_id_marker: Option<&UploadId>,
    limit: usize,
) -> Result<Vec<UploadRecord>, MetaError> {
    let range = keys::key_prefix(keys::UPLOAD, bucket, prefix.as_bytes());
    let start = match (key_marker, upload_id_marker) {
        (None, _) => range.clone(),
        (Some(marker), None) => {
            range
                .clone()
                .max(keys::key_successor(keys::UPLOAD, bucket, marker))
        }
        (Some(marker), Some(upload_id)) => {
            let mut after = keys::key_exact(keys::UPLOAD, bucket, marker);
            after.extend_from_slice(upload_id.0.as_bytes());
            // The smallest key strictly after the marker upload.
            after.push(0x00);
            range.clone().max(after)
        }
    };
    Ok(view
        .scan_values(&range, &start, limit)?
        .into_iter()
        .map(|(_, upload)| upload)
        .collect())
}

pub fn list_parts(
    view: &impl KvRead,
    upload_id: &UploadId,
    part_number_marker: u32,
    limit: usize,
) -> Result<Vec<PartRecord>, MetaError> {
    let Some(first) = part_number_marker.checked_add(1) else {
        return Ok(Vec::new());
    };
    let range = keys::parts_of(upload_id);
    let start = keys::part(upload_id, first);
    Ok(view
        .scan_values(&range, &start, limit)?
        .into_iter()
        .map(|(_, part)| part)
        .collect())
}

pub fn gc_batch(view: &impl KvRead, limit: usize) -> Result<Vec<GcEntry>, MetaError> {
    Ok(view
        .scan_values(keys::GC, keys::GC, limit)?
        .into_iter()
        .map(|(_, entry)| entry)
        .collect())
}

pub fn bucket_is_empty(view: &impl KvRead, bucket: &BucketName) -> Result<bool, MetaError> {
    Ok(view
        .first::<ObjectVersion>(&keys::bucket_scope(keys::OBJECT, bucket))?
        .is_none())
}

pub fn data_is_referenced(view: &impl KvRead, data_id: &DataId) -> Result<bool, MetaError> {
    view.contains(&keys::data_ref(data_id))
}

/// One page of the block runs (data id, block count) that committed
/// records name — stored versions, then parts of uploads in progress — in
/// key order strictly after `after`. Returns the runs and the key to pass
/// as `after` next, or `None` when the scan is complete.
pub fn data_runs(
    view: &impl KvRead,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<DataRunsPage, MetaError> {
    let mut runs = Vec::new();
    let mut last_key: Option<Vec<u8>> = None;
    for prefix in [keys::OBJECT, keys::PART] {
        let start = match after {
            Some(after) if after.starts_with(prefix) => {
                let mut start = after.to_vec();
                start.push(0);
                start
            }
            Some(after) if after > prefix => continue,
            _ => prefix.to_vec(),
        };
        let mut records = 0usize;
        view.scan(prefix, &start, &mut |key, value| {
            if prefix == keys::OBJECT {
                let version: ObjectVersion = crate::codec::decode(value)?;
                runs.extend(
                    version
                        .parts
                        .iter()
                        .map(|part| (part.data_id, part.block_count())),
                );
            } else {
                let part: PartRecord = crate::codec::decode(value)?;
                runs.push((part.layout.data_id, part.layout.block_count()));
            }
            records += 1;
            last_key = Some(key.to_vec());
            Ok(if records >= limit {
                Step::Stop
            } else {
                Step::Continue
            })
        })?;
        if records >= limit {
            return Ok(DataRunsPage {
                runs,
                next: last_key,
            });
        }
    }
    Ok(DataRunsPage { runs, next: None })
}

//! The semantics of every `Command`: a pure function of the state (read
//! through `Txn`) and the command. It reads no clock and no randomness, and
//! it decides every state-dependent check (bucket exists, preconditions,
//! part lists), so concurrent commands are ordered by the log alone. A
//! business failure returns `CommandResult::Failed` before any write;
//! `Err` is only for storage failures, which stop Raft.

use coffer_types::limits::PART_SIZE_BYTES_MIN;
use coffer_types::{
    BucketName, DataId, ErrorCode, ObjectKey, S3Error, UnixMillis, UploadId, VersionId,
};

use crate::apply_access;
use crate::keys::{self, DataRef};
use crate::model::*;
use crate::queries;
use crate::store::{KvRead, Txn};
use crate::MetaError;

fn failed(code: ErrorCode) -> CommandResult {
    CommandResult::Failed(S3Error::from(code))
}

pub fn apply_command(txn: &mut Txn<'_>, command: &Command) -> Result<CommandResult, MetaError> {
    match command {
        Command::EnsureAccount {
            account,
            access_key,
        } => ensure_account(txn, account, access_key),
        Command::CreateBucket { bucket } => create_bucket(txn, bucket),
        Command::CreateBucketWithAccess { bucket, access } => {
            apply_access::create_bucket_with_access(txn, bucket, access)
        }
        Command::ChangeBucketAccess { bucket, change } => {
            apply_access::change_bucket_access(txn, bucket, change)
        }
        Command::CreateAccount {
            account,
            profile,
            access_key,
        } => apply_access::create_account(txn, account, profile, access_key),
        Command::DeleteAccount { account } => apply_access::delete_account(txn, account),
        Command::Iam { account, change } => crate::iam_apply::apply(txn, account, change),
        Command::SetUploadAcl {
            bucket,
            key,
            upload_id,
            acl,
        } => {
            if queries::upload(txn, bucket, key, upload_id)?.is_none() {
                return Ok(failed(ErrorCode::NoSuchUpload));
            }
            txn.put(keys::upload_acl(upload_id), acl)?;
            Ok(CommandResult::Ok)
        }
        Command::SetAccountPublicAccessBlock { account, settings } => {
            apply_access::set_account_public_access_block(txn, account, settings.as_ref())
        }
        Command::SetObjectAcl {
            bucket,
            key,
            version_id,
            last_modified_ms,
            acl,
        } => apply_access::set_object_acl(
            txn,
            bucket,
            key,
            version_id.as_ref(),
            *last_modified_ms,
            acl,
        ),
        Command::DeleteBucket { bucket } => delete_bucket(txn, bucket),
        Command::PutObject {
            bucket,
            key,
            version,
            precondition,
        } => put_object(txn, bucket, key, version, precondition.as_ref()),
        Command::DeleteObject {
            bucket,
            key,
            version_id,
            now_ms,
        } => {
            if queries::bucket(txn, bucket)?.is_none() {
                return Ok(failed(ErrorCode::NoSuchBucket));
            }
            let existed = delete_object(txn, bucket, key, version_id.as_ref(), *now_ms)?;
            Ok(CommandResult::Deleted { existed })
        }
        Command::DeleteObjects {
            bucket,
            targets,
            now_ms,
        } => {
            if queries::bucket(txn, bucket)?.is_none() {
                return Ok(failed(ErrorCode::NoSuchBucket));
            }
            let mut results = Vec::with_capacity(targets.len());
            for target in targets {
                delete_object(
                    txn,
                    bucket,
                    &target.key,
                    target.version_id.as_ref(),
                    *now_ms,
                )?;
                results.push(Ok(()));
            }
            Ok(CommandResult::DeletedMany(results))
        }
        Command::PutObjectTags {
            bucket,
            key,
            version_id,
            tags,
        } => put_object_tags(txn, bucket, key, version_id.as_ref(), tags),
        Command::CreateUpload { upload } => {
            if queries::bucket(txn, &upload.bucket)?.is_none() {
                return Ok(failed(ErrorCode::NoSuchBucket));
            }
            txn.put(
                keys::upload(
                    &upload.bucket,
                    upload.key.as_str().as_bytes(),
                    &upload.upload_id,
                ),
                upload,
            )?;
            Ok(CommandResult::Ok)
        }
        Command::PutPart {
            bucket,
            key,
            upload_id,
            part,
        } => put_part(txn, bucket, key, upload_id, part),
        Command::CompleteUpload {
            bucket,
            key,
            upload_id,
            parts,
            version,
            precondition,
        } => complete_upload(
            txn,
            bucket,
            key,
            upload_id,
            parts,
            version,
            precondition.as_ref(),
        ),
        Command::AbortUpload {
            bucket,
            key,
            upload_id,
            now_ms,
        } => {
            if queries::upload(txn, bucket, key, upload_id)?.is_none() {
                return Ok(failed(ErrorCode::NoSuchUpload));
            }
            remove_upload(
                txn,
                bucket,
                key.as_str().as_bytes(),
                upload_id,
                Some(*now_ms),
                &[],
            )?;
            Ok(CommandResult::Ok)
        }
        Command::GcDone { data_ids } => {
            for data_id in data_ids {
                gc_done(txn, data_id)?;
            }
            Ok(CommandResult::Ok)
        }
    }
}

fn ensure_account(
    txn: &mut Txn<'_>,
    account: &AccountRecord,
    access_key: &AccessKeyRecord,
) -> Result<CommandResult, MetaError> {
    let account_key = keys::account(&account.id.0);
    if !txn.contains(&account_key)? {
        txn.put(account_key, account)?;
    }
    let access_key_key = keys::access_key(&access_key.access_key_id);
    if !txn.contains(&access_key_key)? {
        txn.put(access_key_key, access_key)?;
    }
    Ok(CommandResult::Ok)
}

fn create_bucket(txn: &mut Txn<'_>, bucket: &BucketRecord) -> Result<CommandResult, MetaError> {
    if let Some(existing) = queries::bucket(txn, &bucket.name)? {
        return Ok(failed(if existing.owner == bucket.owner {
            ErrorCode::BucketAlreadyOwnedByYou
        } else {
            ErrorCode::BucketAlreadyExists
        }));
    }
    txn.put(keys::bucket(&bucket.name), bucket)?;
    Ok(CommandResult::Ok)
}

fn delete_bucket(txn: &mut Txn<'_>, bucket: &BucketName) -> Result<CommandResult, MetaError> {
    if queries::bucket(txn, bucket)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchBucket));
    }
    let objects = keys::bucket_scope(keys::OBJECT, bucket);
    if txn.first::<ObjectVersion>(&objects)?.is_some() {
        return Ok(failed(ErrorCode::BucketNotEmpty));
    }
    // Uploads in progress die with the bucket. The command carries no clock,
    // so each part is queued for GC at its own upload time (older than now,
    // which only shortens a grace period nobody needs: no reader can reach
    // an aborted upload).
    let uploads = keys::bucket_scope(keys::UPLOAD, bucket);
    for (_, upload) in txn.scan_values::<UploadRecord>(&uploads, &uploads, usize::MAX)? {
        remove_upload(
            txn,
            bucket,
            upload.key.as_str().as_bytes(),
            &upload.upload_id,
            None,
            &[],
        )?;
    }
    txn.delete(keys::bucket(bucket));
    txn.delete(keys::bucket_access(bucket));
    Ok(CommandResult::Ok)
}

/// Strip the quotes S3 puts around ETags, for comparisons.
fn etag_unquoted(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Check a write precondition against the current version of the key.
fn precondition_fails(
    current: Option<&ObjectVersion>,
    precondition: Option<&WritePrecondition>,
) -> Option<ErrorCode> {
    match (precondition, current) {
        (None, _) => None,
        (Some(WritePrecondition::IfNoneMatchAny), None) => None,
        (Some(WritePrecondition::IfNoneMatchAny), Some(_)) => Some(ErrorCode::PreconditionFailed),
        (Some(WritePrecondition::IfMatch(_)), None) => Some(ErrorCode::NoSuchKey),
        (Some(WritePrecondition::IfMatch(expected)), Some(current)) => {
            let expected = etag_unquoted(expected);
            (expected != "*" && expected != etag_unquoted(&current.etag))
                .then_some(ErrorCode::PreconditionFailed)
        }
    }
}

fn block_count(layout: &PartLayout) -> u64 {
    layout.block_count()
}

/// Hand a data id from its holder to the GC queue.
fn enqueue_gc(
    txn: &mut Txn<'_>,
    layout: &PartLayout,
    enqueued_ms: UnixMillis,
) -> Result<(), MetaError> {
    let entry = GcEntry {
        data_id: layout.data_id,
        block_count: block_count(layout),
        enqueued_ms,
    };
    txn.put(keys::gc(enqueued_ms, &layout.data_id), &entry)?;
    txn.put(
        keys::data_ref(&layout.data_id),
        &DataRef::Gc { enqueued_ms },
    )
}

fn mark_live(txn: &mut Txn<'_>, layout: &PartLayout) -> Result<(), MetaError> {
    txn.put(keys::data_ref(&layout.data_id), &DataRef::Live)
}

fn gc_done(txn: &mut Txn<'_>, data_id: &DataId) -> Result<(), MetaError> {
    let ref_key = keys::data_ref(data_id);
    match txn.get::<DataRef>(&ref_key)? {
        Some(DataRef::Gc { enqueued_ms }) => {
            txn.delete(keys::gc(enqueued_ms, data_id));
            txn.delete(ref_key);
        }
        // A live record still names this data id: the report is stale or
        // wrong, and deleting the reference would expose live data to GC.
        Some(DataRef::Live) => {
            tracing::warn!(%data_id, "GcDone for a data id that is still referenced; ignored")
        }
        None => {}
    }
    Ok(())
}

/// Install `version` under `key`, replacing the version with the same id;
/// the replaced version's data goes to the GC queue unless the new version
/// names the same data id (a retried proposal).
fn install_version(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    version: &ObjectVersion,
) -> Result<(), MetaError> {
    let raw_key = key.as_str().as_bytes();
    if let Some((old_key, old)) = queries::version_entry(txn, bucket, raw_key, &version.version_id)?
    {
        // The replaced version's ACL goes with it.
        txn.delete(keys::object_acl(&old_key));
        txn.delete(old_key);
        for layout in &old.parts {
            if !version
                .parts
                .iter()
                .any(|new| new.data_id == layout.data_id)
            {
                enqueue_gc(txn, layout, version.last_modified_ms)?;
            }
        }
    }
    for layout in &version.parts {
        mark_live(txn, layout)?;
    }
    let version_key = keys::object_version(
        bucket,
        raw_key,
        version.last_modified_ms,
        &version.version_id,
    );
    // A new version starts private, whatever a record at the same key held.
    txn.delete(keys::object_acl(&version_key));
    txn.put(version_key, version)
}

fn put_object(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    version: &ObjectVersion,
    precondition: Option<&WritePrecondition>,
) -> Result<CommandResult, MetaError> {
    if queries::bucket(txn, bucket)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchBucket));
    }
    let current = queries::current_version(txn, bucket, key.as_str().as_bytes())?;
    if let Some(code) =
        precondition_fails(current.as_ref().map(|(_, version)| version), precondition)
    {
        return Ok(failed(code));
    }
    install_version(txn, bucket, key, version)?;
    Ok(CommandResult::Ok)
}

/// Delete the `null` version (the only kind today). Returns whether one
/// existed. Another version id matches nothing until versioning exists.
fn delete_object(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&VersionId>,
    now_ms: UnixMillis,
) -> Result<bool, MetaError> {
    let null = VersionId::null();
    let version_id = version_id.unwrap_or(&null);
    if !version_id.is_null() {
        return Ok(false);
    }
    let Some((record_key, version)) =
        queries::version_entry(txn, bucket, key.as_str().as_bytes(), version_id)?
    else {
        return Ok(false);
    };
    txn.delete(keys::object_acl(&record_key));
    txn.delete(record_key);
    for layout in &version.parts {
        enqueue_gc(txn, layout, now_ms)?;
    }
    Ok(true)
}

fn put_object_tags(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&VersionId>,
    tags: &[(String, String)],
) -> Result<CommandResult, MetaError> {
    if queries::bucket(txn, bucket)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchBucket));
    }
    let raw_key = key.as_str().as_bytes();
    let found = match version_id {
        None => queries::current_version(txn, bucket, raw_key)?,
        Some(version_id) => queries::version_entry(txn, bucket, raw_key, version_id)?,
    };
    let Some((record_key, mut version)) = found else {
        return Ok(failed(if version_id.is_some() {
            ErrorCode::NoSuchVersion
        } else {
            ErrorCode::NoSuchKey
        }));
    };
    version.tags = tags.to_vec();
    txn.put(record_key, &version)?;
    Ok(CommandResult::Ok)
}

fn put_part(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &UploadId,
    part: &PartRecord,
) -> Result<CommandResult, MetaError> {
    if queries::upload(txn, bucket, key, upload_id)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchUpload));
    }
    let part_key = keys::part(upload_id, part.layout.part_number);
    if let Some(old) = txn.get::<PartRecord>(&part_key)? {
        if old.layout.data_id != part.layout.data_id {
            enqueue_gc(txn, &old.layout, part.last_modified_ms)?;
        }
    }
    mark_live(txn, &part.layout)?;
    txn.put(part_key, part)?;
    Ok(CommandResult::Ok)
}

/// Delete an upload and its part records. Parts whose data id is in `keep`
/// now belong to an object version; the others go to the GC queue, at
/// `now_ms` or, without a clock, at the part's own upload time.
fn remove_upload(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    raw_key: &[u8],
    upload_id: &UploadId,
    now_ms: Option<UnixMillis>,
    keep: &[DataId],
) -> Result<(), MetaError> {
    let parts_prefix = keys::parts_of(upload_id);
    for (part_key, part) in
        txn.scan_values::<PartRecord>(&parts_prefix, &parts_prefix, usize::MAX)?
    {
        txn.delete(part_key);
        if !keep.contains(&part.layout.data_id) {
            enqueue_gc(txn, &part.layout, now_ms.unwrap_or(part.last_modified_ms))?;
        }
    }
    txn.delete(keys::upload(bucket, raw_key, upload_id));
    txn.delete(keys::upload_acl(upload_id));
    Ok(())
}

fn complete_upload(
    txn: &mut Txn<'_>,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &UploadId,
    parts: &[(u32, String)],
    version: &ObjectVersion,
    precondition: Option<&WritePrecondition>,
) -> Result<CommandResult, MetaError> {
    if queries::upload(txn, bucket, key, upload_id)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchUpload));
    }
    if parts.is_empty() {
        return Ok(CommandResult::Failed(S3Error::new(
            ErrorCode::MalformedXML,
            "You must specify at least one part",
        )));
    }
    if parts.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Ok(failed(ErrorCode::InvalidPartOrder));
    }
    let mut layouts = Vec::with_capacity(parts.len());
    for (part_number, etag) in parts {
        match txn.get::<PartRecord>(&keys::part(upload_id, *part_number))? {
            Some(stored) if etag_unquoted(&stored.layout.etag) == etag_unquoted(etag) => {
                layouts.push(stored.layout)
            }
            _ => return Ok(failed(ErrorCode::InvalidPart)),
        }
    }
    let (_, all_but_last) = layouts.split_last().expect("parts is not empty");
    if all_but_last
        .iter()
        .any(|layout| layout.size_bytes < PART_SIZE_BYTES_MIN)
    {
        return Ok(failed(ErrorCode::EntityTooSmall));
    }
    if queries::bucket(txn, bucket)?.is_none() {
        return Ok(failed(ErrorCode::NoSuchBucket));
    }
    let current = queries::current_version(txn, bucket, key.as_str().as_bytes())?;
    if let Some(code) =
        precondition_fails(current.as_ref().map(|(_, version)| version), precondition)
    {
        return Ok(failed(code));
    }

    let mut installed = version.clone();
    installed.size_bytes = layouts.iter().map(|layout| layout.size_bytes).sum();
    installed.parts = layouts;
    installed.multipart = true;
    let keep: Vec<DataId> = installed
        .parts
        .iter()
        .map(|layout| layout.data_id)
        .collect();
    let acl = txn.get::<ObjectAclRecord>(&keys::upload_acl(upload_id))?;
    remove_upload(
        txn,
        bucket,
        key.as_str().as_bytes(),
        upload_id,
        Some(version.last_modified_ms),
        &keep,
    )?;
    install_version(txn, bucket, key, &installed)?;
    if let Some(acl) = acl {
        let version_key = keys::object_version(
            bucket,
            key.as_str().as_bytes(),
            installed.last_modified_ms,
            &installed.version_id,
        );
        txn.put(keys::object_acl(&version_key), &acl)?;
    }
    Ok(CommandResult::Completed(Box::new(installed)))
}

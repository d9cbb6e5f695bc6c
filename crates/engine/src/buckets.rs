//! Accounts, access keys and buckets.

use coffer_meta::{
    AccessKeyRecord, AccountRecord, BucketAccess, BucketRecord, Command, VersioningState,
};
use coffer_types::{AccountId, BucketName, CanonicalId, ErrorCode, S3Error};
use sha2::{Digest, Sha256};

use crate::{errors, Credentials, Engine, Result};

const US_EAST_1: &str = "us-east-1";

fn secret_context(access_key_id: &str) -> Vec<u8> {
    let mut context = b"coffer/v1/secret/".to_vec();
    context.extend_from_slice(access_key_id.as_bytes());
    context
}

/// The root account's ids, derived from its access key id so that every
/// restart (and every node) names the same owner.
fn root_ids(access_key_id: &str) -> (AccountId, CanonicalId) {
    let digest = Sha256::digest(format!("coffer/v1/root/{access_key_id}").as_bytes());
    let number = digest[..8]
        .iter()
        .fold(0u64, |number, byte| (number << 8) | u64::from(*byte));
    let account = AccountId(format!("{:012}", number % 1_000_000_000_000));
    (account, CanonicalId(hex::encode(digest)))
}

pub(crate) async fn ensure_root_account(
    engine: &Engine,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<AccountRecord> {
    if access_key_id.is_empty() || secret_access_key.is_empty() {
        return Err(errors::invalid_argument(
            "The root access key id and secret must not be empty",
        ));
    }
    let (id, canonical_id) = root_ids(access_key_id);
    let now_ms = coffer_types::now_unix_millis();
    let account = AccountRecord {
        id: id.clone(),
        canonical_id,
        display_name: "root".to_owned(),
        created_at_ms: now_ms,
    };
    let access_key = AccessKeyRecord {
        access_key_id: access_key_id.to_owned(),
        account: id.clone(),
        secret_wrapped: engine.wrap_access_secret(access_key_id, secret_access_key),
        created_at_ms: now_ms,
    };
    engine
        .propose(Command::EnsureAccount {
            account: account.clone(),
            access_key,
        })
        .await?;
    // An account created on an earlier start keeps its original record.
    let stored = engine
        .meta
        .account(&id)
        .map_err(|error| errors::meta("read account", error))?;
    Ok(stored.unwrap_or(account))
}

impl Engine {
    /// Wrap an access key's secret with the region key, bound to its id.
    pub(crate) fn wrap_access_secret(&self, access_key_id: &str, secret: &str) -> Vec<u8> {
        self.keys
            .wrap_secret(secret.as_bytes(), &secret_context(access_key_id))
    }
}

pub(crate) fn credentials(engine: &Engine, access_key_id: &str) -> Result<Option<Credentials>> {
    let read = |error| errors::meta("read access key", error);
    if let Some((access_key, account)) = engine.meta.access_key(access_key_id).map_err(read)? {
        return Ok(Some(Credentials {
            secret_access_key: unwrap_secret(engine, access_key_id, &access_key.secret_wrapped)?,
            account,
            user: None,
            session: None,
        }));
    }
    // An IAM user's key; an inactive one does not exist for signing, as
    // in AWS (InvalidAccessKeyId).
    let Some(key) = engine
        .meta
        .iam_access_key(access_key_id)
        .map_err(read)?
        .filter(|key| key.active)
    else {
        return session_credentials(engine, access_key_id);
    };
    let account = engine.meta.account(&key.account).map_err(read)?;
    let user = engine
        .meta
        .iam_user(&key.account, &key.user_name)
        .map_err(read)?;
    let (Some(account), Some(user)) = (account, user) else {
        tracing::error!(
            access_key_id,
            "an access key names a missing account or user"
        );
        return Ok(None);
    };
    Ok(Some(Credentials {
        secret_access_key: unwrap_secret(engine, access_key_id, &key.secret_wrapped)?,
        account,
        user: Some(user),
        session: None,
    }))
}

fn unwrap_secret(
    engine: &Engine,
    access_key_id: &str,
    wrapped: &[u8],
) -> Result<zeroize::Zeroizing<String>> {
    let secret = engine
        .keys
        .unwrap_secret(wrapped, &secret_context(access_key_id))
        .map_err(|error| errors::crypto("unwrap secret", error))?;
    String::from_utf8(secret)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| {
            tracing::error!(access_key_id, "stored secret is not UTF-8");
            S3Error::internal()
        })
}

/// Temporary credentials from STS (expired ones too: the gateway answers
/// ExpiredToken for them, after the signature).
fn session_credentials(engine: &Engine, access_key_id: &str) -> Result<Option<Credentials>> {
    let read = |error| errors::meta("read session", error);
    let Some(session) = engine.meta.iam_session(access_key_id).map_err(read)? else {
        return Ok(None);
    };
    let Some(account) = engine.meta.account(&session.account).map_err(read)? else {
        return Ok(None);
    };
    let user = match &session.of {
        coffer_meta::iam::SessionOf::User { user_name } => {
            match engine
                .meta
                .iam_user(&session.account, user_name)
                .map_err(read)?
            {
                Some(user) => Some(user),
                // The user is gone, and with it its sessions.
                None => return Ok(None),
            }
        }
        _ => None,
    };
    Ok(Some(Credentials {
        secret_access_key: unwrap_secret(engine, access_key_id, &session.secret_wrapped)?,
        account,
        user,
        session: Some(session),
    }))
}

pub(crate) async fn create_bucket(
    engine: &Engine,
    owner: &AccountId,
    bucket: &BucketName,
    location_constraint: Option<&str>,
    access: BucketAccess,
) -> Result<()> {
    let region = engine.config.region.as_str();
    // No constraint means "this region": clients rarely send one, and a
    // self-hosted region is the only place the bucket can go.
    let requested = match location_constraint
        .map(str::trim)
        .filter(|constraint| !constraint.is_empty())
    {
        None => region,
        Some("EU") => "eu-west-1",
        Some(constraint) => constraint,
    };
    if requested != region {
        return Err(S3Error::new(
            ErrorCode::InvalidLocationConstraint,
            "The specified location-constraint is not valid",
        ));
    }
    let record = BucketRecord {
        name: bucket.clone(),
        owner: owner.clone(),
        region: region.to_owned(),
        created_at_ms: coffer_types::now_unix_millis(),
        versioning: VersioningState::Unversioned,
    };
    match engine
        .propose(Command::CreateBucketWithAccess {
            bucket: record,
            access,
        })
        .await
    {
        // AWS us-east-1 answers 200 to re-creating your own bucket.
        Err(error) if error.code == ErrorCode::BucketAlreadyOwnedByYou && region == US_EAST_1 => {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

pub(crate) async fn delete_bucket(engine: &Engine, bucket: &BucketName) -> Result<()> {
    engine
        .propose(Command::DeleteBucket {
            bucket: bucket.clone(),
        })
        .await?;
    engine.gc_wakeup.notify_one();
    Ok(())
}

pub(crate) fn list_buckets(engine: &Engine, owner: &AccountId) -> Result<Vec<BucketRecord>> {
    let buckets = engine
        .meta
        .buckets()
        .map_err(|error| errors::meta("list buckets", error))?;
    Ok(buckets
        .into_iter()
        .filter(|bucket| &bucket.owner == owner)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_ids_are_stable_and_well_formed() {
        let (account, canonical) = root_ids("AKIAEXAMPLE");
        assert_eq!(
            root_ids("AKIAEXAMPLE"),
            (account.clone(), canonical.clone())
        );
        assert_eq!(account.0.len(), 12);
        assert!(account.0.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(canonical.0.len(), 64);
        assert_ne!(root_ids("OTHER").0, account);
    }
}

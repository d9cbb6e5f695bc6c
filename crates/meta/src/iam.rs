//! IAM entities of an account — users, their access keys, inline policies
//! and customer-managed policies with versions and attachments — and
//! `apply` for the one command that changes them. Names are unique per
//! account case-insensitively, as in AWS, so records are keyed by the
//! lower-cased name and keep the name as created.
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `iusr/` | account id `/` lower(user name) | `IamUser` |
//! | `ikey/` | access key id | `IamAccessKey` |
//! | `ipol/` | account id `/` lower(policy name) | `ManagedPolicy` |

use std::collections::{BTreeMap, BTreeSet};

use coffer_types::{AccountId, ErrorCode, S3Error, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::model::CommandResult;
use crate::store::{KvRead, Txn};
use crate::MetaError;

pub const USER: &[u8] = b"iusr/";
pub const USER_KEY: &[u8] = b"ikey/";
pub const POLICY: &[u8] = b"ipol/";

/// AWS's quotas that `apply` enforces.
pub const ACCESS_KEYS_PER_USER_MAX: usize = 2;
pub const POLICY_VERSIONS_MAX: usize = 5;
pub const ATTACHED_POLICIES_PER_USER_MAX: usize = 10;
pub const USERS_PER_ACCOUNT_MAX: usize = 5_000;
pub const POLICIES_PER_ACCOUNT_MAX: usize = 1_500;
/// The sum of a user's inline policy documents (AWS: 2048 characters of
/// policy text without whitespace; we count bytes as stored).
pub const INLINE_POLICY_BYTES_PER_USER_MAX: usize = 2_048 * 4;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUser {
    pub account: AccountId,
    pub name: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// `AIDA…`.
    pub user_id: String,
    pub created_at_ms: UnixMillis,
    /// Inline policies: name → document.
    pub inline_policies: BTreeMap<String, String>,
    /// Names of attached customer-managed policies of the same account.
    pub attached_policies: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamAccessKey {
    pub access_key_id: String,
    pub account: AccountId,
    pub user_name: String,
    pub secret_wrapped: Vec<u8>,
    pub active: bool,
    pub created_at_ms: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub document: String,
    pub created_at_ms: UnixMillis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub account: AccountId,
    pub name: String,
    pub path: String,
    /// `ANPA…`.
    pub policy_id: String,
    pub description: String,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    /// Version number → version; `v1`, `v2`, … as AWS names them.
    pub versions: BTreeMap<u32, PolicyVersion>,
    pub default_version: u32,
    /// The number the next version gets (never reused).
    pub next_version: u32,
    /// Users it is attached to (lower-cased names).
    pub attached_users: BTreeSet<String>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .get(&self.default_version)
            .map(|version| version.document.as_str())
    }
}

/// One change to an account's IAM entities. Ids, timestamps and secrets
/// are chosen by the proposer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IamChange {
    CreateUser(IamUser),
    /// Fails with DeleteConflict while the user has access keys or policies.
    DeleteUser {
        user: String,
    },
    CreateAccessKey(IamAccessKey),
    SetAccessKeyActive {
        user: String,
        access_key_id: String,
        active: bool,
    },
    DeleteAccessKey {
        user: String,
        access_key_id: String,
    },
    PutUserPolicy {
        user: String,
        policy_name: String,
        document: String,
    },
    DeleteUserPolicy {
        user: String,
        policy_name: String,
    },
    CreatePolicy(ManagedPolicy),
    /// Fails with DeleteConflict while attached or with other versions.
    DeletePolicy {
        policy: String,
    },
    CreatePolicyVersion {
        policy: String,
        document: String,
        set_default: bool,
        now_ms: UnixMillis,
    },
    DeletePolicyVersion {
        policy: String,
        version: u32,
    },
    SetDefaultPolicyVersion {
        policy: String,
        version: u32,
        now_ms: UnixMillis,
    },
    AttachUserPolicy {
        user: String,
        policy: String,
    },
    DetachUserPolicy {
        user: String,
        policy: String,
    },
}

fn name_key(tag: &[u8], account: &AccountId, name: &str) -> Vec<u8> {
    let mut key = tag.to_vec();
    key.extend_from_slice(account.0.as_bytes());
    key.push(b'/');
    key.extend_from_slice(name.to_lowercase().as_bytes());
    key
}

fn account_prefix(tag: &[u8], account: &AccountId) -> Vec<u8> {
    let mut key = tag.to_vec();
    key.extend_from_slice(account.0.as_bytes());
    key.push(b'/');
    key
}

pub fn user_key(account: &AccountId, name: &str) -> Vec<u8> {
    name_key(USER, account, name)
}

pub fn access_key_key(access_key_id: &str) -> Vec<u8> {
    [USER_KEY, access_key_id.as_bytes()].concat()
}

pub fn policy_key(account: &AccountId, name: &str) -> Vec<u8> {
    name_key(POLICY, account, name)
}

pub fn user(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<IamUser>, MetaError> {
    view.get(&user_key(account, name))
}

/// Users of an account in name order, at most `limit`, after `after`
/// (a lower-cased name).
pub fn users(
    view: &impl KvRead,
    account: &AccountId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<IamUser>, MetaError> {
    let prefix = account_prefix(USER, account);
    let start = match after {
        Some(name) => {
            let mut start = user_key(account, name);
            start.push(0);
            start
        }
        None => prefix.clone(),
    };
    Ok(view
        .scan_values::<IamUser>(&prefix, &start, limit)?
        .into_iter()
        .map(|(_, user)| user)
        .collect())
}

pub fn access_key(
    view: &impl KvRead,
    access_key_id: &str,
) -> Result<Option<IamAccessKey>, MetaError> {
    view.get(&access_key_key(access_key_id))
}

/// The access keys of a user (at most `ACCESS_KEYS_PER_USER_MAX`; found by
/// scanning the account's keys, which AWS also caps).
pub fn access_keys_of(
    view: &impl KvRead,
    account: &AccountId,
    user: &str,
) -> Result<Vec<IamAccessKey>, MetaError> {
    let lower = user.to_lowercase();
    Ok(view
        .scan_values::<IamAccessKey>(USER_KEY, USER_KEY, usize::MAX)?
        .into_iter()
        .map(|(_, key)| key)
        .filter(|key| &key.account == account && key.user_name.to_lowercase() == lower)
        .collect())
}

pub fn policy(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<ManagedPolicy>, MetaError> {
    view.get(&policy_key(account, name))
}

pub fn policies(
    view: &impl KvRead,
    account: &AccountId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ManagedPolicy>, MetaError> {
    let prefix = account_prefix(POLICY, account);
    let start = match after {
        Some(name) => {
            let mut start = policy_key(account, name);
            start.push(0);
            start
        }
        None => prefix.clone(),
    };
    Ok(view
        .scan_values::<ManagedPolicy>(&prefix, &start, limit)?
        .into_iter()
        .map(|(_, policy)| policy)
        .collect())
}

fn failed(code: ErrorCode, message: String) -> Result<CommandResult, MetaError> {
    Ok(CommandResult::Failed(S3Error::new(code, message)))
}

fn no_user(name: &str) -> Result<CommandResult, MetaError> {
    failed(
        ErrorCode::NoSuchEntity,
        format!("The user with name {name} cannot be found."),
    )
}

fn no_policy(account: &AccountId, name: &str) -> Result<CommandResult, MetaError> {
    failed(
        ErrorCode::NoSuchEntity,
        format!(
            "Policy arn:aws:iam::{}:policy/{name} does not exist or is not attachable.",
            account.0
        ),
    )
}

fn count(
    view: &impl KvRead,
    tag: &[u8],
    account: &AccountId,
    limit: usize,
) -> Result<usize, MetaError> {
    let prefix = account_prefix(tag, account);
    let mut found = 0usize;
    view.scan(&prefix, &prefix, &mut |_, _| {
        found += 1;
        Ok(if found >= limit {
            crate::store::Step::Stop
        } else {
            crate::store::Step::Continue
        })
    })?;
    Ok(found)
}

pub(crate) fn apply(
    txn: &mut Txn<'_>,
    account: &AccountId,
    change: &IamChange,
) -> Result<CommandResult, MetaError> {
    if crate::queries::account(txn, account)?.is_none() {
        return failed(
            ErrorCode::NoSuchEntity,
            "The account does not exist.".to_owned(),
        );
    }
    match change {
        IamChange::CreateUser(new) => {
            if user(txn, account, &new.name)?.is_some() {
                return failed(
                    ErrorCode::EntityAlreadyExists,
                    format!("User with name {} already exists.", new.name),
                );
            }
            if count(txn, USER, account, USERS_PER_ACCOUNT_MAX)? >= USERS_PER_ACCOUNT_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Cannot exceed quota for UsersPerAccount: 5000".to_owned(),
                );
            }
            txn.put(user_key(account, &new.name), new)?;
        }
        IamChange::DeleteUser { user: name } => {
            let Some(found) = user(txn, account, name)? else {
                return no_user(name);
            };
            if !found.inline_policies.is_empty()
                || !found.attached_policies.is_empty()
                || !access_keys_of(txn, account, name)?.is_empty()
            {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete entity, must delete access keys, policies and attached policies first."
                        .to_owned(),
                );
            }
            txn.delete(user_key(account, name));
        }
        IamChange::CreateAccessKey(key) => {
            if user(txn, account, &key.user_name)?.is_none() {
                return no_user(&key.user_name);
            }
            if access_keys_of(txn, account, &key.user_name)?.len() >= ACCESS_KEYS_PER_USER_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Cannot exceed quota for AccessKeysPerUser: 2".to_owned(),
                );
            }
            if txn.contains(&access_key_key(&key.access_key_id))?
                || txn.contains(&crate::keys::access_key(&key.access_key_id))?
            {
                return failed(
                    ErrorCode::EntityAlreadyExists,
                    "The access key id is taken.".to_owned(),
                );
            }
            txn.put(access_key_key(&key.access_key_id), key)?;
        }
        IamChange::SetAccessKeyActive {
            user: name,
            access_key_id,
            active,
        } => {
            let Some(mut key) = owned_key(txn, account, name, access_key_id)? else {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("The Access Key with id {access_key_id} cannot be found."),
                );
            };
            key.active = *active;
            txn.put(access_key_key(access_key_id), &key)?;
        }
        IamChange::DeleteAccessKey {
            user: name,
            access_key_id,
        } => {
            if owned_key(txn, account, name, access_key_id)?.is_none() {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("The Access Key with id {access_key_id} cannot be found."),
                );
            }
            txn.delete(access_key_key(access_key_id));
        }
        IamChange::PutUserPolicy {
            user: name,
            policy_name,
            document,
        } => {
            let Some(mut found) = user(txn, account, name)? else {
                return no_user(name);
            };
            found
                .inline_policies
                .insert(policy_name.clone(), document.clone());
            let total: usize = found.inline_policies.values().map(String::len).sum();
            if total > INLINE_POLICY_BYTES_PER_USER_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Maximum policy size for inline user policies exceeded.".to_owned(),
                );
            }
            txn.put(user_key(account, name), &found)?;
        }
        IamChange::DeleteUserPolicy {
            user: name,
            policy_name,
        } => {
            let Some(mut found) = user(txn, account, name)? else {
                return no_user(name);
            };
            if found.inline_policies.remove(policy_name).is_none() {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("The user policy with name {policy_name} cannot be found."),
                );
            }
            txn.put(user_key(account, name), &found)?;
        }
        IamChange::CreatePolicy(new) => {
            if policy(txn, account, &new.name)?.is_some() {
                return failed(
                    ErrorCode::EntityAlreadyExists,
                    format!(
                        "A policy called {} already exists. Duplicate names are not allowed.",
                        new.name
                    ),
                );
            }
            if count(txn, POLICY, account, POLICIES_PER_ACCOUNT_MAX)? >= POLICIES_PER_ACCOUNT_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Cannot exceed quota for PoliciesPerAccount: 1500".to_owned(),
                );
            }
            txn.put(policy_key(account, &new.name), new)?;
        }
        IamChange::DeletePolicy { policy: name } => {
            let Some(found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if !found.attached_users.is_empty() {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete a policy attached to entities.".to_owned(),
                );
            }
            if found.versions.len() > 1 {
                return failed(
                    ErrorCode::DeleteConflict,
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".to_owned(),
                );
            }
            txn.delete(policy_key(account, name));
        }
        IamChange::CreatePolicyVersion {
            policy: name,
            document,
            set_default,
            now_ms,
        } => {
            let Some(mut found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if found.versions.len() >= POLICY_VERSIONS_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    format!("A managed policy can have up to {POLICY_VERSIONS_MAX} versions. Before you create a new version, you must delete an existing version."),
                );
            }
            let version = found.next_version;
            found.next_version = version.saturating_add(1);
            found.versions.insert(
                version,
                PolicyVersion {
                    document: document.clone(),
                    created_at_ms: *now_ms,
                },
            );
            if *set_default {
                found.default_version = version;
            }
            found.updated_at_ms = *now_ms;
            txn.put(policy_key(account, name), &found)?;
            return Ok(CommandResult::Created(u64::from(version)));
        }
        IamChange::DeletePolicyVersion {
            policy: name,
            version,
        } => {
            let Some(mut found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if found.default_version == *version {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete the default version of a policy.".to_owned(),
                );
            }
            if found.versions.remove(version).is_none() {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("Policy version v{version} does not exist."),
                );
            }
            txn.put(policy_key(account, name), &found)?;
        }
        IamChange::SetDefaultPolicyVersion {
            policy: name,
            version,
            now_ms,
        } => {
            let Some(mut found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if !found.versions.contains_key(version) {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("Policy version v{version} does not exist."),
                );
            }
            found.default_version = *version;
            found.updated_at_ms = *now_ms;
            txn.put(policy_key(account, name), &found)?;
        }
        IamChange::AttachUserPolicy {
            user: user_name,
            policy: name,
        } => {
            let Some(mut found_user) = user(txn, account, user_name)? else {
                return no_user(user_name);
            };
            let Some(mut found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if !found_user.attached_policies.contains(&found.name)
                && found_user.attached_policies.len() >= ATTACHED_POLICIES_PER_USER_MAX
            {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Cannot exceed quota for PoliciesPerUser: 10".to_owned(),
                );
            }
            found_user.attached_policies.insert(found.name.clone());
            found.attached_users.insert(found_user.name.to_lowercase());
            txn.put(user_key(account, user_name), &found_user)?;
            txn.put(policy_key(account, name), &found)?;
        }
        IamChange::DetachUserPolicy {
            user: user_name,
            policy: name,
        } => {
            let Some(mut found_user) = user(txn, account, user_name)? else {
                return no_user(user_name);
            };
            let Some(mut found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if !found_user.attached_policies.remove(&found.name) {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!("Policy {name} was not found to be attached to user {user_name}."),
                );
            }
            found.attached_users.remove(&found_user.name.to_lowercase());
            txn.put(user_key(account, user_name), &found_user)?;
            txn.put(policy_key(account, name), &found)?;
        }
    }
    Ok(CommandResult::Ok)
}

/// Remove every IAM entity of `account` (the account is being deleted).
pub(crate) fn delete_all_of(txn: &mut Txn<'_>, account: &AccountId) -> Result<(), MetaError> {
    for tag in [USER, POLICY] {
        let prefix = account_prefix(tag, account);
        let mut doomed = Vec::new();
        txn.scan(&prefix, &prefix, &mut |key, _| {
            doomed.push(key.to_vec());
            Ok(crate::store::Step::Continue)
        })?;
        for key in doomed {
            txn.delete(key);
        }
    }
    for (key, access_key) in txn.scan_values::<IamAccessKey>(USER_KEY, USER_KEY, usize::MAX)? {
        if &access_key.account == account {
            txn.delete(key);
        }
    }
    Ok(())
}

/// The key `access_key_id` if it belongs to `user` of `account`.
fn owned_key(
    view: &impl KvRead,
    account: &AccountId,
    user: &str,
    access_key_id: &str,
) -> Result<Option<IamAccessKey>, MetaError> {
    Ok(access_key(view, access_key_id)?
        .filter(|key| &key.account == account && key.user_name.eq_ignore_ascii_case(user)))
}

#[cfg(test)]
#[path = "iam_tests.rs"]
mod tests;

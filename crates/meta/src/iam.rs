//! IAM entities of an account — users and their access keys, groups,
//! roles, customer-managed policies with versions and attachments — and
//! STS sessions. Names are unique per account case-insensitively, as in
//! AWS, so records are keyed by the lower-cased name and keep the name as
//! created. `iam_apply` decides the one command that changes them.
//!
//! | tag | key after the tag | value |
//! |---|---|---|
//! | `iusr/` | account id `/` lower(user name) | `IamUser` |
//! | `ikey/` | access key id | `IamAccessKey` |
//! | `igrp/` | account id `/` lower(group name) | `IamGroup` |
//! | `irole/` | account id `/` lower(role name) | `IamRole` |
//! | `ipol/` | account id `/` lower(policy name) | `ManagedPolicy` |
//! | `isess/` | access key id | `SessionRecord` |
//! | `isexp/` | ord(expires_at_ms) access key id | `()` (expiry index) |

use std::collections::{BTreeMap, BTreeSet};

use coffer_types::{AccountId, UnixMillis};
use serde::{Deserialize, Serialize};

pub use crate::iam_apply::IamChange;
use crate::store::{KvRead, Step, Txn};
use crate::MetaError;

pub const USER: &[u8] = b"iusr/";
pub const USER_KEY: &[u8] = b"ikey/";
pub const GROUP: &[u8] = b"igrp/";
pub const ROLE: &[u8] = b"irole/";
pub const POLICY: &[u8] = b"ipol/";
pub const SESSION: &[u8] = b"isess/";
pub const SESSION_EXPIRY: &[u8] = b"isexp/";

/// AWS's quotas that `apply` enforces.
pub const ACCESS_KEYS_PER_USER_MAX: usize = 2;
pub const POLICY_VERSIONS_MAX: usize = 5;
pub const ATTACHED_POLICIES_PER_ENTITY_MAX: usize = 10;
pub const GROUPS_PER_USER_MAX: usize = 10;
pub const USERS_PER_ACCOUNT_MAX: usize = 5_000;
pub const GROUPS_PER_ACCOUNT_MAX: usize = 300;
pub const ROLES_PER_ACCOUNT_MAX: usize = 1_000;
pub const POLICIES_PER_ACCOUNT_MAX: usize = 1_500;
/// The sum of an entity's inline policy documents (AWS counts 2048
/// characters for users, 5120 for groups, 10240 for roles, without
/// whitespace; we count stored bytes against the largest).
pub const INLINE_POLICY_BYTES_PER_ENTITY_MAX: usize = 10_240;
/// Live sessions per account; expired ones are purged as new ones come.
pub const SESSIONS_PER_ACCOUNT_MAX: usize = 10_000;
/// Expired sessions removed by each new session (bounded work per entry).
pub const EXPIRED_SESSIONS_PURGED_PER_CREATE: usize = 64;

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
    /// Lower-cased names of the groups it is in.
    pub groups: BTreeSet<String>,
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
pub struct IamGroup {
    pub account: AccountId,
    pub name: String,
    pub path: String,
    /// `AGPA…`.
    pub group_id: String,
    pub created_at_ms: UnixMillis,
    pub inline_policies: BTreeMap<String, String>,
    pub attached_policies: BTreeSet<String>,
    /// Lower-cased names of its users.
    pub members: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamRole {
    pub account: AccountId,
    pub name: String,
    pub path: String,
    /// `AROA…`.
    pub role_id: String,
    pub created_at_ms: UnixMillis,
    /// Who may assume it (a resource policy with principals).
    pub trust_policy: String,
    pub description: String,
    pub max_session_duration_seconds: u32,
    pub inline_policies: BTreeMap<String, String>,
    pub attached_policies: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub document: String,
    pub created_at_ms: UnixMillis,
}

/// What a managed policy is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
    User,
    Group,
    Role,
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
    /// Entities it is attached to: kind and lower-cased name.
    pub attachments: BTreeSet<(EntityKind, String)>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .get(&self.default_version)
            .map(|version| version.document.as_str())
    }
}

/// Whose temporary credentials a session holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionOf {
    /// GetSessionToken by the account's root.
    Root,
    /// GetSessionToken by an IAM user.
    User { user_name: String },
    /// AssumeRole.
    Role {
        role_name: String,
        session_name: String,
        /// The session policy passed to AssumeRole, if any.
        session_policy: Option<String>,
    },
}

/// Temporary credentials from STS: a key, its wrapped secret and the
/// SHA-256 of the session token the caller must present with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub access_key_id: String,
    pub account: AccountId,
    pub secret_wrapped: Vec<u8>,
    pub token_sha256: [u8; 32],
    pub created_at_ms: UnixMillis,
    pub expires_at_ms: UnixMillis,
    pub of: SessionOf,
}

pub(crate) fn account_prefix(tag: &[u8], account: &AccountId) -> Vec<u8> {
    let mut key = tag.to_vec();
    key.extend_from_slice(account.0.as_bytes());
    key.push(b'/');
    key
}

/// The key of a named entity (`USER`, `GROUP`, `ROLE`, `POLICY`).
pub fn named_key(tag: &[u8], account: &AccountId, name: &str) -> Vec<u8> {
    let mut key = account_prefix(tag, account);
    key.extend_from_slice(name.to_lowercase().as_bytes());
    key
}

pub fn access_key_key(access_key_id: &str) -> Vec<u8> {
    [USER_KEY, access_key_id.as_bytes()].concat()
}

pub fn session_key(access_key_id: &str) -> Vec<u8> {
    [SESSION, access_key_id.as_bytes()].concat()
}

pub fn session_expiry_key(expires_at_ms: UnixMillis, access_key_id: &str) -> Vec<u8> {
    [
        SESSION_EXPIRY,
        &crate::keys::ordered_ms(expires_at_ms)[..],
        access_key_id.as_bytes(),
    ]
    .concat()
}

pub fn user(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<IamUser>, MetaError> {
    view.get(&named_key(USER, account, name))
}

pub fn group(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<IamGroup>, MetaError> {
    view.get(&named_key(GROUP, account, name))
}

pub fn role(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<IamRole>, MetaError> {
    view.get(&named_key(ROLE, account, name))
}

pub fn policy(
    view: &impl KvRead,
    account: &AccountId,
    name: &str,
) -> Result<Option<ManagedPolicy>, MetaError> {
    view.get(&named_key(POLICY, account, name))
}

/// Entities of one kind (`USER`, `GROUP`, `ROLE`, `POLICY`) of an account
/// in name order, at most `limit`.
pub fn all_of<T: serde::de::DeserializeOwned>(
    view: &impl KvRead,
    tag: &[u8],
    account: &AccountId,
    limit: usize,
) -> Result<Vec<T>, MetaError> {
    let prefix = account_prefix(tag, account);
    Ok(view
        .scan_values::<T>(&prefix, &prefix, limit)?
        .into_iter()
        .map(|(_, value)| value)
        .collect())
}

pub fn access_key(
    view: &impl KvRead,
    access_key_id: &str,
) -> Result<Option<IamAccessKey>, MetaError> {
    view.get(&access_key_key(access_key_id))
}

pub fn session(
    view: &impl KvRead,
    access_key_id: &str,
) -> Result<Option<SessionRecord>, MetaError> {
    view.get(&session_key(access_key_id))
}

/// The access keys of a user (at most `ACCESS_KEYS_PER_USER_MAX` per
/// user; found by scanning every user key, which the quotas bound).
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

/// How many entities of one kind an account has, counting up to `limit`.
pub(crate) fn count(
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
            Step::Stop
        } else {
            Step::Continue
        })
    })?;
    Ok(found)
}

/// Remove every IAM entity and session of `account` (it is being deleted).
pub(crate) fn delete_all_of(txn: &mut Txn<'_>, account: &AccountId) -> Result<(), MetaError> {
    for tag in [USER, GROUP, ROLE, POLICY] {
        let prefix = account_prefix(tag, account);
        let mut doomed = Vec::new();
        txn.scan(&prefix, &prefix, &mut |key, _| {
            doomed.push(key.to_vec());
            Ok(Step::Continue)
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
    for (key, session) in txn.scan_values::<SessionRecord>(SESSION, SESSION, usize::MAX)? {
        if &session.account == account {
            txn.delete(key);
            txn.delete(session_expiry_key(
                session.expires_at_ms,
                &session.access_key_id,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "iam_tests.rs"]
mod tests;

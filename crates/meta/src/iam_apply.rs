//! `apply` for IAM changes: the rules that depend on state — names taken,
//! AWS's quotas, DeleteConflict while an entity still has dependents,
//! attachments kept on both sides — decided in log order.

use std::collections::{BTreeMap, BTreeSet};

use coffer_types::{AccountId, ErrorCode, S3Error, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::iam::*;
use crate::model::CommandResult;
use crate::store::{KvRead, Step, Txn};
use crate::MetaError;

/// Live sessions per account, maintained with the sessions.
const SESSION_COUNT: &[u8] = b"iscnt/";

/// One change to an account's IAM entities. Ids, timestamps and secrets
/// are chosen by the proposer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IamChange {
    CreateUser(IamUser),
    /// DeleteConflict while the user has keys, policies or groups.
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
    CreateGroup(IamGroup),
    /// DeleteConflict while the group has members or policies.
    DeleteGroup {
        group: String,
    },
    AddUserToGroup {
        group: String,
        user: String,
    },
    RemoveUserFromGroup {
        group: String,
        user: String,
    },
    CreateRole(IamRole),
    /// DeleteConflict while the role has policies.
    DeleteRole {
        role: String,
    },
    PutInlinePolicy {
        kind: EntityKind,
        name: String,
        policy_name: String,
        document: String,
    },
    DeleteInlinePolicy {
        kind: EntityKind,
        name: String,
        policy_name: String,
    },
    CreatePolicy(ManagedPolicy),
    /// DeleteConflict while attached or with versions besides the default.
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
    Attach {
        kind: EntityKind,
        name: String,
        policy: String,
    },
    Detach {
        kind: EntityKind,
        name: String,
        policy: String,
    },
    /// Record STS credentials; expired sessions are purged on the way.
    CreateSession {
        session: SessionRecord,
        now_ms: UnixMillis,
    },
}

fn failed(code: ErrorCode, message: String) -> Result<CommandResult, MetaError> {
    Ok(CommandResult::Failed(S3Error::new(code, message)))
}

fn kind_word(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "user",
        EntityKind::Group => "group",
        EntityKind::Role => "role",
    }
}

fn tag_of(kind: EntityKind) -> &'static [u8] {
    match kind {
        EntityKind::User => USER,
        EntityKind::Group => GROUP,
        EntityKind::Role => ROLE,
    }
}

fn no_entity(kind: EntityKind, name: &str) -> Result<CommandResult, MetaError> {
    failed(
        ErrorCode::NoSuchEntity,
        format!("The {} with name {name} cannot be found.", kind_word(kind)),
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

/// A user, group or role, for what they share: policies.
enum Entity {
    User(IamUser),
    Group(IamGroup),
    Role(IamRole),
}

impl Entity {
    fn load(
        view: &impl KvRead,
        account: &AccountId,
        kind: EntityKind,
        name: &str,
    ) -> Result<Option<Self>, MetaError> {
        Ok(match kind {
            EntityKind::User => user(view, account, name)?.map(Entity::User),
            EntityKind::Group => group(view, account, name)?.map(Entity::Group),
            EntityKind::Role => role(view, account, name)?.map(Entity::Role),
        })
    }

    fn parts(&mut self) -> (&str, &mut BTreeMap<String, String>, &mut BTreeSet<String>) {
        match self {
            Entity::User(user) => (
                &user.name,
                &mut user.inline_policies,
                &mut user.attached_policies,
            ),
            Entity::Group(group) => (
                &group.name,
                &mut group.inline_policies,
                &mut group.attached_policies,
            ),
            Entity::Role(role) => (
                &role.name,
                &mut role.inline_policies,
                &mut role.attached_policies,
            ),
        }
    }

    fn store(&self, txn: &mut Txn<'_>, account: &AccountId) -> Result<(), MetaError> {
        match self {
            Entity::User(user) => txn.put(named_key(USER, account, &user.name), user),
            Entity::Group(group) => txn.put(named_key(GROUP, account, &group.name), group),
            Entity::Role(role) => txn.put(named_key(ROLE, account, &role.name), role),
        }
    }
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
        IamChange::CreateUser(new) => create(
            txn,
            account,
            EntityKind::User,
            &new.name,
            USERS_PER_ACCOUNT_MAX,
            new,
        ),
        IamChange::CreateGroup(new) => create(
            txn,
            account,
            EntityKind::Group,
            &new.name,
            GROUPS_PER_ACCOUNT_MAX,
            new,
        ),
        IamChange::CreateRole(new) => create(
            txn,
            account,
            EntityKind::Role,
            &new.name,
            ROLES_PER_ACCOUNT_MAX,
            new,
        ),
        IamChange::DeleteUser { user: name } => {
            let Some(found) = user(txn, account, name)? else {
                return no_entity(EntityKind::User, name);
            };
            if !found.inline_policies.is_empty()
                || !found.attached_policies.is_empty()
                || !found.groups.is_empty()
                || !access_keys_of(txn, account, name)?.is_empty()
            {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete entity, must delete access keys, policies, attached policies and group memberships first.".to_owned(),
                );
            }
            txn.delete(named_key(USER, account, name));
            Ok(CommandResult::Ok)
        }
        IamChange::DeleteGroup { group: name } => {
            let Some(found) = group(txn, account, name)? else {
                return no_entity(EntityKind::Group, name);
            };
            if !found.members.is_empty()
                || !found.inline_policies.is_empty()
                || !found.attached_policies.is_empty()
            {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete entity, must remove users, policies and attached policies from the group first.".to_owned(),
                );
            }
            txn.delete(named_key(GROUP, account, name));
            Ok(CommandResult::Ok)
        }
        IamChange::DeleteRole { role: name } => {
            let Some(found) = role(txn, account, name)? else {
                return no_entity(EntityKind::Role, name);
            };
            if !found.inline_policies.is_empty() || !found.attached_policies.is_empty() {
                return failed(
                    ErrorCode::DeleteConflict,
                    "Cannot delete entity, must delete policies and detach attached policies first.".to_owned(),
                );
            }
            txn.delete(named_key(ROLE, account, name));
            Ok(CommandResult::Ok)
        }
        IamChange::CreateAccessKey(key) => {
            if user(txn, account, &key.user_name)?.is_none() {
                return no_entity(EntityKind::User, &key.user_name);
            }
            if access_keys_of(txn, account, &key.user_name)?.len() >= ACCESS_KEYS_PER_USER_MAX {
                return failed(
                    ErrorCode::LimitExceeded,
                    "Cannot exceed quota for AccessKeysPerUser: 2".to_owned(),
                );
            }
            if key_id_taken(txn, &key.access_key_id)? {
                return failed(
                    ErrorCode::EntityAlreadyExists,
                    "The access key id is taken.".to_owned(),
                );
            }
            txn.put(access_key_key(&key.access_key_id), key)?;
            Ok(CommandResult::Ok)
        }
        IamChange::SetAccessKeyActive {
            user: name,
            access_key_id,
            active,
        } => {
            let Some(mut key) = owned_key(txn, account, name, access_key_id)? else {
                return no_key(access_key_id);
            };
            key.active = *active;
            txn.put(access_key_key(access_key_id), &key)?;
            Ok(CommandResult::Ok)
        }
        IamChange::DeleteAccessKey {
            user: name,
            access_key_id,
        } => {
            if owned_key(txn, account, name, access_key_id)?.is_none() {
                return no_key(access_key_id);
            }
            txn.delete(access_key_key(access_key_id));
            Ok(CommandResult::Ok)
        }
        IamChange::AddUserToGroup {
            group: group_name,
            user: user_name,
        } => membership(txn, account, group_name, user_name, true),
        IamChange::RemoveUserFromGroup {
            group: group_name,
            user: user_name,
        } => membership(txn, account, group_name, user_name, false),
        IamChange::PutInlinePolicy {
            kind,
            name,
            policy_name,
            document,
        } => {
            let Some(mut entity) = Entity::load(txn, account, *kind, name)? else {
                return no_entity(*kind, name);
            };
            let (_, inline, _) = entity.parts();
            inline.insert(policy_name.clone(), document.clone());
            if inline.values().map(String::len).sum::<usize>() > INLINE_POLICY_BYTES_PER_ENTITY_MAX
            {
                return failed(
                    ErrorCode::LimitExceeded,
                    format!(
                        "Maximum policy size for inline {} policies exceeded.",
                        kind_word(*kind)
                    ),
                );
            }
            entity.store(txn, account)?;
            Ok(CommandResult::Ok)
        }
        IamChange::DeleteInlinePolicy {
            kind,
            name,
            policy_name,
        } => {
            let Some(mut entity) = Entity::load(txn, account, *kind, name)? else {
                return no_entity(*kind, name);
            };
            let (_, inline, _) = entity.parts();
            if inline.remove(policy_name).is_none() {
                return failed(
                    ErrorCode::NoSuchEntity,
                    format!(
                        "The {} policy with name {policy_name} cannot be found.",
                        kind_word(*kind)
                    ),
                );
            }
            entity.store(txn, account)?;
            Ok(CommandResult::Ok)
        }
        IamChange::Attach {
            kind,
            name,
            policy: policy_name,
        } => attachment(txn, account, *kind, name, policy_name, true),
        IamChange::Detach {
            kind,
            name,
            policy: policy_name,
        } => attachment(txn, account, *kind, name, policy_name, false),
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
            txn.put(named_key(POLICY, account, &new.name), new)?;
            Ok(CommandResult::Ok)
        }
        IamChange::DeletePolicy { policy: name } => {
            let Some(found) = policy(txn, account, name)? else {
                return no_policy(account, name);
            };
            if !found.attachments.is_empty() {
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
            txn.delete(named_key(POLICY, account, name));
            Ok(CommandResult::Ok)
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
            txn.put(named_key(POLICY, account, name), &found)?;
            Ok(CommandResult::Created(u64::from(version)))
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
            txn.put(named_key(POLICY, account, name), &found)?;
            Ok(CommandResult::Ok)
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
            txn.put(named_key(POLICY, account, name), &found)?;
            Ok(CommandResult::Ok)
        }
        IamChange::CreateSession { session, now_ms } => {
            create_session(txn, account, session, *now_ms)
        }
    }
}

fn create<T: Serialize>(
    txn: &mut Txn<'_>,
    account: &AccountId,
    kind: EntityKind,
    name: &str,
    quota: usize,
    record: &T,
) -> Result<CommandResult, MetaError> {
    let tag = tag_of(kind);
    if txn.contains(&named_key(tag, account, name))? {
        let word = kind_word(kind);
        let word = format!("{}{}", word[..1].to_uppercase(), &word[1..]);
        return failed(
            ErrorCode::EntityAlreadyExists,
            format!("{word} with name {name} already exists."),
        );
    }
    if count(txn, tag, account, quota)? >= quota {
        return failed(
            ErrorCode::LimitExceeded,
            format!(
                "Cannot exceed quota for {}sPerAccount: {quota}",
                kind_word(kind)
            ),
        );
    }
    txn.put(named_key(tag, account, name), record)?;
    Ok(CommandResult::Ok)
}

fn key_id_taken(view: &impl KvRead, access_key_id: &str) -> Result<bool, MetaError> {
    Ok(view.contains(&access_key_key(access_key_id))?
        || view.contains(&crate::keys::access_key(access_key_id))?
        || view.contains(&session_key(access_key_id))?)
}

fn no_key(access_key_id: &str) -> Result<CommandResult, MetaError> {
    failed(
        ErrorCode::NoSuchEntity,
        format!("The Access Key with id {access_key_id} cannot be found."),
    )
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

fn membership(
    txn: &mut Txn<'_>,
    account: &AccountId,
    group_name: &str,
    user_name: &str,
    add: bool,
) -> Result<CommandResult, MetaError> {
    let Some(mut found_group) = group(txn, account, group_name)? else {
        return no_entity(EntityKind::Group, group_name);
    };
    let Some(mut found_user) = user(txn, account, user_name)? else {
        return no_entity(EntityKind::User, user_name);
    };
    let (user_key, group_key) = (
        found_user.name.to_lowercase(),
        found_group.name.to_lowercase(),
    );
    if add {
        if !found_user.groups.contains(&group_key) && found_user.groups.len() >= GROUPS_PER_USER_MAX
        {
            return failed(
                ErrorCode::LimitExceeded,
                "Cannot exceed quota for GroupsPerUser: 10".to_owned(),
            );
        }
        found_user.groups.insert(group_key);
        found_group.members.insert(user_key);
    } else {
        if !found_group.members.remove(&user_key) {
            return failed(
                ErrorCode::NoSuchEntity,
                format!("The user with name {user_name} cannot be found in group {group_name}."),
            );
        }
        found_user.groups.remove(&group_key);
    }
    txn.put(named_key(USER, account, &found_user.name), &found_user)?;
    txn.put(named_key(GROUP, account, &found_group.name), &found_group)?;
    Ok(CommandResult::Ok)
}

fn attachment(
    txn: &mut Txn<'_>,
    account: &AccountId,
    kind: EntityKind,
    name: &str,
    policy_name: &str,
    attach: bool,
) -> Result<CommandResult, MetaError> {
    let Some(mut entity) = Entity::load(txn, account, kind, name)? else {
        return no_entity(kind, name);
    };
    let Some(mut found) = policy(txn, account, policy_name)? else {
        return no_policy(account, policy_name);
    };
    let (entity_name, _, attached) = entity.parts();
    let entity_key = (kind, entity_name.to_lowercase());
    if attach {
        if !attached.contains(&found.name) && attached.len() >= ATTACHED_POLICIES_PER_ENTITY_MAX {
            return failed(
                ErrorCode::LimitExceeded,
                format!("Cannot exceed quota for PoliciesPer{}: 10", kind_word(kind)),
            );
        }
        attached.insert(found.name.clone());
        found.attachments.insert(entity_key);
    } else {
        if !attached.remove(&found.name) {
            return failed(
                ErrorCode::NoSuchEntity,
                format!(
                    "Policy {policy_name} was not found to be attached to {} {name}.",
                    kind_word(kind)
                ),
            );
        }
        found.attachments.remove(&entity_key);
    }
    entity.store(txn, account)?;
    txn.put(named_key(POLICY, account, &found.name), &found)?;
    Ok(CommandResult::Ok)
}

fn session_count_key(account: &AccountId) -> Vec<u8> {
    [SESSION_COUNT, account.0.as_bytes()].concat()
}

fn adjust_session_count(txn: &mut Txn<'_>, account: &AccountId, by: i64) -> Result<u64, MetaError> {
    let key = session_count_key(account);
    let current: u64 = txn.get(&key)?.unwrap_or(0);
    let next = if by < 0 {
        current.saturating_sub(by.unsigned_abs())
    } else {
        current.saturating_add(by as u64)
    };
    if next == 0 {
        txn.delete(key);
    } else {
        txn.put(key, &next)?;
    }
    Ok(next)
}

fn create_session(
    txn: &mut Txn<'_>,
    account: &AccountId,
    session: &SessionRecord,
    now_ms: UnixMillis,
) -> Result<CommandResult, MetaError> {
    // Purge a bounded number of expired sessions, oldest expiry first.
    let end = session_expiry_key(now_ms, "");
    let mut expired = Vec::new();
    txn.scan(SESSION_EXPIRY, SESSION_EXPIRY, &mut |key, _| {
        if key >= end.as_slice() || expired.len() >= EXPIRED_SESSIONS_PURGED_PER_CREATE {
            return Ok(Step::Stop);
        }
        expired.push(key.to_vec());
        Ok(Step::Continue)
    })?;
    for index_key in expired {
        let access_key_id =
            String::from_utf8_lossy(&index_key[SESSION_EXPIRY.len() + 8..]).into_owned();
        if let Some(old) = crate::iam::session(txn, &access_key_id)? {
            txn.delete(session_key(&access_key_id));
            adjust_session_count(txn, &old.account, -1)?;
        }
        txn.delete(index_key);
    }
    let live: u64 = txn.get(&session_count_key(account))?.unwrap_or(0);
    if live >= SESSIONS_PER_ACCOUNT_MAX as u64 {
        return failed(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed {SESSIONS_PER_ACCOUNT_MAX} live sessions per account."),
        );
    }
    if key_id_taken(txn, &session.access_key_id)? {
        return failed(
            ErrorCode::EntityAlreadyExists,
            "The access key id is taken.".to_owned(),
        );
    }
    txn.put(session_key(&session.access_key_id), session)?;
    txn.put(
        session_expiry_key(session.expires_at_ms, &session.access_key_id),
        &(),
    )?;
    adjust_session_count(txn, account, 1)?;
    Ok(CommandResult::Ok)
}

/// Forget the session counter of a deleted account.
pub(crate) fn forget_session_count(txn: &mut Txn<'_>, account: &AccountId) {
    txn.delete(session_count_key(account));
}

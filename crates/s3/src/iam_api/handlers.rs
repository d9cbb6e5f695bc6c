//! One function per served IAM/STS action: engine calls in, views out.
//! Users, access keys, inline user policies, managed policies with
//! versions and user attachments are served; groups, roles and the STS
//! credential calls answer NotImplemented until they are built.

use coffer_engine::Engine;
use coffer_iam::{
    AccessKeyStatus, AccessKeyView, AttachedPolicyView, IamError, IamRequest, IamResponse,
    InlinePolicyView, ListAccessKeysView, ListPage, PolicyVersionView, PolicyView, UserView,
};
use coffer_meta::iam::{EntityKind, IamChange, IamUser, ManagedPolicy};
use coffer_meta::AccountRecord;
use coffer_policy::{Caller, Policy, PolicyKind};
use coffer_types::{ErrorCode, S3Error, UnixMillis};
use time::OffsetDateTime;

use crate::context::Principal;

/// One authenticated call: who asks, in which account.
pub(crate) struct Call<'a> {
    pub engine: &'a Engine,
    pub account: &'a AccountRecord,
    pub principal: &'a Principal,
    pub operation: coffer_iam::Operation,
    /// Whose session signed, when temporary credentials did.
    pub session: Option<&'a coffer_meta::iam::SessionOf>,
}

pub(super) fn at(ms: UnixMillis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The engine's answers in IAM's terms.
pub(super) fn iam_error(failure: S3Error) -> IamError {
    match failure.code {
        ErrorCode::NoSuchEntity => IamError::no_such_entity(failure.message),
        ErrorCode::EntityAlreadyExists => IamError::entity_already_exists(failure.message),
        ErrorCode::DeleteConflict => IamError::delete_conflict(failure.message),
        ErrorCode::LimitExceeded => IamError::limit_exceeded(failure.message),
        ErrorCode::ServiceUnavailable | ErrorCode::SlowDown => IamError::service_failure(),
        _ => {
            tracing::error!(error = %failure, "IAM call failed");
            IamError::service_failure()
        }
    }
}

pub(super) fn version_id(version: u32) -> String {
    format!("v{version}")
}

pub(super) fn parse_version_id(text: &str) -> Result<u32, IamError> {
    text.strip_prefix('v')
        .and_then(|number| number.parse::<u32>().ok())
        .ok_or_else(|| IamError::invalid_input(format!("Invalid version id {text}.")))
}

/// A validated identity policy document, or AWS's MalformedPolicyDocument.
pub(super) fn checked_document(document: &str) -> Result<(), IamError> {
    let policy = Policy::parse(document, PolicyKind::Identity)
        .map_err(|failure| IamError::malformed_policy_document(failure.to_string()))?;
    coffer_policy::validate::validate_identity_policy(&policy)
        .map_err(|failure| IamError::malformed_policy_document(failure.to_string()))
}

/// One page of `items` (already in order) after `marker`, by `key`.
pub(super) fn page<T>(
    items: Vec<T>,
    page: &coffer_iam::request::Page,
    key: impl Fn(&T) -> String,
) -> ListPage<T> {
    let max_items = page.max_items_or_default() as usize;
    let mut rest: Vec<T> = match &page.marker {
        Some(marker) => items
            .into_iter()
            .filter(|item| key(item) > *marker)
            .collect(),
        None => items,
    };
    let is_truncated = rest.len() > max_items;
    rest.truncate(max_items);
    let marker = is_truncated.then(|| rest.last().map(&key)).flatten();
    ListPage {
        items: rest,
        is_truncated,
        marker,
    }
}

/// Users, policies and keys per account are capped (5000, 1500, 2 per
/// user), so a list reads them whole and pages in memory.
pub(super) const ENTITIES_READ_MAX: usize = 10_000;

impl Call<'_> {
    pub(super) fn account_id(&self) -> &str {
        &self.account.id.0
    }

    pub(super) fn user_arn(&self, user: &IamUser) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account_id(),
            user.path,
            user.name
        )
    }

    pub(super) fn policy_arn(&self, policy: &ManagedPolicy) -> String {
        format!(
            "arn:aws:iam::{}:policy{}{}",
            self.account_id(),
            policy.path,
            policy.name
        )
    }

    pub(crate) fn caller_arn(&self) -> String {
        match &self.principal.caller {
            Caller::User { path, name, .. } => {
                format!("arn:aws:iam::{}:user{path}{name}", self.account_id())
            }
            Caller::Session {
                role_name,
                session_name,
                ..
            } => format!(
                "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                self.account_id()
            ),
            _ => format!("arn:aws:iam::{}:root", self.account_id()),
        }
    }

    /// The user a call names, or the caller when it names none (AWS: the
    /// signing user; a root has no user to default to).
    pub(super) fn user_or_caller(&self, named: &Option<String>) -> Result<String, IamError> {
        match (named, &self.principal.caller) {
            (Some(name), _) => Ok(name.clone()),
            (None, Caller::User { name, .. }) => Ok(name.clone()),
            (None, _) => Err(IamError::validation_error(
                "Must specify userName when calling with non-User credentials",
            )),
        }
    }

    /// The ARN of user `name` for a decision: with its path when it
    /// exists (policies may name `user/dev/*`), else `user/NAME`.
    async fn user_resource(&self, name: &str) -> String {
        match self.engine.iam_user(&self.account.id, name).await {
            Ok(Some(user)) => self.user_arn(&user),
            _ => format!("arn:aws:iam::{}:user/{name}", self.account_id()),
        }
    }

    /// The resource ARN an action is decided on.
    pub(crate) async fn resource_of(&self, request: &IamRequest) -> String {
        let account = self.account_id();
        let named = |named: &Option<String>| self.user_or_caller(named).ok();
        let user_name = match request {
            IamRequest::GetUser(r) => named(&r.user_name),
            IamRequest::DeleteUser(r) => Some(r.user_name.clone()),
            IamRequest::CreateAccessKey(r) => named(&r.user_name),
            IamRequest::ListAccessKeys(r) => named(&r.user_name),
            IamRequest::UpdateAccessKey(r) => named(&r.user_name),
            IamRequest::DeleteAccessKey(r) => named(&r.user_name),
            IamRequest::PutUserPolicy(r) => Some(r.user_name.clone()),
            IamRequest::GetUserPolicy(r) => Some(r.user_name.clone()),
            IamRequest::DeleteUserPolicy(r) => Some(r.user_name.clone()),
            IamRequest::ListUserPolicies(r) => Some(r.user_name.clone()),
            IamRequest::AttachUserPolicy(r) => Some(r.user_name.clone()),
            IamRequest::DetachUserPolicy(r) => Some(r.user_name.clone()),
            IamRequest::ListAttachedUserPolicies(r) => Some(r.user_name.clone()),
            _ => None,
        };
        if let Some(name) = user_name {
            return self.user_resource(&name).await;
        }
        match request {
            IamRequest::CreateUser(r) => {
                format!("arn:aws:iam::{account}:user{}{}", r.path, r.user_name)
            }
            // A root asking about itself.
            IamRequest::GetUser(_)
            | IamRequest::CreateAccessKey(_)
            | IamRequest::ListAccessKeys(_)
            | IamRequest::UpdateAccessKey(_)
            | IamRequest::DeleteAccessKey(_) => format!("arn:aws:iam::{account}:root"),
            IamRequest::ListUsers(_) => format!("arn:aws:iam::{account}:user/*"),
            IamRequest::CreatePolicy(r) => {
                format!("arn:aws:iam::{account}:policy{}{}", r.path, r.policy_name)
            }
            IamRequest::GetPolicy(r) => r.policy_arn.clone(),
            IamRequest::DeletePolicy(r) => r.policy_arn.clone(),
            IamRequest::CreatePolicyVersion(r) => r.policy_arn.clone(),
            IamRequest::GetPolicyVersion(r) => r.policy_arn.clone(),
            IamRequest::ListPolicyVersions(r) => r.policy_arn.clone(),
            IamRequest::DeletePolicyVersion(r) => r.policy_arn.clone(),
            IamRequest::SetDefaultPolicyVersion(r) => r.policy_arn.clone(),
            IamRequest::ListPolicies(_) => format!("arn:aws:iam::{account}:policy/*"),
            _ => self.entity_resource(request).await,
        }
    }

    pub(super) fn user_view(&self, user: &IamUser) -> UserView {
        UserView {
            path: user.path.clone(),
            user_name: user.name.clone(),
            user_id: user.user_id.clone(),
            arn: self.user_arn(user),
            create_date: at(user.created_at_ms),
        }
    }

    fn policy_view(&self, policy: &ManagedPolicy) -> PolicyView {
        PolicyView {
            policy_name: policy.name.clone(),
            policy_id: policy.policy_id.clone(),
            arn: self.policy_arn(policy),
            path: policy.path.clone(),
            default_version_id: version_id(policy.default_version),
            attachment_count: u32::try_from(policy.attachments.len()).unwrap_or(u32::MAX),
            is_attachable: true,
            description: (!policy.description.is_empty()).then(|| policy.description.clone()),
            create_date: at(policy.created_at_ms),
            update_date: at(policy.updated_at_ms),
        }
    }

    pub(super) async fn user(&self, name: &str) -> Result<IamUser, IamError> {
        self.engine
            .iam_user(&self.account.id, name)
            .await
            .map_err(iam_error)?
            .ok_or_else(|| {
                IamError::no_such_entity(format!("The user with name {name} cannot be found."))
            })
    }

    /// The policy a customer-managed policy ARN of this account names.
    pub(super) async fn policy(&self, arn: &str) -> Result<ManagedPolicy, IamError> {
        let missing = || {
            IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
        };
        let prefix = format!("arn:aws:iam::{}:policy/", self.account_id());
        let rest = arn.strip_prefix(&prefix).ok_or_else(missing)?;
        let name = rest.rsplit('/').next().unwrap_or(rest);
        let policy = self
            .engine
            .iam_policy(&self.account.id, name)
            .await
            .map_err(iam_error)?
            .ok_or_else(missing)?;
        if self.policy_arn(&policy) != arn {
            return Err(missing());
        }
        Ok(policy)
    }

    pub(super) async fn change(&self, change: IamChange) -> Result<(), IamError> {
        self.engine
            .change_iam(&self.account.id, change)
            .await
            .map_err(iam_error)
    }

    pub(crate) async fn run(&self, request: IamRequest) -> Result<IamResponse, IamError> {
        let operation = request.operation();
        let done = || Ok(IamResponse::Empty(operation));
        match request {
            IamRequest::CreateUser(r) => {
                let user = self
                    .engine
                    .create_user(&self.account.id, &r.user_name, &r.path)
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreateUser(self.user_view(&user)))
            }
            IamRequest::GetUser(r) => match (&r.user_name, &self.principal.caller) {
                (None, Caller::Root(_)) => Ok(IamResponse::GetUser(UserView {
                    path: "/".to_owned(),
                    user_name: String::new(),
                    user_id: self.account_id().to_owned(),
                    arn: format!("arn:aws:iam::{}:root", self.account_id()),
                    create_date: at(self.account.created_at_ms),
                })),
                (named, _) => {
                    let user = self.user(&self.user_or_caller(named)?).await?;
                    Ok(IamResponse::GetUser(self.user_view(&user)))
                }
            },
            IamRequest::ListUsers(r) => {
                let users = self
                    .engine
                    .iam_users(&self.account.id, ENTITIES_READ_MAX)
                    .await
                    .map_err(iam_error)?;
                let views = users
                    .iter()
                    .filter(|user| user.path.starts_with(&r.path_prefix))
                    .map(|user| self.user_view(user))
                    .collect();
                Ok(IamResponse::ListUsers(page(views, &r.page, |view| {
                    view.user_name.to_lowercase()
                })))
            }
            IamRequest::DeleteUser(r) => {
                self.change(IamChange::DeleteUser { user: r.user_name })
                    .await?;
                done()
            }
            IamRequest::CreateAccessKey(r) => {
                let user = self.user_or_caller(&r.user_name)?;
                let created = self
                    .engine
                    .create_user_access_key(&self.account.id, &user)
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreateAccessKey(AccessKeyView {
                    user_name: created.key.user_name.clone(),
                    access_key_id: created.key.access_key_id.clone(),
                    status: AccessKeyStatus::Active,
                    secret_access_key: Some(created.secret_access_key.to_string()),
                    create_date: at(created.key.created_at_ms),
                }))
            }
            IamRequest::ListAccessKeys(r) => {
                let user = self.user(&self.user_or_caller(&r.user_name)?).await?;
                let keys = self
                    .engine
                    .user_access_keys(&self.account.id, &user.name)
                    .await
                    .map_err(iam_error)?;
                let views = keys
                    .into_iter()
                    .map(|key| AccessKeyView {
                        user_name: user.name.clone(),
                        access_key_id: key.access_key_id,
                        status: if key.active {
                            AccessKeyStatus::Active
                        } else {
                            AccessKeyStatus::Inactive
                        },
                        secret_access_key: None,
                        create_date: at(key.created_at_ms),
                    })
                    .collect();
                Ok(IamResponse::ListAccessKeys(ListAccessKeysView {
                    user_name: user.name.clone(),
                    keys: page(views, &r.page, |view| view.access_key_id.clone()),
                }))
            }
            IamRequest::UpdateAccessKey(r) => {
                let user = self.user_or_caller(&r.user_name)?;
                self.change(IamChange::SetAccessKeyActive {
                    user,
                    access_key_id: r.access_key_id,
                    active: r.status == AccessKeyStatus::Active,
                })
                .await?;
                done()
            }
            IamRequest::DeleteAccessKey(r) => {
                let user = self.user_or_caller(&r.user_name)?;
                self.change(IamChange::DeleteAccessKey {
                    user,
                    access_key_id: r.access_key_id,
                })
                .await?;
                done()
            }
            IamRequest::PutUserPolicy(r) => {
                checked_document(&r.policy_document)?;
                self.change(IamChange::PutInlinePolicy {
                    kind: EntityKind::User,
                    name: r.user_name,
                    policy_name: r.policy_name,
                    document: r.policy_document,
                })
                .await?;
                done()
            }
            IamRequest::GetUserPolicy(r) => {
                let user = self.user(&r.user_name).await?;
                let document = user.inline_policies.get(&r.policy_name).ok_or_else(|| {
                    IamError::no_such_entity(format!(
                        "The user policy with name {} cannot be found.",
                        r.policy_name
                    ))
                })?;
                Ok(IamResponse::GetUserPolicy(InlinePolicyView {
                    owner_name: user.name.clone(),
                    policy_name: r.policy_name,
                    policy_document: document.clone(),
                }))
            }
            IamRequest::DeleteUserPolicy(r) => {
                self.change(IamChange::DeleteInlinePolicy {
                    kind: EntityKind::User,
                    name: r.user_name,
                    policy_name: r.policy_name,
                })
                .await?;
                done()
            }
            IamRequest::ListUserPolicies(r) => {
                let user = self.user(&r.user_name).await?;
                let names = user.inline_policies.keys().cloned().collect();
                Ok(IamResponse::ListUserPolicies(page(
                    names,
                    &r.page,
                    |name| name.clone(),
                )))
            }
            IamRequest::AttachUserPolicy(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                self.change(IamChange::Attach {
                    kind: EntityKind::User,
                    name: r.user_name,
                    policy: policy.name,
                })
                .await?;
                done()
            }
            IamRequest::DetachUserPolicy(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                self.change(IamChange::Detach {
                    kind: EntityKind::User,
                    name: r.user_name,
                    policy: policy.name,
                })
                .await?;
                done()
            }
            IamRequest::ListAttachedUserPolicies(r) => {
                let user = self.user(&r.user_name).await?;
                let mut views = Vec::new();
                for name in &user.attached_policies {
                    if let Some(policy) = self
                        .engine
                        .iam_policy(&self.account.id, name)
                        .await
                        .map_err(iam_error)?
                    {
                        if policy.path.starts_with(&r.path_prefix) {
                            views.push(AttachedPolicyView {
                                policy_arn: self.policy_arn(&policy),
                                policy_name: policy.name,
                            });
                        }
                    }
                }
                Ok(IamResponse::ListAttachedUserPolicies(page(
                    views,
                    &r.page,
                    |view| view.policy_name.to_lowercase(),
                )))
            }
            IamRequest::CreatePolicy(r) => {
                checked_document(&r.policy_document)?;
                let policy = self
                    .engine
                    .create_managed_policy(
                        &self.account.id,
                        &r.policy_name,
                        &r.path,
                        r.description.as_deref().unwrap_or(""),
                        &r.policy_document,
                    )
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreatePolicy(self.policy_view(&policy)))
            }
            IamRequest::GetPolicy(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                Ok(IamResponse::GetPolicy(self.policy_view(&policy)))
            }
            IamRequest::DeletePolicy(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                self.change(IamChange::DeletePolicy {
                    policy: policy.name,
                })
                .await?;
                done()
            }
            IamRequest::ListPolicies(r) => {
                // Coffer has no AWS-managed policies: scope AWS is empty.
                let policies = if r.scope == coffer_iam::request::PolicyScope::Aws {
                    Vec::new()
                } else {
                    self.engine
                        .iam_policies(&self.account.id, ENTITIES_READ_MAX)
                        .await
                        .map_err(iam_error)?
                };
                let views = policies
                    .iter()
                    .filter(|policy| policy.path.starts_with(&r.path_prefix))
                    .filter(|policy| !r.only_attached || !policy.attachments.is_empty())
                    .map(|policy| self.policy_view(policy))
                    .collect();
                Ok(IamResponse::ListPolicies(page(views, &r.page, |view| {
                    view.policy_name.to_lowercase()
                })))
            }
            IamRequest::CreatePolicyVersion(r) => {
                checked_document(&r.policy_document)?;
                let policy = self.policy(&r.policy_arn).await?;
                let version = self
                    .engine
                    .create_policy_version(
                        &self.account.id,
                        &policy.name,
                        &r.policy_document,
                        r.set_as_default,
                    )
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreatePolicyVersion(PolicyVersionView {
                    document: None,
                    version_id: version_id(version),
                    is_default_version: r.set_as_default,
                    create_date: OffsetDateTime::now_utc(),
                }))
            }
            IamRequest::GetPolicyVersion(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                let number = parse_version_id(&r.version_id)?;
                let version = policy.versions.get(&number).ok_or_else(|| {
                    IamError::no_such_entity(format!(
                        "Policy {} version {} does not exist.",
                        r.policy_arn, r.version_id
                    ))
                })?;
                Ok(IamResponse::GetPolicyVersion(PolicyVersionView {
                    document: Some(version.document.clone()),
                    version_id: version_id(number),
                    is_default_version: number == policy.default_version,
                    create_date: at(version.created_at_ms),
                }))
            }
            IamRequest::ListPolicyVersions(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                let views = policy
                    .versions
                    .iter()
                    .rev()
                    .map(|(number, version)| PolicyVersionView {
                        document: None,
                        version_id: version_id(*number),
                        is_default_version: *number == policy.default_version,
                        create_date: at(version.created_at_ms),
                    })
                    .collect();
                Ok(IamResponse::ListPolicyVersions(page(
                    views,
                    &r.page,
                    |view| view.version_id.clone(),
                )))
            }
            IamRequest::DeletePolicyVersion(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                self.change(IamChange::DeletePolicyVersion {
                    policy: policy.name,
                    version: parse_version_id(&r.version_id)?,
                })
                .await?;
                done()
            }
            IamRequest::SetDefaultPolicyVersion(r) => {
                let policy = self.policy(&r.policy_arn).await?;
                self.change(IamChange::SetDefaultPolicyVersion {
                    policy: policy.name,
                    version: parse_version_id(&r.version_id)?,
                    now_ms: coffer_types::now_unix_millis(),
                })
                .await?;
                done()
            }
            other if other.service() == coffer_iam::Service::Sts => self.run_sts(other).await,
            other => self.run_groups_roles(other).await,
        }
    }
}

//! Groups and roles: the same shapes as users (inline and attached
//! policies), plus membership and a role's trust policy.

use coffer_iam::{
    AttachedPolicyView, GetGroupView, GroupView, IamError, IamRequest, IamResponse,
    InlinePolicyView, RoleView,
};
use coffer_meta::iam::{EntityKind, IamChange, IamGroup, IamRole};
use coffer_policy::{Policy, PolicyKind};

use super::handlers::{at, checked_document, iam_error, page, Call, ENTITIES_READ_MAX};

impl Call<'_> {
    pub(super) fn group_arn(&self, group: &IamGroup) -> String {
        format!(
            "arn:aws:iam::{}:group{}{}",
            self.account_id(),
            group.path,
            group.name
        )
    }

    pub(super) fn role_arn(&self, role: &IamRole) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account_id(),
            role.path,
            role.name
        )
    }

    fn group_view(&self, group: &IamGroup) -> GroupView {
        GroupView {
            path: group.path.clone(),
            group_name: group.name.clone(),
            group_id: group.group_id.clone(),
            arn: self.group_arn(group),
            create_date: at(group.created_at_ms),
        }
    }

    fn role_view(&self, role: &IamRole) -> RoleView {
        RoleView {
            path: role.path.clone(),
            role_name: role.name.clone(),
            role_id: role.role_id.clone(),
            arn: self.role_arn(role),
            create_date: at(role.created_at_ms),
            assume_role_policy_document: role.trust_policy.clone(),
            description: (!role.description.is_empty()).then(|| role.description.clone()),
            max_session_duration_seconds: role.max_session_duration_seconds,
        }
    }

    pub(super) async fn group(&self, name: &str) -> Result<IamGroup, IamError> {
        self.engine
            .iam_group(&self.account.id, name)
            .await
            .map_err(iam_error)?
            .ok_or_else(|| {
                IamError::no_such_entity(format!("The group with name {name} cannot be found."))
            })
    }

    pub(super) async fn role(&self, name: &str) -> Result<IamRole, IamError> {
        self.engine
            .iam_role(&self.account.id, name)
            .await
            .map_err(iam_error)?
            .ok_or_else(|| {
                IamError::no_such_entity(format!("The role with name {name} cannot be found."))
            })
    }

    async fn group_resource(&self, name: &str) -> String {
        match self.engine.iam_group(&self.account.id, name).await {
            Ok(Some(group)) => self.group_arn(&group),
            _ => format!("arn:aws:iam::{}:group/{name}", self.account_id()),
        }
    }

    async fn role_resource(&self, name: &str) -> String {
        match self.engine.iam_role(&self.account.id, name).await {
            Ok(Some(role)) => self.role_arn(&role),
            _ => format!("arn:aws:iam::{}:role/{name}", self.account_id()),
        }
    }

    /// The ARN a group or role action is decided on (with the entity's
    /// path when it exists).
    pub(super) async fn entity_resource(&self, request: &IamRequest) -> String {
        let account = self.account_id();
        match request {
            IamRequest::CreateGroup(r) => {
                format!("arn:aws:iam::{account}:group{}{}", r.path, r.group_name)
            }
            IamRequest::GetGroup(r) => self.group_resource(&r.group_name).await,
            IamRequest::DeleteGroup(r) => self.group_resource(&r.group_name).await,
            IamRequest::AddUserToGroup(r) => self.group_resource(&r.group_name).await,
            IamRequest::RemoveUserFromGroup(r) => self.group_resource(&r.group_name).await,
            IamRequest::PutGroupPolicy(r) => self.group_resource(&r.group_name).await,
            IamRequest::GetGroupPolicy(r) => self.group_resource(&r.group_name).await,
            IamRequest::DeleteGroupPolicy(r) => self.group_resource(&r.group_name).await,
            IamRequest::ListGroupPolicies(r) => self.group_resource(&r.group_name).await,
            IamRequest::AttachGroupPolicy(r) => self.group_resource(&r.group_name).await,
            IamRequest::DetachGroupPolicy(r) => self.group_resource(&r.group_name).await,
            IamRequest::ListAttachedGroupPolicies(r) => self.group_resource(&r.group_name).await,
            IamRequest::ListGroups(_) => format!("arn:aws:iam::{account}:group/*"),
            IamRequest::ListGroupsForUser(r) => {
                format!("arn:aws:iam::{account}:user/{}", r.user_name)
            }
            IamRequest::CreateRole(r) => {
                format!("arn:aws:iam::{account}:role{}{}", r.path, r.role_name)
            }
            IamRequest::GetRole(r) => self.role_resource(&r.role_name).await,
            IamRequest::DeleteRole(r) => self.role_resource(&r.role_name).await,
            IamRequest::PutRolePolicy(r) => self.role_resource(&r.role_name).await,
            IamRequest::GetRolePolicy(r) => self.role_resource(&r.role_name).await,
            IamRequest::DeleteRolePolicy(r) => self.role_resource(&r.role_name).await,
            IamRequest::ListRolePolicies(r) => self.role_resource(&r.role_name).await,
            IamRequest::AttachRolePolicy(r) => self.role_resource(&r.role_name).await,
            IamRequest::DetachRolePolicy(r) => self.role_resource(&r.role_name).await,
            IamRequest::ListAttachedRolePolicies(r) => self.role_resource(&r.role_name).await,
            IamRequest::ListRoles(_) => format!("arn:aws:iam::{account}:role/*"),
            _ => "*".to_owned(),
        }
    }

    /// Attached policies (names of this account's managed policies) as
    /// views, filtered by path prefix.
    async fn attached_views(
        &self,
        names: &std::collections::BTreeSet<String>,
        path_prefix: &str,
    ) -> Result<Vec<AttachedPolicyView>, IamError> {
        let mut views = Vec::new();
        for name in names {
            let found = self
                .engine
                .iam_policy(&self.account.id, name)
                .await
                .map_err(iam_error)?;
            if let Some(policy) = found.filter(|policy| policy.path.starts_with(path_prefix)) {
                views.push(AttachedPolicyView {
                    policy_arn: self.policy_arn(&policy),
                    policy_name: policy.name,
                });
            }
        }
        Ok(views)
    }

    async fn attach(
        &self,
        kind: EntityKind,
        name: String,
        arn: &str,
        attach: bool,
    ) -> Result<IamResponse, IamError> {
        let policy = self.policy(arn).await?;
        let change = if attach {
            IamChange::Attach {
                kind,
                name,
                policy: policy.name,
            }
        } else {
            IamChange::Detach {
                kind,
                name,
                policy: policy.name,
            }
        };
        self.change(change).await?;
        Ok(IamResponse::Empty(self.operation))
    }

    async fn put_inline(
        &self,
        kind: EntityKind,
        name: String,
        policy_name: String,
        document: String,
    ) -> Result<IamResponse, IamError> {
        checked_document(&document)?;
        self.change(IamChange::PutInlinePolicy {
            kind,
            name,
            policy_name,
            document,
        })
        .await?;
        Ok(IamResponse::Empty(self.operation))
    }

    async fn delete_inline(
        &self,
        kind: EntityKind,
        name: String,
        policy_name: String,
    ) -> Result<IamResponse, IamError> {
        self.change(IamChange::DeleteInlinePolicy {
            kind,
            name,
            policy_name,
        })
        .await?;
        Ok(IamResponse::Empty(self.operation))
    }

    /// A role's trust policy: a resource policy whose principals exist.
    fn checked_trust_policy(&self, document: &str) -> Result<(), IamError> {
        let policy = Policy::parse(document, PolicyKind::Trust)
            .map_err(|failure| IamError::malformed_policy_document(failure.to_string()))?;
        coffer_policy::validate::validate_trust_policy(
            &policy,
            &crate::caller::EngineDirectory(self.engine),
        )
        .map_err(|failure| IamError::malformed_policy_document(failure.to_string()))
    }

    pub(super) async fn run_groups_roles(
        &self,
        request: IamRequest,
    ) -> Result<IamResponse, IamError> {
        let inline_view =
            |owner: &str, policy_name: String, document: Option<&String>, kind: &str| {
                document
                    .map(|document| InlinePolicyView {
                        owner_name: owner.to_owned(),
                        policy_name: policy_name.clone(),
                        policy_document: document.clone(),
                    })
                    .ok_or_else(|| {
                        IamError::no_such_entity(format!(
                            "The {kind} policy with name {policy_name} cannot be found."
                        ))
                    })
            };
        match request {
            IamRequest::CreateGroup(r) => {
                let group = self
                    .engine
                    .create_group(&self.account.id, &r.group_name, &r.path)
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreateGroup(self.group_view(&group)))
            }
            IamRequest::GetGroup(r) => {
                let group = self.group(&r.group_name).await?;
                let mut users = Vec::new();
                for member in &group.members {
                    if let Ok(user) = self.user(member).await {
                        users.push(self.user_view(&user));
                    }
                }
                Ok(IamResponse::GetGroup(GetGroupView {
                    group: self.group_view(&group),
                    users: page(users, &r.page, |view| view.user_name.to_lowercase()),
                }))
            }
            IamRequest::ListGroups(r) => {
                let groups = self
                    .engine
                    .iam_groups(&self.account.id, ENTITIES_READ_MAX)
                    .await
                    .map_err(iam_error)?;
                let views = groups
                    .iter()
                    .filter(|group| group.path.starts_with(&r.path_prefix))
                    .map(|group| self.group_view(group))
                    .collect();
                Ok(IamResponse::ListGroups(page(views, &r.page, |view| {
                    view.group_name.to_lowercase()
                })))
            }
            IamRequest::ListGroupsForUser(r) => {
                let user = self.user(&r.user_name).await?;
                let mut views = Vec::new();
                for name in &user.groups {
                    if let Ok(group) = self.group(name).await {
                        views.push(self.group_view(&group));
                    }
                }
                Ok(IamResponse::ListGroupsForUser(page(
                    views,
                    &r.page,
                    |view| view.group_name.to_lowercase(),
                )))
            }
            IamRequest::DeleteGroup(r) => {
                self.change(IamChange::DeleteGroup {
                    group: r.group_name,
                })
                .await?;
                Ok(IamResponse::Empty(self.operation))
            }
            IamRequest::AddUserToGroup(r) => {
                self.change(IamChange::AddUserToGroup {
                    group: r.group_name,
                    user: r.user_name,
                })
                .await?;
                Ok(IamResponse::Empty(self.operation))
            }
            IamRequest::RemoveUserFromGroup(r) => {
                self.change(IamChange::RemoveUserFromGroup {
                    group: r.group_name,
                    user: r.user_name,
                })
                .await?;
                Ok(IamResponse::Empty(self.operation))
            }
            IamRequest::PutGroupPolicy(r) => {
                self.put_inline(
                    EntityKind::Group,
                    r.group_name,
                    r.policy_name,
                    r.policy_document,
                )
                .await
            }
            IamRequest::DeleteGroupPolicy(r) => {
                self.delete_inline(EntityKind::Group, r.group_name, r.policy_name)
                    .await
            }
            IamRequest::GetGroupPolicy(r) => {
                let group = self.group(&r.group_name).await?;
                inline_view(
                    &group.name,
                    r.policy_name.clone(),
                    group.inline_policies.get(&r.policy_name),
                    "group",
                )
                .map(IamResponse::GetGroupPolicy)
            }
            IamRequest::ListGroupPolicies(r) => {
                let group = self.group(&r.group_name).await?;
                let names = group.inline_policies.keys().cloned().collect();
                Ok(IamResponse::ListGroupPolicies(page(
                    names,
                    &r.page,
                    Clone::clone,
                )))
            }
            IamRequest::AttachGroupPolicy(r) => {
                self.attach(EntityKind::Group, r.group_name, &r.policy_arn, true)
                    .await
            }
            IamRequest::DetachGroupPolicy(r) => {
                self.attach(EntityKind::Group, r.group_name, &r.policy_arn, false)
                    .await
            }
            IamRequest::ListAttachedGroupPolicies(r) => {
                let group = self.group(&r.group_name).await?;
                let views = self
                    .attached_views(&group.attached_policies, &r.path_prefix)
                    .await?;
                Ok(IamResponse::ListAttachedGroupPolicies(page(
                    views,
                    &r.page,
                    |view| view.policy_name.to_lowercase(),
                )))
            }
            IamRequest::CreateRole(r) => {
                self.checked_trust_policy(&r.assume_role_policy_document)?;
                let role = self
                    .engine
                    .create_role(
                        &self.account.id,
                        &r.role_name,
                        &r.path,
                        &r.assume_role_policy_document,
                        r.description.as_deref().unwrap_or(""),
                        r.max_session_duration_seconds,
                    )
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::CreateRole(self.role_view(&role)))
            }
            IamRequest::GetRole(r) => {
                let role = self.role(&r.role_name).await?;
                Ok(IamResponse::GetRole(self.role_view(&role)))
            }
            IamRequest::ListRoles(r) => {
                let roles = self
                    .engine
                    .iam_roles(&self.account.id, ENTITIES_READ_MAX)
                    .await
                    .map_err(iam_error)?;
                let views = roles
                    .iter()
                    .filter(|role| role.path.starts_with(&r.path_prefix))
                    .map(|role| self.role_view(role))
                    .collect();
                Ok(IamResponse::ListRoles(page(views, &r.page, |view| {
                    view.role_name.to_lowercase()
                })))
            }
            IamRequest::DeleteRole(r) => {
                self.change(IamChange::DeleteRole { role: r.role_name })
                    .await?;
                Ok(IamResponse::Empty(self.operation))
            }
            IamRequest::PutRolePolicy(r) => {
                self.put_inline(
                    EntityKind::Role,
                    r.role_name,
                    r.policy_name,
                    r.policy_document,
                )
                .await
            }
            IamRequest::DeleteRolePolicy(r) => {
                self.delete_inline(EntityKind::Role, r.role_name, r.policy_name)
                    .await
            }
            IamRequest::GetRolePolicy(r) => {
                let role = self.role(&r.role_name).await?;
                inline_view(
                    &role.name,
                    r.policy_name.clone(),
                    role.inline_policies.get(&r.policy_name),
                    "role",
                )
                .map(IamResponse::GetRolePolicy)
            }
            IamRequest::ListRolePolicies(r) => {
                let role = self.role(&r.role_name).await?;
                let names = role.inline_policies.keys().cloned().collect();
                Ok(IamResponse::ListRolePolicies(page(
                    names,
                    &r.page,
                    Clone::clone,
                )))
            }
            IamRequest::AttachRolePolicy(r) => {
                self.attach(EntityKind::Role, r.role_name, &r.policy_arn, true)
                    .await
            }
            IamRequest::DetachRolePolicy(r) => {
                self.attach(EntityKind::Role, r.role_name, &r.policy_arn, false)
                    .await
            }
            IamRequest::ListAttachedRolePolicies(r) => {
                let role = self.role(&r.role_name).await?;
                let views = self
                    .attached_views(&role.attached_policies, &r.path_prefix)
                    .await?;
                Ok(IamResponse::ListAttachedRolePolicies(page(
                    views,
                    &r.page,
                    |view| view.policy_name.to_lowercase(),
                )))
            }
            other => Err(IamError::not_implemented(other.operation().name())),
        }
    }
}

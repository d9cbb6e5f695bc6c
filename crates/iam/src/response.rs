//! Typed results, one `IamResponse` variant per result shape, built from
//! view structs that mirror AWS's response elements field for field.
//! Handlers fill these from storage; `render` turns them into XML.
//!
//! Policy documents are held as plain JSON text; rendering URL-encodes
//! them, as AWS does.

use time::OffsetDateTime;

use crate::action::{Operation, Service};
use crate::request::AccessKeyStatus;

/// `<User>` and the members of `<Users>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
}

/// `<AccessKey>` (create) and the members of `<AccessKeyMetadata>` (list).
/// The secret is shown only once, in CreateAccessKey's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyView {
    pub user_name: String,
    pub access_key_id: String,
    pub status: AccessKeyStatus,
    pub secret_access_key: Option<String>,
    pub create_date: OffsetDateTime,
}

/// `<Policy>` and the members of `<Policies>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView {
    pub policy_name: String,
    pub policy_id: String,
    pub arn: String,
    pub path: String,
    pub default_version_id: String,
    pub attachment_count: u32,
    pub is_attachable: bool,
    /// AWS returns it from GetPolicy but not from ListPolicies.
    pub description: Option<String>,
    pub create_date: OffsetDateTime,
    pub update_date: OffsetDateTime,
}

/// `<PolicyVersion>` and the members of `<Versions>`. AWS includes the
/// document only in GetPolicyVersion's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionView {
    pub document: Option<String>,
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: OffsetDateTime,
}

/// `<Group>` and the members of `<Groups>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub path: String,
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
}

/// `<Role>` and the members of `<Roles>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: OffsetDateTime,
    /// The trust policy as JSON text.
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration_seconds: u32,
}

/// A member of `<AttachedPolicies>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicyView {
    pub policy_name: String,
    pub policy_arn: String,
}

/// Get{User,Group,Role}Policy: the owner's name, the policy's name and
/// its document as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicyView {
    pub owner_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

/// STS `<Credentials>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsView {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: OffsetDateTime,
}

/// STS `<AssumedRoleUser>`: `assumed_role_id` is `ROLEID:session-name`,
/// `arn` is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/session-name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRoleUserView {
    pub assumed_role_id: String,
    pub arn: String,
}

/// GetCallerIdentity's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentityView {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

/// AssumeRole's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleView {
    pub credentials: CredentialsView,
    pub assumed_role_user: AssumedRoleUserView,
    /// How full the packed session policies are, in percent of the limit;
    /// AWS sends it only when session policies were given.
    pub packed_policy_size_percent: Option<u32>,
}

/// One page of a list result. `marker` is what the client sends back to
/// get the next page; AWS sends it only when `is_truncated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

impl<T> ListPage<T> {
    /// A whole list in one page.
    pub fn complete(items: Vec<T>) -> Self {
        ListPage {
            items,
            is_truncated: false,
            marker: None,
        }
    }
}

/// ListAccessKeys' result: the user it lists for, then the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAccessKeysView {
    pub user_name: String,
    pub keys: ListPage<AccessKeyView>,
}

/// GetGroup's result: the group and a page of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetGroupView {
    pub group: GroupView,
    pub users: ListPage<UserView>,
}

/// Every result this crate renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamResponse {
    /// Operations whose answer is only `ResponseMetadata` (DeleteUser,
    /// PutUserPolicy, AttachRolePolicy, …).
    Empty(Operation),
    CreateUser(UserView),
    GetUser(UserView),
    ListUsers(ListPage<UserView>),
    CreateAccessKey(AccessKeyView),
    ListAccessKeys(ListAccessKeysView),
    GetUserPolicy(InlinePolicyView),
    ListUserPolicies(ListPage<String>),
    ListAttachedUserPolicies(ListPage<AttachedPolicyView>),
    CreatePolicy(PolicyView),
    GetPolicy(PolicyView),
    ListPolicies(ListPage<PolicyView>),
    CreatePolicyVersion(PolicyVersionView),
    GetPolicyVersion(PolicyVersionView),
    ListPolicyVersions(ListPage<PolicyVersionView>),
    CreateGroup(GroupView),
    GetGroup(GetGroupView),
    ListGroups(ListPage<GroupView>),
    ListGroupsForUser(ListPage<GroupView>),
    GetGroupPolicy(InlinePolicyView),
    ListGroupPolicies(ListPage<String>),
    ListAttachedGroupPolicies(ListPage<AttachedPolicyView>),
    CreateRole(RoleView),
    GetRole(RoleView),
    ListRoles(ListPage<RoleView>),
    GetRolePolicy(InlinePolicyView),
    ListRolePolicies(ListPage<String>),
    ListAttachedRolePolicies(ListPage<AttachedPolicyView>),
    GetCallerIdentity(CallerIdentityView),
    GetSessionToken(CredentialsView),
    AssumeRole(AssumeRoleView),
}

impl IamResponse {
    /// The operation this answers, which names the XML elements.
    pub fn operation(&self) -> Operation {
        match self {
            IamResponse::Empty(operation) => *operation,
            IamResponse::CreateUser(_) => Operation::CreateUser,
            IamResponse::GetUser(_) => Operation::GetUser,
            IamResponse::ListUsers(_) => Operation::ListUsers,
            IamResponse::CreateAccessKey(_) => Operation::CreateAccessKey,
            IamResponse::ListAccessKeys(_) => Operation::ListAccessKeys,
            IamResponse::GetUserPolicy(_) => Operation::GetUserPolicy,
            IamResponse::ListUserPolicies(_) => Operation::ListUserPolicies,
            IamResponse::ListAttachedUserPolicies(_) => Operation::ListAttachedUserPolicies,
            IamResponse::CreatePolicy(_) => Operation::CreatePolicy,
            IamResponse::GetPolicy(_) => Operation::GetPolicy,
            IamResponse::ListPolicies(_) => Operation::ListPolicies,
            IamResponse::CreatePolicyVersion(_) => Operation::CreatePolicyVersion,
            IamResponse::GetPolicyVersion(_) => Operation::GetPolicyVersion,
            IamResponse::ListPolicyVersions(_) => Operation::ListPolicyVersions,
            IamResponse::CreateGroup(_) => Operation::CreateGroup,
            IamResponse::GetGroup(_) => Operation::GetGroup,
            IamResponse::ListGroups(_) => Operation::ListGroups,
            IamResponse::ListGroupsForUser(_) => Operation::ListGroupsForUser,
            IamResponse::GetGroupPolicy(_) => Operation::GetGroupPolicy,
            IamResponse::ListGroupPolicies(_) => Operation::ListGroupPolicies,
            IamResponse::ListAttachedGroupPolicies(_) => Operation::ListAttachedGroupPolicies,
            IamResponse::CreateRole(_) => Operation::CreateRole,
            IamResponse::GetRole(_) => Operation::GetRole,
            IamResponse::ListRoles(_) => Operation::ListRoles,
            IamResponse::GetRolePolicy(_) => Operation::GetRolePolicy,
            IamResponse::ListRolePolicies(_) => Operation::ListRolePolicies,
            IamResponse::ListAttachedRolePolicies(_) => Operation::ListAttachedRolePolicies,
            IamResponse::GetCallerIdentity(_) => Operation::GetCallerIdentity,
            IamResponse::GetSessionToken(_) => Operation::GetSessionToken,
            IamResponse::AssumeRole(_) => Operation::AssumeRole,
        }
    }

    pub fn service(&self) -> Service {
        self.operation().service()
    }
}

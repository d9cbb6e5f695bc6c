//! Groups, their members, their inline policies and their attached
//! managed policies.

use super::{path_or_default, path_prefix_or_default, Page};
use crate::validate::{Reader, ARN, GROUP_NAME, POLICY_DOCUMENT, POLICY_NAME, USER_NAME};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGroup {
    pub group_name: String,
    pub path: String,
}

impl CreateGroup {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreateGroup {
            group_name: reader.required("GroupName", &GROUP_NAME),
            path: path_or_default(reader),
        }
    }
}

/// The group and a page of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetGroup {
    pub group_name: String,
    pub page: Page,
}

impl GetGroup {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetGroup {
            group_name: reader.required("GroupName", &GROUP_NAME),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteGroup {
    pub group_name: String,
}

impl DeleteGroup {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteGroup {
            group_name: reader.required("GroupName", &GROUP_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListGroups {
    pub path_prefix: String,
    pub page: Page,
}

impl ListGroups {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListGroups {
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddUserToGroup {
    pub group_name: String,
    pub user_name: String,
}

impl AddUserToGroup {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        AddUserToGroup {
            group_name: reader.required("GroupName", &GROUP_NAME),
            user_name: reader.required("UserName", &USER_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveUserFromGroup {
    pub group_name: String,
    pub user_name: String,
}

impl RemoveUserFromGroup {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        RemoveUserFromGroup {
            group_name: reader.required("GroupName", &GROUP_NAME),
            user_name: reader.required("UserName", &USER_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListGroupsForUser {
    pub user_name: String,
    pub page: Page,
}

impl ListGroupsForUser {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListGroupsForUser {
            user_name: reader.required("UserName", &USER_NAME),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutGroupPolicy {
    pub group_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

impl PutGroupPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        PutGroupPolicy {
            group_name: reader.required("GroupName", &GROUP_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
            policy_document: reader.required("PolicyDocument", &POLICY_DOCUMENT),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetGroupPolicy {
    pub group_name: String,
    pub policy_name: String,
}

impl GetGroupPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetGroupPolicy {
            group_name: reader.required("GroupName", &GROUP_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteGroupPolicy {
    pub group_name: String,
    pub policy_name: String,
}

impl DeleteGroupPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteGroupPolicy {
            group_name: reader.required("GroupName", &GROUP_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListGroupPolicies {
    pub group_name: String,
    pub page: Page,
}

impl ListGroupPolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListGroupPolicies {
            group_name: reader.required("GroupName", &GROUP_NAME),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachGroupPolicy {
    pub group_name: String,
    pub policy_arn: String,
}

impl AttachGroupPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        AttachGroupPolicy {
            group_name: reader.required("GroupName", &GROUP_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachGroupPolicy {
    pub group_name: String,
    pub policy_arn: String,
}

impl DetachGroupPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DetachGroupPolicy {
            group_name: reader.required("GroupName", &GROUP_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAttachedGroupPolicies {
    pub group_name: String,
    pub path_prefix: String,
    pub page: Page,
}

impl ListAttachedGroupPolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListAttachedGroupPolicies {
            group_name: reader.required("GroupName", &GROUP_NAME),
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

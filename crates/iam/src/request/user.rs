//! Users, their access keys, their inline policies and their attached
//! managed policies.

use super::{path_or_default, path_prefix_or_default, AccessKeyStatus, Page};
use crate::validate::{Reader, ACCESS_KEY_ID, ARN, POLICY_DOCUMENT, POLICY_NAME, USER_NAME};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateUser {
    pub user_name: String,
    pub path: String,
}

impl CreateUser {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreateUser {
            user_name: reader.required("UserName", &USER_NAME),
            path: path_or_default(reader),
        }
    }
}

/// `user_name: None` means the user who signed the request. AWS answers a
/// caller that is not a user (e.g. an assumed role) with `ValidationError`
/// "Must specify userName when calling with non-User credentials".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetUser {
    pub user_name: Option<String>,
}

impl GetUser {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetUser {
            user_name: reader.optional("UserName", &USER_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUsers {
    pub path_prefix: String,
    pub page: Page,
}

impl ListUsers {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListUsers {
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteUser {
    pub user_name: String,
}

impl DeleteUser {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteUser {
            user_name: reader.required("UserName", &USER_NAME),
        }
    }
}

/// `user_name: None` means the user who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAccessKey {
    pub user_name: Option<String>,
}

impl CreateAccessKey {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        CreateAccessKey {
            user_name: reader.optional("UserName", &USER_NAME),
        }
    }
}

/// `user_name: None` means the user who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAccessKeys {
    pub user_name: Option<String>,
    pub page: Page,
}

impl ListAccessKeys {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListAccessKeys {
            user_name: reader.optional("UserName", &USER_NAME),
            page: reader.page(),
        }
    }
}

/// `user_name: None` means the user who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateAccessKey {
    pub user_name: Option<String>,
    pub access_key_id: String,
    pub status: AccessKeyStatus,
}

impl UpdateAccessKey {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        UpdateAccessKey {
            user_name: reader.optional("UserName", &USER_NAME),
            access_key_id: reader.required("AccessKeyId", &ACCESS_KEY_ID),
            // The placeholder never escapes: a missing or unknown status
            // is recorded and `Reader::finish` refuses the request.
            status: reader
                .required_choice("Status", AccessKeyStatus::CHOICES)
                .unwrap_or(AccessKeyStatus::Inactive),
        }
    }
}

/// `user_name: None` means the user who signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteAccessKey {
    pub user_name: Option<String>,
    pub access_key_id: String,
}

impl DeleteAccessKey {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteAccessKey {
            user_name: reader.optional("UserName", &USER_NAME),
            access_key_id: reader.required("AccessKeyId", &ACCESS_KEY_ID),
        }
    }
}

/// The document is the client's JSON text, already URL-decoded; another
/// crate decides whether it is a valid policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutUserPolicy {
    pub user_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

impl PutUserPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        PutUserPolicy {
            user_name: reader.required("UserName", &USER_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
            policy_document: reader.required("PolicyDocument", &POLICY_DOCUMENT),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetUserPolicy {
    pub user_name: String,
    pub policy_name: String,
}

impl GetUserPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        GetUserPolicy {
            user_name: reader.required("UserName", &USER_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteUserPolicy {
    pub user_name: String,
    pub policy_name: String,
}

impl DeleteUserPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DeleteUserPolicy {
            user_name: reader.required("UserName", &USER_NAME),
            policy_name: reader.required("PolicyName", &POLICY_NAME),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUserPolicies {
    pub user_name: String,
    pub page: Page,
}

impl ListUserPolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListUserPolicies {
            user_name: reader.required("UserName", &USER_NAME),
            page: reader.page(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachUserPolicy {
    pub user_name: String,
    pub policy_arn: String,
}

impl AttachUserPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        AttachUserPolicy {
            user_name: reader.required("UserName", &USER_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachUserPolicy {
    pub user_name: String,
    pub policy_arn: String,
}

impl DetachUserPolicy {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        DetachUserPolicy {
            user_name: reader.required("UserName", &USER_NAME),
            policy_arn: reader.required("PolicyArn", &ARN),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAttachedUserPolicies {
    pub user_name: String,
    pub path_prefix: String,
    pub page: Page,
}

impl ListAttachedUserPolicies {
    pub(crate) fn parse(reader: &mut Reader) -> Self {
        ListAttachedUserPolicies {
            user_name: reader.required("UserName", &USER_NAME),
            path_prefix: path_prefix_or_default(reader),
            page: reader.page(),
        }
    }
}

//! The closed table of supported operations: each one's wire name, its
//! service and the IAM action a policy must allow, plus `parse_request`,
//! which turns form parameters into the matching `IamRequest` variant.

use crate::error::IamError;
use crate::form::Params;
use crate::request::*;
use crate::validate::Reader;

/// Which query API a request speaks. The credential scope of its signature
/// says which (`…/iam/aws4_request` or `…/sts/aws4_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    /// The name in a SigV4 credential scope and an IAM action prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    pub fn from_scope(name: &str) -> Option<Service> {
        match name {
            "iam" => Some(Service::Iam),
            "sts" => Some(Service::Sts),
            _ => None,
        }
    }

    /// The only `Version` parameter each API accepts.
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
        }
    }

    /// The `xmlns` of every response and error document.
    pub fn xml_namespace(self) -> &'static str {
        match self {
            Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Service::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }
}

/// Generates `Operation`, `IamRequest` and the dispatch from one list, so
/// an operation's wire name, IAM action, service and parameter struct
/// cannot drift apart. Each operation's parameter struct has the
/// operation's name.
macro_rules! operations {
    (iam: [$($iam:ident),* $(,)?], sts: [$($sts:ident),* $(,)?] $(,)?) => {
        /// Every supported operation, without its parameters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($iam,)*
            $($sts,)*
        }

        /// One parsed request: the operation and its checked parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum IamRequest {
            $($iam($iam),)*
            $($sts($sts),)*
        }

        impl Operation {
            pub const ALL: &'static [Operation] = &[
                $(Operation::$iam,)*
                $(Operation::$sts,)*
            ];

            /// The `Action` parameter's value, e.g. `CreateUser`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$iam => stringify!($iam),)*
                    $(Operation::$sts => stringify!($sts),)*
                }
            }

            /// The action a policy must allow, e.g. `iam:CreateUser`.
            pub fn action(self) -> &'static str {
                match self {
                    $(Operation::$iam => concat!("iam:", stringify!($iam)),)*
                    $(Operation::$sts => concat!("sts:", stringify!($sts)),)*
                }
            }

            pub fn service(self) -> Service {
                match self {
                    $(Operation::$iam => Service::Iam,)*
                    $(Operation::$sts => Service::Sts,)*
                }
            }
        }

        impl IamRequest {
            pub fn operation(&self) -> Operation {
                match self {
                    $(IamRequest::$iam(_) => Operation::$iam,)*
                    $(IamRequest::$sts(_) => Operation::$sts,)*
                }
            }
        }

        fn parse_parameters(operation: Operation, reader: &mut Reader) -> IamRequest {
            match operation {
                $(Operation::$iam => IamRequest::$iam($iam::parse(reader)),)*
                $(Operation::$sts => IamRequest::$sts($sts::parse(reader)),)*
            }
        }
    };
}

operations! {
    iam: [
        CreateUser, GetUser, ListUsers, DeleteUser,
        CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
        PutUserPolicy, GetUserPolicy, DeleteUserPolicy, ListUserPolicies,
        AttachUserPolicy, DetachUserPolicy, ListAttachedUserPolicies,
        CreatePolicy, GetPolicy, DeletePolicy, ListPolicies,
        CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
        SetDefaultPolicyVersion,
        CreateGroup, GetGroup, DeleteGroup, ListGroups,
        AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser,
        PutGroupPolicy, GetGroupPolicy, DeleteGroupPolicy, ListGroupPolicies,
        AttachGroupPolicy, DetachGroupPolicy, ListAttachedGroupPolicies,
        CreateRole, GetRole, ListRoles, DeleteRole,
        PutRolePolicy, GetRolePolicy, DeleteRolePolicy, ListRolePolicies,
        AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies,
    ],
    sts: [GetCallerIdentity, GetSessionToken, AssumeRole],
}

impl Operation {
    /// The operation `Action=name` names in `service`, if supported.
    pub fn find(service: Service, name: &str) -> Option<Operation> {
        Operation::ALL
            .iter()
            .copied()
            .find(|operation| operation.service() == service && operation.name() == name)
    }
}

impl IamRequest {
    /// The IAM action a policy must allow, e.g. `iam:CreateUser`.
    pub fn action(&self) -> &'static str {
        self.operation().action()
    }

    pub fn service(&self) -> Service {
        self.operation().service()
    }
}

/// Echoed names are cut short: they come from the client and end up in
/// error messages.
const MAX_ECHOED_NAME_CHARS: usize = 128;

fn echo(text: &str) -> String {
    text.chars().take(MAX_ECHOED_NAME_CHARS).collect()
}

/// Parses a query-API request for `service` from its raw query string
/// (without `?`) and its form-encoded body. Both are read whatever the
/// method and `Content-Type`: botocore POSTs a form body and some clients
/// GET with a query string, and the signature already covers both.
///
/// Unknown parameters are ignored (AWS appears to do the same, and SDKs
/// send optional ones we do not model, e.g. `Tags`). Every constraint failure
/// is reported at once as one `ValidationError`.
pub fn parse_request(service: Service, query: &str, body: &[u8]) -> Result<IamRequest, IamError> {
    parse_request_with(service, query, body, &Limits::default())
}

/// Limits a deployment may change from AWS's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The shortest session AssumeRole and GetSessionToken grant (AWS:
    /// 900 s). Test rigs lower it to watch credentials expire.
    pub session_duration_seconds_min: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            session_duration_seconds_min: crate::request::ASSUME_ROLE_MIN_DURATION_SECONDS,
        }
    }
}

/// `parse_request` under `limits`.
pub fn parse_request_with(
    service: Service,
    query: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<IamRequest, IamError> {
    let params = Params::parse(query, body)?;
    let action = match params.get("Action") {
        Some(action) if !action.is_empty() => action,
        _ => return Err(IamError::missing_action()),
    };
    let version = params
        .get("Version")
        .ok_or_else(|| IamError::missing_parameter("Version"))?;
    let operation = Operation::find(service, action)
        .filter(|_| version == service.api_version())
        .ok_or_else(|| IamError::invalid_action(&echo(action), &echo(version)))?;
    let mut reader = Reader::new(&params);
    reader.session_duration_seconds_min = limits.session_duration_seconds_min;
    let request = parse_parameters(operation, &mut reader);
    reader.finish()?;
    Ok(request)
}

#[cfg(test)]
mod tests;

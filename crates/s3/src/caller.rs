//! Who is asking: the caller behind an access key — an account root, an
//! IAM user with its own, its groups' and its attached policies, or a role
//! session with its role's policies and session policy — checked against
//! its session token and expiry. Also the directory of principals that
//! policies may name.

use std::sync::Arc;

use coffer_engine::Engine;
use coffer_meta::iam::SessionOf;
use coffer_meta::AccountRecord;
use coffer_policy::{AccountRef, Caller, Policy, PolicyKind};
use coffer_types::{ErrorCode, S3Error};
use sha2::Digest;

use crate::access::{account_ref, Authorizer};
use crate::context::IdentityPolicy;
use crate::error;

/// Principals a policy may name: accounts, and IAM users and roles that
/// exist (as this node has them; AWS also refuses a policy naming a
/// principal that does not exist).
pub(crate) struct EngineDirectory<'a>(pub &'a Engine);

impl coffer_policy::validate::Directory for EngineDirectory<'_> {
    fn account_exists(&self, account_id: &str) -> bool {
        self.0
            .account_record(&coffer_types::AccountId(account_id.to_owned()))
            .is_ok_and(|found| found.is_some())
    }
    fn canonical_user_exists(&self, canonical_id: &str) -> bool {
        self.0
            .account_by_canonical_id(canonical_id)
            .is_ok_and(|found| found.is_some())
    }
    fn principal_exists(&self, arn: &str) -> bool {
        // arn:aws:iam::ID:user/PATH/NAME, …:role/PATH/NAME, or
        // arn:aws:sts::ID:assumed-role/NAME/SESSION.
        let Some((service_and_account, resource)) = arn
            .strip_prefix("arn:aws:")
            .and_then(|rest| rest.rsplit_once(':'))
        else {
            return false;
        };
        let Some((service, account)) = service_and_account.split_once("::") else {
            return false;
        };
        let account = coffer_types::AccountId(account.to_owned());
        let (kind, rest) = resource.split_once('/').unwrap_or((resource, ""));
        let last = rest.rsplit('/').next().unwrap_or(rest);
        match (service, kind) {
            ("iam", "user") => self.0.iam_user_now(&account, last).is_ok_and(|found| {
                found.is_some_and(|user| format!("user{}{}", user.path, user.name) == resource)
            }),
            ("iam", "role") => self.0.iam_role_now(&account, last).is_ok_and(|found| {
                found.is_some_and(|role| format!("role{}{}", role.path, role.name) == resource)
            }),
            ("sts", "assumed-role") => rest.split_once('/').is_some_and(|(role, _session)| {
                self.0
                    .iam_role_now(&account, role)
                    .is_ok_and(|found| found.is_some())
            }),
            _ => false,
        }
    }
}

/// What `Authorizer::caller` finds: who, their account, their policies.
pub(crate) struct Caller3 {
    pub caller: Caller,
    pub account: Option<AccountRecord>,
    pub identity: Arc<Vec<IdentityPolicy>>,
    pub session_policy: Option<Arc<IdentityPolicy>>,
}

impl Caller3 {
    fn anonymous() -> Self {
        Self {
            caller: Caller::Anonymous,
            account: None,
            identity: Arc::default(),
            session_policy: None,
        }
    }

    fn of(caller: Caller, account: AccountRecord) -> Self {
        Self {
            caller,
            account: Some(account),
            identity: Arc::default(),
            session_policy: None,
        }
    }
}

fn invalid_token() -> S3Error {
    error::with_message(
        ErrorCode::InvalidToken,
        "The provided token is malformed or otherwise invalid.",
    )
}

/// Stored identity policies, parsed; one that no longer parses (they were
/// validated when put) is logged and left out.
fn parse_identity(account: &AccountRef, documents: Vec<(String, String)>) -> Vec<IdentityPolicy> {
    let mut parsed = Vec::new();
    for (name, document) in documents {
        match Policy::parse(&document, PolicyKind::Identity) {
            Ok(policy) => parsed.push(IdentityPolicy {
                account: account.id.clone(),
                name,
                policy,
            }),
            Err(failure) => {
                tracing::error!(policy = name, error = %failure, "stored identity policy does not parse; ignoring it")
            }
        }
    }
    parsed
}

/// The session token of a request: the `x-amz-security-token` header or,
/// on a presigned URL, the `X-Amz-Security-Token` query parameter.
pub(crate) fn session_token(headers: &http::HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers.get("x-amz-security-token") {
        return value.to_str().ok().map(str::to_owned);
    }
    query?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "X-Amz-Security-Token").then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

impl Authorizer {
    /// The caller behind `access_key` (anonymous when `None`): who, their
    /// account and their policies. Temporary credentials need their
    /// session token (`session_token`) and must not have expired.
    pub(crate) fn caller(
        &self,
        access_key: Option<&str>,
        session_token: Option<&str>,
    ) -> Result<Caller3, S3Error> {
        let Some(access_key) = access_key else {
            return Ok(Caller3::anonymous());
        };
        // The key vanished between the signature check and now.
        let credentials = self
            .engine()
            .credentials(access_key)?
            .ok_or_else(|| error::code(ErrorCode::InvalidAccessKeyId))?;
        self.caller_of(credentials, session_token)
    }

    /// `caller` for credentials already read (the IAM endpoint reads them
    /// to check the signature itself).
    pub(crate) fn caller_of(
        &self,
        credentials: coffer_engine::Credentials,
        session_token: Option<&str>,
    ) -> Result<Caller3, S3Error> {
        let account = account_ref(&credentials.account);
        let record = credentials.account;
        let Some(session) = credentials.session else {
            if session_token.is_some() {
                // A long-term key with a token: AWS refuses the pair.
                return Err(invalid_token());
            }
            return match credentials.user {
                None => Ok(Caller3::of(Caller::Root(account), record)),
                Some(user) => self.user_caller(account, record, user),
            };
        };
        let presented = session_token.ok_or_else(|| {
            error::with_message(
                ErrorCode::InvalidToken,
                "Temporary credentials need their session token (x-amz-security-token).",
            )
        })?;
        let digest: [u8; 32] = sha2::Sha256::digest(presented.as_bytes()).into();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &digest[..],
            &session.token_sha256[..],
        )) {
            return Err(invalid_token());
        }
        if session.expires_at_ms <= coffer_types::now_unix_millis() {
            return Err(error::with_message(
                ErrorCode::ExpiredToken,
                "The provided token has expired.",
            ));
        }
        match session.of {
            SessionOf::Root => Ok(Caller3::of(Caller::Root(account), record)),
            SessionOf::User { .. } => match credentials.user {
                Some(user) => self.user_caller(account, record, user),
                None => Err(invalid_token()),
            },
            SessionOf::Role {
                role_name,
                session_name,
                session_policy,
            } => {
                let role = self
                    .engine()
                    .iam_role_now(&record.id, &role_name)?
                    // The role was deleted: its sessions end with it.
                    .ok_or_else(|| error::code(ErrorCode::AccessDenied))?;
                let identity = parse_identity(&account, self.engine().role_policies(&role)?);
                let session_policy = session_policy.and_then(|document| {
                    parse_identity(
                        &account,
                        vec![(format!("session policy of {session_name}"), document)],
                    )
                    .pop()
                });
                let caller = Caller::Session {
                    account,
                    role_path: role.path,
                    role_name: role.name,
                    role_id: role.role_id,
                    session_name,
                };
                Ok(Caller3 {
                    caller,
                    account: Some(record),
                    identity: Arc::new(identity),
                    session_policy: session_policy.map(Arc::new),
                })
            }
        }
    }

    fn user_caller(
        &self,
        account: AccountRef,
        record: AccountRecord,
        user: coffer_meta::iam::IamUser,
    ) -> Result<Caller3, S3Error> {
        let identity = parse_identity(&account, self.engine().user_policies(&user)?);
        let caller = Caller::User {
            account,
            path: user.path,
            name: user.name,
            user_id: user.user_id,
        };
        Ok(Caller3 {
            caller,
            account: Some(record),
            identity: Arc::new(identity),
            session_policy: None,
        })
    }
}

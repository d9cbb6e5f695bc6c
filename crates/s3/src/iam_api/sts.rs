//! STS: who am I, session tokens, and AssumeRole — decided by the role's
//! trust policy together with the caller's identity policies, in the same
//! `authorize` as every S3 request (the trust policy plays the resource
//! policy: naming the caller directly suffices, naming its account needs
//! the caller's own allow, and across accounts both sides must allow).

use coffer_iam::{
    AssumeRoleView, AssumedRoleUserView, CallerIdentityView, CredentialsView, IamError, IamRequest,
    IamResponse,
};
use coffer_meta::iam::SessionOf;
use coffer_policy::{
    authorize, AccountRef, Caller, NamedPolicy, Outcome, Policy, PolicyKind, Request, Resource,
    SourceKind,
};
use coffer_types::AccountId;

use super::handlers::{at, checked_document, iam_error, Call};

/// AWS's limit on a session policy's plain text.
const SESSION_POLICY_CHARS_MAX: usize = 2_048;
/// A root's session tokens last at most an hour, as in AWS.
const ROOT_SESSION_SECONDS_MAX: u32 = 3_600;
/// Role chaining (a role session assuming a role) is capped at an hour.
const CHAINED_SESSION_SECONDS_MAX: u32 = 3_600;

fn credentials_view(created: &coffer_engine::NewSession) -> CredentialsView {
    CredentialsView {
        access_key_id: created.session.access_key_id.clone(),
        secret_access_key: created.secret_access_key.to_string(),
        session_token: created.session_token.to_string(),
        expiration: at(created.session.expires_at_ms),
    }
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, name).
fn role_of(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit()) && !name.is_empty())
        .then(|| (account.to_owned(), name.to_owned()))
}

impl Call<'_> {
    pub(super) async fn run_sts(&self, request: IamRequest) -> Result<IamResponse, IamError> {
        match request {
            IamRequest::GetCallerIdentity(_) => {
                let (user_id, arn) = match &self.principal.caller {
                    Caller::User { user_id, .. } => (user_id.clone(), self.caller_arn()),
                    Caller::Session {
                        role_name,
                        role_id,
                        session_name,
                        ..
                    } => (
                        format!("{role_id}:{session_name}"),
                        format!(
                            "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
                            self.account_id()
                        ),
                    ),
                    _ => (self.account_id().to_owned(), self.caller_arn()),
                };
                Ok(IamResponse::GetCallerIdentity(CallerIdentityView {
                    user_id,
                    account: self.account_id().to_owned(),
                    arn,
                }))
            }
            IamRequest::GetSessionToken(r) => {
                let (of, max_seconds) = match (&self.principal.caller, self.session) {
                    (_, Some(_)) => {
                        return Err(IamError::access_denied(
                            "Cannot call GetSessionToken with session credentials",
                        ))
                    }
                    (Caller::Root(_), None) => (SessionOf::Root, ROOT_SESSION_SECONDS_MAX),
                    (Caller::User { name, .. }, None) => (
                        SessionOf::User {
                            user_name: name.clone(),
                        },
                        u32::MAX,
                    ),
                    _ => return Err(IamError::access_denied("Anonymous callers get no session")),
                };
                let created = self
                    .engine
                    .create_session(&self.account.id, of, r.duration_seconds.min(max_seconds))
                    .await
                    .map_err(iam_error)?;
                Ok(IamResponse::GetSessionToken(credentials_view(&created)))
            }
            IamRequest::AssumeRole(r) => self.assume_role(r).await,
            other => Err(IamError::not_implemented(other.operation().name())),
        }
    }

    async fn assume_role(
        &self,
        r: coffer_iam::request::AssumeRole,
    ) -> Result<IamResponse, IamError> {
        let denied =
            || IamError::access_denied_for(&self.caller_arn(), "sts:AssumeRole", &r.role_arn);
        if matches!(self.principal.caller, Caller::Root(_)) {
            // AWS: roles cannot be assumed with root credentials.
            return Err(IamError::access_denied(
                "Roles may not be assumed by root accounts.",
            ));
        }
        if !r.policy_arns.is_empty() {
            return Err(IamError::not_implemented("AssumeRole with PolicyArns"));
        }
        if let Some(policy) = &r.policy {
            if policy.chars().count() > SESSION_POLICY_CHARS_MAX {
                return Err(IamError::packed_policy_too_large(
                    "Packed policy consumes more than 100% of the allotted space.",
                ));
            }
            checked_document(policy)?;
        }
        let (role_account, role_name) = role_of(&r.role_arn).ok_or_else(denied)?;
        let role_account = AccountId(role_account);
        // A role that does not exist is AccessDenied: nobody learns more.
        let role = self
            .engine
            .iam_role(&role_account, &role_name)
            .await
            .map_err(iam_error)?
            .ok_or_else(denied)?;
        let owner = self
            .engine
            .account_record(&role_account)
            .map_err(iam_error)?
            .ok_or_else(denied)?;
        if format!("arn:aws:iam::{}:role{}{}", owner.id.0, role.path, role.name) != r.role_arn {
            return Err(denied());
        }
        let trust = Policy::parse(&role.trust_policy, PolicyKind::Trust).map_err(|failure| {
            tracing::error!(role = role.name, error = %failure, "stored trust policy does not parse");
            denied()
        })?;
        let owner_ref = AccountRef {
            id: owner.id.0.clone(),
            canonical_id: owner.canonical_id.0.clone(),
        };
        let trust_kind = SourceKind::BucketPolicy;
        let trust_name = format!("trust policy of {}", r.role_arn);
        // A role session assuming another role brings its session policy.
        let identity = self.principal.policies();
        let resource = Resource {
            bucket_owner: &owner_ref,
            bucket_policy: Some(NamedPolicy {
                kind: &trust_kind,
                account: &owner_ref.id,
                name: &trust_name,
                policy: &trust,
            }),
            bucket_policy_is_public: false,
            bucket_acl: None,
            object: None,
            public_access_block: Default::default(),
        };
        let mut keys = self.principal.keys.clone();
        if let Some(external_id) = &r.external_id {
            keys.set("sts:ExternalId", external_id.clone());
        }
        keys.set("sts:RoleSessionName", r.role_session_name.clone());
        let request = Request {
            caller: &self.principal.caller,
            action: "sts:AssumeRole",
            resource: &r.role_arn,
            keys: &keys,
        };
        let decision = authorize(&request, &identity, Some(&resource));
        if decision.outcome != Outcome::Allowed {
            tracing::debug!(role = r.role_arn, explanation = %decision.explanation, "AssumeRole denied");
            return Err(denied());
        }
        let max_seconds = if matches!(self.principal.caller, Caller::Session { .. }) {
            CHAINED_SESSION_SECONDS_MAX
        } else {
            role.max_session_duration_seconds
        };
        if r.duration_seconds > max_seconds {
            return Err(IamError::validation_error(format!(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({max_seconds} s)."
            )));
        }
        let session_name = r.role_session_name.clone();
        let created = self
            .engine
            .create_session(
                &role_account,
                SessionOf::Role {
                    role_name: role.name.clone(),
                    session_name: session_name.clone(),
                    session_policy: r.policy.clone(),
                },
                r.duration_seconds,
            )
            .await
            .map_err(iam_error)?;
        let packed_policy_size_percent = r.policy.as_ref().map(|policy| {
            u32::try_from(policy.chars().count() * 100 / SESSION_POLICY_CHARS_MAX).unwrap_or(100)
        });
        Ok(IamResponse::AssumeRole(AssumeRoleView {
            credentials: credentials_view(&created),
            assumed_role_user: AssumedRoleUserView {
                assumed_role_id: format!("{}:{session_name}", role.role_id),
                arn: format!(
                    "arn:aws:sts::{}:assumed-role/{}/{session_name}",
                    owner.id.0, role.name
                ),
            },
            packed_policy_size_percent,
        }))
    }
}

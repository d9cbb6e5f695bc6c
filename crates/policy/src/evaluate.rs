//! The authorization decision, in AWS's order: an explicit Deny in any
//! policy that applies wins; otherwise the request needs an Allow — from
//! either side when the caller belongs to the resource owner's account,
//! from both sides (the caller's identity policies and the bucket owner's
//! bucket policy or ACL) when it does not, and from the resource side for
//! anonymous callers. Block Public Access's `IgnorePublicAcls` and
//! `RestrictPublicBuckets` shape the resource side here; its two `Block…`
//! settings refuse requests before they get here (see `public`).
//!
//! Every decision carries the statements that made it.

use crate::acl::{permission_allows, Acl, Grantee, Group};
use crate::arn;
use crate::condition::ConditionKeys;
use crate::document::{Effect, Policy, PrincipalKind, Principals, Statement};
use crate::pattern::Pattern;
use crate::public::PublicAccessBlock;
use crate::variables;

/// The account a principal or resource belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRef {
    /// 12 digits.
    pub id: String,
    /// 64 hex digits.
    pub canonical_id: String,
}

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// An account's root user.
    Root(AccountRef),
    User {
        account: AccountRef,
        /// `/` or `/a/b/`.
        path: String,
        name: String,
        /// `AIDA…`.
        user_id: String,
    },
    /// A role session from AssumeRole.
    Session {
        account: AccountRef,
        role_path: String,
        role_name: String,
        /// `AROA…`.
        role_id: String,
        session_name: String,
    },
}

impl Caller {
    pub fn account(&self) -> Option<&AccountRef> {
        match self {
            Caller::Anonymous => None,
            Caller::Root(account)
            | Caller::User { account, .. }
            | Caller::Session { account, .. } => Some(account),
        }
    }

    /// The caller's own ARN (the session ARN for a role session).
    pub fn arn(&self) -> Option<String> {
        match self {
            Caller::Anonymous => None,
            Caller::Root(account) => Some(arn::account_root_arn(&account.id)),
            Caller::User {
                account,
                path,
                name,
                ..
            } => Some(arn::user_arn(&account.id, path, name)),
            Caller::Session {
                account,
                role_name,
                session_name,
                ..
            } => Some(arn::assumed_role_arn(&account.id, role_name, session_name)),
        }
    }

    /// `aws:PrincipalArn`: the role's ARN for a session.
    pub fn principal_arn(&self) -> Option<String> {
        match self {
            Caller::Session {
                account,
                role_path,
                role_name,
                ..
            } => Some(arn::role_arn(&account.id, role_path, role_name)),
            other => other.arn(),
        }
    }

    /// Add the principal's global condition keys to `keys`.
    pub fn add_condition_keys(&self, keys: &mut ConditionKeys) {
        let (account, kind, user_id) = match self {
            Caller::Anonymous => ("anonymous".to_owned(), "Anonymous", "anonymous".to_owned()),
            Caller::Root(account) => (account.id.clone(), "Account", account.id.clone()),
            Caller::User {
                account, user_id, ..
            } => (account.id.clone(), "User", user_id.clone()),
            Caller::Session {
                account,
                role_id,
                session_name,
                ..
            } => (
                account.id.clone(),
                "AssumedRole",
                format!("{role_id}:{session_name}"),
            ),
        };
        keys.set("aws:PrincipalAccount", account);
        keys.set("aws:PrincipalType", kind);
        keys.set("aws:userid", user_id);
        if let Some(principal_arn) = self.principal_arn() {
            keys.set("aws:PrincipalArn", principal_arn);
        }
        if let Caller::User { name, .. } = self {
            keys.set("aws:username", name.clone());
        }
    }
}

/// Where a statement or grant came from, for explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A user, group or role policy.
    IdentityPolicy,
    /// The session policy passed to AssumeRole.
    SessionPolicy,
    BucketPolicy,
    BucketAcl,
    ObjectAcl,
}

/// A policy together with where it came from.
#[derive(Clone, Copy, Debug)]
pub struct NamedPolicy<'a> {
    pub kind: &'a SourceKind,
    /// Whose policy: the account id.
    pub account: &'a str,
    /// E.g. `user/alice inline s3-read`, a managed policy ARN, `bucket photos`.
    pub name: &'a str,
    pub policy: &'a Policy,
}

/// One statement or grant that took part in a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub kind: SourceKind,
    pub account: String,
    pub name: String,
    /// The statement's `Sid`, when it has one.
    pub sid: Option<String>,
    /// The statement's position (or the grant's) in its document.
    pub index: usize,
    pub effect: Effect,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        write!(
            formatter,
            "{effect} by {:?} {} of account {}",
            self.kind, self.name, self.account
        )?;
        match &self.sid {
            Some(sid) => write!(formatter, ", statement {sid:?} (#{})", self.index),
            None => write!(formatter, ", statement #{}", self.index),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// A Deny statement applies.
    ExplicitDeny,
    /// Nothing allows the request.
    ImplicitDeny,
    /// Bucket-policy management by an account other than the owner's:
    /// 405 even when a policy allows it.
    MethodNotAllowed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The statements and grants that decided it (denies for a deny; the
    /// allows that were needed for an allow).
    pub reasons: Vec<Reason>,
    /// One sentence on why, for `coffer admin policy explain` and logs.
    pub explanation: String,
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }

    fn new(outcome: Outcome, reasons: Vec<Reason>, explanation: impl Into<String>) -> Self {
        Self {
            outcome,
            reasons,
            explanation: explanation.into(),
        }
    }
}

/// The request being authorized: one action on one resource.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub caller: &'a Caller,
    /// `s3:GetObject`.
    pub action: &'a str,
    /// `arn:aws:s3:::bucket/key`, `arn:aws:s3:::bucket` or `*`.
    pub resource: &'a str,
    pub keys: &'a ConditionKeys,
}

/// The bucket (and object) the request is about, with what governs them.
#[derive(Clone, Copy, Debug)]
pub struct Resource<'a> {
    pub bucket_owner: &'a AccountRef,
    pub bucket_policy: Option<NamedPolicy<'a>>,
    /// Whether the bucket policy is public (`public::policy_is_public`).
    pub bucket_policy_is_public: bool,
    /// `None` when ACLs are disabled (BucketOwnerEnforced).
    pub bucket_acl: Option<&'a Acl>,
    /// For object requests on an existing object.
    pub object: Option<ObjectResource<'a>>,
    /// Bucket and account settings combined.
    pub public_access_block: PublicAccessBlock,
}

#[derive(Clone, Copy, Debug)]
pub struct ObjectResource<'a> {
    pub owner: &'a AccountRef,
    /// `None` when ACLs are disabled.
    pub acl: Option<&'a Acl>,
}

/// The caller's identity-based policies (none for a root user or an
/// anonymous caller) and, for a role session, its session policy.
#[derive(Clone, Debug, Default)]
pub struct Identity<'a> {
    pub policies: Vec<NamedPolicy<'a>>,
    pub session_policy: Option<NamedPolicy<'a>>,
}

/// The bucket-policy management actions: the owner's root may always use
/// them, other accounts never (405).
const POLICY_MANAGEMENT: [&str; 3] = [
    "s3:getbucketpolicy",
    "s3:putbucketpolicy",
    "s3:deletebucketpolicy",
];

/// How a resource-policy statement named the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PrincipalMatch {
    /// `*`, or the caller's own user, role or session ARN.
    Direct,
    /// The caller's account: a delegation to the account, which its IAM
    /// principals still need their own Allow for.
    Account,
}

fn reason(policy: &NamedPolicy<'_>, statement: &Statement, index: usize) -> Reason {
    Reason {
        kind: policy.kind.clone(),
        account: policy.account.to_owned(),
        name: policy.name.to_owned(),
        sid: statement.sid.clone(),
        index,
        effect: statement.effect,
    }
}

/// Whether `statement` applies to the request's action, resource and
/// conditions (principals are checked separately).
fn statement_applies(policy: &Policy, statement: &Statement, request: &Request<'_>) -> bool {
    let action_listed = statement
        .action
        .values
        .iter()
        .any(|pattern| Pattern::glob(pattern).matches_ignore_case(request.action));
    if action_listed == statement.action.negated {
        return false;
    }
    if let Some(resource) = &statement.resource {
        let listed = resource.values.iter().any(|pattern| {
            variables::substitute(pattern, policy.version, request.keys)
                .is_some_and(|pattern| pattern.matches(request.resource))
        });
        if listed == resource.negated {
            return false;
        }
    }
    statement
        .conditions
        .iter()
        .all(|condition| condition.holds(request.keys, policy.version))
}

/// How `principals` names `caller`, if it does.
fn principal_match(principals: &Principals, caller: &Caller) -> Option<PrincipalMatch> {
    let named = match principals {
        Principals::Everyone => return Some(PrincipalMatch::Direct),
        Principals::Named(named) => named,
    };
    let account = caller.account()?;
    let mut found = None;
    for (kind, values) in named {
        for value in values {
            let matched = match kind {
                PrincipalKind::Aws => aws_principal_match(value, caller, account),
                PrincipalKind::CanonicalUser => (value.eq_ignore_ascii_case(&account.canonical_id))
                    .then_some(PrincipalMatch::Account),
                // coffer has no service or federated callers.
                PrincipalKind::Service | PrincipalKind::Federated => None,
            };
            match matched {
                Some(PrincipalMatch::Direct) => return Some(PrincipalMatch::Direct),
                Some(PrincipalMatch::Account) => found = Some(PrincipalMatch::Account),
                None => {}
            }
        }
    }
    found
}

fn aws_principal_match(
    value: &str,
    caller: &Caller,
    account: &AccountRef,
) -> Option<PrincipalMatch> {
    if value == account.id || value == arn::account_root_arn(&account.id) {
        // The root user is the account itself.
        return Some(if matches!(caller, Caller::Root(_)) {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::Account
        });
    }
    let direct = match caller {
        Caller::User { .. } => caller.arn().is_some_and(|own| own == value),
        // A role ARN names all its sessions; a session ARN names one.
        Caller::Session { .. } => {
            caller.arn().is_some_and(|own| own == value)
                || caller.principal_arn().is_some_and(|role| role == value)
        }
        Caller::Root(_) | Caller::Anonymous => false,
    };
    direct.then_some(PrincipalMatch::Direct)
}

/// `NotPrincipal` excludes a caller only when it lists every identity the
/// caller acts as: its account, and its user, or its role and session.
fn excluded_by_not_principal(principals: &Principals, caller: &Caller) -> bool {
    let Principals::Named(named) = principals else {
        return true;
    };
    let Some(account) = caller.account() else {
        return false;
    };
    let listed = |target: &str| {
        named
            .get(&PrincipalKind::Aws)
            .is_some_and(|values| values.iter().any(|value| value == target))
    };
    let account_listed = listed(&account.id) || listed(&arn::account_root_arn(&account.id));
    account_listed
        && match caller {
            Caller::Root(_) => true,
            Caller::User { .. } => caller.arn().is_some_and(|own| listed(&own)),
            Caller::Session { .. } => {
                caller.arn().is_some_and(|own| listed(&own))
                    && caller.principal_arn().is_some_and(|role| listed(&role))
            }
            Caller::Anonymous => false,
        }
}

/// The statements of an identity policy (no principals) that apply.
fn identity_matches<'p>(policy: &NamedPolicy<'p>, request: &Request<'_>) -> Vec<(Effect, Reason)> {
    policy
        .policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, statement)| statement_applies(policy.policy, statement, request))
        .map(|(index, statement)| (statement.effect, reason(policy, statement, index)))
        .collect()
}

/// The statements of a resource policy that apply to the caller, with how
/// each names it.
fn resource_matches(
    policy: &NamedPolicy<'_>,
    request: &Request<'_>,
) -> Vec<(Effect, PrincipalMatch, Reason)> {
    let mut found = Vec::new();
    for (index, statement) in policy.policy.statements.iter().enumerate() {
        let Some(principal) = &statement.principal else {
            continue;
        };
        let matched = if principal.negated {
            (!excluded_by_not_principal(&principal.values, request.caller))
                .then_some(PrincipalMatch::Direct)
        } else {
            principal_match(&principal.values, request.caller)
        };
        let Some(matched) = matched else {
            continue;
        };
        if statement_applies(policy.policy, statement, request) {
            found.push((statement.effect, matched, reason(policy, statement, index)));
        }
    }
    found
}

/// ACL grants that allow the action to the caller.
fn acl_grants(
    acl: &Acl,
    kind: SourceKind,
    owner: &AccountRef,
    request: &Request<'_>,
    on_object: bool,
    ignore_public: bool,
) -> Vec<(PrincipalMatch, Reason)> {
    let mut found = Vec::new();
    for (index, grant) in acl.grants.iter().enumerate() {
        if !permission_allows(grant.permission, request.action, on_object) {
            continue;
        }
        let matched = match &grant.grantee {
            Grantee::Group(Group::AllUsers) if !ignore_public => Some(PrincipalMatch::Direct),
            Grantee::Group(Group::AuthenticatedUsers) if !ignore_public => {
                request.caller.account().map(|_| PrincipalMatch::Direct)
            }
            Grantee::CanonicalUser(id) => request
                .caller
                .account()
                .filter(|account| account.canonical_id.eq_ignore_ascii_case(id))
                .map(|_| match request.caller {
                    Caller::Root(_) => PrincipalMatch::Direct,
                    _ => PrincipalMatch::Account,
                }),
            _ => None,
        };
        if let Some(matched) = matched {
            found.push((
                matched,
                Reason {
                    kind: kind.clone(),
                    account: owner.id.clone(),
                    name: format!(
                        "grant of {} to {:?}",
                        grant.permission.name(),
                        grant.grantee
                    ),
                    sid: None,
                    index,
                    effect: Effect::Allow,
                },
            ));
        }
    }
    found
}

/// Decide `request` against the caller's identity policies and, unless the
/// action is account-level (ListAllMyBuckets, CreateBucket), the resource.
pub fn authorize(
    request: &Request<'_>,
    identity: &Identity<'_>,
    resource: Option<&Resource<'_>>,
) -> Decision {
    let caller = request.caller;
    let action = request.action.to_ascii_lowercase();

    // 1. Every Deny that applies, from every policy.
    let mut denies = Vec::new();
    let mut identity_allows = Vec::new();
    for policy in &identity.policies {
        for (effect, found) in identity_matches(policy, request) {
            match effect {
                Effect::Deny => denies.push(found),
                Effect::Allow => identity_allows.push(found),
            }
        }
    }
    let mut session_allows = Vec::new();
    if let Some(session) = &identity.session_policy {
        for (effect, found) in identity_matches(session, request) {
            match effect {
                Effect::Deny => denies.push(found),
                Effect::Allow => session_allows.push(found),
            }
        }
    }
    let mut policy_allows = Vec::new();
    if let Some(bucket_policy) = resource.and_then(|resource| resource.bucket_policy.as_ref()) {
        for (effect, matched, found) in resource_matches(bucket_policy, request) {
            match effect {
                Effect::Deny => denies.push(found),
                Effect::Allow => policy_allows.push((matched, found)),
            }
        }
    }
    let is_policy_management = POLICY_MANAGEMENT.contains(&action.as_str());
    let owner_root = match (caller, resource) {
        (Caller::Root(account), Some(resource)) => account == resource.bucket_owner,
        _ => false,
    };
    if is_policy_management && owner_root {
        return Decision::new(
            Outcome::Allowed,
            Vec::new(),
            "the bucket owner's root user may always manage the bucket policy",
        );
    }
    if !denies.is_empty() {
        return Decision::new(Outcome::ExplicitDeny, denies, "an explicit Deny applies");
    }

    // 2. The caller's own side.
    let (identity_allowed, identity_reasons) = match caller {
        Caller::Anonymous => (false, Vec::new()),
        Caller::Root(_) => (true, Vec::new()),
        Caller::User { .. } => (!identity_allows.is_empty(), identity_allows),
        Caller::Session { .. } => {
            let session_ok = identity.session_policy.is_none() || !session_allows.is_empty();
            let mut reasons = identity_allows;
            let allowed = !reasons.is_empty() && session_ok;
            reasons.extend(session_allows);
            (allowed, reasons)
        }
    };

    let Some(resource) = resource else {
        // Account-level actions: only the caller's side counts.
        return if identity_allowed {
            Decision::new(
                Outcome::Allowed,
                identity_reasons,
                "allowed by the caller's identity",
            )
        } else {
            Decision::new(
                Outcome::ImplicitDeny,
                Vec::new(),
                "no identity policy allows it",
            )
        };
    };

    // 3. The resource side. An object another account wrote (ACLs on)
    // belongs to that account: only its ACL grants access, and the bucket
    // policy can only deny.
    let block = resource.public_access_block;
    let object_owned_elsewhere = resource
        .object
        .as_ref()
        .is_some_and(|object| object.acl.is_some() && object.owner != resource.bucket_owner);
    let owner = match &resource.object {
        Some(object) if object_owned_elsewhere => object.owner,
        _ => resource.bucket_owner,
    };
    let caller_account = caller.account();
    let same_account = caller_account == Some(owner);
    let mut resource_allows: Vec<(PrincipalMatch, Reason)> = Vec::new();
    if !object_owned_elsewhere {
        let restricted = block.restrict_public_buckets && resource.bucket_policy_is_public;
        resource_allows.extend(policy_allows.into_iter().filter(|_| {
            // RestrictPublicBuckets: a public policy grants only within
            // the bucket owner's account.
            !restricted || caller_account == Some(resource.bucket_owner)
        }));
    }
    let on_object = request.resource.contains('/');
    match (&resource.object, on_object) {
        (Some(object), true) if object.acl.is_some() && !is_object_write(&action) => {
            if let Some(acl) = object.acl {
                resource_allows.extend(acl_grants(
                    acl,
                    SourceKind::ObjectAcl,
                    object.owner,
                    request,
                    true,
                    block.ignore_public_acls,
                ));
            }
        }
        _ => {
            if let Some(acl) = resource.bucket_acl {
                resource_allows.extend(acl_grants(
                    acl,
                    SourceKind::BucketAcl,
                    resource.bucket_owner,
                    request,
                    false,
                    block.ignore_public_acls,
                ));
            }
        }
    }

    // 4. Combine the sides.
    let decision = if same_account {
        if let Caller::Root(_) = caller {
            Decision::new(
                Outcome::Allowed,
                Vec::new(),
                "the resource owner's root user",
            )
        } else {
            // Within the owner's account either side suffices, but a grant
            // to the whole account delegates to its identity policies.
            let direct: Vec<Reason> = resource_allows
                .into_iter()
                .filter(|(matched, _)| *matched == PrincipalMatch::Direct)
                .map(|(_, found)| found)
                .collect();
            if identity_allowed {
                Decision::new(
                    Outcome::Allowed,
                    identity_reasons,
                    "allowed by the caller's identity in the owner's account",
                )
            } else if !direct.is_empty() {
                Decision::new(
                    Outcome::Allowed,
                    direct,
                    "allowed by the resource's policy or ACL",
                )
            } else {
                Decision::new(
                    Outcome::ImplicitDeny,
                    Vec::new(),
                    "no policy or ACL allows it",
                )
            }
        }
    } else {
        let resource_reasons: Vec<Reason> = resource_allows
            .into_iter()
            .map(|(_, found)| found)
            .collect();
        match caller {
            Caller::Anonymous if !resource_reasons.is_empty() => Decision::new(
                Outcome::Allowed,
                resource_reasons,
                "allowed to anyone by the resource's policy or ACL",
            ),
            Caller::Anonymous => Decision::new(
                Outcome::ImplicitDeny,
                Vec::new(),
                "nothing allows anonymous access",
            ),
            _ if resource_reasons.is_empty() => Decision::new(
                Outcome::ImplicitDeny,
                Vec::new(),
                "cross-account: the resource owner's policy or ACL does not allow it",
            ),
            _ if !identity_allowed => Decision::new(
                Outcome::ImplicitDeny,
                Vec::new(),
                "cross-account: the caller's own account does not allow it",
            ),
            _ => {
                let mut reasons = identity_reasons;
                reasons.extend(resource_reasons);
                Decision::new(
                    Outcome::Allowed,
                    reasons,
                    "cross-account: both accounts allow it",
                )
            }
        }
    };
    if decision.is_allowed()
        && is_policy_management
        && caller_account != Some(resource.bucket_owner)
    {
        return Decision::new(
            Outcome::MethodNotAllowed,
            decision.reasons,
            "only the bucket owner's account may manage its bucket policy",
        );
    }
    decision
}

/// Actions that create or replace an object: governed by the bucket, not
/// by the ACL of the object they replace.
fn is_object_write(action: &str) -> bool {
    matches!(
        action,
        "s3:putobject" | "s3:deleteobject" | "s3:deleteobjectversion" | "s3:abortmultipartupload"
    )
}

#[cfg(test)]
mod tests;

//! Decisions with three accounts: A owns the bucket `photos`; B and C are
//! other accounts. alice is A's IAM user, bob B's; B also has a role
//! `reader` with sessions.

use super::*;
use crate::acl::{CannedAcl, ObjectOwnership};
use crate::document::PolicyKind;

fn account(id: &str, hex: char) -> AccountRef {
    AccountRef {
        id: id.to_owned(),
        canonical_id: hex.to_string().repeat(64),
    }
}

fn a() -> AccountRef {
    account("111122223333", 'a')
}

fn b() -> AccountRef {
    account("444455556666", 'b')
}

fn alice() -> Caller {
    Caller::User {
        account: a(),
        path: "/".to_owned(),
        name: "alice".to_owned(),
        user_id: "AIDAALICE".to_owned(),
    }
}

fn bob() -> Caller {
    Caller::User {
        account: b(),
        path: "/".to_owned(),
        name: "bob".to_owned(),
        user_id: "AIDABOB".to_owned(),
    }
}

fn session() -> Caller {
    Caller::Session {
        account: b(),
        role_path: "/".to_owned(),
        role_name: "reader".to_owned(),
        role_id: "AROAREADER".to_owned(),
        session_name: "s1".to_owned(),
    }
}

fn bucket_policy(statements: &str) -> Policy {
    Policy::parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        PolicyKind::Bucket,
    )
    .expect("bucket policy parses")
}

fn identity_policy(statements: &str) -> Policy {
    Policy::parse(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        PolicyKind::Identity,
    )
    .expect("identity policy parses")
}

const ALLOW_GET: &str =
    r#"{"Sid":"get","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#;

/// One scenario: who asks, their identity policies, the bucket's setup.
struct Case<'a> {
    caller: Caller,
    action: &'a str,
    resource: &'a str,
    identity: Vec<Policy>,
    session_policy: Option<Policy>,
    bucket_policy: Option<Policy>,
    bucket_acl: Option<Acl>,
    object: Option<(AccountRef, Option<Acl>)>,
    block: PublicAccessBlock,
    keys: ConditionKeys,
}

impl<'a> Case<'a> {
    fn new(caller: Caller, action: &'a str, resource: &'a str) -> Self {
        Self {
            caller,
            action,
            resource,
            identity: Vec::new(),
            session_policy: None,
            bucket_policy: None,
            bucket_acl: None,
            object: None,
            block: PublicAccessBlock::default(),
            keys: ConditionKeys::new(),
        }
    }

    fn decide(&self) -> Decision {
        let identity_kind = SourceKind::IdentityPolicy;
        let session_kind = SourceKind::SessionPolicy;
        let bucket_kind = SourceKind::BucketPolicy;
        let account_id = self
            .caller
            .account()
            .map(|account| account.id.clone())
            .unwrap_or_default();
        let mut keys = self.keys.clone();
        self.caller.add_condition_keys(&mut keys);
        let identity = Identity {
            policies: self
                .identity
                .iter()
                .map(|policy| NamedPolicy {
                    kind: &identity_kind,
                    account: &account_id,
                    name: "inline",
                    policy,
                })
                .collect(),
            session_policy: self.session_policy.as_ref().map(|policy| NamedPolicy {
                kind: &session_kind,
                account: &account_id,
                name: "session",
                policy,
            }),
        };
        let owner = a();
        let object_owner = self.object.as_ref().map(|(owner, _)| owner.clone());
        let resource = Resource {
            bucket_owner: &owner,
            bucket_policy: self.bucket_policy.as_ref().map(|policy| NamedPolicy {
                kind: &bucket_kind,
                account: &owner.id,
                name: "photos",
                policy,
            }),
            bucket_policy_is_public: self
                .bucket_policy
                .as_ref()
                .is_some_and(crate::public::policy_is_public),
            bucket_acl: self.bucket_acl.as_ref(),
            object: self
                .object
                .as_ref()
                .zip(object_owner.as_ref())
                .map(|((_, acl), owner)| ObjectResource {
                    owner,
                    acl: acl.as_ref(),
                }),
            public_access_block: self.block,
        };
        let request = Request {
            caller: &self.caller,
            action: self.action,
            resource: self.resource,
            keys: &keys,
        };
        authorize(&request, &identity, Some(&resource))
    }
}

const OBJECT: &str = "arn:aws:s3:::photos/cat.jpg";

#[test]
fn same_account_either_side_suffices() {
    let mut case = Case::new(alice(), "s3:GetObject", OBJECT);
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);
    case.identity = vec![identity_policy(ALLOW_GET)];
    let decision = case.decide();
    assert_eq!(decision.outcome, Outcome::Allowed);
    assert_eq!(decision.reasons[0].sid.as_deref(), Some("get"));

    let mut by_bucket = Case::new(alice(), "s3:GetObject", OBJECT);
    by_bucket.bucket_policy = Some(bucket_policy(
        r#"{"Sid":"alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    let decision = by_bucket.decide();
    assert_eq!(decision.outcome, Outcome::Allowed);
    assert_eq!(decision.reasons[0].kind, SourceKind::BucketPolicy);

    // A grant to the whole account delegates: alice still needs her own Allow.
    let mut delegated = Case::new(alice(), "s3:GetObject", OBJECT);
    delegated.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    assert_eq!(delegated.decide().outcome, Outcome::ImplicitDeny);

    // The owner's root needs nothing.
    assert_eq!(
        Case::new(Caller::Root(a()), "s3:GetObject", OBJECT)
            .decide()
            .outcome,
        Outcome::Allowed
    );
}

#[test]
fn explicit_deny_beats_any_allow() {
    let mut case = Case::new(alice(), "s3:GetObject", OBJECT);
    case.identity = vec![identity_policy(ALLOW_GET)];
    case.bucket_policy = Some(bucket_policy(
        r#"{"Sid":"no-cats","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/cat*"}"#,
    ));
    let decision = case.decide();
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    assert_eq!(decision.reasons.len(), 1);
    assert_eq!(decision.reasons[0].sid.as_deref(), Some("no-cats"));
    assert!(decision.reasons[0].to_string().contains("no-cats"));
    // The root user is denied too.
    case.caller = Caller::Root(a());
    assert_eq!(case.decide().outcome, Outcome::ExplicitDeny);

    let mut identity_deny = Case::new(bob(), "s3:GetObject", OBJECT);
    identity_deny.identity = vec![identity_policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"nope","Effect":"Deny","Action":"s3:Get*","Resource":"*"}"#,
    )];
    identity_deny.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    let decision = identity_deny.decide();
    assert_eq!(decision.outcome, Outcome::ExplicitDeny);
    assert_eq!(decision.reasons[0].kind, SourceKind::IdentityPolicy);
}

#[test]
fn cross_account_needs_both_sides() {
    let grant_b = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#;
    let mut case = Case::new(bob(), "s3:GetObject", OBJECT);
    case.bucket_policy = Some(bucket_policy(grant_b));
    let decision = case.decide();
    assert_eq!(decision.outcome, Outcome::ImplicitDeny);
    assert!(decision.explanation.contains("caller's own account"));
    case.identity = vec![identity_policy(ALLOW_GET)];
    let decision = case.decide();
    assert_eq!(decision.outcome, Outcome::Allowed);
    assert_eq!(decision.reasons.len(), 2, "both sides are named");

    let mut no_bucket_grant = Case::new(bob(), "s3:GetObject", OBJECT);
    no_bucket_grant.identity = vec![identity_policy(ALLOW_GET)];
    assert_eq!(no_bucket_grant.decide().outcome, Outcome::ImplicitDeny);

    // An account's root needs no identity policy.
    let mut root = Case::new(Caller::Root(b()), "s3:GetObject", OBJECT);
    root.bucket_policy = Some(bucket_policy(grant_b));
    assert_eq!(root.decide().outcome, Outcome::Allowed);
    let mut other_account = Case::new(
        Caller::Root(account("777788889999", 'c')),
        "s3:GetObject",
        OBJECT,
    );
    other_account.bucket_policy = Some(bucket_policy(grant_b));
    assert_eq!(other_account.decide().outcome, Outcome::ImplicitDeny);
}

#[test]
fn anonymous_and_block_public_access() {
    let public = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#;
    let mut case = Case::new(Caller::Anonymous, "s3:GetObject", OBJECT);
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);
    case.bucket_policy = Some(bucket_policy(public));
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    case.block.restrict_public_buckets = true;
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);
    // The owner's own principals keep access through a public policy.
    case.caller = alice();
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    // Other accounts lose it.
    case.caller = Caller::Root(b());
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);

    // A public-read object, read anonymously, then ignored.
    let mut acl_case = Case::new(Caller::Anonymous, "s3:GetObject", OBJECT);
    acl_case.object = Some((
        a(),
        Some(CannedAcl::PublicRead.to_acl(&a().canonical_id, Some(&a().canonical_id))),
    ));
    let decision = acl_case.decide();
    assert_eq!(decision.outcome, Outcome::Allowed);
    assert_eq!(decision.reasons[0].kind, SourceKind::ObjectAcl);
    acl_case.block.ignore_public_acls = true;
    assert_eq!(acl_case.decide().outcome, Outcome::ImplicitDeny);

    // authenticated-read: any signed caller, never anonymous.
    let mut authenticated = Case::new(Caller::Anonymous, "s3:ListBucket", "arn:aws:s3:::photos");
    authenticated.bucket_acl = Some(CannedAcl::AuthenticatedRead.to_acl(&a().canonical_id, None));
    assert_eq!(authenticated.decide().outcome, Outcome::ImplicitDeny);
    authenticated.caller = Caller::Root(b());
    assert_eq!(authenticated.decide().outcome, Outcome::Allowed);
}

#[test]
fn objects_written_by_another_account() {
    // B wrote the object into A's bucket (ObjectWriter): only the object
    // ACL can grant, the bucket policy can only deny.
    let private_to_b = Acl::private(&b().canonical_id);
    let mut case = Case::new(Caller::Root(a()), "s3:GetObject", OBJECT);
    case.object = Some((b(), Some(private_to_b.clone())));
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);
    case.object = Some((
        b(),
        Some(CannedAcl::BucketOwnerFullControl.to_acl(&b().canonical_id, Some(&a().canonical_id))),
    ));
    assert_eq!(case.decide().outcome, Outcome::Allowed);

    let mut alice_case = Case::new(alice(), "s3:GetObject", OBJECT);
    alice_case.object = Some((b(), Some(private_to_b.clone())));
    alice_case.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    assert_eq!(alice_case.decide().outcome, Outcome::ImplicitDeny);

    // Its writer reads it with its own identity.
    let mut writer = Case::new(Caller::Root(b()), "s3:GetObject", OBJECT);
    writer.object = Some((b(), Some(private_to_b)));
    assert_eq!(writer.decide().outcome, Outcome::Allowed);
    let _ = ObjectOwnership::ObjectWriter;
}

#[test]
fn bucket_policy_management() {
    let deny_all = r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}"#;
    let mut owner = Case::new(
        Caller::Root(a()),
        "s3:PutBucketPolicy",
        "arn:aws:s3:::photos",
    );
    owner.bucket_policy = Some(bucket_policy(deny_all));
    assert_eq!(
        owner.decide().outcome,
        Outcome::Allowed,
        "the owner's root is exempt"
    );
    let mut user = Case::new(alice(), "s3:DeleteBucketPolicy", "arn:aws:s3:::photos");
    user.identity = vec![identity_policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    )];
    user.bucket_policy = Some(bucket_policy(deny_all));
    assert_eq!(user.decide().outcome, Outcome::ExplicitDeny);
    let mut other = Case::new(
        Caller::Root(b()),
        "s3:GetBucketPolicy",
        "arn:aws:s3:::photos",
    );
    other.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::photos"}"#,
    ));
    assert_eq!(other.decide().outcome, Outcome::MethodNotAllowed);
    other.bucket_policy = None;
    assert_eq!(
        other.decide().outcome,
        Outcome::ImplicitDeny,
        "403 without the permission"
    );
}

#[test]
fn role_sessions_and_session_policies() {
    let grant_role = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#;
    let mut case = Case::new(session(), "s3:GetObject", OBJECT);
    case.bucket_policy = Some(bucket_policy(grant_role));
    case.identity = vec![identity_policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    )];
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    // A session policy narrows the role's permissions.
    case.session_policy = Some(identity_policy(
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}"#,
    ));
    assert_eq!(case.decide().outcome, Outcome::ImplicitDeny);
    case.session_policy = Some(identity_policy(ALLOW_GET));
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    // The session ARN works as a principal too.
    case.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::444455556666:assumed-role/reader/s1"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    assert_eq!(case.decide().outcome, Outcome::Allowed);
}

#[test]
fn not_principal_deny_spares_only_the_listed() {
    let spare_alice = r#"{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/alice"]},"Action":"s3:*","Resource":"arn:aws:s3:::photos/*"}"#;
    let mut case = Case::new(alice(), "s3:GetObject", OBJECT);
    case.identity = vec![identity_policy(ALLOW_GET)];
    case.bucket_policy = Some(bucket_policy(spare_alice));
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    case.caller = Caller::Root(a());
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    case.caller = bob();
    assert_eq!(case.decide().outcome, Outcome::ExplicitDeny);
    case.caller = Caller::Anonymous;
    assert_eq!(case.decide().outcome, Outcome::ExplicitDeny);
    // Listing only the user, not the account, denies the user too.
    let mut user_only = Case::new(alice(), "s3:GetObject", OBJECT);
    user_only.identity = vec![identity_policy(ALLOW_GET)];
    user_only.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:*","Resource":"arn:aws:s3:::photos/*"}"#,
    ));
    assert_eq!(user_only.decide().outcome, Outcome::ExplicitDeny);
}

#[test]
fn conditions_and_variables() {
    let mut case = Case::new(alice(), "s3:GetObject", OBJECT);
    case.identity = vec![identity_policy(ALLOW_GET)];
    case.bucket_policy = Some(bucket_policy(
        r#"{"Sid":"lan-only","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}"#,
    ));
    case.keys.set("aws:SourceIp", "127.0.0.1");
    assert_eq!(case.decide().outcome, Outcome::Allowed);
    case.keys.set("aws:SourceIp", "192.0.2.10");
    assert_eq!(case.decide().outcome, Outcome::ExplicitDeny);

    let home = r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::photos/home/${aws:username}/*"}"#;
    let mut own = Case::new(alice(), "s3:PutObject", "arn:aws:s3:::photos/home/alice/x");
    own.identity = vec![identity_policy(home)];
    assert_eq!(own.decide().outcome, Outcome::Allowed);
    let mut others = Case::new(alice(), "s3:PutObject", "arn:aws:s3:::photos/home/bob/x");
    others.identity = vec![identity_policy(home)];
    assert_eq!(others.decide().outcome, Outcome::ImplicitDeny);

    let mut secure = Case::new(Caller::Root(a()), "s3:GetObject", OBJECT);
    secure.bucket_policy = Some(bucket_policy(
        r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
    ));
    secure.keys.set("aws:SecureTransport", "false");
    assert_eq!(secure.decide().outcome, Outcome::ExplicitDeny);
    secure.keys.set("aws:SecureTransport", "true");
    assert_eq!(secure.decide().outcome, Outcome::Allowed);
}

#[test]
fn account_level_actions_need_an_identity_allow() {
    let keys = ConditionKeys::new();
    let decide = |caller: &Caller, identity: &Identity<'_>| {
        authorize(
            &Request {
                caller,
                action: "s3:ListAllMyBuckets",
                resource: "*",
                keys: &keys,
            },
            identity,
            None,
        )
        .outcome
    };
    assert_eq!(
        decide(&Caller::Root(a()), &Identity::default()),
        Outcome::Allowed
    );
    assert_eq!(
        decide(&alice(), &Identity::default()),
        Outcome::ImplicitDeny
    );
    assert_eq!(
        decide(&Caller::Anonymous, &Identity::default()),
        Outcome::ImplicitDeny
    );
    let policy =
        identity_policy(r#"{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}"#);
    let kind = SourceKind::IdentityPolicy;
    let identity = Identity {
        policies: vec![NamedPolicy {
            kind: &kind,
            account: "111122223333",
            name: "list",
            policy: &policy,
        }],
        session_policy: None,
    };
    assert_eq!(decide(&alice(), &identity), Outcome::Allowed);
}

#[test]
fn principal_condition_keys() {
    let mut keys = ConditionKeys::new();
    session().add_condition_keys(&mut keys);
    assert_eq!(
        keys.get("aws:principalarn"),
        Some(&["arn:aws:iam::444455556666:role/reader".to_owned()][..])
    );
    assert_eq!(
        keys.get("aws:userid"),
        Some(&["AROAREADER:s1".to_owned()][..])
    );
    assert_eq!(keys.get("aws:username"), None);
    let mut keys = ConditionKeys::new();
    Caller::Anonymous.add_condition_keys(&mut keys);
    assert_eq!(
        keys.get("aws:PrincipalAccount"),
        Some(&["anonymous".to_owned()][..])
    );
    assert_eq!(keys.get("aws:PrincipalArn"), None);
    let mut keys = ConditionKeys::new();
    alice().add_condition_keys(&mut keys);
    assert_eq!(keys.get("aws:username"), Some(&["alice".to_owned()][..]));
    assert_eq!(
        keys.get("aws:PrincipalType"),
        Some(&["User".to_owned()][..])
    );
}

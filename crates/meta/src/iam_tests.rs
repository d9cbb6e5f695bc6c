//! `apply` of IAM changes: the rules that depend on state, in one
//! transaction (which reads its own pending writes, as a batch does).

use coffer_types::{CanonicalId, ErrorCode, UnixMillis};

use super::*;
use crate::apply::apply_command;
use crate::model::{AccessKeyRecord, AccountProfile, AccountRecord, Command, CommandResult};
use crate::store::open_db;

const ACCOUNT: &str = "111122223333";

fn account() -> AccountId {
    AccountId(ACCOUNT.to_owned())
}

fn user(name: &str) -> IamUser {
    IamUser {
        account: account(),
        name: name.to_owned(),
        path: "/".to_owned(),
        user_id: format!("AIDA{name}"),
        created_at_ms: 1,
        inline_policies: BTreeMap::new(),
        attached_policies: BTreeSet::new(),
        groups: BTreeSet::new(),
    }
}

fn key(id: &str, user: &str) -> IamAccessKey {
    IamAccessKey {
        access_key_id: id.to_owned(),
        account: account(),
        user_name: user.to_owned(),
        secret_wrapped: vec![1, 2, 3],
        active: true,
        created_at_ms: 1,
    }
}

fn policy(name: &str) -> ManagedPolicy {
    ManagedPolicy {
        account: account(),
        name: name.to_owned(),
        path: "/".to_owned(),
        policy_id: format!("ANPA{name}"),
        description: String::new(),
        created_at_ms: 1,
        updated_at_ms: 1,
        versions: [(
            1,
            PolicyVersion {
                document: "{}".to_owned(),
                created_at_ms: 1,
            },
        )]
        .into(),
        default_version: 1,
        next_version: 2,
        attachments: BTreeSet::new(),
    }
}

/// Apply `change` and answer the error code, if it failed.
fn run(txn: &mut Txn<'_>, change: IamChange) -> Option<ErrorCode> {
    let command = Command::Iam {
        account: account(),
        change,
    };
    match apply_command(txn, &command).expect("apply") {
        CommandResult::Failed(error) => Some(error.code),
        _ => None,
    }
}

fn with_account(test: impl FnOnce(&mut Txn<'_>)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open_db(dir.path()).expect("open");
    let mut txn = Txn::new(&db);
    let create = Command::CreateAccount {
        account: AccountRecord {
            id: account(),
            canonical_id: CanonicalId("ab".repeat(32)),
            display_name: "test".to_owned(),
            created_at_ms: 1,
        },
        profile: AccountProfile { email: None },
        access_key: AccessKeyRecord {
            access_key_id: "AKIAROOT".to_owned(),
            account: account(),
            secret_wrapped: vec![0],
            created_at_ms: 1,
        },
    };
    assert!(matches!(
        apply_command(&mut txn, &create).expect("apply"),
        CommandResult::Ok
    ));
    test(&mut txn);
}

#[test]
fn user_names_are_unique_case_insensitively() {
    with_account(|txn| {
        assert_eq!(run(txn, IamChange::CreateUser(user("Alice"))), None);
        assert_eq!(
            run(txn, IamChange::CreateUser(user("alice"))),
            Some(ErrorCode::EntityAlreadyExists)
        );
        let found = super::user(txn, &account(), "ALICE")
            .expect("read")
            .expect("found");
        assert_eq!(found.name, "Alice");
    });
}

#[test]
fn access_keys_are_capped_and_block_deleting_their_user() {
    with_account(|txn| {
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIA1", "bob"))),
            Some(ErrorCode::NoSuchEntity)
        );
        assert_eq!(run(txn, IamChange::CreateUser(user("bob"))), None);
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIA1", "bob"))),
            None
        );
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIA2", "bob"))),
            None
        );
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIA3", "bob"))),
            Some(ErrorCode::LimitExceeded)
        );
        // The root's key id is taken too.
        assert_eq!(
            run(
                txn,
                IamChange::DeleteAccessKey {
                    user: "bob".into(),
                    access_key_id: "AKIA2".into()
                }
            ),
            None
        );
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIAROOT", "bob"))),
            Some(ErrorCode::EntityAlreadyExists)
        );

        assert_eq!(
            run(txn, IamChange::DeleteUser { user: "bob".into() }),
            Some(ErrorCode::DeleteConflict)
        );
        // Another user cannot touch bob's key.
        assert_eq!(run(txn, IamChange::CreateUser(user("carol"))), None);
        assert_eq!(
            run(
                txn,
                IamChange::SetAccessKeyActive {
                    user: "carol".into(),
                    access_key_id: "AKIA1".into(),
                    active: false
                }
            ),
            Some(ErrorCode::NoSuchEntity)
        );
        assert_eq!(
            run(
                txn,
                IamChange::SetAccessKeyActive {
                    user: "bob".into(),
                    access_key_id: "AKIA1".into(),
                    active: false
                }
            ),
            None
        );
        assert!(
            !access_key(txn, "AKIA1")
                .expect("read")
                .expect("found")
                .active
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeleteAccessKey {
                    user: "bob".into(),
                    access_key_id: "AKIA1".into()
                }
            ),
            None
        );
        assert_eq!(run(txn, IamChange::DeleteUser { user: "bob".into() }), None);
        assert_eq!(
            run(txn, IamChange::DeleteUser { user: "bob".into() }),
            Some(ErrorCode::NoSuchEntity)
        );
    });
}

#[test]
fn managed_policy_versions_and_attachments() {
    with_account(|txn| {
        assert_eq!(run(txn, IamChange::CreatePolicy(policy("read"))), None);
        assert_eq!(
            run(txn, IamChange::CreatePolicy(policy("READ"))),
            Some(ErrorCode::EntityAlreadyExists)
        );
        for _ in 2..=POLICY_VERSIONS_MAX {
            let change = IamChange::CreatePolicyVersion {
                policy: "read".into(),
                document: "{}".into(),
                set_default: false,
                now_ms: 2,
            };
            assert_eq!(run(txn, change), None);
        }
        let sixth = IamChange::CreatePolicyVersion {
            policy: "read".into(),
            document: "{}".into(),
            set_default: true,
            now_ms: 3,
        };
        assert_eq!(run(txn, sixth), Some(ErrorCode::LimitExceeded));
        assert_eq!(
            run(
                txn,
                IamChange::DeletePolicyVersion {
                    policy: "read".into(),
                    version: 1
                }
            ),
            Some(ErrorCode::DeleteConflict),
            "the default version stays"
        );
        assert_eq!(
            run(
                txn,
                IamChange::SetDefaultPolicyVersion {
                    policy: "read".into(),
                    version: 5,
                    now_ms: 4
                }
            ),
            None
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeletePolicyVersion {
                    policy: "read".into(),
                    version: 1
                }
            ),
            None
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeletePolicy {
                    policy: "read".into()
                }
            ),
            Some(ErrorCode::DeleteConflict),
            "versions other than the default remain"
        );
        for version in 2..=4 {
            assert_eq!(
                run(
                    txn,
                    IamChange::DeletePolicyVersion {
                        policy: "read".into(),
                        version
                    }
                ),
                None
            );
        }
        let stored = super::policy(txn, &account(), "read")
            .expect("read")
            .expect("found");
        assert_eq!((stored.default_version, stored.versions.len()), (5, 1));

        assert_eq!(run(txn, IamChange::CreateUser(user("dave"))), None);
        assert_eq!(
            run(
                txn,
                IamChange::Attach {
                    kind: EntityKind::User,
                    name: "dave".into(),
                    policy: "read".into()
                }
            ),
            None
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeletePolicy {
                    policy: "read".into()
                }
            ),
            Some(ErrorCode::DeleteConflict)
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeleteUser {
                    user: "dave".into()
                }
            ),
            Some(ErrorCode::DeleteConflict)
        );
        assert_eq!(
            run(
                txn,
                IamChange::Detach {
                    kind: EntityKind::User,
                    name: "dave".into(),
                    policy: "read".into()
                }
            ),
            None
        );
        assert_eq!(
            run(
                txn,
                IamChange::Detach {
                    kind: EntityKind::User,
                    name: "dave".into(),
                    policy: "read".into()
                }
            ),
            Some(ErrorCode::NoSuchEntity)
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeletePolicy {
                    policy: "read".into()
                }
            ),
            None
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeleteUser {
                    user: "dave".into()
                }
            ),
            None
        );
    });
}

#[test]
fn deleting_the_account_removes_its_iam_entities() {
    with_account(|txn| {
        assert_eq!(run(txn, IamChange::CreateUser(user("erin"))), None);
        assert_eq!(
            run(txn, IamChange::CreateAccessKey(key("AKIAERIN", "erin"))),
            None
        );
        assert_eq!(run(txn, IamChange::CreatePolicy(policy("p"))), None);
        let delete = Command::DeleteAccount { account: account() };
        assert!(matches!(
            apply_command(txn, &delete).expect("apply"),
            CommandResult::Ok
        ));
        assert_eq!(super::user(txn, &account(), "erin").expect("read"), None);
        assert_eq!(access_key(txn, "AKIAERIN").expect("read"), None);
        assert_eq!(super::policy(txn, &account(), "p").expect("read"), None);
        // And IAM changes to a missing account fail.
        assert_eq!(
            run(txn, IamChange::CreateUser(user("erin"))),
            Some(ErrorCode::NoSuchEntity)
        );
    });
}

fn group(name: &str) -> IamGroup {
    IamGroup {
        account: account(),
        name: name.to_owned(),
        path: "/".to_owned(),
        group_id: format!("AGPA{name}"),
        created_at_ms: 1,
        inline_policies: BTreeMap::new(),
        attached_policies: BTreeSet::new(),
        members: BTreeSet::new(),
    }
}

#[test]
fn group_members_and_policies_block_deletes_on_both_sides() {
    with_account(|txn| {
        assert_eq!(run(txn, IamChange::CreateUser(user("fay"))), None);
        assert_eq!(run(txn, IamChange::CreateGroup(group("devs"))), None);
        assert_eq!(
            run(txn, IamChange::CreateGroup(group("DEVS"))),
            Some(ErrorCode::EntityAlreadyExists)
        );
        let add = IamChange::AddUserToGroup {
            group: "devs".into(),
            user: "FAY".into(),
        };
        assert_eq!(run(txn, add), None);
        let fay = super::user(txn, &account(), "fay")
            .expect("read")
            .expect("user");
        assert_eq!(fay.groups.len(), 1);
        assert_eq!(
            run(txn, IamChange::DeleteUser { user: "fay".into() }),
            Some(ErrorCode::DeleteConflict)
        );
        assert_eq!(
            run(
                txn,
                IamChange::DeleteGroup {
                    group: "devs".into()
                }
            ),
            Some(ErrorCode::DeleteConflict)
        );
        let inline = IamChange::PutInlinePolicy {
            kind: EntityKind::Group,
            name: "devs".into(),
            policy_name: "p".into(),
            document: "{}".into(),
        };
        assert_eq!(run(txn, inline), None);
        let remove = || IamChange::RemoveUserFromGroup {
            group: "devs".into(),
            user: "fay".into(),
        };
        assert_eq!(run(txn, remove()), None);
        assert_eq!(run(txn, remove()), Some(ErrorCode::NoSuchEntity));
        assert_eq!(
            run(
                txn,
                IamChange::DeleteGroup {
                    group: "devs".into()
                }
            ),
            Some(ErrorCode::DeleteConflict)
        );
        let drop = IamChange::DeleteInlinePolicy {
            kind: EntityKind::Group,
            name: "devs".into(),
            policy_name: "p".into(),
        };
        assert_eq!(run(txn, drop), None);
        assert_eq!(
            run(
                txn,
                IamChange::DeleteGroup {
                    group: "devs".into()
                }
            ),
            None
        );
        assert_eq!(run(txn, IamChange::DeleteUser { user: "fay".into() }), None);
    });
}

fn session(id: &str, expires_at_ms: UnixMillis) -> SessionRecord {
    SessionRecord {
        access_key_id: id.to_owned(),
        account: account(),
        secret_wrapped: vec![7],
        token_sha256: [0; 32],
        created_at_ms: 1,
        expires_at_ms,
        of: SessionOf::Root,
    }
}

#[test]
fn expired_sessions_are_purged_as_new_ones_come() {
    with_account(|txn| {
        let create = |id: &str, expires: UnixMillis, now_ms: UnixMillis| IamChange::CreateSession {
            session: session(id, expires),
            now_ms,
        };
        assert_eq!(run(txn, create("ASIA1", 1_000, 0)), None);
        assert_eq!(run(txn, create("ASIA2", 5_000, 0)), None);
        assert_eq!(
            run(txn, create("ASIA2", 9_000, 0)),
            Some(ErrorCode::EntityAlreadyExists)
        );
        // At 2000 the first has expired: the next create removes it.
        assert_eq!(run(txn, create("ASIA3", 9_000, 2_000)), None);
        assert_eq!(super::session(txn, "ASIA1").expect("read"), None);
        assert!(super::session(txn, "ASIA2").expect("read").is_some());
        assert!(super::session(txn, "ASIA3").expect("read").is_some());
    });
}

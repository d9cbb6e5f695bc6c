//! IAM users, their access keys and policies: ids, secrets and timestamps
//! are chosen here (the proposer's job), `coffer_meta::iam::apply` decides
//! what depends on state. Reads wait for the read barrier, so an IAM call
//! on any node sees every change acknowledged before it.

use coffer_meta::iam::{
    IamAccessKey, IamChange, IamGroup, IamRole, IamUser, ManagedPolicy, PolicyVersion, SessionOf,
    SessionRecord, GROUP, POLICY, ROLE, USER,
};
use coffer_meta::{Command, CommandResult};
use coffer_types::{AccountId, S3Error};
use rand::Rng;

use crate::access::{new_access_key_id, new_secret, random_string, KEY_ID_CHARS};
use crate::{errors, Engine, Result};

/// An IAM-style unique id: a four-letter prefix naming the kind (`AIDA`
/// user, `AGPA` group, `AROA` role, `ANPA` managed policy) and 17 random
/// characters of the alphabet access key ids use.
fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_string(KEY_ID_CHARS, 17))
}

/// New temporary credentials (the secret and token are shown once).
pub struct NewSession {
    pub session: SessionRecord,
    pub secret_access_key: zeroize::Zeroizing<String>,
    pub session_token: zeroize::Zeroizing<String>,
}

/// A new access key and its secret (shown once).
pub struct NewUserKey {
    pub key: IamAccessKey,
    pub secret_access_key: zeroize::Zeroizing<String>,
}

impl Engine {
    async fn iam_change(&self, account: &AccountId, change: IamChange) -> Result<CommandResult> {
        self.propose(Command::Iam {
            account: account.clone(),
            change,
        })
        .await
    }

    pub async fn create_user(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
    ) -> Result<IamUser> {
        let user = IamUser {
            account: account.clone(),
            name: name.to_owned(),
            path: path.to_owned(),
            user_id: unique_id("AIDA"),
            created_at_ms: coffer_types::now_unix_millis(),
            inline_policies: Default::default(),
            attached_policies: Default::default(),
            groups: Default::default(),
        };
        self.iam_change(account, IamChange::CreateUser(user.clone()))
            .await?;
        Ok(user)
    }

    pub async fn iam_user(&self, account: &AccountId, name: &str) -> Result<Option<IamUser>> {
        self.read_barrier().await?;
        self.meta
            .iam_user(account, name)
            .map_err(|error| errors::meta("read user", error))
    }

    /// Every user of an account (at most `limit`), in name order.
    pub async fn iam_users(&self, account: &AccountId, limit: usize) -> Result<Vec<IamUser>> {
        self.read_barrier().await?;
        self.meta
            .iam_all(USER, account, limit)
            .map_err(|error| errors::meta("list users", error))
    }

    pub async fn iam_groups(&self, account: &AccountId, limit: usize) -> Result<Vec<IamGroup>> {
        self.read_barrier().await?;
        self.meta
            .iam_all(GROUP, account, limit)
            .map_err(|error| errors::meta("list groups", error))
    }

    pub async fn iam_roles(&self, account: &AccountId, limit: usize) -> Result<Vec<IamRole>> {
        self.read_barrier().await?;
        self.meta
            .iam_all(ROLE, account, limit)
            .map_err(|error| errors::meta("list roles", error))
    }

    pub async fn iam_group(&self, account: &AccountId, name: &str) -> Result<Option<IamGroup>> {
        self.read_barrier().await?;
        self.meta
            .iam_group(account, name)
            .map_err(|error| errors::meta("read group", error))
    }

    pub async fn iam_role(&self, account: &AccountId, name: &str) -> Result<Option<IamRole>> {
        self.read_barrier().await?;
        self.iam_role_now(account, name)
    }

    /// A role as this node has it (no barrier), for policy validation.
    pub fn iam_role_now(&self, account: &AccountId, name: &str) -> Result<Option<IamRole>> {
        self.meta
            .iam_role(account, name)
            .map_err(|error| errors::meta("read role", error))
    }

    /// A user as this node has it (no barrier), for policy validation.
    pub fn iam_user_now(&self, account: &AccountId, name: &str) -> Result<Option<IamUser>> {
        self.meta
            .iam_user(account, name)
            .map_err(|error| errors::meta("read user", error))
    }

    pub async fn create_group(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
    ) -> Result<IamGroup> {
        let group = IamGroup {
            account: account.clone(),
            name: name.to_owned(),
            path: path.to_owned(),
            group_id: unique_id("AGPA"),
            created_at_ms: coffer_types::now_unix_millis(),
            inline_policies: Default::default(),
            attached_policies: Default::default(),
            members: Default::default(),
        };
        self.iam_change(account, IamChange::CreateGroup(group.clone()))
            .await?;
        Ok(group)
    }

    pub async fn create_role(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        trust_policy: &str,
        description: &str,
        max_session_duration_seconds: u32,
    ) -> Result<IamRole> {
        let role = IamRole {
            account: account.clone(),
            name: name.to_owned(),
            path: path.to_owned(),
            role_id: unique_id("AROA"),
            created_at_ms: coffer_types::now_unix_millis(),
            trust_policy: trust_policy.to_owned(),
            description: description.to_owned(),
            max_session_duration_seconds,
            inline_policies: Default::default(),
            attached_policies: Default::default(),
        };
        self.iam_change(account, IamChange::CreateRole(role.clone()))
            .await?;
        Ok(role)
    }

    /// Issue temporary credentials for `of` in `account`, valid for
    /// `duration_seconds`: an `ASIA…` key, its secret and a session token
    /// (only the token's SHA-256 is stored).
    pub async fn create_session(
        &self,
        account: &AccountId,
        of: SessionOf,
        duration_seconds: u32,
    ) -> Result<NewSession> {
        let access_key_id = format!("ASIA{}", &new_access_key_id()[4..]);
        let secret_access_key = new_secret();
        let mut token = [0u8; 48];
        rand::thread_rng().fill(&mut token[..]);
        let session_token = zeroize::Zeroizing::new(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            token,
        ));
        let now_ms = coffer_types::now_unix_millis();
        let session = SessionRecord {
            secret_wrapped: self.wrap_access_secret(&access_key_id, &secret_access_key),
            token_sha256: <sha2::Sha256 as sha2::Digest>::digest(session_token.as_bytes()).into(),
            access_key_id,
            account: account.clone(),
            created_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(i64::from(duration_seconds) * 1000),
            of,
        };
        self.iam_change(
            account,
            IamChange::CreateSession {
                session: session.clone(),
                now_ms,
            },
        )
        .await?;
        Ok(NewSession {
            session,
            secret_access_key,
            session_token,
        })
    }

    pub async fn create_user_access_key(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<NewUserKey> {
        let access_key_id = new_access_key_id();
        let secret_access_key = new_secret();
        let key = IamAccessKey {
            secret_wrapped: self.wrap_access_secret(&access_key_id, &secret_access_key),
            access_key_id,
            account: account.clone(),
            user_name: user.to_owned(),
            active: true,
            created_at_ms: coffer_types::now_unix_millis(),
        };
        self.iam_change(account, IamChange::CreateAccessKey(key.clone()))
            .await?;
        Ok(NewUserKey {
            key,
            secret_access_key,
        })
    }

    pub async fn user_access_keys(
        &self,
        account: &AccountId,
        user: &str,
    ) -> Result<Vec<IamAccessKey>> {
        self.read_barrier().await?;
        self.meta
            .iam_access_keys_of(account, user)
            .map_err(|error| errors::meta("list access keys", error))
    }

    pub async fn iam_policy(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<ManagedPolicy>> {
        self.read_barrier().await?;
        self.meta
            .iam_policy(account, name)
            .map_err(|error| errors::meta("read policy", error))
    }

    pub async fn iam_policies(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<ManagedPolicy>> {
        self.read_barrier().await?;
        self.meta
            .iam_all(POLICY, account, limit)
            .map_err(|error| errors::meta("list policies", error))
    }

    pub async fn create_managed_policy(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        description: &str,
        document: &str,
    ) -> Result<ManagedPolicy> {
        let now_ms = coffer_types::now_unix_millis();
        let policy = ManagedPolicy {
            account: account.clone(),
            name: name.to_owned(),
            path: path.to_owned(),
            policy_id: unique_id("ANPA"),
            description: description.to_owned(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            versions: [(
                1,
                PolicyVersion {
                    document: document.to_owned(),
                    created_at_ms: now_ms,
                },
            )]
            .into(),
            default_version: 1,
            next_version: 2,
            attachments: Default::default(),
        };
        self.iam_change(account, IamChange::CreatePolicy(policy.clone()))
            .await?;
        Ok(policy)
    }

    /// Create a policy version; answers its number.
    pub async fn create_policy_version(
        &self,
        account: &AccountId,
        policy: &str,
        document: &str,
        set_default: bool,
    ) -> Result<u32> {
        let change = IamChange::CreatePolicyVersion {
            policy: policy.to_owned(),
            document: document.to_owned(),
            set_default,
            now_ms: coffer_types::now_unix_millis(),
        };
        match self.iam_change(account, change).await? {
            CommandResult::Created(version) => {
                u32::try_from(version).map_err(|_| S3Error::internal())
            }
            other => {
                tracing::error!(?other, "CreatePolicyVersion answered no version");
                Err(S3Error::internal())
            }
        }
    }

    /// The default document and ARN of each attached managed policy.
    fn attached_documents(
        &self,
        account: &AccountId,
        names: &std::collections::BTreeSet<String>,
        found: &mut Vec<(String, String)>,
    ) -> Result<()> {
        for name in names {
            let policy = self
                .meta
                .iam_policy(account, name)
                .map_err(|error| errors::meta("read policy", error))?;
            if let Some(policy) = policy {
                if let Some(document) = policy.default_document() {
                    found.push((
                        format!(
                            "arn:aws:iam::{}:policy{}{}",
                            account.0, policy.path, policy.name
                        ),
                        document.to_owned(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The identity policies of `user` as (name, document): its inline
    /// and attached policies, then those of each of its groups. Local
    /// state, as the rest of authorization.
    pub fn user_policies(&self, user: &IamUser) -> Result<Vec<(String, String)>> {
        let mut found: Vec<(String, String)> = user
            .inline_policies
            .iter()
            .map(|(name, document)| {
                (
                    format!("user/{} inline {name}", user.name),
                    document.clone(),
                )
            })
            .collect();
        self.attached_documents(&user.account, &user.attached_policies, &mut found)?;
        for group_name in &user.groups {
            let group = self
                .meta
                .iam_group(&user.account, group_name)
                .map_err(|error| errors::meta("read group", error))?;
            if let Some(group) = group {
                found.extend(group.inline_policies.iter().map(|(name, document)| {
                    (
                        format!("group/{} inline {name}", group.name),
                        document.clone(),
                    )
                }));
                self.attached_documents(&user.account, &group.attached_policies, &mut found)?;
            }
        }
        Ok(found)
    }

    /// The identity policies of `role`: inline, then attached.
    pub fn role_policies(&self, role: &IamRole) -> Result<Vec<(String, String)>> {
        let mut found: Vec<(String, String)> = role
            .inline_policies
            .iter()
            .map(|(name, document)| {
                (
                    format!("role/{} inline {name}", role.name),
                    document.clone(),
                )
            })
            .collect();
        self.attached_documents(&role.account, &role.attached_policies, &mut found)?;
        Ok(found)
    }

    /// Any other change to IAM entities (deletes, policies, attachments,
    /// key status), decided by `apply`.
    pub async fn change_iam(&self, account: &AccountId, change: IamChange) -> Result<()> {
        self.iam_change(account, change).await.map(|_| ())
    }
}

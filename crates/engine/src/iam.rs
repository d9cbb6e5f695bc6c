//! IAM users, their access keys and policies: ids, secrets and timestamps
//! are chosen here (the proposer's job), `coffer_meta::iam::apply` decides
//! what depends on state. Reads wait for the read barrier, so an IAM call
//! on any node sees every change acknowledged before it.

use coffer_meta::iam::{IamAccessKey, IamChange, IamUser, ManagedPolicy, PolicyVersion};
use coffer_meta::{Command, CommandResult};
use coffer_types::{AccountId, S3Error};
use rand::Rng;

use crate::access::{new_access_key_id, new_secret};
use crate::{errors, Engine, Result};

/// Characters of the random part of user and policy ids (AWS: upper-case
/// letters and digits).
const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// An IAM-style unique id: a four-letter prefix naming the kind (`AIDA`
/// user, `ANPA` managed policy) and 17 random characters.
fn unique_id(prefix: &str) -> String {
    let mut rng = rand::thread_rng();
    let random: String = (0..17)
        .map(|_| char::from(ID_CHARS[rng.gen_range(0..ID_CHARS.len())]))
        .collect();
    format!("{prefix}{random}")
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

    pub async fn iam_users(
        &self,
        account: &AccountId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IamUser>> {
        self.read_barrier().await?;
        self.meta
            .iam_users(account, after, limit)
            .map_err(|error| errors::meta("list users", error))
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
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ManagedPolicy>> {
        self.read_barrier().await?;
        self.meta
            .iam_policies(account, after, limit)
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
            attached_users: Default::default(),
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

    /// The identity policies of `user` as (name, document): its inline
    /// policies (`user/NAME inline POLICY`), then the default versions of
    /// its attached managed policies (their ARNs). Local state, as the
    /// rest of authorization.
    pub fn identity_policies(&self, user: &IamUser) -> Result<Vec<(String, String)>> {
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
        for name in &user.attached_policies {
            let policy = self
                .meta
                .iam_policy(&user.account, name)
                .map_err(|error| errors::meta("read policy", error))?;
            if let Some(policy) = policy {
                if let Some(document) = policy.default_document() {
                    found.push((
                        format!(
                            "arn:aws:iam::{}:policy{}{}",
                            user.account.0, policy.path, policy.name
                        ),
                        document.to_owned(),
                    ));
                }
            }
        }
        Ok(found)
    }

    /// Any other change to IAM entities (deletes, policies, attachments,
    /// key status), decided by `apply`.
    pub async fn change_iam(&self, account: &AccountId, change: IamChange) -> Result<()> {
        self.iam_change(account, change).await.map(|_| ())
    }
}

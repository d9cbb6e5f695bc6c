//! The admin API's account operations (`coffer_admin::AccountAdmin`) over
//! the engine: converts the engine's records into the admin API's views and
//! keeps the root account, which signs every admin request, from being
//! deleted.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use coffer_admin::{AccountAdmin, AccountView, AdminError, NewAccountView, PublicAccessBlockView};
use coffer_engine::Engine;
use coffer_meta::{AccountProfile, AccountRecord, PublicAccessBlockRecord};
use coffer_types::AccountId;

pub(crate) struct EngineAccounts {
    pub engine: Arc<Engine>,
    /// `None` when this node has no root account yet (the admin API then
    /// refuses every request anyway).
    pub root_account: Option<AccountId>,
}

fn view(account: &AccountRecord, profile: &AccountProfile) -> AccountView {
    AccountView {
        account_id: account.id.0.clone(),
        canonical_id: account.canonical_id.0.clone(),
        display_name: account.display_name.clone(),
        email: profile.email.clone(),
        created_at: rfc3339(account.created_at_ms),
    }
}

/// Milliseconds since the epoch as RFC 3339 in UTC, to the second.
fn rfc3339(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix_ms.to_string())
}

fn to_record(settings: PublicAccessBlockView) -> PublicAccessBlockRecord {
    PublicAccessBlockRecord {
        block_public_acls: settings.block_public_acls,
        ignore_public_acls: settings.ignore_public_acls,
        block_public_policy: settings.block_public_policy,
        restrict_public_buckets: settings.restrict_public_buckets,
    }
}

fn to_view(record: PublicAccessBlockRecord) -> PublicAccessBlockView {
    PublicAccessBlockView {
        block_public_acls: record.block_public_acls,
        ignore_public_acls: record.ignore_public_acls,
        block_public_policy: record.block_public_policy,
        restrict_public_buckets: record.restrict_public_buckets,
    }
}

impl EngineAccounts {
    /// 404 unless the account exists (after a read barrier, so an account
    /// created through another node is seen).
    async fn require_account(&self, id: &AccountId) -> Result<AccountRecord, AdminError> {
        self.engine.read_barrier().await?;
        self.engine.account_record(id)?.ok_or_else(|| {
            let mut error = AdminError::new(
                StatusCode::NOT_FOUND,
                format!("account {} does not exist", id.0),
            );
            error.code = Some(coffer_types::ErrorCode::NoSuchEntity.as_str());
            error
        })
    }
}

#[async_trait]
impl AccountAdmin for EngineAccounts {
    async fn create_account(
        &self,
        display_name: &str,
        email: Option<&str>,
    ) -> Result<NewAccountView, AdminError> {
        let created = self.engine.create_account(display_name, email).await?;
        Ok(NewAccountView {
            account: view(&created.account, &created.profile),
            access_key_id: created.access_key_id,
            secret_access_key: created.secret_access_key,
        })
    }

    async fn accounts(&self) -> Result<Vec<AccountView>, AdminError> {
        let accounts = self.engine.accounts().await?;
        Ok(accounts
            .iter()
            .map(|(account, profile)| view(account, profile))
            .collect())
    }

    async fn account(&self, account_id: &str) -> Result<Option<AccountView>, AdminError> {
        // The engine reads a profile only as part of the whole list; the
        // list is read once per call and accounts are few.
        let accounts = self.engine.accounts().await?;
        Ok(accounts
            .iter()
            .find(|(account, _)| account.id.0 == account_id)
            .map(|(account, profile)| view(account, profile)))
    }

    async fn delete_account(&self, account_id: &str) -> Result<(), AdminError> {
        let id = AccountId(account_id.to_owned());
        if self.root_account.as_ref() == Some(&id) {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                "the root account cannot be deleted: its keys sign the admin API",
            ));
        }
        self.engine.delete_account(&id).await?;
        Ok(())
    }

    async fn public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<PublicAccessBlockView>, AdminError> {
        let id = AccountId(account_id.to_owned());
        self.require_account(&id).await?;
        Ok(self.engine.account_public_access_block(&id)?.map(to_view))
    }

    async fn set_public_access_block(
        &self,
        account_id: &str,
        settings: Option<PublicAccessBlockView>,
    ) -> Result<(), AdminError> {
        let id = AccountId(account_id.to_owned());
        self.engine
            .set_account_public_access_block(&id, settings.map(to_record))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_999), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn settings_convert_both_ways() {
        let settings = PublicAccessBlockView {
            block_public_acls: true,
            ignore_public_acls: false,
            block_public_policy: true,
            restrict_public_buckets: false,
        };
        assert_eq!(to_view(to_record(settings)), settings);
    }
}

//! Per-request facts shared between the HTTP layer (request id, metrics,
//! tracing) and the s3s callbacks (operation name, bucket, principal).
//! The HTTP layer puts a `RequestInfo` into the request's extensions before
//! s3s sees it; s3s hands those extensions to the access check, which fills
//! in what only it learns.

use std::sync::{Arc, Mutex};

use coffer_meta::AccountRecord;

#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    inner: Arc<Mutex<Facts>>,
}

#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The s3s operation name, once routing resolved it.
    pub operation: Option<&'static str>,
    pub bucket: Option<String>,
}

impl RequestInfo {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_operation(&self, operation: &'static str, bucket: Option<&str>) {
        // A poisoned lock only means another holder panicked mid-update of
        // these plain fields; the data is still usable.
        let mut facts = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        facts.operation = Some(operation);
        facts.bucket = bucket.map(str::to_owned);
    }

    pub fn snapshot(&self) -> Facts {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Who is acting, put into the request's extensions by the access check
/// so handlers need not look it up again.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The account that acts: the caller's, or for an anonymous caller the
    /// bucket owner's (who owns what anonymous callers write).
    pub account: Option<AccountRecord>,
    pub caller: coffer_policy::Caller,
    /// The request's condition keys, for decisions handlers make (per key
    /// of DeleteObjects, copy sources).
    pub keys: coffer_policy::ConditionKeys,
    /// Whether the caller may list the bucket: a missing key is then 404
    /// NoSuchKey, else 403 (GetObject / HeadObject).
    pub list_bucket_allowed: bool,
    /// The caller's identity policies (an IAM user's inline and attached
    /// policies); empty for roots and anonymous callers.
    pub identity: std::sync::Arc<Vec<IdentityPolicy>>,
    /// The session policy of an assumed-role session, if it was given one.
    pub session_policy: Option<std::sync::Arc<IdentityPolicy>>,
}

impl Principal {
    /// The caller's identity and session policies, as `authorize` takes
    /// them.
    pub fn policies(&self) -> coffer_policy::Identity<'_> {
        coffer_policy::Identity {
            policies: self
                .identity
                .iter()
                .map(|policy| policy.named(&coffer_policy::SourceKind::IdentityPolicy))
                .collect(),
            session_policy: self
                .session_policy
                .as_deref()
                .map(|policy| policy.named(&coffer_policy::SourceKind::SessionPolicy)),
        }
    }
}

/// One identity policy of the caller, parsed.
#[derive(Clone, Debug)]
pub struct IdentityPolicy {
    /// The account that holds it.
    pub account: String,
    /// `user/alice inline s3-read`, or a managed policy's ARN.
    pub name: String,
    pub policy: coffer_policy::Policy,
}

impl IdentityPolicy {
    fn named<'a>(&'a self, kind: &'a coffer_policy::SourceKind) -> coffer_policy::NamedPolicy<'a> {
        coffer_policy::NamedPolicy {
            kind,
            account: &self.account,
            name: &self.name,
            policy: &self.policy,
        }
    }
}

/// Whether the connection is TLS, put into every request's extensions by
/// the listener (for `aws:SecureTransport`).
#[derive(Clone, Copy, Debug)]
pub struct SecureTransport(pub bool);

/// The negotiated TLS version of the connection (`1.2`, `1.3`), put into
/// a request's extensions by the listener on TLS connections only (for
/// `s3:TlsVersion`, absent over plain HTTP as in AWS).
#[derive(Clone, Copy, Debug)]
pub struct TlsVersion(pub &'static str);

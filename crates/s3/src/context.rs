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

/// The authenticated account, put into the request's extensions by the
/// access check so handlers need not look it up again.
#[derive(Clone, Debug)]
pub struct Principal {
    pub account: AccountRecord,
}

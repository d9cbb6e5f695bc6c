//! Typed parameters of every supported action, one struct per action,
//! grouped by the entity they act on. Each struct's `parse` reads its
//! parameters through a `Reader`, which checks AWS's documented
//! constraints; defaults AWS applies (path `/`, durations) are applied here
//! so handlers never guess them.

mod group;
mod policy;
mod role;
mod sts;
mod user;

pub use group::*;
pub use policy::*;
pub use role::*;
pub use sts::*;
pub use user::*;

/// The path AWS gives an entity created without one.
pub const DEFAULT_PATH: &str = "/";

/// `Marker` and `MaxItems` of a list action. The marker is opaque: it is
/// whatever the previous page's response returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub marker: Option<String>,
    /// 1..=1000 when present.
    pub max_items: Option<u32>,
}

impl Page {
    /// AWS's page size when `MaxItems` is absent.
    pub const DEFAULT_MAX_ITEMS: u32 = 100;

    pub fn max_items_or_default(&self) -> u32 {
        self.max_items.unwrap_or(Self::DEFAULT_MAX_ITEMS)
    }
}

/// An access key's state, as `UpdateAccessKey` sets it and responses show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyStatus {
    Active,
    Inactive,
}

impl AccessKeyStatus {
    pub(crate) const CHOICES: &'static [(&'static str, AccessKeyStatus)] = &[
        ("Active", AccessKeyStatus::Active),
        ("Inactive", AccessKeyStatus::Inactive),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessKeyStatus::Active => "Active",
            AccessKeyStatus::Inactive => "Inactive",
        }
    }
}

/// `ListPolicies`' `Scope`: AWS-managed, customer-managed (`Local`) or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

impl PolicyScope {
    pub(crate) const CHOICES: &'static [(&'static str, PolicyScope)] = &[
        ("All", PolicyScope::All),
        ("AWS", PolicyScope::Aws),
        ("Local", PolicyScope::Local),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyScope::All => "All",
            PolicyScope::Aws => "AWS",
            PolicyScope::Local => "Local",
        }
    }
}

/// `Path` of a create action, `/` when absent.
fn path_or_default(reader: &mut crate::validate::Reader) -> String {
    reader
        .optional("Path", &crate::validate::PATH)
        .unwrap_or_else(|| DEFAULT_PATH.to_string())
}

/// `PathPrefix` of a list action, `/` (everything) when absent.
fn path_prefix_or_default(reader: &mut crate::validate::Reader) -> String {
    reader
        .optional("PathPrefix", &crate::validate::PATH_PREFIX)
        .unwrap_or_else(|| DEFAULT_PATH.to_string())
}

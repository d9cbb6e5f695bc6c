//! AWS's access-policy model for S3, as pure functions: the policy
//! language (grammar, validation with AWS's `MalformedPolicy` messages,
//! conditions and variables), ACLs and Object Ownership, Block Public
//! Access and the public-policy test, and `authorize`, which decides one
//! request in AWS's order and names the statements that decided it.
//!
//! This crate must not know IO, HTTP, storage or any other coffer crate:
//! callers describe the request, the caller and the resource, and get a
//! `Decision` back. That keeps every rule table-testable.

pub mod acl;
pub mod actions;
pub mod arn;
pub mod condition;
pub mod document;
pub mod evaluate;
pub mod pattern;
pub mod public;
pub mod validate;
pub mod variables;

pub use acl::{Acl, CannedAcl, Grant, Grantee, Group, ObjectOwnership, Permission};
pub use condition::ConditionKeys;
pub use document::{Effect, Policy, PolicyError, PolicyKind, Version};
pub use evaluate::{
    authorize, AccountRef, Caller, Decision, Identity, NamedPolicy, ObjectResource, Outcome,
    Reason, Request, Resource, SourceKind,
};
pub use public::{policy_is_public, PublicAccessBlock};

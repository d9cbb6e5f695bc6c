//! The protocol side of AWS's IAM and STS query APIs, so that `aws iam`,
//! `aws sts` and boto3 can talk to coffer: verify a request's Signature
//! Version 4, parse its form parameters into one closed `IamRequest` enum
//! (each variant names its IAM action), and render typed results and
//! errors as the XML AWS sends.
//!
//! This crate must not know storage, RocksDB, HTTP servers, policies'
//! meaning or any other coffer crate. Callers hand in the parts of an HTTP
//! request as plain strings and bytes and get plain strings back; policy
//! documents stay opaque JSON text for another crate to validate. That
//! keeps every rule here table-testable without a server.
//!
//! A caller handles one request in this order:
//! `sigv4::parse_authorization` → look up the secret for the access key →
//! `sigv4::verify` → `parse_request` → authorize `IamRequest::action()` and
//! do the work → `render` (or `render_error` for any `IamError`).
//!
//! ```
//! use coffer_iam::{
//!     parse_authorization, parse_request, render, render_error, verify, HttpRequest, IamError,
//!     IamRequest, IamResponse, ListPage, Service,
//! };
//!
//! // AWS's published example request, as an HTTP server would hand it over.
//! let headers = [
//!     ("Host", "iam.amazonaws.com"),
//!     ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
//!     ("X-Amz-Date", "20150830T123600Z"),
//!     ("Authorization", "AWS4-HMAC-SHA256 \
//!         Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
//!         SignedHeaders=content-type;host;x-amz-date, \
//!         Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
//! ];
//! let request = HttpRequest {
//!     method: "GET",
//!     path: "/",
//!     query: "Action=ListUsers&Version=2010-05-08",
//!     headers: &headers,
//!     body: b"",
//! };
//! let now = time::macros::datetime!(2015-08-30 12:40:00 UTC);
//! let secret_for = |access_key_id: &str| {
//!     (access_key_id == "AKIDEXAMPLE").then(|| "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
//! };
//!
//! let handle = || -> Result<IamResponse, IamError> {
//!     let auth = parse_authorization(request.headers)?;
//!     let secret = secret_for(&auth.access_key_id).ok_or_else(IamError::invalid_client_token_id)?;
//!     verify(&auth, &request, secret, now)?;
//!     let parsed = parse_request(auth.service, request.query, request.body)?;
//!     assert_eq!(parsed.action(), "iam:ListUsers"); // authorize this against policies
//!     match parsed {
//!         IamRequest::ListUsers(_) => Ok(IamResponse::ListUsers(ListPage::complete(Vec::new()))),
//!         _ => Err(IamError::internal_failure()),
//!     }
//! };
//! // Before the signature is read the service is unknown; the endpoint decides.
//! let xml = match handle() {
//!     Ok(response) => render(&response, "request-id"),
//!     Err(error) => render_error(&error, Service::Iam, "request-id"),
//! };
//! assert!(xml.starts_with("<ListUsersResponse"));
//! ```

pub mod action;
pub mod error;
pub mod form;
mod percent;
pub mod render;
pub mod request;
pub mod response;
pub mod sigv4;
mod validate;

pub use action::{parse_request, parse_request_with, IamRequest, Limits, Operation, Service};
pub use error::{ErrorCode, IamError};
pub use form::{MAX_BODY_BYTES, MAX_PARAMETERS};
pub use render::{render, render_error, CONTENT_TYPE};
pub use request::{AccessKeyStatus, Page, PolicyScope};
pub use response::{
    AccessKeyView, AssumeRoleView, AssumedRoleUserView, AttachedPolicyView, CallerIdentityView,
    CredentialsView, GetGroupView, GroupView, IamResponse, InlinePolicyView, ListAccessKeysView,
    ListPage, PolicyVersionView, PolicyView, RoleView, UserView,
};
pub use sigv4::{parse_authorization, verify, HttpRequest, SigV4Auth};

//! The end-to-end harness: starts the real `coffer` binary on loopback with a
//! throw-away data directory and hands out clients (the AWS SDK, raw reqwest,
//! raw TCP, a manual SigV4 signer) to drive it like a user would.
//!
//! This crate must not depend on any coffer crate: it only knows the binary's
//! command line, its HTTP endpoints and the S3 protocol, so it tests what a
//! user sees and nothing else.

pub mod accounts;
pub mod client;
pub mod cluster;
pub mod data;
pub mod history;
pub mod iam;
pub mod ops;
pub mod server;
pub mod sign;

pub use client::{assert_s3_error, error_code, error_status, CaptureRequestHeaders, ClientOptions};
pub use data::{
    md5_hex, multipart_etag, random_bytes, sha256_hex, unique_bucket, PseudoRandomStream,
};
pub use server::{ClusterNode, Server, ServerOptions, TlsIdentity};
pub use sign::xml_element;

//! Node-to-node gRPC of a region (DESIGN.md §2–§5): the Raft transport,
//! write forwarding and read-index for followers, membership (join with a
//! token, add, remove), and block transfer between nodes — services
//! generated from `proto/coffer.proto` by tonic, over mutual TLS with
//! certificates from the region CA.
//!
//! This crate knows the metadata store (to deliver Raft messages and
//! forwarded proposals) and the block store (to serve local blocks); it
//! must not know S3, HTTP routing or encryption beyond TLS.

pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("coffer.v1");
}

mod client;
mod codec;
mod peers;
mod raft_net;
mod services;
mod snapshot;
mod tls;

pub use client::{join_region, node_address, JoinedRegion, PeerStatus, RpcClient};
pub use raft_net::GrpcRaftNetwork;
pub use services::{serve, RegionSecrets, ServiceState};
pub use tls::{NodeIdentity, NODE_TLS_NAME};

/// A gRPC message may be at most this large: a block (≤ 64 MiB plus AEAD
/// tags) or a Raft append of at most `RAFT_ENTRIES_PER_APPEND_MAX` entries.
pub const MESSAGE_BYTES_MAX: usize = 160 * 1024 * 1024;

/// tonic's status type, so callers need not depend on tonic themselves.
pub mod pb_status {
    pub use tonic::{Code, Status};
}

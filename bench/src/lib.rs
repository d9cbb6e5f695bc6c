//! coffer-bench: a warp-style load generator for any S3 endpoint, and a
//! scenario runner that measures coffer (and peer servers) next to this
//! machine's own limits in the same run.
//!
//! It speaks only S3, through aws-sdk-s3, and must not know coffer's
//! internals: the same code measures coffer, rclone and moto. Object content
//! comes from a seed, so nothing is held in memory and every read is
//! verified.

pub mod bucket;
pub mod client;
pub mod content;
pub mod limits;
mod progress;
pub mod report;
pub mod scenario;
pub mod servers;
pub mod size;
pub mod stats;
pub mod workload;
mod workloads;

pub use client::Target;
pub use report::Report;
pub use size::SizeSpec;
pub use workload::{run, Load, Mix, Workload};

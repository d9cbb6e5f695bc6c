//! The one end-to-end test binary: each module drives real `coffer`
//! processes over HTTP for one area of the S3 API. Every test starts its
//! own server (a separate process), so tests run in parallel safely.

mod accounts;
mod auth;
mod bench;
mod big;
mod buckets;
mod checksums;
mod cluster;
mod durability;
mod expect_continue;
mod explain;
mod iam;
mod limits;
mod listing;
mod multipart;
mod objects;
mod observability;
mod policies;
mod post_object;
mod reads;
mod snapshots;
mod sts;
mod tls;
mod versions_tags;
mod writes;

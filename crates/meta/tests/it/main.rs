//! Integration tests of the metadata store: a real RocksDB in a temp dir and
//! a real single-node Raft group. One test binary, one module per area.

mod commands;
mod common;
mod concurrency;
mod listing;
mod multipart;
mod persistence;

//! coffer-s3 (stub)

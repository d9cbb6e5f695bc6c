//! coffer-admin (stub)

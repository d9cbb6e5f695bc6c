//! Prometheus metrics of the S3 endpoint (the binary installs the
//! recorder; without one these calls are no-ops).

use std::time::Duration;

pub const REQUESTS_TOTAL: &str = "coffer_s3_requests_total";
pub const REQUEST_DURATION_SECONDS: &str = "coffer_s3_request_duration_seconds";
pub const BYTES_RECEIVED_TOTAL: &str = "coffer_s3_bytes_received_total";
pub const BYTES_SENT_TOTAL: &str = "coffer_s3_bytes_sent_total";

pub fn request_done(operation: &'static str, status: u16, duration: Duration) {
    metrics::counter!(REQUESTS_TOTAL, "operation" => operation, "status" => status.to_string())
        .increment(1);
    metrics::histogram!(REQUEST_DURATION_SECONDS, "operation" => operation)
        .record(duration.as_secs_f64());
}

/// Object body bytes read from clients (PutObject, UploadPart).
pub fn bytes_received(count: usize) {
    metrics::counter!(BYTES_RECEIVED_TOTAL).increment(count as u64);
}

/// Object body bytes sent to clients (GetObject).
pub fn bytes_sent(count: usize) {
    metrics::counter!(BYTES_SENT_TOTAL).increment(count as u64);
}

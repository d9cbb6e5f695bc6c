//! Counters and latency histograms for one kind of operation, mergeable
//! across workers, and the summary a report prints.
//!
//! Latencies go into an HDR histogram (microseconds, 3 significant digits),
//! so memory stays fixed however many operations run and percentiles are
//! exact to 0.1 %.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency the histogram tracks; slower operations are clamped to
/// it (and still counted).
const LATENCY_MAX_MICROS: u64 = 3_600 * 1_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// What one worker measured for one kind of operation.
#[derive(Clone, Debug)]
pub struct Stats {
    latency_micros: Histogram<u64>,
    ok_count: u64,
    error_count: u64,
    verify_error_count: u64,
    bytes: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

impl Stats {
    pub fn new() -> Self {
        Self {
            latency_micros: Histogram::new_with_bounds(1, LATENCY_MAX_MICROS, SIGNIFICANT_DIGITS)
                .expect("constant bounds are valid"),
            ok_count: 0,
            error_count: 0,
            verify_error_count: 0,
            bytes: 0,
        }
    }

    /// A successful operation that moved `bytes` of object data.
    pub fn record_ok(&mut self, latency: Duration, bytes: u64) {
        self.ok_count += 1;
        self.bytes += bytes;
        self.record_latency(latency);
    }

    /// A failed operation (an error response or a transport error).
    /// Failures carry no latency: a timeout would skew the percentiles of
    /// what the store actually served.
    pub fn record_error(&mut self) {
        self.error_count += 1;
    }

    /// An operation whose response arrived but whose content was wrong.
    pub fn record_verify_error(&mut self) {
        self.verify_error_count += 1;
    }

    fn record_latency(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, LATENCY_MAX_MICROS);
        self.latency_micros.saturating_record(micros);
    }

    /// Fold another worker's measurements into these.
    pub fn merge(&mut self, other: &Stats) {
        self.ok_count += other.ok_count;
        self.error_count += other.error_count;
        self.verify_error_count += other.verify_error_count;
        self.bytes += other.bytes;
        self.latency_micros
            .add(&other.latency_micros)
            .expect("histograms share bounds, so adding cannot fail");
    }

    pub fn ok_count(&self) -> u64 {
        self.ok_count
    }

    pub fn error_count(&self) -> u64 {
        self.error_count
    }

    pub fn verify_error_count(&self) -> u64 {
        self.verify_error_count
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The latency at `quantile` (0.0 ..= 1.0) of successful operations.
    pub fn latency_at(&self, quantile: f64) -> Duration {
        if self.latency_micros.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.latency_micros.value_at_quantile(quantile))
    }

    pub fn latency_max(&self) -> Duration {
        if self.latency_micros.is_empty() {
            return Duration::ZERO;
        }
        Duration::from_micros(self.latency_micros.max())
    }

    /// Rates and percentiles over `elapsed` wall time.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        Summary {
            ok_count: self.ok_count,
            error_count: self.error_count,
            verify_error_count: self.verify_error_count,
            bytes: self.bytes,
            ops_per_second: per_second(self.ok_count as f64, elapsed),
            mib_per_second: per_second(self.bytes as f64 / MIB, elapsed),
            latency_p50_ms: millis(self.latency_at(0.50)),
            latency_p90_ms: millis(self.latency_at(0.90)),
            latency_p99_ms: millis(self.latency_at(0.99)),
            latency_max_ms: millis(self.latency_max()),
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// `amount / elapsed`, 0 when no time passed (nothing can be measured).
pub fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        amount / seconds
    } else {
        0.0
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// One operation kind's figures, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub ok_count: u64,
    pub error_count: u64,
    pub verify_error_count: u64,
    pub bytes: u64,
    pub ops_per_second: f64,
    pub mib_per_second: f64,
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis_stats(values_ms: impl IntoIterator<Item = u64>) -> Stats {
        let mut stats = Stats::new();
        for value in values_ms {
            stats.record_ok(Duration::from_millis(value), 10);
        }
        stats
    }

    /// Within the histogram's precision (3 significant digits).
    fn assert_close(actual: Duration, expected_ms: u64) {
        let actual_ms = actual.as_secs_f64() * 1_000.0;
        let tolerance = expected_ms as f64 * 0.001 + 0.001;
        assert!(
            (actual_ms - expected_ms as f64).abs() <= tolerance,
            "{actual_ms} ms is not {expected_ms} ms"
        );
    }

    #[test]
    fn percentiles_of_a_uniform_sequence() {
        let stats = millis_stats(1..=1_000);
        assert_close(stats.latency_at(0.50), 500);
        assert_close(stats.latency_at(0.90), 900);
        assert_close(stats.latency_at(0.99), 990);
        assert_close(stats.latency_max(), 1_000);
        assert_close(stats.latency_at(0.0), 1);
    }

    #[test]
    fn percentiles_are_not_averages() {
        // 99 fast operations and one slow one: p50 and p90 stay fast, max
        // shows the outlier.
        let stats = millis_stats(std::iter::repeat_n(2, 99).chain([5_000]));
        assert_close(stats.latency_at(0.50), 2);
        assert_close(stats.latency_at(0.90), 2);
        assert_close(stats.latency_max(), 5_000);
    }

    #[test]
    fn empty_stats_report_zero_not_garbage() {
        let summary = Stats::new().summary(Duration::from_secs(1));
        assert_eq!(summary.ok_count, 0);
        assert_eq!(summary.latency_p99_ms, 0.0);
        assert_eq!(summary.ops_per_second, 0.0);
    }

    #[test]
    fn rates_divide_by_wall_time() {
        let mut stats = Stats::new();
        for _ in 0..50 {
            stats.record_ok(Duration::from_millis(1), 1024 * 1024);
        }
        let summary = stats.summary(Duration::from_secs(10));
        assert_eq!(summary.ops_per_second, 5.0);
        assert_eq!(summary.mib_per_second, 5.0);
        assert_eq!(per_second(7.0, Duration::ZERO), 0.0);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let mut left = millis_stats(1..=500);
        left.record_error();
        let mut right = millis_stats(501..=1_000);
        right.record_verify_error();
        left.merge(&right);
        let whole = millis_stats(1..=1_000);
        assert_eq!(left.ok_count(), 1_000);
        assert_eq!(left.error_count(), 1);
        assert_eq!(left.verify_error_count(), 1);
        assert_eq!(left.bytes(), whole.bytes());
        for quantile in [0.5, 0.9, 0.99, 1.0] {
            assert_eq!(left.latency_at(quantile), whole.latency_at(quantile));
        }
    }

    #[test]
    fn errors_do_not_enter_the_latency_histogram() {
        let mut stats = millis_stats([3]);
        stats.record_error();
        stats.record_error();
        assert_eq!(stats.error_count(), 2);
        assert_close(stats.latency_max(), 3);
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut stats = Stats::new();
        stats.record_ok(Duration::from_secs(10 * 3_600), 0);
        assert_eq!(stats.ok_count(), 1);
        assert!(stats.latency_max() >= Duration::from_secs(3_599));
    }
}

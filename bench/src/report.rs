//! What a run measured, as a table for people and as JSON for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::client::Target;
use crate::stats::{per_second, Summary};
use crate::workload::{Load, Tally, Workload};

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub workload: &'static str,
    pub endpoint: String,
    pub bucket: String,
    /// The settings that shaped the load, as `name -> value`.
    pub settings: BTreeMap<&'static str, String>,
    pub elapsed_seconds: f64,
    /// Stopped by Ctrl-C: figures cover only the time before it.
    pub interrupted: bool,
    /// Per operation: `put`, `get`, `head`, `delete`, `part`, `upload`,
    /// `list-page`, `list-first-page`, `list-walk`.
    pub operations: BTreeMap<&'static str, Summary>,
    pub keys_listed: u64,
    pub keys_per_second: f64,
    /// A few of the errors, for diagnosis; the counts are per operation.
    pub error_samples: Vec<String>,
    /// The bucket could not be removed afterwards (the figures stand).
    pub cleanup_error: Option<String>,
}

impl Report {
    pub(crate) fn new(
        target: &Target,
        workload: Workload,
        load: &Load,
        bucket: &str,
        tally: Tally,
        elapsed: Duration,
        interrupted: bool,
    ) -> Self {
        let operations = tally
            .stats
            .iter()
            .map(|(name, stats)| (*name, stats.summary(elapsed)))
            .collect();
        Self {
            workload: workload.name(),
            endpoint: target.endpoint.clone(),
            bucket: bucket.to_owned(),
            settings: settings(workload, load),
            elapsed_seconds: elapsed.as_secs_f64(),
            interrupted,
            operations,
            keys_listed: tally.keys_listed,
            keys_per_second: per_second(tally.keys_listed as f64, elapsed),
            error_samples: tally.error_samples,
            cleanup_error: None,
        }
    }

    pub fn operation(&self, name: &str) -> Option<&Summary> {
        self.operations.get(name)
    }

    /// Failed requests plus verification failures, over all operations.
    pub fn total_errors(&self) -> u64 {
        self.operations
            .values()
            .map(|summary| summary.error_count + summary.verify_error_count)
            .sum()
    }

    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let _ = writeln!(
            text,
            "{} against {} ({:.1} s{}) {}",
            self.workload,
            self.endpoint,
            self.elapsed_seconds,
            if self.interrupted {
                ", interrupted"
            } else {
                ""
            },
            settings.join(" ")
        );
        let _ = writeln!(
            text,
            "{:<16} {:>9} {:>10} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
            "operation",
            "ok",
            "ops/s",
            "MiB/s",
            "errors",
            "verify",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms"
        );
        for (name, summary) in &self.operations {
            let _ = writeln!(
                text,
                "{:<16} {:>9} {:>10.1} {:>9.1} {:>7} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                name,
                summary.ok_count,
                summary.ops_per_second,
                summary.mib_per_second,
                summary.error_count,
                summary.verify_error_count,
                summary.latency_p50_ms,
                summary.latency_p90_ms,
                summary.latency_p99_ms,
                summary.latency_max_ms,
            );
        }
        if self.keys_listed > 0 {
            let _ = writeln!(
                text,
                "keys listed: {} ({:.0} keys/s)",
                self.keys_listed, self.keys_per_second
            );
        }
        for sample in &self.error_samples {
            let _ = writeln!(text, "error: {sample}");
        }
        if let Some(cleanup_error) = &self.cleanup_error {
            let _ = writeln!(text, "warning: {cleanup_error}");
        }
        text
    }
}

fn settings(workload: Workload, load: &Load) -> BTreeMap<&'static str, String> {
    let mut settings = BTreeMap::new();
    settings.insert("concurrency", load.concurrency.to_string());
    settings.insert("prefixes", load.prefixes.to_string());
    settings.insert("seed", load.seed.to_string());
    match load.operations {
        Some(operations) => settings.insert("operations", operations.to_string()),
        None => settings.insert("duration_s", format!("{}", load.duration.as_secs_f64())),
    };
    if let Some(objects) = load.objects {
        settings.insert("objects", objects.to_string());
    }
    match workload {
        Workload::Multipart {
            parts,
            part_size_bytes,
            parts_in_flight,
        } => {
            settings.insert("parts", parts.to_string());
            settings.insert("part_size", crate::size::format_bytes(part_size_bytes));
            settings.insert("parts_in_flight", parts_in_flight.to_string());
        }
        Workload::List { page_size } => {
            settings.insert("page_size", page_size.to_string());
            settings.insert("size", load.size.to_string());
        }
        Workload::Mixed(mix) => {
            settings.insert(
                "mix",
                format!(
                    "get={},head={},put={},delete={}",
                    mix.get, mix.head, mix.put, mix.delete
                ),
            );
            settings.insert("size", load.size.to_string());
        }
        Workload::Put | Workload::Get | Workload::Meta => {
            settings.insert("size", load.size.to_string());
        }
    }
    settings
}

//! Named scenarios: start each server on loopback, run fixed workloads
//! against it, and print every figure next to this machine's limit,
//! measured in the same run, as a Markdown table for bench/RESULTS.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::limits::{self, Limits, Machine};
use crate::report::Report;
use crate::servers::{self, Programs, ServerKind};
use crate::size::SizeSpec;
use crate::workload::{run, Load, Workload};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScenarioName {
    /// 1 GiB PUT and GET, one at a time.
    Big,
    /// 4 KiB PUT and GET at concurrency 32.
    Small,
    /// 0-byte PUTs at concurrency 64: committed metadata writes.
    Meta,
    /// ListObjectsV2 over a pre-filled bucket (100k keys; `--keys`).
    List,
    /// One 5 GiB multipart upload, peak RSS sampled.
    Mpu,
}

impl ScenarioName {
    pub fn name(&self) -> &'static str {
        match self {
            ScenarioName::Big => "big",
            ScenarioName::Small => "small",
            ScenarioName::Meta => "meta",
            ScenarioName::List => "list",
            ScenarioName::Mpu => "mpu",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScenarioOptions {
    pub name: ScenarioName,
    pub targets: Vec<ServerKind>,
    pub programs: Programs,
    /// Servers keep their data here, and dd measures this filesystem.
    pub work_dir: PathBuf,
    /// Keys in the `list` scenario's bucket.
    pub list_keys: u64,
    /// Shrink every size and duration, to check the runner itself.
    pub quick: bool,
    pub progress: bool,
}

/// What a figure is compared with.
#[derive(Clone, Copy, Debug)]
enum Limit {
    DiskWrite,
    DiskRead,
    /// A goal from the issue; `higher_is_better` orients the ratio.
    Goal {
        value: f64,
        higher_is_better: bool,
    },
    /// 2 × the best peer server's figure.
    TwiceBestPeer,
    /// Half the best (lowest) peer figure.
    HalfBestPeer,
}

/// Which number of a report a row shows.
#[derive(Clone, Copy, Debug)]
enum Metric {
    MibPerSecond(&'static str),
    OpsPerSecond(&'static str),
    LatencyP50Ms(&'static str),
    KeysPerSecond,
    PeakRssMib,
    /// Server CPU time (user + system) per successful operation: what the
    /// server spends, whatever the client on the same cores costs.
    ServerCpuMicrosPerOp(&'static str),
}

struct Row {
    label: String,
    unit: &'static str,
    metric: Metric,
    limit: Limit,
}

struct Step {
    workload: Workload,
    load: Load,
    rows: Vec<Row>,
}

fn row(label: impl Into<String>, unit: &'static str, metric: Metric, limit: Limit) -> Row {
    Row {
        label: label.into(),
        unit,
        metric,
        limit,
    }
}

const RSS_GOAL_MIB: f64 = 256.0;

fn rss_row(what: &str) -> Row {
    row(
        format!("server peak RSS during {what}"),
        "MiB",
        Metric::PeakRssMib,
        Limit::Goal {
            value: RSS_GOAL_MIB,
            higher_is_better: false,
        },
    )
}

fn steps(options: &ScenarioOptions) -> Vec<Step> {
    let quick = options.quick;
    let base = Load {
        progress: options.progress,
        ..Load::default()
    };
    let seconds = |full: u64| Duration::from_secs(if quick { 2 } else { full });
    match options.name {
        ScenarioName::Big => {
            let size_bytes: u64 = if quick { 64 << 20 } else { 1 << 30 };
            let size = SizeSpec::Fixed(size_bytes);
            let load = Load {
                concurrency: 1,
                size,
                objects: Some(1),
                operations: Some(3),
                ..base
            };
            let label = crate::size::format_bytes(size_bytes);
            vec![
                Step {
                    workload: Workload::Put,
                    load: load.clone(),
                    rows: vec![
                        row(
                            format!("PUT {label}"),
                            "MiB/s",
                            Metric::MibPerSecond("put"),
                            Limit::DiskWrite,
                        ),
                        rss_row("PUT"),
                    ],
                },
                Step {
                    workload: Workload::Get,
                    load,
                    rows: vec![
                        row(
                            format!("GET {label}"),
                            "MiB/s",
                            Metric::MibPerSecond("get"),
                            Limit::DiskRead,
                        ),
                        rss_row("GET"),
                    ],
                },
            ]
        }
        ScenarioName::Small => {
            let load = Load {
                concurrency: 32,
                size: SizeSpec::Fixed(4096),
                duration: seconds(20),
                ..base
            };
            vec![
                Step {
                    workload: Workload::Put,
                    load: load.clone(),
                    rows: vec![
                        row(
                            "PUT 4KiB, concurrency 32",
                            "ops/s",
                            Metric::OpsPerSecond("put"),
                            Limit::TwiceBestPeer,
                        ),
                        row(
                            "server CPU per 4KiB PUT",
                            "µs",
                            Metric::ServerCpuMicrosPerOp("put"),
                            Limit::HalfBestPeer,
                        ),
                    ],
                },
                Step {
                    workload: Workload::Get,
                    load: Load {
                        objects: Some(1000),
                        ..load
                    },
                    rows: vec![
                        row(
                            "GET 4KiB, concurrency 32",
                            "ops/s",
                            Metric::OpsPerSecond("get"),
                            Limit::TwiceBestPeer,
                        ),
                        row(
                            "server CPU per 4KiB GET",
                            "µs",
                            Metric::ServerCpuMicrosPerOp("get"),
                            Limit::HalfBestPeer,
                        ),
                    ],
                },
            ]
        }
        ScenarioName::Meta => vec![Step {
            workload: Workload::Meta,
            load: Load {
                concurrency: 64,
                size: SizeSpec::Fixed(0),
                duration: seconds(20),
                ..base
            },
            rows: vec![
                row(
                    "0-byte PUT, concurrency 64",
                    "ops/s",
                    Metric::OpsPerSecond("put"),
                    Limit::Goal {
                        value: 3_000.0,
                        higher_is_better: true,
                    },
                ),
                row(
                    "server CPU per 0-byte PUT",
                    "µs",
                    Metric::ServerCpuMicrosPerOp("put"),
                    Limit::HalfBestPeer,
                ),
            ],
        }],
        ScenarioName::List => {
            let keys = if quick { 2_000 } else { options.list_keys };
            vec![Step {
                workload: Workload::List { page_size: 1000 },
                load: Load {
                    concurrency: 1,
                    size: SizeSpec::Fixed(0),
                    objects: Some(keys),
                    duration: seconds(30),
                    ..base
                },
                rows: vec![
                    row(
                        format!("first page of {keys} keys, p50"),
                        "ms",
                        Metric::LatencyP50Ms("list-first-page"),
                        Limit::Goal {
                            value: 20.0,
                            higher_is_better: false,
                        },
                    ),
                    row(
                        format!("walk of {keys} keys"),
                        "keys/s",
                        Metric::KeysPerSecond,
                        Limit::Goal {
                            value: 100_000.0,
                            higher_is_better: true,
                        },
                    ),
                ],
            }]
        }
        ScenarioName::Mpu => {
            let (parts, part_size_bytes) = if quick { (4, 5 << 20) } else { (320, 16 << 20) };
            let total = crate::size::format_bytes(parts as u64 * part_size_bytes);
            let part = crate::size::format_bytes(part_size_bytes);
            vec![Step {
                workload: Workload::Multipart {
                    parts,
                    part_size_bytes,
                    parts_in_flight: 8,
                },
                load: Load {
                    concurrency: 1,
                    operations: Some(1),
                    ..base
                },
                rows: vec![
                    row(
                        format!("multipart PUT {total} ({parts} × {part}, 8 in flight)"),
                        "MiB/s",
                        Metric::MibPerSecond("upload"),
                        Limit::DiskWrite,
                    ),
                    rss_row("the multipart upload"),
                ],
            }]
        }
    }
}

/// One server's results: per step, a report, the peak RSS and the CPU
/// time the server used.
#[derive(Clone, Debug, Serialize)]
pub struct TargetResult {
    pub server: ServerKind,
    pub reports: Vec<Report>,
    pub peak_rss_mib: Vec<f64>,
    pub server_cpu_seconds: Vec<f64>,
}

/// One line of the results table.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub label: String,
    pub unit: &'static str,
    /// Per server name; absent where the step failed.
    pub values: BTreeMap<&'static str, f64>,
    /// Errors per server in the step behind this figure.
    pub errors: BTreeMap<&'static str, u64>,
    pub limit_label: String,
    pub limit_value: Option<f64>,
    /// coffer's figure over the limit, oriented so ≥ 1 meets it.
    pub ratio: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub scenario: ScenarioName,
    pub date: String,
    pub commit: String,
    pub machine: Machine,
    pub limits: Limits,
    pub targets: Vec<TargetResult>,
    pub figures: Vec<Figure>,
}

pub async fn run_scenario(
    options: &ScenarioOptions,
    interrupt: &CancellationToken,
) -> Result<ScenarioReport> {
    std::fs::create_dir_all(&options.work_dir)
        .with_context(|| format!("creating {}", options.work_dir.display()))?;
    let machine = limits::machine(&options.work_dir);
    let disk_test_bytes = if options.quick { 16 << 20 } else { 1 << 30 };
    let work_dir = options.work_dir.clone();
    let limits = tokio::task::spawn_blocking(move || limits::measure(&work_dir, disk_test_bytes))
        .await
        .context("measuring limits")??;
    let steps = steps(options);
    let mut targets = Vec::new();
    for kind in &options.targets {
        let server = servers::start(*kind, &options.programs, &options.work_dir).await?;
        let mut result = TargetResult {
            server: *kind,
            reports: Vec::new(),
            peak_rss_mib: Vec::new(),
            server_cpu_seconds: Vec::new(),
        };
        for step in &steps {
            let (report, cpu_seconds, peak_rss_mib) = measure_step(&server, step, interrupt)
                .await
                .with_context(|| format!("{} against {}", step.workload.name(), kind.name()))?;
            result.reports.push(report);
            result.server_cpu_seconds.push(cpu_seconds);
            result.peak_rss_mib.push(peak_rss_mib);
            if interrupt.is_cancelled() {
                break;
            }
        }
        targets.push(result);
        if interrupt.is_cancelled() {
            break;
        }
    }
    let figures = figures(&steps, &targets, &limits);
    Ok(ScenarioReport {
        scenario: options.name,
        date: command_output("date", &["-u", "+%F"]),
        commit: command_output("git", &["rev-parse", "--short", "HEAD"]),
        machine,
        limits,
        targets,
        figures,
    })
}

/// Run one step with pre-filling and clean-up outside the measurement, so
/// the server's CPU time and peak RSS cover the measured phase only.
async fn measure_step(
    server: &servers::RunningServer,
    step: &Step,
    interrupt: &CancellationToken,
) -> Result<(Report, f64, f64)> {
    let bucket = format!("coffer-bench-{:016x}", rand::random::<u64>());
    let load = Load {
        bucket: Some(bucket.clone()),
        keep_bucket: true,
        prefill: false,
        ..step.load.clone()
    };
    crate::workload::prefill(&server.target, step.workload, &load, interrupt).await?;
    limits::reset_peak_rss(server.pid())?;
    let cpu_before = limits::cpu_seconds(server.pid())?;
    let outcome = run(&server.target, step.workload, &load, interrupt).await;
    let cpu_seconds = limits::cpu_seconds(server.pid())? - cpu_before;
    let peak_rss_mib = limits::peak_rss_mib(server.pid())?;
    let client = server.target.client()?;
    let removed = crate::bucket::remove(&client, &bucket, step.load.progress).await;
    let mut report = outcome?;
    if let Err(error) = removed {
        report.cleanup_error = Some(format!("removing bucket {bucket}: {error:#}"));
    }
    Ok((report, cpu_seconds, peak_rss_mib))
}

fn command_output(program: &str, arguments: &[&str]) -> String {
    Command::new(program)
        .args(arguments)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn metric_value(
    metric: Metric,
    report: &Report,
    peak_rss_mib: f64,
    cpu_seconds: f64,
) -> Option<f64> {
    match metric {
        Metric::ServerCpuMicrosPerOp(operation) => report
            .operation(operation)
            .filter(|summary| summary.ok_count > 0)
            .map(|summary| cpu_seconds * 1e6 / summary.ok_count as f64),
        Metric::MibPerSecond(operation) => report.operation(operation).map(|s| s.mib_per_second),
        Metric::OpsPerSecond(operation) => report.operation(operation).map(|s| s.ops_per_second),
        Metric::LatencyP50Ms(operation) => report.operation(operation).map(|s| s.latency_p50_ms),
        Metric::KeysPerSecond => Some(report.keys_per_second),
        Metric::PeakRssMib => Some(peak_rss_mib),
    }
}

/// The best figure among the servers other than coffer: the highest, or
/// the lowest when lower is better.
fn best_peer(
    values: &BTreeMap<&'static str, f64>,
    higher_is_better: bool,
) -> Option<(&'static str, f64)> {
    let peers = values
        .iter()
        .filter(|(name, _)| **name != ServerKind::Coffer.name());
    let best = if higher_is_better {
        peers.max_by(|a, b| a.1.total_cmp(b.1))
    } else {
        peers.min_by(|a, b| a.1.total_cmp(b.1))
    };
    best.map(|(name, value)| (*name, *value))
}

fn figures(steps: &[Step], targets: &[TargetResult], limits: &Limits) -> Vec<Figure> {
    let mut figures = Vec::new();
    for (step_index, step) in steps.iter().enumerate() {
        for row in &step.rows {
            let mut values = BTreeMap::new();
            let mut errors = BTreeMap::new();
            for target in targets {
                let (Some(report), Some(rss), Some(cpu)) = (
                    target.reports.get(step_index),
                    target.peak_rss_mib.get(step_index),
                    target.server_cpu_seconds.get(step_index),
                ) else {
                    continue;
                };
                errors.insert(target.server.name(), report.total_errors());
                if let Some(value) = metric_value(row.metric, report, *rss, *cpu) {
                    values.insert(target.server.name(), value);
                }
            }
            let (limit_label, limit_value, higher_is_better) = match row.limit {
                Limit::DiskWrite => (
                    "dd write, conv=fdatasync".to_owned(),
                    Some(limits.disk_write_mib_per_second),
                    true,
                ),
                Limit::DiskRead => (
                    "dd read, iflag=direct".to_owned(),
                    Some(limits.disk_read_mib_per_second),
                    true,
                ),
                Limit::Goal {
                    value,
                    higher_is_better,
                } => ("goal".to_owned(), Some(value), higher_is_better),
                Limit::TwiceBestPeer => match best_peer(&values, true) {
                    Some((name, value)) => (format!("2 × {name}"), Some(2.0 * value), true),
                    None => ("2 × best peer (none run)".to_owned(), None, true),
                },
                Limit::HalfBestPeer => match best_peer(&values, false) {
                    Some((name, value)) => (format!("½ × {name}"), Some(value / 2.0), false),
                    None => ("½ × best peer (none run)".to_owned(), None, false),
                },
            };
            let ratio = match (values.get(ServerKind::Coffer.name()), limit_value) {
                (Some(value), Some(limit)) if higher_is_better && limit > 0.0 => {
                    Some(value / limit)
                }
                (Some(value), Some(limit)) if !higher_is_better && *value > 0.0 => {
                    Some(limit / value)
                }
                _ => None,
            };
            figures.push(Figure {
                label: row.label.clone(),
                unit: row.unit,
                values,
                errors,
                limit_label,
                limit_value,
                ratio,
            });
        }
    }
    figures
}

impl ScenarioReport {
    /// The reports and a Markdown table of figures, limits and ratios.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for target in &self.targets {
            for report in &target.reports {
                let _ = writeln!(text, "[{}] {}", target.server.name(), report.to_text());
            }
        }
        let limits = &self.limits;
        let _ = writeln!(
            text,
            "scenario {} · {} · commit {} · {} cores, {:.1} GiB RAM, {}",
            self.scenario.name(),
            self.date,
            self.commit,
            self.machine.cores,
            self.machine.memory_gib,
            self.machine.filesystem
        );
        let _ = writeln!(
            text,
            "limits: disk write {:.0} MiB/s (dd conv=fdatasync) · disk read {:.0} MiB/s (dd iflag=direct) · \
             4 KiB dsync writes {:.0}/s · MD5 {:.0} MiB/s per core · AES-256-GCM {:.0} MiB/s per core\n",
            limits.disk_write_mib_per_second,
            limits.disk_read_mib_per_second,
            limits.synced_writes_per_second,
            limits.md5_one_core_mib_per_second,
            limits.aes_256_gcm_one_core_mib_per_second,
        );
        let names: Vec<&str> = self.targets.iter().map(|t| t.server.name()).collect();
        let _ = writeln!(
            text,
            "| figure | {} | limit | coffer ÷ limit |",
            names.join(" | ")
        );
        let _ = writeln!(text, "|---|{}---|---|", "---|".repeat(names.len()));
        for figure in &self.figures {
            let cells: Vec<String> = names
                .iter()
                .map(|name| {
                    let errors = figure.errors.get(name).copied().unwrap_or(0);
                    match figure.values.get(name) {
                        Some(value) if errors == 0 => format!("{} {}", number(*value), figure.unit),
                        Some(value) => {
                            format!("{} {} ({errors} errors)", number(*value), figure.unit)
                        }
                        None => "—".to_owned(),
                    }
                })
                .collect();
            let limit = match figure.limit_value {
                Some(value) => {
                    format!("{} {} ({})", number(value), figure.unit, figure.limit_label)
                }
                None => figure.limit_label.clone(),
            };
            let ratio = figure
                .ratio
                .map_or_else(|| "—".to_owned(), |ratio| format!("{:.0} %", ratio * 100.0));
            let _ = writeln!(
                text,
                "| {} | {} | {limit} | {ratio} |",
                figure.label,
                cells.join(" | ")
            );
        }
        text
    }
}

/// Three significant figures, no exponent.
fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_peer_ignores_coffer_and_follows_the_direction() {
        let values = BTreeMap::from([("coffer", 100.0), ("rclone", 5.0), ("moto", 3.0)]);
        assert_eq!(best_peer(&values, true), Some(("rclone", 5.0)));
        assert_eq!(best_peer(&values, false), Some(("moto", 3.0)));
        let alone = BTreeMap::from([("coffer", 1.0)]);
        assert_eq!(best_peer(&alone, true), None);
    }

    #[test]
    fn numbers_keep_three_significant_figures() {
        assert_eq!(number(1234.5), "1234");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(1.2345), "1.23");
    }

    #[test]
    fn quick_scenarios_are_small_and_every_one_has_rows() {
        for name in [
            ScenarioName::Big,
            ScenarioName::Small,
            ScenarioName::Meta,
            ScenarioName::List,
            ScenarioName::Mpu,
        ] {
            let options = ScenarioOptions {
                name,
                targets: vec![ServerKind::Coffer],
                programs: Programs {
                    coffer: "coffer".into(),
                    rclone: "rclone".into(),
                    moto_server: "moto_server".into(),
                },
                work_dir: "/nonexistent".into(),
                list_keys: 100_000,
                quick: true,
                progress: false,
            };
            for step in steps(&options) {
                assert!(!step.rows.is_empty(), "{name:?}");
                let bounded_by_count = step.load.operations.is_some();
                assert!(
                    bounded_by_count || step.load.duration <= Duration::from_secs(2),
                    "{name:?}"
                );
                assert!(step.load.size.max() <= 64 << 20, "{name:?}");
            }
        }
    }
}

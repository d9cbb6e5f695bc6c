//! Logs (tracing) and metrics (the Prometheus recorder behind the `metrics`
//! facade; `/metrics` on the admin endpoint renders it).

use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Upper bounds of the request-duration histogram, in seconds: from a
/// cached HEAD to a multi-gigabyte upload.
const REQUEST_DURATION_BUCKETS_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];
/// Histogram upkeep interval (the recorder needs a periodic drain).
const METRICS_UPKEEP_INTERVAL_MS: u64 = 5_000;

/// The filter when `RUST_LOG` is unset: `info`, except openraft, whose
/// info lines narrate every election and would drown ours.
const LOG_FILTER_DEFAULT: &str = "info,openraft=warn";

/// Logs go to stderr; `RUST_LOG` filters (default `LOG_FILTER_DEFAULT`).
pub fn init_tracing(format: LogFormat) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .parse_lossy(directives),
        _ => EnvFilter::new(LOG_FILTER_DEFAULT),
    };
    // Colour codes only for a person at a terminal, not in log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Install the global Prometheus recorder and return the handle that
/// renders it.
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("coffer_s3_request_duration_seconds".to_owned()),
            REQUEST_DURATION_BUCKETS_SECONDS,
        )
        .context("invalid histogram buckets")?
        .set_buckets_for_metric(
            Matcher::Full("coffer_rpc_client_duration_seconds".to_owned()),
            REQUEST_DURATION_BUCKETS_SECONDS,
        )
        .context("invalid histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).context("cannot install the metrics recorder")?;
    metrics::gauge!("coffer_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(handle)
}

/// Periodically drain histogram buffers, as the recorder requires.
pub fn spawn_metrics_upkeep(handle: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(METRICS_UPKEEP_INTERVAL_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            handle.run_upkeep();
        }
    })
}

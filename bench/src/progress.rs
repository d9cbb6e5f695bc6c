//! The progress bar on stderr while a phase runs (indicatif hides it when
//! stderr is not a terminal).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::workload::Context;

const TICK: Duration = Duration::from_millis(250);

pub(crate) struct Progress {
    bar: ProgressBar,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// A bar counting operations towards `total_operations`, or else the
    /// seconds towards `duration`.
    pub(crate) fn start(
        label: &'static str,
        enabled: bool,
        total_operations: Option<u64>,
        duration: Duration,
        context: Arc<Context>,
    ) -> Self {
        if !enabled {
            return Self {
                bar: ProgressBar::hidden(),
                ticker: None,
            };
        }
        let (length, template) = match total_operations {
            Some(total) => (total, "{prefix:>9} {bar:40} {pos}/{len} ops {msg}"),
            None => (
                duration.as_secs().max(1),
                "{prefix:>9} {bar:40} {pos}/{len} s {msg}",
            ),
        };
        let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("the template is a constant")
                .progress_chars("=> "),
        );
        bar.set_prefix(label);
        let ticker_bar = bar.clone();
        let counts_operations = total_operations.is_some();
        let ticker = tokio::spawn(async move {
            let started = Instant::now();
            loop {
                tokio::time::sleep(TICK).await;
                let finished = context.finished.load(Ordering::Relaxed);
                let elapsed = started.elapsed();
                let rate = crate::stats::per_second(finished as f64, elapsed);
                if counts_operations {
                    ticker_bar.set_position(finished);
                } else {
                    ticker_bar.set_position(elapsed.as_secs());
                }
                ticker_bar.set_message(format!("{finished} done, {rate:.0}/s"));
            }
        });
        Self {
            bar,
            ticker: Some(ticker),
        }
    }

    pub(crate) fn finish(self) {
        if let Some(ticker) = self.ticker {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}

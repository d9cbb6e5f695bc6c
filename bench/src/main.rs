//! `coffer-bench`: the command line over the library. Exits 1 when any
//! operation failed or read back wrong content, so scripts notice.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use coffer_bench::scenario::{run_scenario, ScenarioName, ScenarioOptions};
use coffer_bench::servers::{Programs, ServerKind};
use coffer_bench::size::{parse_bytes, split_number_unit};
use coffer_bench::{run, Load, Mix, SizeSpec, Target, Workload};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "coffer-bench",
    version,
    about = "Load generator for S3 endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// PUT objects (to new keys, or cycling over --objects keys).
    Put(Simple),
    /// GET random objects of a pre-filled set, verifying every byte.
    Get(Simple),
    /// GET / HEAD / PUT / DELETE in proportion over a pre-filled set.
    Mixed {
        #[command(flatten)]
        common: Simple,
        /// Percentages: get=45,head=30,put=15,delete=10.
        #[arg(long, value_parser = parse_mix, default_value = "get=45,head=30,put=15,delete=10")]
        mix: Mix,
    },
    /// Walk a pre-filled bucket with ListObjectsV2 (keys/s, first-page latency).
    List {
        #[command(flatten)]
        common: Simple,
        /// Keys per page (max-keys).
        #[arg(long, default_value_t = 1000)]
        page_size: i32,
    },
    /// Whole multipart uploads.
    Multipart {
        #[command(flatten)]
        common: Simple,
        #[arg(long, default_value_t = 16)]
        parts: u32,
        #[arg(long, value_parser = parse_bytes, default_value = "16MiB")]
        part_size: u64,
        /// Parts uploading at once within one upload.
        #[arg(long, default_value_t = 4)]
        parts_in_flight: usize,
    },
    /// Zero-byte PUTs to new keys: committed metadata writes per second.
    Meta(Simple),
    /// Start servers on loopback and measure a named scenario against this
    /// machine's limits.
    Scenario(ScenarioArgs),
}

#[derive(Args)]
struct Simple {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Style {
    Path,
    VirtualHost,
}

#[derive(Args)]
struct TargetArgs {
    #[arg(
        long,
        env = "COFFER_BENCH_ENDPOINT",
        default_value = "http://127.0.0.1:9000"
    )]
    endpoint: String,
    /// Defaults to the development credentials `scripts/serve` prints.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "coffer-dev-access")]
    access_key: String,
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "coffer-dev-secret-change-me",
        hide_env_values = true,
        hide_default_value = true
    )]
    secret_key: String,
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    #[arg(long, value_enum, default_value = "path")]
    style: Style,
    /// PEM certificate(s) to trust for an https endpoint.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

#[derive(Args)]
struct LoadArgs {
    /// Operations in flight (default: 64 for meta, 1 for list, else 16).
    #[arg(long, short = 'c')]
    concurrency: Option<usize>,
    /// Object size, fixed (4KiB) or uniform over a range (1KiB..1MiB).
    /// Default: 0 for meta and list, else 1MiB.
    #[arg(long)]
    size: Option<SizeSpec>,
    /// Distinct keys: the pre-filled set for get/mixed/list (default 100;
    /// 10000 for list); put and multipart reuse keys modulo this.
    #[arg(long)]
    objects: Option<u64>,
    /// Measured time: 30s, 2m, 500ms (ignored with --operations).
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    duration: Duration,
    /// Stop after this many operations instead of after --duration.
    #[arg(long)]
    operations: Option<u64>,
    /// Spread keys over this many prefixes.
    #[arg(long, default_value_t = 1)]
    prefixes: u64,
    /// Seeds content, sizes and random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use this bucket instead of a fresh one.
    #[arg(long)]
    bucket: Option<String>,
    /// Leave the bucket and its objects in place.
    #[arg(long)]
    keep_bucket: bool,
    /// Read objects an earlier run left in --bucket (same --seed, --size,
    /// --objects) instead of writing them first.
    #[arg(long, requires = "bucket")]
    no_prefill: bool,
}

#[derive(Args)]
struct OutputArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args)]
struct ScenarioArgs {
    name: ScenarioName,
    /// Servers to measure, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "coffer")]
    targets: Vec<ServerKind>,
    /// Where servers keep data and dd measures the disk.
    #[arg(long, default_value = "/var/tmp/coffer-bench")]
    work_dir: PathBuf,
    /// The coffer binary (default: next to this one).
    #[arg(long, env = "COFFER_BIN")]
    coffer_bin: Option<PathBuf>,
    #[arg(long, env = "RCLONE_BIN", default_value = "rclone")]
    rclone_bin: PathBuf,
    #[arg(long, env = "MOTO_SERVER_BIN", default_value = "moto_server")]
    moto_server_bin: PathBuf,
    /// Keys for the list scenario (e.g. 1000000).
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// Tiny sizes and durations: checks the runner, measures nothing.
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    output: OutputArgs,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_number_unit(text, &['.']);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 30s, 2m, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("{text:?}: {error}"))
}

fn parse_mix(text: &str) -> Result<Mix, String> {
    let mut mix = Mix {
        get: 0,
        head: 0,
        put: 0,
        delete: 0,
    };
    for item in text.split(',') {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?}: want name=percent"))?;
        let value: u32 = value
            .parse()
            .map_err(|_| format!("{item:?}: not a number"))?;
        match name.trim() {
            "get" => mix.get = value,
            "head" => mix.head = value,
            "put" => mix.put = value,
            "delete" => mix.delete = value,
            other => return Err(format!("unknown operation {other:?}")),
        }
    }
    if mix.total() == 0 || mix.total() > 10_000 {
        return Err("the shares must add up to 1..=10000".to_owned());
    }
    Ok(mix)
}

impl Simple {
    fn target(&self) -> Target {
        Target {
            endpoint: self.target.endpoint.clone(),
            access_key_id: self.target.access_key.clone(),
            secret_access_key: self.target.secret_key.clone(),
            region: self.target.region.clone(),
            virtual_host: matches!(self.target.style, Style::VirtualHost),
            ca_file: self.target.ca_file.clone(),
        }
    }

    fn load(&self, default_concurrency: usize, default_size: SizeSpec) -> Load {
        let load = &self.load;
        Load {
            concurrency: load.concurrency.unwrap_or(default_concurrency),
            size: load.size.unwrap_or(default_size),
            objects: load.objects,
            duration: load.duration,
            operations: load.operations,
            prefixes: load.prefixes,
            seed: load.seed,
            bucket: load.bucket.clone(),
            keep_bucket: load.keep_bucket,
            prefill: !load.no_prefill,
            progress: !self.output.no_progress && !self.output.json,
        }
    }
}

/// Ctrl-C once: stop measuring and report. Twice: quit now.
fn interrupt_on_ctrl_c() -> CancellationToken {
    let interrupt = CancellationToken::new();
    let token = interrupt.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: reporting what was measured (Ctrl-C again to quit)");
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    interrupt
}

async fn run_simple(
    simple: &Simple,
    workload: Workload,
    default_concurrency: usize,
    default_size: SizeSpec,
    interrupt: &CancellationToken,
) -> Result<ExitCode> {
    let mut load = simple.load(default_concurrency, default_size);
    if matches!(workload, Workload::List { .. }) && load.objects.is_none() {
        load.objects = Some(10_000);
    }
    let report = run(&simple.target(), workload, &load, interrupt).await?;
    if simple.output.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.total_errors() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn coffer_next_to_this_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let candidate = exe.with_file_name("coffer");
    if !candidate.exists() {
        bail!(
            "no coffer binary at {}; pass --coffer-bin or set COFFER_BIN",
            candidate.display()
        );
    }
    Ok(candidate)
}

async fn run_command(command: Command, interrupt: &CancellationToken) -> Result<ExitCode> {
    let one_mib = SizeSpec::Fixed(1 << 20);
    let zero = SizeSpec::Fixed(0);
    match command {
        Command::Put(simple) => run_simple(&simple, Workload::Put, 16, one_mib, interrupt).await,
        Command::Get(simple) => run_simple(&simple, Workload::Get, 16, one_mib, interrupt).await,
        Command::Meta(simple) => {
            if simple.load.size.is_some_and(|size| size != zero) {
                bail!("meta writes zero-byte objects; use `put --size` for others");
            }
            run_simple(&simple, Workload::Meta, 64, zero, interrupt).await
        }
        Command::Mixed { common, mix } => {
            run_simple(&common, Workload::Mixed(mix), 16, one_mib, interrupt).await
        }
        Command::List { common, page_size } => {
            run_simple(&common, Workload::List { page_size }, 1, zero, interrupt).await
        }
        Command::Multipart {
            common,
            parts,
            part_size,
            parts_in_flight,
        } => {
            let workload = Workload::Multipart {
                parts,
                part_size_bytes: part_size,
                parts_in_flight,
            };
            run_simple(&common, workload, 1, one_mib, interrupt).await
        }
        Command::Scenario(arguments) => {
            let options = ScenarioOptions {
                name: arguments.name,
                targets: arguments.targets,
                programs: Programs {
                    coffer: match arguments.coffer_bin {
                        Some(path) => path,
                        None => coffer_next_to_this_binary()?,
                    },
                    rclone: arguments.rclone_bin,
                    moto_server: arguments.moto_server_bin,
                },
                work_dir: arguments.work_dir,
                list_keys: arguments.keys,
                quick: arguments.quick,
                progress: !arguments.output.no_progress && !arguments.output.json,
            };
            let report = run_scenario(&options, interrupt).await?;
            if arguments.output.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            let errors: u64 = report
                .targets
                .iter()
                .flat_map(|target| &target.reports)
                .map(|report| report.total_errors())
                .sum();
            Ok(if errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let interrupt = interrupt_on_ctrl_c();
    match run_command(cli.command, &interrupt).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("coffer-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn mixes_parse() {
        assert_eq!(
            parse_mix("get=45,head=30,put=15,delete=10"),
            Ok(Mix::default())
        );
        assert_eq!(
            parse_mix("put=1"),
            Ok(Mix {
                get: 0,
                head: 0,
                put: 1,
                delete: 0
            })
        );
        assert!(parse_mix("get=0").is_err());
        assert!(parse_mix("copy=5").is_err());
        assert!(parse_mix("get").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}

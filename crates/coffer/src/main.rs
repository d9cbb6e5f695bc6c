//! The `coffer` binary: command line, configuration (flags, `COFFER_*`
//! environment, TOML file), wiring of the crates into a node, and serving
//! the S3 and admin endpoints over HTTP or HTTPS.
//!
//! This is the one crate that knows every other; it holds no storage or
//! protocol logic of its own.

mod accounts;
mod admin_cli;
mod cli;
mod cluster;
mod config;
mod credentials;
mod expect_continue;
mod keys;
mod policy_explain;
mod region;
mod serve;
mod server;
mod telemetry;
mod tls;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ServerArgs};
use crate::config::FileConfig;

/// Exit status for configuration errors (as sysexits' EX_USAGE-ish 2).
const EXIT_CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("coffer {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Server(args) => run_server(&args),
        Command::Admin(args) => match admin_cli::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("coffer admin: {}", error_chain(&error));
                ExitCode::FAILURE
            }
        },
    }
}

/// glibc malloc arenas, at most. Fewer arenas let a buffer freed on one
/// thread be reused by the next allocation on another.
const MALLOC_ARENAS_MAX: libc::c_int = 2;

/// Keep glibc from holding on to freed block buffers.
///
/// Every request streams through 4 MiB block buffers allocated on whichever
/// worker or blocking thread handles it. By default glibc gives each thread
/// that allocates concurrently its own arena (up to 8 per core) and keeps
/// freed memory in it, so RSS grows with the number of threads that ever
/// held a block. Measured with `bench/run.sh mpu` (5 GiB, 8 parts in
/// flight): 250–258 MiB peak RSS by default, 172 MiB with two arenas; a
/// fixed 1 MiB mmap threshold gave 109 MiB but cost about a fifth of the
/// throughput in page faults (bench/RESULTS.md, "Memory").
fn bound_allocator_retention() {
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any other thread exists.
    let accepted = unsafe { libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS_MAX) };
    if accepted != 1 {
        eprintln!("warning: mallopt(M_ARENA_MAX) was refused; memory use may grow");
    }
}

fn run_server(args: &ServerArgs) -> ExitCode {
    bound_allocator_retention();
    let env = |name: &str| std::env::var(name).ok();
    let file = match config::config_file_path(args, &env) {
        Some(path) => FileConfig::load(&path),
        None => Ok(FileConfig::default()),
    };
    let config = match file.and_then(|file| config::resolve(args, &env, file)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("coffer: {error}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
    };
    telemetry::init_tracing(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping a cause that the message
/// before it already quotes (our error types include their source).
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

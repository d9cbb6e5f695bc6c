//! This machine's own limits, measured in the same run as the figures they
//! are compared with: sequential disk write (with fdatasync) and read with
//! `dd` on the filesystem the server uses, small synchronous writes per
//! second, one core's MD5 and AES-256-GCM throughput, and a process's peak
//! resident memory from /proc.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use md5::{Digest as _, Md5};
use serde::Serialize;

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    /// `dd bs=1M conv=fdatasync` from /dev/zero.
    pub disk_write_mib_per_second: f64,
    /// `dd bs=1M iflag=direct` of the same file (no page cache; a cached
    /// read where the filesystem refuses O_DIRECT, e.g. tmpfs).
    pub disk_read_mib_per_second: f64,
    /// `dd bs=4k oflag=dsync`: each write waits for the disk, as a
    /// committed metadata write must.
    pub synced_writes_per_second: f64,
    pub md5_one_core_mib_per_second: f64,
    /// 64 KiB segments with ring (the fastest AES-GCM here), as coffer
    /// seals blocks.
    pub aes_256_gcm_one_core_mib_per_second: f64,
}

/// Measure everything; `test_bytes` sizes the sequential dd runs and the
/// hashing and sealing runs.
pub fn measure(dir: &Path, test_bytes: u64) -> Result<Limits> {
    let (write, read) = disk_sequential(dir, test_bytes)?;
    let cpu_test_bytes = test_bytes.min(256 << 20) as usize;
    Ok(Limits {
        disk_write_mib_per_second: write,
        disk_read_mib_per_second: read,
        synced_writes_per_second: synced_writes(dir, 500)?,
        md5_one_core_mib_per_second: md5_throughput(cpu_test_bytes),
        aes_256_gcm_one_core_mib_per_second: aes_gcm_throughput(cpu_test_bytes),
    })
}

fn dd(arguments: &[String]) -> Result<f64> {
    let started = Instant::now();
    let output = Command::new("dd")
        .args(arguments)
        .output()
        .context("running dd")?;
    let elapsed = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "dd {}: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(elapsed)
}

/// Sequential write then read throughput in MiB/s.
fn disk_sequential(dir: &Path, bytes: u64) -> Result<(f64, f64)> {
    let file = dir.join("coffer-bench-dd.tmp");
    let count = (bytes >> 20).max(1);
    let path = file.display();
    let write_seconds = dd(&[
        "if=/dev/zero".into(),
        format!("of={path}"),
        "bs=1M".into(),
        format!("count={count}"),
        "conv=fdatasync".into(),
    ]);
    let read_seconds = write_seconds.as_ref().ok().map(|_| {
        let read = |direct: bool| {
            let mut arguments = vec![format!("if={path}"), "of=/dev/null".into(), "bs=1M".into()];
            if direct {
                arguments.push("iflag=direct".into());
            }
            dd(&arguments)
        };
        // tmpfs and some overlay filesystems refuse O_DIRECT; a cached read
        // is then the best this filesystem can tell.
        read(true).or_else(|_| read(false))
    });
    let _ = std::fs::remove_file(&file);
    let mib = count as f64;
    let read_seconds = read_seconds.expect("read runs when the write succeeded")?;
    Ok((mib / write_seconds?, mib / read_seconds))
}

fn synced_writes(dir: &Path, count: u64) -> Result<f64> {
    let file = dir.join("coffer-bench-dsync.tmp");
    let seconds = dd(&[
        "if=/dev/zero".into(),
        format!("of={}", file.display()),
        "bs=4k".into(),
        format!("count={count}"),
        "oflag=dsync".into(),
    ]);
    let _ = std::fs::remove_file(&file);
    Ok(count as f64 / seconds?)
}

/// MD5 over `bytes` of data in 1 MiB updates, MiB/s.
pub fn md5_throughput(bytes: usize) -> f64 {
    let buffer = vec![0x5Au8; 1 << 20];
    let mut hasher = Md5::new();
    let started = Instant::now();
    for _ in 0..bytes / buffer.len() {
        hasher.update(&buffer);
    }
    std::hint::black_box(hasher.finalize());
    (bytes as f64 / MIB) / started.elapsed().as_secs_f64()
}

/// AES-256-GCM sealing of `bytes` in 64 KiB segments, MiB/s.
pub fn aes_gcm_throughput(bytes: usize) -> f64 {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("a 32-byte key is valid"),
    );
    let mut segment = vec![0xA5u8; 64 << 10];
    let started = Instant::now();
    for index in 0..bytes / segment.len() {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(index as u64).to_le_bytes());
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                &mut segment,
            )
            .expect("a 64 KiB segment is far below AES-GCM's length limit");
        let _ = std::hint::black_box(tag);
    }
    (bytes as f64 / MIB) / started.elapsed().as_secs_f64()
}

/// A process's peak resident set (VmHWM) in MiB, from /proc.
pub fn peak_rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    parse_status_kib(&status, "VmHWM:")
        .map(|kib| kib as f64 / 1024.0)
        .context("no VmHWM in /proc/PID/status")
}

/// CPU time (user + system) a process has used so far, in seconds, from
/// /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let ticks = parse_stat_cpu_ticks(&stat).context("malformed /proc/PID/stat")?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_second <= 0 {
        bail!("sysconf(_SC_CLK_TCK) failed");
    }
    Ok(ticks as f64 / ticks_per_second as f64)
}

/// utime + stime (fields 14 and 15), counted after the `(comm)` field,
/// which may itself contain spaces and parentheses.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // after_comm starts at field 3 (state); utime is field 14.
    let user: u64 = fields.get(14 - 3)?.parse().ok()?;
    let system: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(user + system)
}

/// Restart the peak (VmHWM) at the current RSS, so the next reading covers
/// only what follows.
pub fn reset_peak_rss(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .with_context(|| format!("resetting the peak RSS of process {pid}"))
}

fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// Cores, memory and the filesystem of `dir`, for the results table.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_gib: f64,
    /// `df` source and type of the benchmark directory.
    pub filesystem: String,
}

pub fn machine(dir: &Path) -> Machine {
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| parse_status_kib(&meminfo, "MemTotal:"))
        .map(|kib| kib as f64 / (1024.0 * 1024.0))
        .unwrap_or(0.0);
    let filesystem = Command::new("df")
        .args(["--output=source,fstype"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|output| {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.lines()
                .nth(1)
                .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
        memory_gib,
        filesystem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_parse_in_kib() {
        let status = "Name:\tcoffer\nVmPeak:\t  200 kB\nVmHWM:\t  138880 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(138_880));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn stat_cpu_ticks_skip_a_tricky_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1 0 0";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(300));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn own_cpu_time_is_readable() {
        assert!(cpu_seconds(std::process::id()).unwrap() >= 0.0);
    }

    #[test]
    fn own_peak_rss_is_readable_and_positive() {
        let peak = peak_rss_mib(std::process::id()).unwrap();
        assert!(peak > 0.0);
    }

    #[test]
    fn core_throughputs_are_positive() {
        assert!(md5_throughput(4 << 20) > 0.0);
        assert!(aes_gcm_throughput(4 << 20) > 0.0);
    }
}

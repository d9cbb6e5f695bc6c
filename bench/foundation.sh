#!/usr/bin/env bash
# Measures what issue 2 asks to record (not a test): server peak RSS during a
# 1 GiB single PUT and a 1 GiB multipart upload, and PUT/GET MB/s of a 1 GiB
# object next to `dd` with fdatasync on the same filesystem.
#
# Usage: bench/foundation.sh [WORKDIR]   (WORKDIR defaults to a temp dir under /var/tmp)
# Needs: target/debug/coffer built, rclone on PATH (the .venv from scripts/test has it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin=${COFFER_BIN:-$target_dir/debug/coffer}
work=${1:-$(mktemp -d /var/tmp/coffer-bench.XXXXXX)}
mkdir -p "$work"
export PATH="$root/.venv/bin:$PATH"
size_mib=${SIZE_MIB:-1024}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
s3_port=$(free_port); admin_port=$(free_port)
export COFFER_ROOT_ACCESS_KEY=benchaccesskey COFFER_ROOT_SECRET_KEY=benchsecretkey0123456789
"$bin" server --data-dir "$work/data" --s3-listen 127.0.0.1:$s3_port --admin-listen 127.0.0.1:$admin_port >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work/data" "$work/src" "$work/out"' EXIT
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$admin_port/health/ready" >/dev/null && break; sleep 0.5; done

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(df -h "$work" | awk 'NR==2{print $1}')"
echo "== commit: $(git rev-parse --short HEAD)"
echo "== dd write ${size_mib} MiB with fdatasync"
dd if=/dev/zero of="$work/dd.bin" bs=1M count="$size_mib" conv=fdatasync 2>&1 | tail -1
echo "== dd read (cache dropped if permitted)"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
dd if="$work/dd.bin" of=/dev/null bs=1M 2>&1 | tail -1
rm -f "$work/dd.bin"

head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/src"
export RCLONE_CONFIG_C_TYPE=s3 RCLONE_CONFIG_C_PROVIDER=Other RCLONE_CONFIG_C_ENDPOINT=http://127.0.0.1:$s3_port \
  RCLONE_CONFIG_C_ACCESS_KEY_ID=$COFFER_ROOT_ACCESS_KEY RCLONE_CONFIG_C_SECRET_ACCESS_KEY=$COFFER_ROOT_SECRET_KEY \
  RCLONE_CONFIG_C_FORCE_PATH_STYLE=true RCLONE_CONFIG_C_REGION=us-east-1
rclone mkdir c:bench

# Writing 5 to clear_refs resets VmHWM, so each phase reports its own peak.
rss_reset() { echo 5 > /proc/$pid/clear_refs; }
rss_peak() { awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status; }
timed() { local start end; start=$(date +%s.%N); "$@"; end=$(date +%s.%N); python3 -c "print(f'{$size_mib/($end-$start):.1f} MiB/s in {$end-$start:.2f} s')"; }

rss_reset
echo "== single PUT ${size_mib} MiB (rclone, upload cutoff 5G)"
timed rclone copyto --s3-upload-cutoff 5G --s3-disable-checksum "$work/src" c:bench/single
echo "   server peak RSS during single PUT: $(rss_peak)"
echo "== GET ${size_mib} MiB"
timed rclone copyto "c:bench/single" "$work/out"
cmp "$work/src" "$work/out" && echo "   content verified"
rm -f "$work/out"
rss_reset
echo "== multipart PUT ${size_mib} MiB (16 MiB parts, 4 in flight)"
timed rclone copyto --s3-upload-cutoff 0 --s3-chunk-size 16M --s3-upload-concurrency 4 "$work/src" c:bench/multi
echo "   server peak RSS during multipart PUT: $(rss_peak)"

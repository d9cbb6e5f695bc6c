#!/usr/bin/env bash
# PUT throughput right after a bulk delete: 8,000 × 4 KiB PUTs into bucket
# zz-old (which coffer-bench then empties and deletes), then two 10 s runs
# of 4 KiB PUTs at c=16 into buckets whose keys sort before the deleted ones
# (bench/RESULTS.md, "Authorization").
#
# Usage: bench/tombstones.sh [COFFER_BINARY]   (default: target/debug/coffer)
#   COFFER_BENCH_BIN overrides the coffer-bench binary (default: next to it).
set -euo pipefail
bin=${1:-target/debug/coffer}
bench=${COFFER_BENCH_BIN:-$(dirname "$bin")/coffer-bench}
dir=$(mktemp -d -t coffer-tombstones-XXXXXX)
port=$((20000 + RANDOM % 20000))
COFFER_ROOT_ACCESS_KEY=AKIABENCHTOMBSTONES0 COFFER_ROOT_SECRET_KEY=tombstones-bench-secret-0123456789abcdef \
    "$bin" server --data-dir "$dir/data" --s3-listen "127.0.0.1:$port" \
    --admin-listen "127.0.0.1:$((port + 1))" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$((port + 1))/health/ready" >/dev/null && break
    sleep 0.1
done
args=(--endpoint "http://127.0.0.1:$port" --access-key AKIABENCHTOMBSTONES0
    --secret-key tombstones-bench-secret-0123456789abcdef --size 4KiB -c 16)
"$bench" put "${args[@]}" --bucket zz-old --operations 8000 >/dev/null
echo "first 10 s after the delete: $("$bench" put "${args[@]}" --bucket aa-new --duration 10s --keep-bucket | tail -1)"
echo "next 10 s:                   $("$bench" put "${args[@]}" --bucket ab-new --duration 10s --keep-bucket | tail -1)"

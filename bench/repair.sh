#!/usr/bin/env bash
# How long a wiped node of a 3-node region takes to get its data back.
# Starts three nodes on loopback, writes GIB GiB as 4 MiB objects
# (coffer-bench put), kill -9s node 3, deletes its data directory, starts
# it again with --join and the token, and measures until the leader's repair
# passes have settled (a pass finds nothing to copy) and node 3 holds every
# block. Prints the time and the rate.
#
#   bench/repair.sh [GIB]        (default 1; binaries from COFFER_BIN_DIR,
#                                 default target/release, built if missing)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GIB=${1:-1}
BIN_DIR=${COFFER_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
if [[ ! -x $BIN_DIR/coffer || ! -x $BIN_DIR/coffer-bench ]]; then
    (cd "$ROOT" && cargo build --release -p coffer-coffer -p coffer-bench)
fi
WORK=$(mktemp -d -p /var/tmp coffer-repair-XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export COFFER_ROOT_ACCESS_KEY=repairbench COFFER_ROOT_SECRET_KEY=repair-bench-secret-0123456789
declare -a S3 ADMIN RPC
for i in 1 2 3; do S3[$i]=$(free_port); ADMIN[$i]=$(free_port); RPC[$i]=$(free_port); done
start() { # node, extra args...
    local i=$1; shift
    "$BIN_DIR/coffer" server --data-dir "$WORK/n$i" --node-id "$i" --zone "z$i" \
        --s3-listen "127.0.0.1:${S3[$i]}" --admin-listen "127.0.0.1:${ADMIN[$i]}" \
        --rpc-listen "127.0.0.1:${RPC[$i]}" "$@" >>"$WORK/n$i.log" 2>&1 &
    PIDS[$i]=$!
    disown "${PIDS[$i]}"
}
ready() { curl -fsS -m 2 "http://127.0.0.1:${ADMIN[$1]}/health/ready" >/dev/null 2>&1; }
wait_ready() { for _ in $(seq 1 600); do ready "$1" && return 0; sleep 0.2; done; echo "node $1 not ready" >&2; return 1; }
admin() { "$BIN_DIR/coffer" admin --endpoint "http://127.0.0.1:${ADMIN[1]}" "$@"; }

start 1 --init; wait_ready 1
export COFFER_JOIN_TOKEN=$(admin node token)
start 2 --join "127.0.0.1:${RPC[1]}"; start 3 --join "127.0.0.1:${RPC[1]}"
wait_ready 2; wait_ready 3
objects=$((GIB * 256))
echo "writing $objects objects of 4 MiB ($GIB GiB)" >&2
"$BIN_DIR/coffer-bench" put --endpoint "http://127.0.0.1:${S3[1]}" --access-key "$COFFER_ROOT_ACCESS_KEY" \
    --secret-key "$COFFER_ROOT_SECRET_KEY" --size 4MiB --objects "$objects" --operations "$objects" \
    --concurrency 4 --bucket repair-bench --keep-bucket --no-progress >/dev/null
blocks=$(find "$WORK/n3/blocks" -type f | wc -l)
echo "node 3 holds $blocks block files; wiping it" >&2
kill -9 "${PIDS[3]}"; while kill -0 "${PIDS[3]}" 2>/dev/null; do sleep 0.05; done
rm -rf "$WORK/n3"
started=$(date +%s.%N)
start 3 --join "127.0.0.1:${RPC[1]}"
wait_ready 3
rejoined=$(date +%s.%N)
while :; do
    have=$(find "$WORK/n3/blocks" -type f 2>/dev/null | wc -l)
    last=$(admin job list --json 2>/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j[-1]["state"], j[-1]["replicas_copied"], j[-1]["total"]) if j else print("none 0 0")' || echo "none 0 0")
    read -r state copied total <<<"$last"
    if [[ $have -ge $blocks && $state == done && $copied == 0 && $total -ge $blocks ]]; then break; fi
    sleep 0.2
done
finished=$(date +%s.%N)
python3 - "$started" "$rejoined" "$finished" "$GIB" "$blocks" <<'PY'
import sys
started, rejoined, finished, gib, blocks = map(float, sys.argv[1:])
print(f"wiped node: back as a voter after {rejoined - started:.1f} s; "
      f"all {int(blocks)} blocks ({gib:.0f} GiB) back after {finished - started:.1f} s "
      f"({gib * 1024 / (finished - started):.0f} MiB/s overall)")
PY
admin job list
# The pass that copied: its own duration, without the wait for a clean one.
admin job list --json | python3 -c '
import json, sys
for job in json.load(sys.stdin):
    if job["replicas_copied"] > 0:
        mib = job["bytes_copied"] / 2**20
        seconds = max(job["elapsed_ms"], 1) / 1000
        print("job %d (%s): copied %.0f MiB in %.1f s (%.0f MiB/s)" % (job["id"], job["reason"], mib, seconds, mib / seconds))
'

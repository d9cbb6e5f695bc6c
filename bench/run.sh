#!/usr/bin/env bash
# Run a coffer-bench scenario with release binaries: coffer and the peers
# (rclone serve s3 from the .venv that scripts/test creates) on loopback,
# each figure next to this machine's limits measured in the same run.
#
# Usage: bench/run.sh NAME [coffer-bench scenario options...]
#   NAME: big | small | meta | list | mpu
#   e.g. bench/run.sh small --targets coffer,rclone,moto
#        bench/run.sh list --keys 1000000
# Default targets: coffer,rclone. Work dir: /var/tmp/coffer-bench (same
# filesystem as the servers' data; dd measures it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [[ $# -lt 1 ]]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
name=$1
shift
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -p coffer-coffer -p coffer-bench >&2
export PATH="$ROOT/.venv/bin:$PATH"
targets=(--targets coffer,rclone)
for argument in "$@"; do
    [[ $argument == --targets* ]] && targets=()
done
exec "$TARGET_DIR/release/coffer-bench" scenario "$name" \
    --coffer-bin "$TARGET_DIR/release/coffer" "${targets[@]}" "$@"

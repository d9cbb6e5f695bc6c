#!/usr/bin/env bash
# Build the `coffer` container image from a binary built on this host, with
# no registry: FROM scratch, plus the binary and exactly the shared
# libraries it links (as ldd lists them, RocksDB's among them) and the
# dynamic loader. Nothing is pulled.
#
#   deploy/build-image.sh                 # release build, tag coffer:local
#   COFFER_BIN=target/debug/coffer deploy/build-image.sh   # use a built binary
#   COFFER_IMAGE=coffer:dev deploy/build-image.sh          # another tag
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${COFFER_IMAGE:-coffer:local}
BIN=${COFFER_BIN:-}
if [[ -z $BIN ]]; then
    (cd "$ROOT" && cargo build --release -p coffer-coffer)
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/coffer
fi
[[ -x $BIN ]] || { echo "no executable at $BIN" >&2; exit 1; }

CONTEXT=$(mktemp -d -t coffer-image-XXXXXX)
trap 'rm -rf "$CONTEXT"' EXIT
mkdir -p "$CONTEXT/rootfs/usr/local/bin" "$CONTEXT/rootfs/tmp" "$CONTEXT/rootfs/data"
cp "$BIN" "$CONTEXT/rootfs/usr/local/bin/coffer"
# Every library ldd resolves (the "=> /path" ones) and the loader itself,
# at the same paths, symlinks resolved.
ldd "$BIN" | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' | sort -u | while read -r lib; do
    mkdir -p "$CONTEXT/rootfs$(dirname "$lib")"
    cp -L "$lib" "$CONTEXT/rootfs$lib"
done
cat > "$CONTEXT/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV COFFER_DATA_DIR=/data \
    COFFER_S3_LISTEN=0.0.0.0:9000 \
    COFFER_ADMIN_LISTEN=0.0.0.0:9001
VOLUME ["/data"]
EXPOSE 9000 9001 9100
# coffer drains in-flight requests for up to 30 s on SIGTERM.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=2s --timeout=5s --retries=30 \
    CMD ["/usr/local/bin/coffer", "admin", "--endpoint", "http://127.0.0.1:9001", "health"]
ENTRYPOINT ["/usr/local/bin/coffer"]
CMD ["server"]
DOCKERFILE
# The legacy builder warns that it is deprecated; it needs no buildx.
docker build -q -t "$IMAGE" "$CONTEXT" >/dev/null 2>&1 || docker build -t "$IMAGE" "$CONTEXT"
echo "built $IMAGE from $BIN"

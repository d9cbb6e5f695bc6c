#!/usr/bin/env bash
# The compose-based partition test (issue 4): start deploy/compose/region.yaml
# from a locally built image, cut node3 off the region network with
# `docker network disconnect`, check that nodes 1 and 2 keep accepting
# writes and node3 refuses them (503), reconnect, and check that node3
# converges (serves everything written during the partition).
#
#   tests/compose/partition.sh <coffer binary> <aws cli>
# Exits non-zero on any failure; always removes its containers and volumes.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:?coffer binary}
AWS=${2:?aws cli}
PROJECT=coffer-partition-$$
IMAGE=coffer:partition-test
WORK=$(mktemp -d -t coffer-compose-XXXXXX)
# Bounds (seconds): a debug build in containers on a busy two-core host.
STARTUP_BOUND=180
CONVERGE_BOUND=120

log() { printf '[compose %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cp "$ROOT/deploy/compose/region.yaml" "$WORK/region.yaml"
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/master.key")
export COFFER_IMAGE=$IMAGE
export COFFER_ROOT_ACCESS_KEY=PARTITION$$ COFFER_ROOT_SECRET_KEY=partition-secret-$$-0123456789
declare -a S3 ADMIN
for i in 1 2 3; do
    S3[$i]=$(free_port); ADMIN[$i]=$(free_port)
    export "COFFER_NODE${i}_S3_PORT=${S3[$i]}" "COFFER_NODE${i}_ADMIN_PORT=${ADMIN[$i]}"
done
# Compose v2 (docker compose) where present, else v1 (docker-compose).
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
compose() { "${COMPOSE[@]}" -p "$PROJECT" -f "$WORK/region.yaml" "$@"; }
cleanup() {
    status=$?
    if [[ $status -ne 0 ]]; then
        compose logs --no-color --tail 40 >&2 || true
    fi
    compose down -v --timeout 5 >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT

s3() { local node=$1; shift; AWS_ACCESS_KEY_ID=$COFFER_ROOT_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_ROOT_SECRET_KEY \
    AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 "$AWS" --endpoint-url "http://127.0.0.1:${S3[$node]}" \
    --cli-read-timeout 20 --cli-connect-timeout 5 "$@"; }
ready() { curl -fsS -m 5 "http://127.0.0.1:${ADMIN[$1]}/health/ready" >/dev/null 2>&1; }
wait_until() { # bound, description, command...
    local bound=$1 what=$2; shift 2
    local deadline=$((SECONDS + bound))
    until "$@"; do
        if (( SECONDS > deadline )); then log "timed out: $what"; return 1; fi
        sleep 1
    done
}
put() { # node key body-file
    s3 "$1" s3api put-object --bucket partition --key "$2" --body "$3" >/dev/null 2>"$WORK/put.err"
}

log "building $IMAGE from $BIN"
COFFER_BIN=$BIN COFFER_IMAGE=$IMAGE "$ROOT/deploy/build-image.sh"
log "starting the region"
compose up -d
running() { # every container of the project is still running
    local id
    for id in $(compose ps -q); do
        [[ $(docker inspect -f '{{.State.Running}}' "$id") == true ]] || { log "container $id exited"; return 1; }
    done
}
ready_while_running() { running || exit 1; ready "$1"; }
for i in 1 2 3; do wait_until "$STARTUP_BOUND" "node$i ready" ready_while_running "$i"; done
wait_until 60 "bucket created" s3 1 s3api create-bucket --bucket partition >/dev/null 2>&1
for i in 1 2 3; do
    head -c $((100000 * i)) /dev/urandom > "$WORK/before$i"
    put "$i" "before$i" "$WORK/before$i"
done

NETWORK=${PROJECT}_region
NODE3=$(compose ps -q node3)
log "cutting node3 off the region network"
docker network disconnect "$NETWORK" "$NODE3"
for i in 1 2; do
    head -c 200000 /dev/urandom > "$WORK/during$i"
    # The majority may need an election first (node3 may have led).
    wait_until 60 "node$i accepts writes" put "$i" "during$i" "$WORK/during$i"
done
log "nodes 1 and 2 accept writes"
head -c 1000 /dev/urandom > "$WORK/refused"
# node3 must answer (not hang) and refuse: 503 once it knows it is alone.

refused=0
for _ in $(seq 1 30); do
    if put 3 refused "$WORK/refused"; then
        log "node3 accepted a write while partitioned"; exit 1
    fi
    if grep -q -E '503|ServiceUnavailable' "$WORK/put.err"; then refused=1; break; fi
    sleep 1
done
[[ $refused -eq 1 ]] || { log "node3 did not answer 503: $(cat "$WORK/put.err")"; exit 1; }
if ready 3; then log "node3 reports ready without a quorum"; exit 1; fi
log "node3 refuses writes (503) and is not ready"

log "reconnecting node3"
docker network connect --alias node3-rpc "$NETWORK" "$NODE3"
wait_until "$CONVERGE_BOUND" "node3 ready again" ready 3
for key in before1 before2 before3 during1 during2; do
    wait_until "$CONVERGE_BOUND" "node3 serves $key" s3 3 s3api get-object --bucket partition --key "$key" "$WORK/got-$key" >/dev/null 2>&1
    cmp -s "$WORK/got-$key" "$WORK/$key" || { log "node3 returned different bytes for $key"; exit 1; }
done
if s3 1 s3api head-object --bucket partition --key refused >/dev/null 2>&1; then
    log "the write refused by node3 appeared"; exit 1
fi
log "node3 converged; the refused write never appeared"

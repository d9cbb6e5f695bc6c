# Shared by scripts/serve and scripts/test (sourced, not run).

# Timestamped progress line on stderr.
phase() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Debian's RocksDB and libclang (bindgen) instead of building RocksDB's C++
# (README "Build"); .cargo/config.toml points the build at them.
ensure_system_deps() {
    if ! dpkg -s librocksdb-dev >/dev/null 2>&1 || ! dpkg -s libclang-dev >/dev/null 2>&1; then
        phase "installing libclang-dev librocksdb-dev"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev librocksdb-dev
    fi
}

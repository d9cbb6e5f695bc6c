#!/usr/bin/env bash
# Write a new region master key (64 hex characters, mode 0600) next to the
# compose files, unless one is there: compose hands it to every node as a
# secret. Losing it loses every object; keep a copy somewhere safe.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for name in master.key "${@}"; do
    path=$HERE/$name
    [[ -e $path ]] && continue
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$path" && echo >> "$path")
    echo "wrote $path"
done

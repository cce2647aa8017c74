#!/bin/sh
# bench/tls.sh: plain HTTP against HTTPS (--certs-dir) in the same run, the TLS
# figures of issue 16. Not part of `make test`.
#
#   bench/tls.sh [--record] [--runs N] [--duration S]
#
# Method (bench/tls.py): two Basalt servers with the same options (--sync=off,
# so the disk does not hide the cost of TLS), 4 drive folders each (EC 2+2),
# one plain and one with --certs-dir (an EC P-256 certificate the script makes
# with openssl); wrk (bench/urls.lua) replays presigned URLs on keep-alive
# connections, plain and TLS alternating in every run:
#   - GET and PUT of 64 MiB objects, 4 connections (MiB/s);
#   - GET and PUT of 4 KiB objects, 16 connections (ops/s).
# --record appends a dated section (command, machine, commit, table) to
# docs/benchmarks.md.
#
# Environment: BASALT_BIN (default build-release/basalt: make RELEASE=1 all),
# BENCH_RUNS (3), BENCH_DURATION (8 s), BENCH_PORT_BASE (9380, and +1),
# BENCH_DIR (default /tmp).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
if [ -z "${BASALT_BIN:-}" ]; then
    if [ -x "$repo/build-release/basalt" ]; then
        BASALT_BIN=$repo/build-release/basalt
    else
        BASALT_BIN=$repo/build/basalt
        echo "bench: warning: no release build (make RELEASE=1 all): using $BASALT_BIN" >&2
    fi
fi
export BASALT_BIN
for tool in wrk openssl /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
ulimit -n 65536 2>/dev/null || true
exec /usr/bin/python3 "$here/tls.py" "$@"

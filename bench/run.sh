#!/bin/sh
# bench/run.sh: the figures of issue 2 ("Figures"), Basalt against nginx in
# the same run on this machine. Not part of `make test`.
#
#   bench/run.sh [--record] [--runs N] [--duration S] [--only get64,put64,small,mid,rss]
#                [--profile get64,put64off,put64on,put4k,get4k] [--keep]
#
# Method: one Basalt server with fsync on (the default) and one with
# --sync=off, each over 4 drive folders in a temporary directory (EC 2+2), and
# one nginx (Debian nginx-light: static files, dav PUT, client_max_body_size 0)
# on 127.0.0.1 ports BENCH_PORT_BASE..+2 (9390-9392). Load comes from wrk
# (bench/urls.lua) replaying presigned URLs (bench/presign.py; PUT URLs are
# UNSIGNED-PAYLOAD), each request on its own key:
#   - GET 64 MiB objects, 4 connections, vs nginx GET of the same file;
#   - PUT 64 MiB, 4 connections, --sync=off and sync on (nginx dav PUT shown);
#   - 4 KiB objects, 16 connections: PUT (sync on) and GET ops/s, vs nginx;
#   - 1 MiB objects, 8 connections: GET of 64 objects vs nginx, PUT (sync on,
#     overwriting 64 keys) vs nginx dav PUT, and the server CPU per request;
#   - server RSS idle, and its peak while 1, 4 and 16 clients each upload a
#     1 GiB object (a Python uploader streaming from a generator; VmRSS of
#     /proc/PID/status sampled every 50 ms, VmHWM reset before each phase).
# Each throughput figure is measured BENCH_RUNS times (3); the table shows
# medians and every run. --record appends a dated section (machine, commit,
# table) to docs/benchmarks.md; without it nothing is written.
#
# Environment:
#   BASALT_BIN        server binary (default build-release/basalt, which
#                     `make bench` and `make RELEASE=1 all` build; else build/basalt)
#   BENCH_QUICK=1     5 s per figure and 256 MiB uploads for the RSS figure
#   BENCH_RUNS, BENCH_DURATION, BENCH_ONLY, BENCH_PROFILE, BENCH_PORT_BASE,
#   BENCH_DIR (where the temporary work directory goes; default /tmp)
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
for tool in wrk nginx /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
# More file descriptors for 16+ connections and nginx.
ulimit -n 65536 2>/dev/null || true
exec /usr/bin/python3 "$here/bench.py" "$@"

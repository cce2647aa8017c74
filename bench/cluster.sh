#!/bin/sh
# bench/cluster.sh: the figures of issue 11 ("Figures"), a 4-node loopback
# cluster against one node over the same 8 drive folders, in the same run.
# Not part of `make test`; `make bench-cluster` builds and runs it.
#
#   bench/cluster.sh [--record] [--runs N] [--duration S] [--quick]
#                    [--only small,large,heal] [--profile put4k,get4k,put64,get64] [--keep]
#
# Method (bench/cluster.py): one node on 127.0.0.1 over DIR/single/d{1...8},
# and 4 nodes on 127.0.0.1-4 with 2 drive folders each (the same explicit list
# of 8 endpoints on every node); both one set of 8, EC 4+4, fsync on, one
# filesystem, one binary. Load from wrk (bench/urls.lua, --latency) replaying
# presigned URLs: one wrk with every connection for the single node, one wrk
# per node with a quarter of them for the cluster (URLs signed for its node):
#   - PUT 4 KiB to new keys and GET 4 KiB of 1,000 objects, 16 connections;
#   - PUT 64 MiB (overwrites of 4 keys) and GET 64 MiB (4 objects), 4 connections;
# each BENCH_RUNS times (3), the single node and the cluster alternately,
# never together: ops/s, MiB/s, p50/p99, errors, and for the cluster the RPC
# calls per S3 request and new RPC connections (basalt admin info counters).
#   - heal: 10,000 objects (1 GiB) on the cluster, one drive folder of node 2
#     wiped while running, timed until `basalt admin heal --status` is done and
#     the folder holds the shard bytes; CPU and I/O of the nodes meanwhile.
# --record appends a dated section (machine, commit, method, tables) to
# docs/benchmarks.md; without it nothing is written.
#
# Environment:
#   BASALT_BIN        server binary (default build-release/basalt, which
#                     `make bench-cluster` and `make RELEASE=1 all` build)
#   BENCH_QUICK=1     5 s per figure, 1 run, a heal of 1,000 objects
#   BENCH_RUNS, BENCH_DURATION, BENCH_ONLY, BENCH_PROFILE,
#   BENCH_PORT_BASE   the single node's port (default 9600); the cluster's is +1
#   BENCH_DIR         where the temporary work directory goes (default /tmp)
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
for tool in wrk du top /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
# More file descriptors: 4 nodes with pooled RPC connections, and wrk.
ulimit -n 65536 2>/dev/null || true
exec /usr/bin/python3 "$here/cluster.py" "$@"

#!/bin/bash
# bench/cpu_per_request.sh: server CPU time per 4 KiB GET of one node (4 drive
# folders, EC 2+2), for comparing two builds in the same run: each build in
# turn, RUNS times, gets 16 connections of wrk for 5 s on one 4 KiB object;
# the figure is the server's utime+stime (/proc/PID/stat) over the requests
# served. CPU per request is less sensitive than ops/s to the other load of a
# shared machine. Not part of `make test`.
#
#   bench/cpu_per_request.sh BIN_A BIN_B [RUNS]      (default 3 runs)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
a=$1 b=$2 runs=${3:-3} port=${BENCH_PORT:-9650}
ak=benchadmin sk=bench-secret-key-1

one() { # BIN -> "requests us_per_request"
    local bin=$1 dir pid t0 t1 n out
    dir=$(mktemp -d)
    BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$bin" server --address 127.0.0.1:$port \
        "$dir"/d{1...4} >"$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/basalt/health/live" >/dev/null && break; sleep 0.1; done
    (cd "$here" && /usr/bin/python3 - "$port" "$dir/paths" <<'PY'
import os, sys
import presign
port, out = sys.argv[1], sys.argv[2]
c = presign.client(f"http://127.0.0.1:{port}", "benchadmin", "bench-secret-key-1")
c.create_bucket(Bucket="cpubench")
c.put_object(Bucket="cpubench", Key="k", Body=os.urandom(4096))
paths = presign.fast_presign_paths(f"127.0.0.1:{port}", "benchadmin", "bench-secret-key-1",
                                   "GET", "cpubench", ["k"] * 16)
open(out, "w").write("\n".join(paths) + "\n")
PY
    )
    t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
    out=$(WRK_THREADS=1 wrk -t1 -c16 -d5s -s "$here/urls.lua" "http://127.0.0.1:$port" -- "$dir/paths")
    t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
    n=$(echo "$out" | grep -oE '^ +[0-9]+ requests' | awk '{print $1}')
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$dir"
    echo "$n $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / (n > 0 ? n : 1) ))"
}

printf '%-5s %-40s %10s %12s\n' run build requests "CPU us/req"
for r in $(seq "$runs"); do
    for bin in "$a" "$b"; do
        read -r n us < <(one "$bin")
        printf '%-5s %-40s %10s %12s\n' "$r" "$bin" "$n" "$us"
    done
done

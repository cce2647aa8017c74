#!/bin/bash
# bench/metrics_cost.sh: what metrics and audit cost (issue 14, "Figures"): one
# server binary in two configurations, alternated within each run:
#   off  BASALT_METRICS=off (no registry: nothing counted, no drive, lock or
#        request counting) and no audit target;
#   on   metrics on (the default) and --audit-stdout, stdout to a file in the
#        run's directory (an audit JSON line per request, written as a
#        logging agent would read it);
#   metrics  (with BENCH_CONFIGS="off metrics on") metrics on, no audit: to
#        tell the two costs apart.
# Each configuration: one node, 4 drive folders (EC 2+2), fsync on (the
# default); wrk with 16 connections replays presigned URLs (bench/urls.lua):
# PUT of 4 KiB objects (BENCH_KEYS keys round-robin) then GET of one 4 KiB
# object, BENCH_DURATION seconds each. Figures per run: requests/s, and the
# server's CPU time per request (utime+stime of /proc/PID/stat), which a
# shared machine disturbs less than requests/s. Prints every run and the
# medians. Not part of `make test`.
#
#   bench/metrics_cost.sh [BIN]     (default build-release/basalt)
#   BENCH_RUNS (3), BENCH_DURATION (5), BENCH_KEYS (5000), BENCH_PORT (default: a free one)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build-release/basalt}
runs=${BENCH_RUNS:-3} dur=${BENCH_DURATION:-5} nkeys=${BENCH_KEYS:-5000} port=${BENCH_PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
ak=benchadmin sk=bench-secret-key-1
results=$(mktemp)

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wrk over PATHS [BODY] against PID: "requests/s cpu_us_per_request"
load() {
    local pid=$1 paths=$2 body=${3:-} t0 t1 out n rps
    t0=$(cpu "$pid")
    out=$(wrk -t1 -c16 -d"${dur}s" -s "$here/urls.lua" "http://127.0.0.1:$port" -- "$paths" $body)
    t1=$(cpu "$pid")
    n=$(echo "$out" | grep -oE '^ +[0-9]+ requests' | awk '{print $1}')
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    if echo "$out" | grep -q "Non-2xx"; then echo "bench: non-2xx answers: $out" >&2; exit 1; fi
    echo "$rps $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / (n > 0 ? n : 1) ))"
}

one() { # CONFIG -> lines "CONFIG put|get rps us"
    local cfg=$1 dir pid
    dir=$(mktemp -d)
    if [ "$cfg" = off ]; then
        BASALT_METRICS=off BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$bin" server \
            --address 127.0.0.1:$port "$dir"/d{1...4} >"$dir/out" 2>"$dir/log" &
    elif [ "$cfg" = metrics ]; then
        BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$bin" server \
            --address 127.0.0.1:$port "$dir"/d{1...4} >"$dir/out" 2>"$dir/log" &
    else
        BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$bin" server --audit-stdout \
            --address 127.0.0.1:$port "$dir"/d{1...4} >"$dir/out" 2>"$dir/log" &
    fi
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/basalt/health/live" >/dev/null && break; sleep 0.1; done
    if ! kill -0 "$pid" 2>/dev/null; then echo "bench: the server did not start:" >&2; cat "$dir/log" >&2; exit 1; fi
    (cd "$here" && /usr/bin/python3 - "$port" "$dir" "$nkeys" <<'PY'
import os, sys
import presign
port, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = f"127.0.0.1:{port}"
c = presign.client(f"http://{host}", "benchadmin", "bench-secret-key-1")
c.create_bucket(Bucket="costbench")
c.put_object(Bucket="costbench", Key="g", Body=os.urandom(4096))
put = presign.fast_presign_paths(host, "benchadmin", "bench-secret-key-1", "PUT", "costbench",
                                 [f"p/{i:06d}" for i in range(n)])
get = presign.fast_presign_paths(host, "benchadmin", "bench-secret-key-1", "GET", "costbench",
                                 ["g"] * 16)
open(f"{d}/put", "w").write("\n".join(put) + "\n")
open(f"{d}/get", "w").write("\n".join(get) + "\n")
open(f"{d}/body", "wb").write(os.urandom(4096))
PY
    )
    echo "$cfg put $(load "$pid" "$dir/put" "$dir/body")"
    echo "$cfg get $(load "$pid" "$dir/get")"
    if [ "$cfg" = on ] && ! grep -q '"api":"PutObject"' "$dir/out"; then
        echo "bench: no audit record in the 'on' server's stdout" >&2; exit 1
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}

printf '%-4s %-4s %-4s %12s %12s\n' run cfg op "req/s" "CPU us/req"
for r in $(seq "$runs"); do
    for cfg in ${BENCH_CONFIGS:-off on}; do
        one "$cfg" | while read -r c op rps us; do
            printf '%-4s %-4s %-4s %12s %12s\n' "$r" "$c" "$op" "$rps" "$us"
            echo "$c $op $rps $us" >>"$results"
        done
    done
done
echo
echo "medians over $runs runs:"
for op in put get; do
    /usr/bin/python3 - "$results" "$op" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split()[1] == sys.argv[2]]
cfgs = [c for c in ("off", "metrics", "on") if any(r[0] == c for r in rows)]
med = {c: (statistics.median(float(r[2]) for r in rows if r[0] == c),
           statistics.median(float(r[3]) for r in rows if r[0] == c)) for c in cfgs}
off_rps, off_us = med["off"]
for c in cfgs:
    rps, us = med[c]
    print(f"  4 KiB {sys.argv[2].upper()} {c:8s}: {rps:6.0f} req/s {us:4.0f} us/req"
          + ("" if c == "off" else f"  (vs off: throughput {100 * (rps / off_rps - 1):+.1f}%, "
                                   f"CPU per request {100 * (us / off_us - 1):+.1f}%)"))
PY
done
rm -f "$results"

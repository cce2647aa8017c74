#!/bin/bash
# bench/idle_conns.sh: 4 KiB GET throughput and p99 at 16 active clients
# (wrk, presigned URLs) while 0, 1,000 and 10,000 idle keep-alive
# connections are held open (each made one request first, so its
# connection memory is in use), and the server's RSS per idle connection
# (issue 16, "Figures"). One server (4 drive folders) for the whole run;
# the idle counts are measured in turn, ROUNDS times, the order rotated
# each round. Not part of `make test`.
#
#   bench/idle_conns.sh [BIN] [ROUNDS]     (default build-release/basalt, 2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build-release/basalt} rounds=${2:-2}
port=${BENCH_PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
ak=benchadmin sk=bench-secret-key-1
ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$bin" server --address 127.0.0.1:$port \
    --idle-timeout 600 "$dir"/d{1...4} >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/basalt/health/live" >/dev/null && break; sleep 0.1; done
(cd "$here" && /usr/bin/python3 - "$port" "$dir/paths" <<'PY'
import os, sys
import presign
port, out = sys.argv[1], sys.argv[2]
c = presign.client(f"http://127.0.0.1:{port}", "benchadmin", "bench-secret-key-1")
c.create_bucket(Bucket="idlebench")
c.put_object(Bucket="idlebench", Key="k", Body=os.urandom(4096))
paths = presign.fast_presign_paths(f"127.0.0.1:{port}", "benchadmin", "bench-secret-key-1",
                                   "GET", "idlebench", ["k"] * 16)
open(out, "w").write("\n".join(paths) + "\n")
PY
)
rss() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }

one() { # IDLE -> "ops p50 p99 rss_kib rss_per_idle_kib"
    local idle=$1 holder=0 before after out ops p50 p99
    before=$(rss)
    if [ "$idle" -gt 0 ]; then
        rm -f "$dir/ready"
        /usr/bin/python3 - "$port" "$idle" "$dir/ready" <<'PY' &
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = b"GET /basalt/health/live HTTP/1.1\r\nHost: x\r\n\r\n"
held = []
for i in range(n):
    s = socket.socket()
    s.bind((f"127.0.0.{2 + i % 4}", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(req)
    held.append(s)
for s in held:
    s.settimeout(30)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
open(ready, "w").write("ok")
time.sleep(3600)
PY
        holder=$!
        for _ in $(seq 600); do [ -f "$dir/ready" ] && break; sleep 0.1; done
        [ -f "$dir/ready" ] || { echo "idle connections not opened" >&2; exit 1; }
        sleep 1
    fi
    after=$(rss)
    out=$(wrk -t2 -c16 -d5s --latency -s "$here/urls.lua" "http://127.0.0.1:$port" -- "$dir/paths")
    ops=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    if echo "$out" | grep -q "Non-2xx\|Socket errors"; then ops="$ops(!)"; fi
    [ "$holder" -gt 0 ] && { kill $holder; wait $holder 2>/dev/null || true; sleep 2; }
    echo "$ops $p50 $p99 $after $(( idle > 0 ? (after - before) / idle : 0 ))"
}

printf '%-6s %-7s %12s %9s %9s %10s %16s\n' round idle "GET ops/s" p50 p99 "RSS KiB" "KiB per idle"
counts=(0 1000 10000)
for r in $(seq "$rounds"); do
    for i in 0 1 2; do
        n=${counts[$(( (i + r - 1) % 3 ))]}
        read -r ops p50 p99 kib per < <(one "$n")
        printf '%-6s %-7s %12s %9s %9s %10s %16s\n' "$r" "$n" "$ops" "$p50" "$p99" "$kib" "$per"
    done
done

#!/bin/bash
# bench/warp.sh: the warp-style profiles of issue 17 (bench/warp.c) against a
# fresh single node (4 drive folders in a temporary directory, EC 2+2, fsync
# on) per profile and per build, builds taking turns in the same run so their
# figures compare. Not part of `make test`.
#
#   make RELEASE=1 -j2 all build-release/bench/warp
#   bench/warp.sh [PROFILE...]     (default: mixed4k mixed10m stat delete list empty)
#
# Profiles: mixed4k (45/30/15/10 GET/HEAD/PUT/DELETE over 2,000 preloaded
# 4 KiB objects), get4k (GET alone over the same 2,000 preloaded 4 KiB objects
# at the same clients: what mixed4k's GET median compares with), mixed10m (the same over 40 objects of 10 MiB), stat (HEAD
# of random keys of WARP_STAT_OBJECTS 4 KiB objects), delete (DeleteObjects
# of 100 keys over 10,000 objects, then of 1,000 keys over 3,000, one client), list (create
# WARP_LIST_OBJECTS objects of 1 KiB, then ListObjectsV2 walks, then HEAD of random keys of
# that bucket and 4 KiB PUTs into it), empty (what list's HEAD and PUT compare with: HEAD of
# 1,000 objects of 1 KiB, then 4 KiB PUTs into that bucket), bigbucket (list's creates and
# walks, then three rounds of HEAD and 4 KiB PUT alternating between that bucket and one of
# 1,000 objects on the same server), statget (HEAD against GET of the same WARP_STAT_OBJECTS
# 4 KiB objects, three alternating rounds). Not in the default list: bigbucket, statget.
# After each run the server's heal figures are printed: objects it logged as
# "healed" and basalt_heal_needless_total (both 0 on a healthy server).
#
# Environment:
#   BASALT_BINS        builds to compare (default: build-release/basalt)
#   WARP_DURATION (20), WARP_CLIENTS (20), WARP_STAT_OBJECTS (100000),
#   WARP_LIST_OBJECTS (100000), WARP_LIST_CLIENTS (clients of list's create and walks;
#   WARP_CLIENTS), WARP_PORT (9660), WARP_DIR (default /tmp)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
warp=$repo/build-release/bench/warp
bins=${BASALT_BINS:-$repo/build-release/basalt}
dur=${WARP_DURATION:-20} clients=${WARP_CLIENTS:-20} port=${WARP_PORT:-9660}
stat_n=${WARP_STAT_OBJECTS:-100000} list_n=${WARP_LIST_OBJECTS:-100000}
export BENCH_AK=benchadmin BENCH_SK=bench-secret-key-1
[ $# -gt 0 ] || set -- mixed4k mixed10m stat delete list empty
[ -x "$warp" ] || { echo "warp.sh: build $warp first (make RELEASE=1 build-release/bench/warp)" >&2; exit 1; }

pid= dir=
stop() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    [ -n "$dir" ] && rm -rf "$dir"
    pid= dir=
}
trap stop EXIT

start() { # BIN
    dir=$(mktemp -d "${WARP_DIR:-/tmp}/warp.XXXXXX")
    BASALT_ROOT_USER=$BENCH_AK BASALT_ROOT_PASSWORD=$BENCH_SK BASALT_PROMETHEUS_AUTH=public \
        "$1" server --address 127.0.0.1:$port "$dir"/d{1...4} >"$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/basalt/health/live" >/dev/null && return 0
        sleep 0.1
    done
    echo "warp.sh: server did not start:" >&2; cat "$dir/log" >&2; exit 1
}

heal_figures() {
    local healed needless
    healed=$(grep -c '"event":"healed"' "$dir/log" || true)
    needless=$(curl -s "http://127.0.0.1:$port/basalt/v1/metrics/node" |
        awk '/^basalt_heal_needless_total/ {print $2}')
    echo "  heal: $healed objects logged healed, basalt_heal_needless_total ${needless:-?}," \
        "server CPU $(awk -v t="$(getconf CLK_TCK)" '{printf "%.1f s", ($14 + $15) / t}' /proc/$pid/stat)"
}

w() { "$warp" "$1" --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration "$dur" "${@:2}"; }

echo "# bench/warp.sh $* — $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
echo "# commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), duration ${dur}s, $clients clients"
for prof in "$@"; do
    for bin in $bins; do
        echo
        echo "== $prof: $bin"
        start "$bin"
        case $prof in
        mixed4k) w mixed --size 4K --objects 2000 ;;
        get4k) w get --size 4K --objects 2000 ;;
        mixed10m) w mixed --size 10M --objects 40 ;;
        stat) w stat --size 4K --objects "$stat_n" ;;
        delete)
            w delete --size 4K --objects 10000 --batch 100
            w delete --size 4K --objects 3000 --batch 1000 --clients 1 --bucket warp-delete1000 ;;
        list)
            w list --size 1K --objects "$list_n" --clients "${WARP_LIST_CLIENTS:-$clients}"
            w stat --size 1K --objects "$list_n" --bucket warp-list --preloaded
            w put --size 4K --bucket warp-list ;;
        empty)
            w stat --size 1K --objects 1000 --bucket warp-empty
            w put --size 4K --bucket warp-empty ;;
        bigbucket)
            # list's bucket and a bucket of 1,000 on the same server, measured in
            # alternating rounds, so that the machine's load moves both alike
            w list --size 1K --objects "$list_n" --clients "${WARP_LIST_CLIENTS:-$clients}"
            w stat --size 1K --objects 1000 --bucket warp-small --duration 2
            for round in 1 2 3; do
                echo "-- round $round"
                w stat --size 1K --objects "$list_n" --bucket warp-list --preloaded
                w stat --size 1K --objects 1000 --bucket warp-small --preloaded
                w put --size 4K --bucket warp-list
                w put --size 4K --bucket warp-small
            done ;;
        statget)
            # HEAD against GET of the same keys, alternating rounds
            w stat --size 4K --objects "$stat_n"
            for round in 1 2 3; do
                echo "-- round $round"
                w stat --size 4K --objects "$stat_n" --preloaded
                w get --size 4K --objects "$stat_n" --bucket warp-stat --preloaded
            done ;;
        *) echo "warp.sh: unknown profile $prof" >&2; exit 2 ;;
        esac
        heal_figures
        stop
    done
done

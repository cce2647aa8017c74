#!/bin/sh
# bench/cli.sh: the client figures of issue 13, the `basalt` client against the aws CLI (and
# rclone for mirror) in the same run, on one local Basalt server. Not part of `make test`.
#
#   bench/cli.sh [--size-mib N] [--files N]
#
# Method: one Basalt server (4 drive folders in a temporary directory, EC 2+2, fsync on) on
# 127.0.0.1:$BENCH_PORT (9395); then, each timed by /usr/bin/time (wall seconds and the
# client's max RSS):
#   - a file of N MiB (1024) of random bytes: `basalt cp FILE local/...` and back
#     `basalt cp local/... FILE2`, then `aws s3 cp` up and down, every tool with its defaults
#     (basalt: 16 MiB parts, 4 at once; aws: 8 MiB parts, 10 at once); both downloads are
#     compared with the source (cmp);
#   - a tree of N small files (10,000 of 1-4 KiB in 100 folders): `basalt mirror`,
#     `aws s3 sync`, `rclone sync` (files/s), each to its own empty prefix.
# Prints a Markdown table; paste it into docs/benchmarks.md with the date and machine.
#
# Environment: BASALT_BIN (the server and client; default build-release/basalt, else
# build/basalt), BENCH_PORT, BENCH_DIR (where the temporary directory goes; default /tmp).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
size_mib=1024
nfiles=10000
while [ $# -gt 0 ]; do
    case "$1" in
    --size-mib) size_mib=$2; shift ;;
    --files) nfiles=$2; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench/cli.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "${BASALT_BIN:-}" ]; then
    BASALT_BIN=$repo/build-release/basalt
    [ -x "$BASALT_BIN" ] || BASALT_BIN=$repo/build/basalt
fi
for t in aws rclone /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench/cli.sh: $t is missing" >&2; exit 1; }
done
port=${BENCH_PORT:-9395}
work=$(mktemp -d "${BENCH_DIR:-/tmp}/basalt-bench-cli.XXXXXX")
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ak=benchadmin
sk=bench-secret-key-1234
mkdir -p "$work/d1" "$work/d2" "$work/d3" "$work/d4" "$work/home"
BASALT_ROOT_USER=$ak BASALT_ROOT_PASSWORD=$sk "$BASALT_BIN" server --address "127.0.0.1:$port" \
    "$work/d1" "$work/d2" "$work/d3" "$work/d4" >"$work/server.log" 2>&1 &
server_pid=$!
i=0
until curl -sf "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1 ||
    curl -sf "http://127.0.0.1:$port/basalt/health" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "bench/cli.sh: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done

export HOME="$work/home"
export BASALT_ALIAS_local="http://$ak:$sk@127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_DEFAULT_REGION=us-east-1
export RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other
export RCLONE_CONFIG_B_ENDPOINT="http://127.0.0.1:$port" RCLONE_CONFIG_B_ACCESS_KEY_ID=$ak
export RCLONE_CONFIG_B_SECRET_ACCESS_KEY=$sk RCLONE_CONFIG_B_REGION=us-east-1
aws_s3() { aws --endpoint-url "http://127.0.0.1:$port" s3 "$@"; }

"$BASALT_BIN" mb local/bench >/dev/null

# timed LABEL CMD...: runs CMD under /usr/bin/time; sets secs and rss_mib.
timed() {
    label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 ||
        { echo "bench/cli.sh: $label failed:" >&2; tail -5 "$work/out" >&2; exit 1; }
    secs=$(cut -d' ' -f1 "$work/time" | tail -n 1)
    rss_mib=$(awk '{ printf "%.0f", $2 / 1024 }' "$work/time" | tail -n 1)
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.01) }'; }

echo "bench/cli.sh: $size_mib MiB file, $nfiles small files, server and client $BASALT_BIN" >&2
head -c "$((size_mib * 1048576))" /dev/urandom >"$work/big"

rows=""
row() { rows="$rows$1
"; }

timed "basalt cp up" "$BASALT_BIN" cp "$work/big" local/bench/basalt.bin
row "| \`basalt cp\` $size_mib MiB up | $secs s | $(rate "$size_mib" "$secs") MiB/s | $rss_mib MiB |"
timed "basalt cp down" "$BASALT_BIN" cp local/bench/basalt.bin "$work/back-basalt"
row "| \`basalt cp\` $size_mib MiB down | $secs s | $(rate "$size_mib" "$secs") MiB/s | $rss_mib MiB |"
cmp "$work/big" "$work/back-basalt"
rm -f "$work/back-basalt"
timed "aws s3 cp up" aws --endpoint-url "http://127.0.0.1:$port" s3 cp --only-show-errors \
    "$work/big" s3://bench/aws.bin
row "| \`aws s3 cp\` $size_mib MiB up | $secs s | $(rate "$size_mib" "$secs") MiB/s | $rss_mib MiB |"
timed "aws s3 cp down" aws --endpoint-url "http://127.0.0.1:$port" s3 cp --only-show-errors \
    s3://bench/aws.bin "$work/back-aws"
row "| \`aws s3 cp\` $size_mib MiB down | $secs s | $(rate "$size_mib" "$secs") MiB/s | $rss_mib MiB |"
cmp "$work/big" "$work/back-aws"
rm -f "$work/back-aws" "$work/big"

echo "bench/cli.sh: making $nfiles files" >&2
python3 - "$work/tree" "$nfiles" <<'END'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(13)
for i in range(n):
    d = os.path.join(root, f"d{i % 100:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05}.txt"), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 4096)))
END

timed "basalt mirror" "$BASALT_BIN" mirror "$work/tree" local/bench/m-basalt
row "| \`basalt mirror\` $nfiles files | $secs s | $(rate "$nfiles" "$secs") files/s | $rss_mib MiB |"
timed "aws s3 sync" aws --endpoint-url "http://127.0.0.1:$port" s3 sync --only-show-errors \
    "$work/tree" s3://bench/m-aws
row "| \`aws s3 sync\` $nfiles files | $secs s | $(rate "$nfiles" "$secs") files/s | $rss_mib MiB |"
timed "rclone sync" env -u AWS_CA_BUNDLE rclone sync "$work/tree" B:bench/m-rclone
row "| \`rclone sync\` $nfiles files | $secs s | $(rate "$nfiles" "$secs") files/s | $rss_mib MiB |"
for p in m-basalt m-aws m-rclone; do
    n=$("$BASALT_BIN" ls -r "local/bench/$p" | wc -l)
    [ "$n" -eq "$nfiles" ] || { echo "bench/cli.sh: $p holds $n objects, not $nfiles" >&2; exit 1; }
done

echo "| what | time | rate | client max RSS |"
echo "|---|---|---|---|"
printf '%s' "$rows"
echo
echo "aws-cli $(aws --version 2>&1 | cut -d' ' -f1 | cut -d/ -f2), rclone $(rclone version | head -n 1 | cut -d' ' -f2), basalt $("$BASALT_BIN" version | cut -d' ' -f2)"

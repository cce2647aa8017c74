#!/bin/sh
# bench/rpc_tls.sh: the cost of a new https:// node-to-node connection by the
# way the CAs are given to libcurl (bench/rpc_tls.c says what is measured).
#
#   make RELEASE=1 -j2 build-release/bench/rpc_tls && bench/rpc_tls.sh [CONNECTIONS]
#
# Makes an EC P-256 CA and a certificate for 127.0.0.1 signed by it (openssl
# command) in a temporary --certs-dir with CAs/, then runs the benchmark.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${RPC_TLS_BIN:-$(dirname "$here")/build-release/bench/rpc_tls}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/certs/CAs"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
openssl req -x509 $ec -keyout "$dir/ca.key" -out "$dir/certs/CAs/ca.crt" -days 2 \
    -subj "/CN=Bench CA" 2>/dev/null
openssl req $ec -keyout "$dir/certs/private.key" -out "$dir/leaf.csr" -subj "/CN=127.0.0.1" 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" >"$dir/ext"
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/certs/CAs/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial 2 -days 2 -extfile "$dir/ext" -out "$dir/certs/public.crt" 2>/dev/null
exec "$bin" "$dir/certs" "${1:-200}"

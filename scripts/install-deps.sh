#!/usr/bin/env bash
# Installs every Debian 12 package that building, running, testing and benchmarking Basalt need.
# Idempotent: installs only what is missing, runs `apt-get update` at most once per call.
# Usage: scripts/install-deps.sh [--quiet]
set -euo pipefail

PKGS=(
  # build
  build-essential pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libisal-dev libxxhash-dev libsqlite3-dev libssl-dev
  libcurl4-openssl-dev libexpat1-dev libjansson-dev
  # tests and benchmarks
  python3 python3-pytest python3-boto3 python3-requests awscli s3cmd
  wrk nginx-light curl procps psmisc e2fsprogs util-linux
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  [ "${1:-}" = "--quiet" ] || echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

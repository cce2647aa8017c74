#!/usr/bin/env bash
# Installs every Debian 12 package that building, running, testing and benchmarking Basalt need,
# and the JavaScript S3 clients of the end-to-end tests (tests/clients/js, `npm ci` from its
# committed package-lock.json).
# Idempotent: installs only what is missing, runs `apt-get update` at most once per call, and runs
# `npm ci` only when tests/clients/js/node_modules does not match the lock file.
# Usage: scripts/install-deps.sh [--quiet]
set -euo pipefail

QUIET=0
[ "${1:-}" = "--quiet" ] && QUIET=1
say() { [ "$QUIET" = 1 ] || echo "install-deps: $*"; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JS_DIR="$ROOT/tests/clients/js"

PKGS=(
  # build
  build-essential pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libgnutls28-dev libisal-dev libxxhash-dev libsqlite3-dev libssl-dev
  libcurl4-openssl-dev libexpat1-dev libjansson-dev zlib1g-dev
  # tests and benchmarks
  python3 python3-pytest python3-boto3 python3-requests awscli s3cmd rclone
  wrk nginx-light curl openssl procps psmisc e2fsprogs util-linux
  iproute2 faketime
  prometheus  # its promtool too: tests/e2e/test_prometheus.py, deploy/prometheus
  # Ceph's s3-tests (tests/s3-tests, ../shared/s3-tests): the suite's Python modules
  python3-botocore python3-munch python3-isodate python3-gevent python3-lxml python3-tz
  python3-httplib2 python3-yaml python3-dateutil python3-six python3-pytest-timeout
  python3-pytest-xdist
)
# Node.js and npm for the JavaScript clients: the machine's own when it has them (any origin);
# Debian's packages otherwise.
if ! command -v node >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  PKGS+=(npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all ${#PKGS[@]} packages present"
elif [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them" >&2
  exit 1
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages that ship a service (nginx, prometheus) must not start one listening on every
  # address: the tests start their own on 127.0.0.1 and stop them. A policy-rc.d that refuses
  # every start (what container images have) is put in place for the install, if none exists.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# basalt install-deps: no service starts during the install\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# Ceph's s3-tests need a newer botocore than Debian 12's (1.29 rejects parameters the suite
# uses): ../shared/s3-tests/setup.sh unpacks Debian 13's into /var/cache/basalt-s3tests once.
S3T_SETUP="$ROOT/../shared/s3-tests/setup.sh"
if [ -x "$S3T_SETUP" ] && [ ! -f /var/cache/basalt-s3tests/boto-trixie/usr/lib/python3/dist-packages/botocore/__init__.py ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: the s3-tests' newer botocore is missing: run $S3T_SETUP as root" >&2
    exit 1
  fi
  echo "install-deps: $S3T_SETUP (boto3/botocore for Ceph's s3-tests)"
  "$S3T_SETUP" >/dev/null
fi

# JavaScript clients: npm ci into tests/clients/js when node_modules is missing or was installed
# from another lock file or another Node.js (the stamp holds the hash of both).
if [ -f "$JS_DIR/package-lock.json" ]; then
  stamp="$JS_DIR/node_modules/.basalt-stamp"
  want="$(sha256sum "$JS_DIR/package-lock.json" | cut -d' ' -f1) node-$(node -v)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "tests/clients/js: node_modules matches package-lock.json"
  else
    echo "install-deps: npm ci in tests/clients/js"
    (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
    echo "install-deps: tests/clients/js installed"
  fi
fi

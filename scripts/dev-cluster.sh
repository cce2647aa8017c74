#!/usr/bin/env bash
# A 4-node Basalt cluster on this machine, for development: nodes on
# 127.0.0.1 .. 127.0.0.4 (same port), 2 drive folders each, one erasure set
# of 8 (EC 4+4).
#
#   scripts/dev-cluster.sh start    build if needed, start the four nodes, wait until ready
#   scripts/dev-cluster.sh status   each node's health, and basalt admin heal --status
#   scripts/dev-cluster.sh stop     SIGTERM each node, wait for it to stop
#
# Environment: BASALT_CLUSTER_PORT (default 9000), BASALT_CLUSTER_DIR (default
# ./data/cluster), BASALT_BIN (default build-release/basalt, built by make).
# Development credentials (basaltadmin / basaltadmin) unless BASALT_ROOT_USER
# and BASALT_ROOT_PASSWORD are set. Logs: $BASALT_CLUSTER_DIR/nN.log.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BASALT_CLUSTER_PORT:-9000}
DIR=$(realpath -m "${BASALT_CLUSTER_DIR:-data/cluster}")
BIN=${BASALT_BIN:-build-release/basalt}
NODES=4
DRIVES=2

endpoints() {
  local n d
  for n in $(seq 1 $NODES); do
    for d in $(seq 1 $DRIVES); do
      printf 'http://127.0.0.%s:%s%s/n%s/d%s ' "$n" "$PORT" "$DIR" "$n" "$d"
    done
  done
}

pid_of() { cat "$DIR/n$1.pid" 2>/dev/null || true; }

running() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

health() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.$1:$PORT/basalt/health/$2" || true; }

start() {
  local n args
  if [ ! -x "$BIN" ]; then
    make --no-print-directory -j2 RELEASE=1 all >/dev/null
  fi
  mkdir -p "$DIR"
  args=$(endpoints)
  for n in $(seq 1 $NODES); do
    if running "$n"; then
      echo "node $n already runs (pid $(pid_of "$n"))"
      continue
    fi
    mkdir -p "$DIR/n$n"
    # shellcheck disable=SC2086 # the endpoints are words on purpose
    setsid "$BIN" server --address "127.0.0.$n:$PORT" $args >>"$DIR/n$n.log" 2>&1 </dev/null &
    echo $! >"$DIR/n$n.pid"
  done
  for _ in $(seq 1 150); do
    local ready=0
    for n in $(seq 1 $NODES); do
      [ "$(health "$n" ready)" = 200 ] && ready=$((ready + 1))
    done
    if [ "$ready" = "$NODES" ]; then
      echo "Basalt cluster: $NODES nodes ready"
      echo "  endpoints:   http://127.0.0.1:$PORT .. http://127.0.0.$NODES:$PORT (any node serves any request)"
      echo "  access key:  ${BASALT_ROOT_USER:-basaltadmin}"
      echo "  secret key:  ${BASALT_ROOT_PASSWORD:+(from BASALT_ROOT_PASSWORD)}${BASALT_ROOT_PASSWORD:-basaltadmin}"
      echo "  data, logs:  $DIR"
      echo "try: AWS_ACCESS_KEY_ID=${BASALT_ROOT_USER:-basaltadmin} AWS_SECRET_ACCESS_KEY=... aws --endpoint-url http://127.0.0.1:$PORT s3 ls"
      return 0
    fi
    sleep 0.2
  done
  echo "dev-cluster: not every node became ready in 30 s; see $DIR/n*.log" >&2
  status
  return 1
}

status() {
  local n
  for n in $(seq 1 $NODES); do
    if running "$n"; then
      echo "node $n (pid $(pid_of "$n")): live $(health "$n" live), ready $(health "$n" ready), cluster $(health "$n" cluster)"
    else
      echo "node $n: not running"
    fi
  done
  if running 1; then
    BASALT_ENDPOINT="http://127.0.0.1:$PORT" BASALT_ACCESS_KEY=${BASALT_ROOT_USER:-basaltadmin} \
      BASALT_SECRET_KEY=${BASALT_ROOT_PASSWORD:-basaltadmin} "$BIN" admin heal --status || true
  fi
}

stop() {
  local n pid
  for n in $(seq 1 $NODES); do
    pid=$(pid_of "$n")
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done
  for n in $(seq 1 $NODES); do
    pid=$(pid_of "$n")
    for _ in $(seq 1 100); do
      [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null && break
      sleep 0.1
    done
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "node $n did not stop in 10 s: killed"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/n$n.pid"
  done
  echo "Basalt cluster stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac

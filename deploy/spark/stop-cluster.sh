#!/usr/bin/env bash
# Stops the local cluster that deploy/spark/start-cluster.sh started in MINUTES_LIVE_CLUSTER_DIR (default
# data/spark_cluster): only the JVMs its pid files name (Thrift server first, then the workers, whose
# executors exit with them, then the master). SIGTERM, then SIGKILL after 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${MINUTES_LIVE_CLUSTER_DIR:-data/spark_cluster}"
[ -d "$DIR/pids" ] || { echo "[cluster] nothing to stop in $DIR"; exit 0; }
stop() {
  local file="$DIR/pids/$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    echo "[cluster] $1 stopped (pid $pid)"
  fi
  rm -f "$file"
}
stop thrift
for f in "$DIR"/pids/worker-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
stop master

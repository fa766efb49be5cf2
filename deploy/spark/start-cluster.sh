#!/usr/bin/env bash
# A real Spark cluster on this machine, bound to 127.0.0.1 (docs/scale_out.md, "A local cluster"):
#   a standalone master, two workers (each its own JVM, each offering 1 core and a small executor), and the
#   Spark Thrift server (HiveThriftServer2) running its SQL on that master: what the `spark_cluster` dbt
#   target (profiles/profiles.yml) connects to. Everything ships in the pyspark wheel (the [spark] extra).
#
#   deploy/spark/start-cluster.sh        # starts what is not running yet, waits until the Thrift port answers
#   deploy/spark/stop-cluster.sh         # stops what this directory's pid files name
#
# Settings (environment):
#   MINUTES_LIVE_CLUSTER_DIR      the cluster's own working directory: pid files, logs, worker work dirs, the
#                                 Thrift server's metastore (Derby) and warehouse (default data/spark_cluster)
#   MINUTES_LIVE_SPARK_PORT       the Thrift port (10000); MINUTES_LIVE_SPARK_MASTER_PORT the master's (7077)
#   MINUTES_LIVE_CLUSTER_WORKERS  number of workers (2); MINUTES_LIVE_CLUSTER_EXECUTOR_MEMORY (512m),
#   MINUTES_LIVE_CLUSTER_DRIVER_MEMORY (1g, the Thrift server), MINUTES_LIVE_CLUSTER_DAEMON_MEMORY (256m,
#   master and workers), MINUTES_LIVE_CLUSTER_WAIT (seconds to wait for the Thrift port, 240)
#   PYTHON                        the interpreter that has pyspark (default: python3 on PATH)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
DIR="${MINUTES_LIVE_CLUSTER_DIR:-data/spark_cluster}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"  # absolute: every JVM runs with the cluster directory as its working directory
PORT="${MINUTES_LIVE_SPARK_PORT:-10000}"
MASTER_PORT="${MINUTES_LIVE_SPARK_MASTER_PORT:-7077}"
WORKERS="${MINUTES_LIVE_CLUSTER_WORKERS:-2}"
EXECUTOR_MEMORY="${MINUTES_LIVE_CLUSTER_EXECUTOR_MEMORY:-512m}"
DRIVER_MEMORY="${MINUTES_LIVE_CLUSTER_DRIVER_MEMORY:-1g}"
WAIT="${MINUTES_LIVE_CLUSTER_WAIT:-240}"
SPARK_HOME="$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')" \
  || { echo "start-cluster: pyspark is not installed for $PYTHON (MINUTES_LIVE_WITH_SPARK=1 ./dev lint)" >&2; exit 1; }
command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] \
  || { echo "start-cluster: Java 17 is missing (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR="$DIR/logs" SPARK_PID_DIR="$DIR/pids"
export SPARK_DAEMON_MEMORY="${MINUTES_LIVE_CLUSTER_DAEMON_MEMORY:-256m}"
JAVA_OPTS="${MINUTES_LIVE_CLUSTER_JAVA_OPTS--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"  # unset: these; empty: none
export SPARK_DAEMON_JAVA_OPTS="$JAVA_OPTS"  # master and workers (and, through the launcher, the Thrift server)
export SPARK_CONF_DIR="$DIR/conf"  # no spark-defaults.conf from elsewhere
mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/conf"
MASTER="spark://127.0.0.1:$MASTER_PORT"

running() { [ -f "$DIR/pids/$1.pid" ] && kill -0 "$(cat "$DIR/pids/$1.pid")" 2>/dev/null; }

port_open() { "$PYTHON" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

# start <name> <command...>: one JVM in the cluster directory, its own session (a Ctrl-C of the caller does
# not reach it), output to logs/<name>.log, pid (the JVM's: spark-class execs java) to pids/<name>.pid
start() {
  local name="$1"; shift
  if running "$name"; then echo "[cluster] $name already running (pid $(cat "$DIR/pids/$name.pid"))"; return; fi
  (cd "$DIR" && exec setsid "$@" > "$DIR/logs/$name.log" 2>&1 < /dev/null) &
  echo $! > "$DIR/pids/$name.pid"
  echo "[cluster] $name started (pid $!, log $DIR/logs/$name.log)"
}

fail() {  # a cluster that did not come up is stopped: no JVM is left behind
  deploy/spark/stop-cluster.sh >&2 || true
  exit 1
}

wait_port() {  # wait_port <name> <port>
  local name="$1" port="$2" t0=$SECONDS
  until port_open "$port"; do
    if ! running "$name"; then
      echo "start-cluster: $name exited before opening port $port; last lines of $DIR/logs/$name.log:" >&2
      tail -n 30 "$DIR/logs/$name.log" >&2; fail
    fi
    if (( SECONDS - t0 > WAIT )); then
      echo "start-cluster: $name did not open port $port within ${WAIT}s (log $DIR/logs/$name.log)" >&2; fail
    fi
    sleep 1
  done
}

start master "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$MASTER_PORT" --webui-port 0
wait_port master "$MASTER_PORT"
for i in $(seq 1 "$WORKERS"); do
  mkdir -p "$DIR/work-$i"
  start "worker-$i" "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --cores 1 --memory "$EXECUTOR_MEMORY" --webui-port 0 --work-dir "$DIR/work-$i" "$MASTER"
done
# The Thrift server is the cluster's driver: the dbt target's SQL is planned here and run on the workers'
# executors (one per worker). Its metastore and warehouse are the cluster's, in the cluster directory.
# (spark-submit gives the Thrift server SPARK_DAEMON_MEMORY as its heap: the driver's memory here)
start thrift env SPARK_DAEMON_MEMORY="$DRIVER_MEMORY" "$SPARK_HOME/bin/spark-submit" \
  --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 --name minutes_live_thrift \
  --master "$MASTER" --driver-memory "$DRIVER_MEMORY" \
  --executor-memory "$EXECUTOR_MEMORY" --executor-cores 1 --total-executor-cores "$WORKERS" \
  --conf spark.ui.enabled=false \
  --conf spark.sql.warehouse.dir="$DIR/warehouse" \
  --conf "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$DIR/metastore_db;create=true" \
  --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$DIR $JAVA_OPTS" \
  --conf "spark.executor.extraJavaOptions=$JAVA_OPTS" \
  --conf spark.sql.session.timeZone=UTC \
  --conf spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS \
  --conf spark.sql.shuffle.partitions=4 \
  --conf spark.sql.sources.default=parquet \
  --conf spark.log.level=WARN \
  --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
  --hiveconf hive.server2.thrift.port="$PORT" \
  spark-internal
wait_port thrift "$PORT"
echo "[cluster] ready: master $MASTER, $WORKERS worker(s), Thrift on 127.0.0.1:$PORT (dir $DIR)"

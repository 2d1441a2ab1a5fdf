#!/usr/bin/env bash
# A Spark standalone cluster on this machine from the Maven jars (no Spark installation): one master
# and N workers, each its own JVM, all bound to 127.0.0.1. Each worker starts its executors as JVMs
# of their own, so a job submitted here loads the model once per executor JVM, as on a real cluster.
#
#   spark/standalone.sh start DIR [--workers 2] [--cores 1] [--memory 3g]
#       starts them, writes DIR/master-url (spark://127.0.0.1:PORT) and their logs under DIR;
#       waits until every worker has registered
#   spark/standalone.sh stop DIR
#       stops what start started (and the executors its workers launched)
#   spark/standalone.sh run [--workers 2] [--cores 1] -- EMBEDJOB-ARGS
#       start in a temporary DIR, ./jembed spark --master URL EMBEDJOB-ARGS, stop
#
# Spark's workers build each executor's command line from SPARK_HOME/jars, so DIR/spark-home/jars
# holds links to the Maven jars of spark/target/spark-classpath.txt (made by `./jembed spark` or
# `mvn -pl spark -am package`), with the RELEASE file that marks a distribution.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CP_FILE="$ROOT/spark/target/spark-classpath.txt"

say() { printf 'standalone: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; return; fi
  local candidate
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    if [ -x "$candidate/bin/java" ] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
      echo "$candidate/bin/java"; return
    fi
  done
  die "needs a JDK 25 (set JAVA_HOME)"
}

start() {
  local dir="$1"; shift
  local workers=2 cores=1 memory=3g
  while [ $# -gt 0 ]; do
    case "$1" in
      --workers) workers="${2:?--workers needs a value}"; shift 2 ;;
      --cores) cores="${2:?--cores needs a value}"; shift 2 ;;
      --memory) memory="${2:?--memory needs a value}"; shift 2 ;;
      *) say "start: unknown option $1"; exit 2 ;;
    esac
  done
  [ -f "$CP_FILE" ] || die "no $CP_FILE; run ./jembed spark --help (or mvn -pl spark -am package) once first"
  mkdir -p "$dir/spark-home/jars" || die "cannot create $dir"
  dir="$(cd "$dir" && pwd)"
  local jar
  tr ':' '\n' < "$CP_FILE" | while read -r jar; do
    [ -n "$jar" ] && ln -sf "$jar" "$dir/spark-home/jars/$(basename "$jar")"
  done
  echo "Spark from the Maven jars of $CP_FILE" > "$dir/spark-home/RELEASE"
  export SPARK_HOME="$dir/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
  local java port=""
  java="$(java_bin)"
  # The workers start their executors with JAVA_HOME's java.
  export JAVA_HOME="$(dirname "$(dirname "$java")")"
  local flags=(-Xmx512m --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
    --enable-native-access=ALL-UNNAMED)
  # The daemons log at Spark's default level (INFO) into their files: readiness is read from them.
  # Port 0: the master and the web UIs take free ports; the master's is read from its log.
  "$java" "${flags[@]}" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 0 --webui-port 0 > "$dir/master.log" 2>&1 &
  echo $! > "$dir/master.pid"
  local waited=0
  while [ -z "$port" ]; do
    port="$(sed -n 's|.*Starting Spark master at spark://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$dir/master.log" | head -n 1)"
    [ -n "$port" ] && break
    sleep 1; waited=$((waited + 1))
    if [ "$waited" -ge 60 ] || ! kill -0 "$(cat "$dir/master.pid")" 2>/dev/null; then
      say "the master did not start; last lines of $dir/master.log:"; tail -n 10 "$dir/master.log" >&2
      stop "$dir"; exit 1
    fi
  done
  echo "spark://127.0.0.1:$port" > "$dir/master-url"
  local i
  for i in $(seq 1 "$workers"); do
    mkdir -p "$dir/worker-$i"
    "$java" "${flags[@]}" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --cores "$cores" --memory "$memory" --work-dir "$dir/worker-$i" --webui-port 0 \
      "spark://127.0.0.1:$port" > "$dir/worker-$i.log" 2>&1 &
    echo $! > "$dir/worker-$i.pid"
  done
  # Ready when every worker says it registered with the master.
  waited=0
  while [ "$(grep -l 'Successfully registered with master' "$dir"/worker-*.log 2>/dev/null | wc -l)" -lt "$workers" ]; do
    sleep 1; waited=$((waited + 1))
    if [ "$waited" -ge 90 ]; then
      say "workers did not register in 90 s; last lines of the logs:"
      tail -n 5 "$dir"/master.log "$dir"/worker-*.log >&2
      stop "$dir"; exit 1
    fi
  done
  say "master spark://127.0.0.1:$port with $workers workers of $cores core(s), $memory each (logs in $dir)"
}

stop() {
  local dir="$1" pidfile pid
  for pidfile in "$dir"/worker-*.pid "$dir"/master.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    # A worker's executors are its children: a worker kills them as it stops (its shutdown hook), and
    # pkill makes sure where procps is installed.
    command -v pkill >/dev/null 2>&1 && pkill -TERM -P "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    rm -f "$pidfile"
  done
  sleep 1
}

case "${1:-}" in
  start) shift; [ $# -ge 1 ] || { usage; exit 2; }; start "$@" ;;
  stop) shift; [ $# -ge 1 ] || { usage; exit 2; }; stop "$1" ;;
  run)
    shift
    opts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    work="$(mktemp -d "${TMPDIR:-/tmp}/jembed-standalone.XXXXXX")"
    trap 'stop "$work"; rm -rf "$work"' EXIT
    start "$work" "${opts[@]}"
    # One executor per worker with the worker's cores, said to the executors so that each computes on
    # that many threads (several executor JVMs share this host).
    cores=1
    for ((i = 0; i < ${#opts[@]}; i++)); do [ "${opts[$i]}" = "--cores" ] && cores="${opts[$((i + 1))]}"; done
    JEMBED_JAVA_OPTS="${JEMBED_JAVA_OPTS:-} -Dspark.executor.cores=$cores" \
      "$ROOT/jembed" spark --master "$(cat "$work/master-url")" "$@"
    ;;
  -h|--help) usage ;;
  *) usage; exit 2 ;;
esac

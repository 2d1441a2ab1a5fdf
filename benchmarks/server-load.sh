#!/usr/bin/env bash
# Load test of `jembed serve` on this machine: the CLI's batched rate first, then ServerLoadTest against a
# freshly started server, as many runs as --clients-list says, then a Markdown table.
#
#   benchmarks/server-load.sh [--seconds 30] [--clients-list "16 64 64:32"] [--texts 3000] [--warmup 5]
#                             [--no-build]
#
# 1. Writes --texts generated sentences (WriteCorpus, seed 42) to a temporary JSONL, and times
#    `./jembed embed --input IN --output OUT` on it wall-clock from outside (JVM start and model load
#    included; one untimed run on 50 sentences first fills the page cache). The CLI's own summary line
#    gives its in-process rate too (reading, batching, embedding, writing; after the model is loaded).
# 2. For each entry of --clients-list, C or C:L, runs ServerLoadTest with C clients for --seconds (after
#    2 s whose requests are not counted) on the same sentences against
#    `./jembed serve --host 127.0.0.1 --port 0` (the port it picked is read from its log), started with
#    --max-concurrent-requests L when the entry says L (else the default, 512). Consecutive entries with
#    the same L share one server; a new L restarts it. The server is ready once GET /health answers 200;
#    each new server then gets --warmup seconds of untimed load with min(C, L, 16) clients (no 429s, so the
#    JIT compiles the encoder before any 429 storm competes for the CPU). Each server is stopped with
#    SIGTERM and must exit within 45 s.
# 3. Prints one table row per run (clients, limit, requests, 200/s, p50, p99, 429s, errors, max RSS) and
#    each run's 200/s over the CLI's rates.
#
# Expectations checked: no run has errors (connection failures, statuses other than 200 and 429, 200s whose
# body is not one vector of the model's dimension); a run with C <= L has no 429; a run with C > L has some
# (more clients than admission permits, each holding one). Exits 1 if one fails or the server does not stop
# cleanly, 2 on bad arguments. Builds the benchmarks jar only when it is missing or older than the
# benchmarks' sources (never with --no-build); the launcher builds its own jar when core's sources changed,
# in an untimed first call. Temporary files are deleted at exit; a server still running is stopped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER="$ROOT/jembed"
SECONDS_PER_RUN=30
CLIENTS_LIST="16 64 64:32"
TEXTS=3000
WARMUP=5
RUN_WARMUP=2      # the start of each run, not counted: connections opened, the storm (if any) in full swing
BUILD=true
STOP_TIMEOUT=45

say() { printf 'server-load: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds|--clients-list|--texts|--warmup)
      [ $# -ge 2 ] || { say "argument $1: expected a value, found the end of the arguments"; usage; exit 2; } ;;
  esac
  case "$1" in
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --clients-list) CLIENTS_LIST="$2"; shift 2 ;;
    --texts) TEXTS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) say "argument '$1': expected one of --seconds, --clients-list, --texts, --warmup, --no-build"; usage; exit 2 ;;
  esac
done
[[ "$SECONDS_PER_RUN" =~ ^[1-9][0-9]*$ ]] || { say "argument --seconds: expected an integer >= 1, found '$SECONDS_PER_RUN'"; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { say "argument --warmup: expected an integer >= 0, found '$WARMUP'"; exit 2; }
[[ "$TEXTS" =~ ^[1-9][0-9]*$ ]] || { say "argument --texts: expected an integer >= 1, found '$TEXTS'"; exit 2; }
read -r -a RUNS <<<"$CLIENTS_LIST"
[ "${#RUNS[@]}" -gt 0 ] || { say "argument --clients-list: expected at least one entry, found none"; exit 2; }
for entry in "${RUNS[@]}"; do
  [[ "$entry" =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ ]] \
    || { say "argument --clients-list: expected entries C or C:L (clients, --max-concurrent-requests), found '$entry'"; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jembed-server-load.XXXXXX")" || die "could not create a temporary directory"
LAUNCHER_PID=""   # ./jembed serve, which execs its JVM (after building the jar if needed)
SERVER_PID=""     # the same process once it is the JVM: gets SIGTERM, its RSS is sampled
SERVER_LIMIT=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$LAUNCHER_PID" ]; then wait "$LAUNCHER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The JDK the launcher picked, as the launcher itself reports it (as whole-process.sh finds it). This first
# launch also builds the launcher's jar when core's sources are newer than it, so no timed run does.
JEMBED_JAVA_OPTS=-XshowSettings:properties "$LAUNCHER" --version >"$WORK/probe.log" 2>&1 \
  || { tail -n 30 "$WORK/probe.log" >&2; die "./jembed --version failed (see above)"; }
JAVA_HOME_USED="$(sed -n 's/^ *java\.home = //p' "$WORK/probe.log" | head -n 1)"
JAVA="$JAVA_HOME_USED/bin/java"
[ -n "$JAVA_HOME_USED" ] && [ -x "$JAVA" ] || { tail -n 30 "$WORK/probe.log" >&2; die "could not tell which JDK ./jembed runs (see above)"; }

# The benchmarks jar, rebuilt only when a benchmarks source or a pom is newer than it.
BUILT_JAR="$ROOT/benchmarks/target/benchmarks.jar"
bench_jar_stale() {
  [ -f "$BUILT_JAR" ] || return 0
  [ -n "$(find "$ROOT/pom.xml" "$ROOT/benchmarks/pom.xml" "$ROOT/benchmarks/src/main" -type f -newer "$BUILT_JAR" 2>/dev/null | head -n 1)" ]
}
if $BUILD && bench_jar_stale; then
  say "building the benchmarks jar (missing or older than its sources)..."
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_USED" mvn -B -q -Dmaven.test.skip=true -pl benchmarks -am package) \
    >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; die "build failed"; }
fi
[ -f "$BUILT_JAR" ] || die "no benchmarks/target/benchmarks.jar (run without --no-build)"
# A copy, so a rebuild during the run cannot change the jar under the load generator.
BENCH_JAR="$WORK/benchmarks.jar"
cp "$BUILT_JAR" "$BENCH_JAR"
TOOL_JAVA=("$JAVA" -XX:+UseParallelGC -cp "$BENCH_JAR")

say "setting up the default model (untimed)..."
"$LAUNCHER" model setup >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; die "model setup failed"; }

SENTENCES="$WORK/sentences.jsonl"
"${TOOL_JAVA[@]}" io.jembed.benchmarks.WriteCorpus --corpus sentences --texts "$TEXTS" --output "$SENTENCES" \
  >"$WORK/write.log" 2>&1 || { cat "$WORK/write.log" >&2; die "could not write $TEXTS sentences"; }
"${TOOL_JAVA[@]}" io.jembed.benchmarks.WriteCorpus --corpus sentences --texts 50 --output "$WORK/warmup.jsonl" \
  >"$WORK/write.log" 2>&1 || { cat "$WORK/write.log" >&2; die "could not write the warm-up sentences"; }

# Waits until dist/target/jembed.jar has not changed for 3 s (someone else's build rewrote it).
wait_for_stable_jar() {
  local jar="$ROOT/dist/target/jembed.jar" before after i
  for ((i = 0; i < 200; i++)); do
    before=$(stat -c %Y.%s "$jar" 2>/dev/null || echo none)
    sleep 3
    after=$(stat -c %Y.%s "$jar" 2>/dev/null || echo none)
    [ "$before" = "$after" ] && [ "$after" != none ] && return 0
  done
  die "dist/target/jembed.jar kept changing for 10 minutes"
}

JAR_REWRITTEN='Could not find or load main class|Invalid or corrupt jarfile|Error opening zip file|ZipException|NoClassDefFoundError|ClassNotFoundException|internal error: .*(fasterxml|jembed)'
jar_stamp() { stat -c %Y.%s "$ROOT/dist/target/jembed.jar" 2>/dev/null || echo none; }

# ---- 1. the CLI, batched --------------------------------------------------------------------------------
# Runs the CLI once; a run the jar was rewritten under (another build on the machine) is retried, twice at
# most, once the jar is stable. Prints the wall-clock seconds of the run that succeeded.
run_cli() {
  local in="$1" out="$2" log="$3" attempt stamp start end rc
  for ((attempt = 1; ; attempt++)); do
    rm -f "$out"
    stamp=$(jar_stamp)
    rc=0
    start=$(date +%s.%N)
    "$LAUNCHER" embed --input "$in" --output "$out" >"$log" 2>&1 || rc=$?
    end=$(date +%s.%N)
    if [ "$attempt" -le 2 ] && { [ "$stamp" != "$(jar_stamp)" ] || { [ "$rc" -ne 0 ] && grep -qE "$JAR_REWRITTEN" "$log"; }; }; then
      say "dist/target/jembed.jar was rewritten during the CLI run (another build); rerunning once it is stable"
      wait_for_stable_jar
      continue
    fi
    [ "$rc" -eq 0 ] || { tail -n 30 "$log" >&2; die "./jembed embed failed on $in (exit $rc)"; }
    if grep -q 'building the jar' "$log"; then
      die "./jembed rebuilt its jar during a timed run (sources under core/ changed); rerun when they are stable"
    fi
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
    return 0
  done
}
say "CLI: one untimed run on 50 sentences, then $TEXTS sentences timed..."
run_cli "$WORK/warmup.jsonl" "$WORK/warmup.out.jsonl" "$WORK/cli-warmup.log" >/dev/null
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"
CLI_WALL=$(run_cli "$SENTENCES" "$WORK/cli.out.jsonl" "$WORK/cli.log")
CLI_RATE=$(awk -v n="$TEXTS" -v t="$CLI_WALL" 'BEGIN { printf "%.1f", n / t }')
# "jembed: embedded 3,000 texts in 9.8 s (306.1 texts/s) -> OUT": the rate the CLI measured itself.
CLI_INNER=$(sed -n 's/^jembed: embedded .* texts in .* s (\([0-9.,]*\) texts\/s).*/\1/p' "$WORK/cli.log" | tr -d , | head -n 1)
[ -n "$CLI_INNER" ] || CLI_INNER="n/a"
rm -f "$WORK/cli.out.jsonl" "$WORK/warmup.out.jsonl"
say "CLI: $TEXTS sentences in $CLI_WALL s wall = $CLI_RATE sentences/s (in-process: $CLI_INNER texts/s)"

# ---- 2. the server ---------------------------------------------------------------------------------------
SERVER_RUNS=0
NOTES=()
STOP_NOTES=()
FAILED=false

# Starts ./jembed serve on 127.0.0.1 and a port of its choosing, with --max-concurrent-requests $1 unless
# empty; sets PORT, LAUNCHER_PID and SERVER_PID once GET /health answers 200. Start-up is not timed: a
# launcher rebuilding its jar first only takes longer. A start that fails because the jar was being
# rewritten under it (another build on the machine) is retried, twice at most, once the jar is stable.
start_server() {
  local limit="$1" args=(serve --host 127.0.0.1 --port 0) i attempt
  [ -n "$limit" ] && args+=(--max-concurrent-requests "$limit")
  SERVER_RUNS=$((SERVER_RUNS + 1))
  SERVER_LOG="$WORK/server-$SERVER_RUNS.log"
  SERVER_LIMIT="$limit"
  for ((attempt = 1; ; attempt++)); do
    "$LAUNCHER" "${args[@]}" >"$SERVER_LOG" 2>&1 &
    LAUNCHER_PID=$!
    PORT=""
    for ((i = 0; i < 3000; i++)); do
      PORT=$(sed -n 's|^jembed serve: .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$SERVER_LOG" | head -n 1)
      [ -n "$PORT" ] && break
      kill -0 "$LAUNCHER_PID" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$PORT" ] && break
    if kill -0 "$LAUNCHER_PID" 2>/dev/null; then
      cat "$SERVER_LOG" >&2; die "./jembed serve did not listen within 300 s"
    fi
    wait "$LAUNCHER_PID" 2>/dev/null || true
    LAUNCHER_PID=""
    if [ "$attempt" -le 2 ] && grep -qE "$JAR_REWRITTEN" "$SERVER_LOG"; then
      say "./jembed serve failed to start while its jar was being rewritten (another build); retrying once it is stable"
      cp "$SERVER_LOG" "$SERVER_LOG.attempt-$attempt"
      STOP_NOTES+=("server $SERVER_RUNS: start attempt $attempt failed on a jar being rewritten: $(grep -m1 -E 'Error|Exception' "$SERVER_LOG")")
      wait_for_stable_jar
      continue
    fi
    cat "$SERVER_LOG" >&2; die "./jembed serve exited before listening"
  done
  if grep -q 'building the jar' "$SERVER_LOG"; then
    STOP_NOTES+=("server $SERVER_RUNS: the launcher rebuilt its jar before serving (core/ sources had changed)")
  fi
  SERVER_PID="$LAUNCHER_PID"
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" && break
    sleep 0.1
  done
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" || die "GET /health did not answer 200 within 30 s"
  say "server $SERVER_RUNS: pid $SERVER_PID on 127.0.0.1:$PORT, --max-concurrent-requests ${limit:-512 (default)}"
}

# SIGTERM to the JVM; it must finish and exit (with the launcher) within STOP_TIMEOUT s.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local start end rc=0 i
  start=$(date +%s.%N)
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  end=$(date +%s.%N)
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    STOP_NOTES+=("server $SERVER_RUNS: still running $STOP_TIMEOUT s after SIGTERM; killed")
    FAILED=true
  fi
  wait "$LAUNCHER_PID" || rc=$?
  local took
  took=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
  # A JVM ended by SIGTERM exits 143 (128 + 15) once its shutdown hooks ran.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then
    STOP_NOTES+=("server $SERVER_RUNS: exited $rc after SIGTERM (expected 0 or 143)")
    FAILED=true
  elif ! grep -q 'stopping; finishing requests in flight' "$SERVER_LOG"; then
    STOP_NOTES+=("server $SERVER_RUNS: exited $rc in $took s without its shutdown message")
    FAILED=true
  else
    STOP_NOTES+=("server $SERVER_RUNS: stopped by SIGTERM in $took s (exit $rc)")
  fi
  if grep -qiE 'exception|error' "$SERVER_LOG"; then
    STOP_NOTES+=("server $SERVER_RUNS: its log mentions errors:")
    while IFS= read -r line; do STOP_NOTES+=("    $line"); done < <(grep -iE 'exception|error' "$SERVER_LOG" | head -n 5)
  fi
  SERVER_PID=""; LAUNCHER_PID=""
}

# One field of the flat JSON line ServerLoadTest prints.
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1"; }
# Forward passes and inputs embedded so far, from the server's /metrics ("0 0" if it does not answer).
batches() {
  { curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" || true; } | awk '
    /^te_batch_next_size_sum / { s = $2 } /^te_batch_next_size_count / { c = $2 }
    END { printf "%d %d\n", c, s }'
}
# A number from the JSON with a printf format, or n/a for null.
num() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "" || v == "null") print "n/a"; else printf f "\n", v }'; }

ROWS=()
RATIOS=()
run=0
for entry in "${RUNS[@]}"; do
  run=$((run + 1))
  clients="${entry%%:*}"
  limit=""; [[ "$entry" == *:* ]] && limit="${entry##*:}"
  if [ -z "$SERVER_PID" ] || [ "$limit" != "$SERVER_LIMIT" ]; then
    stop_server
    start_server "$limit"
    # A fresh JVM runs the encoder interpreted until the JIT has compiled it; a 429 storm from the start
    # starves the compiler threads of CPU (on 2 cores a cold server then needs many seconds per pass).
    # So each new server first gets untimed load it can admit whole.
    if [ "$WARMUP" -gt 0 ]; then
      warm_clients=$(( clients < 16 ? clients : 16 )); warm_clients=$(( warm_clients < ${limit:-512} ? warm_clients : ${limit:-512} ))
      say "server $SERVER_RUNS: $WARMUP s of untimed warm-up load, $warm_clients clients..."
      "${TOOL_JAVA[@]}" io.jembed.benchmarks.ServerLoadTest --url "http://127.0.0.1:$PORT" --clients "$warm_clients" \
          --seconds "$WARMUP" --sentences "$SENTENCES" --json --expect-no-errors --expect-no-429 \
          >"$WORK/warmup-$SERVER_RUNS.json" 2>"$WORK/warmup-$SERVER_RUNS.log" \
        || NOTES+=("server $SERVER_RUNS: its warm-up load had errors or 429s: $(grep -E 'error|expected' "$WORK/warmup-$SERVER_RUNS.log" | head -n 3 | tr '\n' ' ')")
    fi
  fi
  expect=(--expect-no-errors)
  if [ "$clients" -le "${limit:-512}" ]; then expect+=(--expect-no-429); fi
  read -r passes_before inputs_before <<<"$(batches)"
  say "run $run: $clients clients, $RUN_WARMUP s not counted + $SECONDS_PER_RUN s..."
  rc=0
  json=$("${TOOL_JAVA[@]}" io.jembed.benchmarks.ServerLoadTest --url "http://127.0.0.1:$PORT" --clients "$clients" \
      --seconds "$SECONDS_PER_RUN" --warmup-seconds "$RUN_WARMUP" --sentences "$SENTENCES" --pid "$SERVER_PID" --json \
      "${expect[@]}" 2>"$WORK/load-$run.log") || rc=$?
  [ -n "$json" ] || { cat "$WORK/load-$run.log" >&2; die "ServerLoadTest printed no result (exit $rc)"; }
  sed 's/^/    /' "$WORK/load-$run.log" | grep -v ': POST ' >&2 || true
  read -r passes_after inputs_after <<<"$(batches)"
  passes=$((passes_after - passes_before))
  mean_batch=$(awk -v p="$passes" -v i="$((inputs_after - inputs_before))" 'BEGIN { if (p > 0) printf "%.1f", i / p; else print "n/a" }')
  n429=$(field "$json" status_429); errors=$(field "$json" errors); tput=$(field "$json" throughput_200_per_s)
  ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' "$clients" "${limit:-512}" \
    "$(field "$json" requests)" "$(num "$tput" %.1f)" "$(num "$(field "$json" latency_p50_ms)" %.0f)" \
    "$(num "$(field "$json" latency_p99_ms)" %.0f)" "$(num "$(field "$json" latency_max_ms)" %.0f)" "$n429" "$errors" \
    "$(num "$(field "$json" max_rss_mib)" %.0f)")")
  RATIOS+=("$(awk -v c="$clients" -v t="$tput" -v w="$CLI_RATE" -v i="$CLI_INNER" 'BEGIN {
    printf "  %3d clients: %.2fx the CLI wall rate", c, t / w
    if (i != "n/a" && i > 0) printf ", %.2fx its in-process rate", t / i
    printf "\n" }')")
  NOTES+=("run $run ($clients clients, limit ${limit:-512}): 200 latency p90 $(num "$(field "$json" latency_p90_ms)" %.0f) ms; $( [ "$n429" = 0 ] && echo "no 429s" || echo "429 latency p50 $(num "$(field "$json" latency_429_p50_ms)" %.1f) ms, max $(num "$(field "$json" latency_429_max_ms)" %.0f) ms"); CPU: server $(num "$(field "$json" server_cpu_cores)" %.2f) cores, load generator $(num "$(field "$json" client_cpu_cores)" %.2f); server VmHWM $(num "$(field "$json" peak_rss_mib)" %.0f) MiB; $passes forward passes, $mean_batch inputs each (the run's first $RUN_WARMUP s included)")
  if [ "$rc" -ne 0 ]; then
    FAILED=true
    NOTES+=("run $run FAILED its expectations (exit $rc): $(grep 'expected no' "$WORK/load-$run.log" | tr '\n' ' ')")
  fi
  if [ "$clients" -gt "${limit:-512}" ] && [ "$n429" = 0 ]; then
    FAILED=true
    NOTES+=("run $run FAILED: $clients clients against --max-concurrent-requests $limit gave no 429")
  fi
done
stop_server

# ---- 3. the report ---------------------------------------------------------------------------------------
echo "jembed serve under load, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores visible (server and load generator share them)"
echo "jdk:    $JAVA_HOME_USED ($("$JAVA" -version 2>&1 | head -n 1))"
echo "source: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo ' + uncommitted changes')"
echo "input:  $TEXTS generated sentences (seed 42), one per request, POST /embed {\"inputs\": s}"
echo "cli:    ./jembed embed --input IN --output OUT: $CLI_WALL s wall = $CLI_RATE sentences/s (JVM start and model"
echo "        load included); its own summary: $CLI_INNER texts/s in-process"
echo "runs:   each new server first gets $WARMUP s of untimed load (at most 16 clients, no 429s); each run is"
echo "        $RUN_WARMUP s not counted + $SECONDS_PER_RUN s measured; each client one request at a time, 429s retried at once"
echo
echo "| clients | limit | requests | 200/s | p50 ms | p99 ms | max ms | 429s | errors | max RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "server 200/s over the CLI's sentences/s:"
printf '%s\n' "${RATIOS[@]}"
echo
printf '%s\n' "${NOTES[@]}" "${STOP_NOTES[@]}"
echo "load average: $LOAD_AT_START before the CLI run, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
if $FAILED; then die "an expectation failed (see above)"; fi

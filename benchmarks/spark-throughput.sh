#!/usr/bin/env bash
# The Spark job against the CLI on the same texts, same machine, one after another:
#   cli        ./jembed embed (one JVM, --threads 2)
#   local[2]   ./jembed spark (driver and executor in one JVM, 2 task slots)
#   1 executor spark/standalone.sh: a master and 1 worker of 1 core; the executor is its own JVM
#   2 executors the same with 2 workers of 1 core each (2 executor JVMs, each loading the model)
# Prints per run the whole-process seconds (JVM start, Spark start, model loads, embedding, writing)
# and the job's own seconds (EmbedJob's summary: the embedding and writing stage), with rows/s of each.
#
#   benchmarks/spark-throughput.sh [--model all-MiniLM-L6-v2] [--copies 1]
#
# Texts: the 2,067 SQuAD v1.1 dev paragraphs (../shared/data), --copies times (ids made unique).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=all-MiniLM-L6-v2
COPIES=1
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="${2:?--model needs a value}"; shift 2 ;;
    --copies) COPIES="${2:?--copies needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "spark-throughput: unknown option $1" >&2; exit 2 ;;
  esac
done
DATA="$ROOT/../shared/data/squad-v1.1-dev/paragraphs.jsonl"
[ -f "$DATA" ] || { echo "spark-throughput: no $DATA" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/jembed-spark-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
for c in $(seq 1 "$COPIES"); do
  sed "s|\"pid\": \"\([^\"]*\)\"|\"pid\": \"\1/$c\"|" "$DATA"
done > "$WORK/corpus.jsonl"
ROWS=$(wc -l < "$WORK/corpus.jsonl")
ARGS=(--input "$WORK/corpus.jsonl" --id-field pid --text-field context --model "$MODEL")
# Build everything first, so no run pays for it.
"$ROOT/jembed" model setup "$MODEL" >/dev/null || exit 1
"$ROOT/jembed" spark --help >/dev/null || exit 1

lscpu | grep 'Model name' | sed 's/^Model name: */CPU: /'
printf '%s rows, %s\n' "$ROWS" "$MODEL"
printf '%-12s %10s %10s %10s %10s\n' run "whole s" "rows/s" "job s" "rows/s"

row() { # name, seconds, job seconds
  awk -v n="$1" -v s="$2" -v j="$3" -v r="$ROWS" 'BEGIN {
    if (j == "") printf "%-12s %10.1f %10.0f %10s %10s\n", n, s, r / s, "-", "-";
    else printf "%-12s %10.1f %10.0f %10.1f %10.0f\n", n, s, r / s, j, r / j }'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { print a - b }'; }
job_seconds() { sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$1" | tail -n 1; }

start=$(now)
"$ROOT/jembed" embed "${ARGS[@]}" --threads 2 --output "$WORK/cli.jsonl" 2> "$WORK/cli.err" || { cat "$WORK/cli.err" >&2; exit 1; }
row cli "$(elapsed "$start")" ""

start=$(now)
"$ROOT/jembed" spark "${ARGS[@]}" --output "$WORK/local" 2> "$WORK/local.err" || { tail "$WORK/local.err" >&2; exit 1; }
row "local[2]" "$(elapsed "$start")" "$(job_seconds "$WORK/local.err")"

for workers in 1 2; do
  start=$(now)
  "$ROOT/spark/standalone.sh" run --workers "$workers" --cores 1 --memory 2g -- "${ARGS[@]}" --output "$WORK/cluster-$workers" \
    2> "$WORK/cluster-$workers.err" || { tail "$WORK/cluster-$workers.err" >&2; exit 1; }
  row "$workers executor$([ "$workers" -gt 1 ] && echo s)" "$(elapsed "$start")" "$(job_seconds "$WORK/cluster-$workers.err")"
done

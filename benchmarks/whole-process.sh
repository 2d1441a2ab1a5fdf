#!/usr/bin/env bash
# The whole-process race of issue 9: jembed's CLI against ONNX Runtime, each side timed wall-clock from
# outside as the one process a user starts (JVM start, model load, read JSONL, embed, write JSONL).
#
#   benchmarks/whole-process.sh [--sentences 300,3000,6000] [--paragraphs 1000] [--rounds 3]
#                               [--model all-MiniLM-L6-v2] [--threads 2] [--no-build]
#
# Per workload (N generated sentences, seed 42; the first N SQuAD v1.1 dev paragraphs) the input is
# written once (WriteCorpus), then each round runs, one after the other,
#   jembed:  ./jembed embed --input IN --output OUT        the launcher exactly as a user runs it
#   ort:     java -cp COPY io.jembed.benchmarks.OrtFileEmbed --input IN --output OUT --threads T
#            with the launcher's JDK: whole corpus sorted by token count, padded batches of 32 (ORT's best mode)
# and the last outputs of the two are checked to agree (CompareEmbeddings: ids in the same order, cosine
# >= 0.9999 on every line). Before the first workload one untimed run of each fills the page cache and
# the native-library caches, so the first timed round is not the only one paying for them.
#
# The table gives min and median seconds per engine, texts/s at the median, jembed's speed relative to
# ORT's (ORT seconds / jembed seconds: above 1 means jembed is faster), and the marginal rate between the
# two largest sentence workloads, (n2 - n1) / (t2 - t1) on medians: texts/s once start-up is paid.
# Builds the benchmarks jar as './jembed bench' does and runs a copy of it, so a rebuild during the race
# cannot change the ORT side; every temporary file is deleted at exit. Exits 1 if a run fails or the
# outputs disagree.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER="$ROOT/jembed"
SENTENCES="300,3000,6000"
PARAGRAPHS="1000"
ROUNDS=3
MODEL="all-MiniLM-L6-v2"
THREADS=2
BUILD=true

say() { printf 'whole-process: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; }

counts_ok() { [[ "$1" =~ ^([1-9][0-9]*(,[1-9][0-9]*)*)?$ ]]; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sentences|--paragraphs|--rounds|--model|--threads)
      [ $# -ge 2 ] || { say "argument $1: expected a value, found the end of the arguments"; usage; exit 2; } ;;
  esac
  case "$1" in
    --sentences) SENTENCES="$2"; shift 2 ;;
    --paragraphs) PARAGRAPHS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) say "argument '$1': expected one of --sentences, --paragraphs, --rounds, --model, --threads, --no-build"; usage; exit 2 ;;
  esac
done
counts_ok "$SENTENCES" || { say "argument --sentences: expected comma-separated counts >= 1 (or empty), found '$SENTENCES'"; exit 2; }
counts_ok "$PARAGRAPHS" || { say "argument --paragraphs: expected comma-separated counts >= 1 (or empty), found '$PARAGRAPHS'"; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { say "argument --rounds: expected an integer >= 1, found '$ROUNDS'"; exit 2; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { say "argument --threads: expected an integer >= 1, found '$THREADS'"; exit 2; }
[ -n "$SENTENCES$PARAGRAPHS" ] || { say "arguments --sentences and --paragraphs: expected at least one workload, found none"; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/jembed-whole-process.XXXXXX")" || die "could not create a temporary directory"
trap 'rm -rf "$WORK"' EXIT

# The JDK the launcher picked, as the launcher itself reports it: the ORT side runs on the same one. This
# first launch also builds the launcher's jar when sources are newer than it, so no timed run does.
JEMBED_JAVA_OPTS=-XshowSettings:properties "$LAUNCHER" --version >"$WORK/probe.log" 2>&1
JAVA_HOME_USED="$(sed -n 's/^ *java\.home = //p' "$WORK/probe.log" | head -n 1)"
JAVA="$JAVA_HOME_USED/bin/java"
[ -n "$JAVA_HOME_USED" ] && [ -x "$JAVA" ] || { tail -n 30 "$WORK/probe.log" >&2; die "could not tell which JDK ./jembed runs (see above)"; }

if $BUILD; then
  say "building the benchmarks jar..."
  (cd "$ROOT" && JAVA_HOME="$JAVA_HOME_USED" mvn -B -q -Dmaven.test.skip=true -pl benchmarks -am package) \
    >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; die "build failed"; }
fi

# The model must be set up before any timed run (the CLI would otherwise fetch and convert it inside the
# first one).
say "setting up $MODEL (untimed)..."
"$LAUNCHER" model setup "$MODEL" >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; die "model setup failed"; }

[ -f "$ROOT/benchmarks/target/benchmarks.jar" ] || die "no benchmarks/target/benchmarks.jar (run without --no-build)"
BENCH_JAR="$WORK/benchmarks.jar"
cp "$ROOT/benchmarks/target/benchmarks.jar" "$BENCH_JAR"
# ONNX Runtime and DJL load native libraries; without the flag JDK 24+ warns on each load. ONNX Runtime
# unpacks its library into a java.io.tmpdir directory it leaves behind (empty), and OrtPeer unpacks the
# model there: pointing it into $WORK lets the exit trap remove both.
ORT_JAVA=("$JAVA" --enable-native-access=ALL-UNNAMED "-Djava.io.tmpdir=$WORK" -cp "$BENCH_JAR")

# jembed embed honours $JEMBED_MODEL; name the model only when that would pick another one.
JEMBED_MODEL_ARGS=()
if [ "${JEMBED_MODEL:-all-MiniLM-L6-v2}" != "$MODEL" ]; then JEMBED_MODEL_ARGS=(--model "$MODEL"); fi

# Runs one engine once on IN, writing OUT; prints the wall-clock seconds. A failed run ends the script.
run_engine() {
  local engine="$1" in="$2" out="$3" start end
  local log="$WORK/$engine.log"
  rm -f "$out"
  start=$(date +%s.%N)
  if [ "$engine" = jembed ]; then
    "$LAUNCHER" embed --input "$in" --output "$out" "${JEMBED_MODEL_ARGS[@]}" >"$log" 2>&1
  else
    "${ORT_JAVA[@]}" io.jembed.benchmarks.OrtFileEmbed --catalogue-model "$MODEL" --threads "$THREADS" \
      --input "$in" --output "$out" >"$log" 2>&1
  fi
  local rc=$?
  end=$(date +%s.%N)
  if [ $rc -ne 0 ]; then
    tail -n 30 "$log" >&2
    die "$engine failed (exit $rc) on $in"
  fi
  # A launcher rebuild inside a timed run would count a compile as embedding time.
  if grep -q 'building the jar' "$log"; then
    die "./jembed rebuilt its jar during a timed run (sources under core/ changed); rerun when they are stable"
  fi
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

WORKLOADS=()
IFS=, read -r -a sentence_counts <<<"$SENTENCES"
IFS=, read -r -a paragraph_counts <<<"$PARAGRAPHS"
for n in "${sentence_counts[@]}"; do WORKLOADS+=("sentences:$n"); done
for n in "${paragraph_counts[@]}"; do WORKLOADS+=("squad:$n"); done

write_input() {
  local corpus="$1" n="$2" file="$3"
  "${ORT_JAVA[@]}" io.jembed.benchmarks.WriteCorpus --corpus "$corpus" --texts "$n" --output "$file" \
    >"$WORK/write.log" 2>&1 || { cat "$WORK/write.log" >&2; die "could not write $n $corpus"; }
}

echo "whole-process race, jembed CLI vs ONNX Runtime, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:    $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores visible, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "jdk:    $JAVA_HOME_USED ($("$JAVA" -version 2>&1 | head -n 1))"
echo "source: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && echo ' + uncommitted changes')"
echo "model:  $MODEL; jembed: ./jembed embed --input IN --output OUT${JEMBED_MODEL_ARGS[*]:+ ${JEMBED_MODEL_ARGS[*]}} (its defaults);"
echo "        ort: OrtFileEmbed, $THREADS intra-op threads, batches of 32 sorted by token count;"
echo "        rounds: $ROUNDS, the two engines alternating; one untimed warm-up run of each first"

say "warm-up: one untimed run of each engine..."
write_input sentences 50 "$WORK/warmup.jsonl"
run_engine jembed "$WORK/warmup.jsonl" "$WORK/warmup-jembed.jsonl" >/dev/null
run_engine ort "$WORK/warmup.jsonl" "$WORK/warmup-ort.jsonl" >/dev/null

declare -A TIMES
AGREEMENT=()
FAILED=false
for workload in "${WORKLOADS[@]}"; do
  corpus="${workload%%:*}"; n="${workload##*:}"
  in="$WORK/$corpus-$n.jsonl"
  write_input "$corpus" "$n" "$in"
  for ((round = 1; round <= ROUNDS; round++)); do
    for engine in jembed ort; do
      t=$(run_engine "$engine" "$in" "$WORK/$corpus-$n-$engine.out.jsonl") || exit 1
      TIMES["$workload:$engine"]+="$t "
      say "$corpus $n, round $round/$ROUNDS: $engine $t s"
    done
  done
  if verdict=$("${ORT_JAVA[@]}" io.jembed.benchmarks.CompareEmbeddings \
        --first "$WORK/$corpus-$n-jembed.out.jsonl" --second "$WORK/$corpus-$n-ort.out.jsonl" 2>&1); then
    AGREEMENT+=("$corpus $n: ${verdict% (*}")
  else
    AGREEMENT+=("$corpus $n: ${verdict}")
    FAILED=true
  fi
done

# min and median of a list of seconds
stats() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ t[NR] = $1 } END {
  m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", t[1], m }'; }

echo
printf '%-10s %7s  %-7s %8s %9s %9s  %s\n' workload texts engine "min s" "median s" "texts/s" "jembed/ORT speed"
for workload in "${WORKLOADS[@]}"; do
  corpus="${workload%%:*}"; n="${workload##*:}"
  read -r jmin jmed <<<"$(stats "${TIMES[$workload:jembed]}")"
  read -r omin omed <<<"$(stats "${TIMES[$workload:ort]}")"
  awk -v c="$corpus" -v n="$n" -v jmin="$jmin" -v jmed="$jmed" -v omin="$omin" -v omed="$omed" 'BEGIN {
    printf "%-10s %7d  %-7s %8.2f %9.2f %9.0f  %.2fx\n", c, n, "jembed", jmin, jmed, n / jmed, omed / jmed
    printf "%-10s %7s  %-7s %8.2f %9.2f %9.0f\n", "", "", "ort", omin, omed, n / omed }'
done

# The two largest sentence workloads: their difference in texts over their difference in median seconds.
if [ "${#sentence_counts[@]}" -ge 2 ]; then
  mapfile -t sorted < <(printf '%s\n' "${sentence_counts[@]}" | sort -n | uniq | tail -n 2)
  if [ "${#sorted[@]}" -eq 2 ]; then
    small="${sorted[0]}"; large="${sorted[1]}"
    echo
    echo "marginal rate, sentences $large minus $small: $((large - small)) / (t$large - t$small), medians"
    rates=()
    for engine in jembed ort; do
      read -r _ tsmall <<<"$(stats "${TIMES[sentences:$small:$engine]}")"
      read -r _ tlarge <<<"$(stats "${TIMES[sentences:$large:$engine]}")"
      rate=$(awk -v a="$tsmall" -v b="$tlarge" -v d="$((large - small))" 'BEGIN { if (b > a) printf "%.0f", d / (b - a); else print "n/a" }')
      rates+=("$rate")
      printf '  %-7s %s texts/s  (%.2f s -> %.2f s)\n' "$engine" "$rate" "$tsmall" "$tlarge"
    done
    if [ "${rates[0]}" != n/a ] && [ "${rates[1]}" != n/a ]; then
      awk -v j="${rates[0]}" -v o="${rates[1]}" 'BEGIN { printf "  jembed/ORT marginal speed %.2fx\n", j / o }'
    fi
  fi
fi

echo
echo "outputs (jembed vs ort, last round):"
printf '  %s\n' "${AGREEMENT[@]}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if $FAILED; then die "the two engines' outputs disagree (see above)"; fi

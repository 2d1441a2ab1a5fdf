#!/usr/bin/env bash
# Retrieval figures through jembed's own CLI: whole documents (cut at the model's max length) against
# documents in overlapping windows, float32 against int8 vectors, and the flat index against hnsw, on
# BEIR SciFact or SQuAD v1.1 dev.
#
#   benchmarks/retrieval.sh [--dataset scifact|squad] [--model all-MiniLM-L6-v2] [--chunk-tokens N]
#                           [--chunk-overlap M] [--threads 2] [--runs whole,int8,chunks,hnsw] [--ef 50,100,200]
#                           [--work DIR] [--no-build]
#
# Reads ../shared/data: scifact = beir-scifact (5,183 abstracts, titles and abstracts joined as BEIR does,
# the 300 judged test queries, graded qrels); squad = squad-v1.1-dev (2,067 paragraphs, 10,570 questions,
# each relevant to its own paragraph). Builds, with one jar copy throughout (so a rebuild meanwhile
# cannot change what is measured):
#   whole:   jembed index                               (texts past the max length cut, as by default)
#   int8:    the same with --quantize int8
#   chunks:  the same with --chunk-tokens N --chunk-overlap M (default: the model's largest window, half of it)
#   hnsw:    whole's documents and vectors copied into an --type hnsw index (HnswBenchmark --from-index:
#            nothing embedded again, so both types hold the very same vectors), searched at each --ef
# then `jembed search --queries` (k = 10) on each and BeirScore's nDCG@10 and recall@10; for int8 also
# recall@10 of its ids against float32's top 10; for hnsw at each ef too, against flat's top 10. Prints one table; every index and output is deleted at
# exit unless --work DIR is given.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATASET="scifact"
MODEL="all-MiniLM-L6-v2"
CHUNK_TOKENS=""
CHUNK_OVERLAP=""
THREADS=2
WORK=""
RUNS="whole,int8,chunks"
EFS="50,100,200"
BUILD=true

say() { printf 'retrieval: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '6,8p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dataset) DATASET="${2:?--dataset needs a value}"; shift 2 ;;
    --model) MODEL="${2:?--model needs a value}"; shift 2 ;;
    --chunk-tokens) CHUNK_TOKENS="${2:?--chunk-tokens needs a value}"; shift 2 ;;
    --chunk-overlap) CHUNK_OVERLAP="${2:?--chunk-overlap needs a value}"; shift 2 ;;
    --threads) THREADS="${2:?--threads needs a value}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
    --ef) EFS="${2:?--ef needs a value}"; shift 2 ;;
    --work) WORK="${2:?--work needs a value}"; shift 2 ;;
    --no-build) BUILD=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) say "unknown argument '$1'"; usage; exit 2 ;;
  esac
done
case "$DATASET" in
  scifact)
    DATA="$ROOT/../shared/data/beir-scifact"; CORPUS="$DATA/corpus.jsonl"
    FIELDS=(--id-field _id --text-field title,text); QUERY_FIELDS=(--id-field _id --text-field text) ;;
  squad)
    DATA="$ROOT/../shared/data/squad-v1.1-dev"; CORPUS="$DATA/paragraphs.jsonl"
    FIELDS=(--id-field pid --text-field context); QUERY_FIELDS=(--id-field qid --text-field question) ;;
  *) say "--dataset: expected scifact or squad, found '$DATASET'"; exit 2 ;;
esac
[ -f "$CORPUS" ] || die "expected the $DATASET corpus at $CORPUS, found none (see ../shared/data)"

# The launcher's JDK and JVM flags: it prints nothing for --version once the jar is built.
"$ROOT/jembed" --version >/dev/null || die "the launcher could not build or run jembed"
JAVA=""
for candidate in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  if [ -x "$candidate/bin/java" ] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
    JAVA="$candidate/bin/java"; break
  fi
done
[ -n "$JAVA" ] || die "expected a JDK 25 or newer, found none"
FLAGS=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx4g -Xss4m)

if $BUILD; then
  # Maven must run on that JDK too: a new user's shell has java 17 first, which the build refuses.
  (cd "$ROOT" && JAVA_HOME="$(dirname "$(dirname "$JAVA")")" mvn -B -q -Dmaven.test.skip=true -pl benchmarks -am package) >/dev/null 2>&1 \
    || die "building the benchmarks jar failed (run: mvn -B -Dmaven.test.skip=true -pl benchmarks -am package)"
fi
if [ -z "$WORK" ]; then
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/jembed-retrieval.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
else
  mkdir -p "$WORK" || die "cannot create --work $WORK"
fi
JAR="$WORK/benchmarks.jar"
cp "$ROOT/benchmarks/target/benchmarks.jar" "$JAR" || die "no benchmarks jar; drop --no-build"
jembed() { "$JAVA" "${FLAGS[@]}" -cp "$JAR" io.jembed.core.cli.Main "$@" 2> >(grep -v '^WARNING: Using incubator' >&2); }
score() { "$JAVA" -cp "$JAR" io.jembed.benchmarks.BeirScore "$@"; }

if [ "$DATASET" = scifact ]; then
  QRELS="$DATA/qrels/test.tsv"
  score --qrels "$QRELS" --queries "$DATA/queries.jsonl" --select-queries "$WORK/queries.jsonl" || exit 1
else
  QRELS="$WORK/qrels.tsv"
  score --squad-qrels "$DATA/questions.jsonl" --output "$QRELS" || exit 1
  cp "$DATA/questions.jsonl" "$WORK/queries.jsonl"
fi
COMMON=(--input "$CORPUS" "${FIELDS[@]}" --model "$MODEL" --threads "$THREADS")
if [ -z "$CHUNK_TOKENS" ]; then
  # The largest window the model takes: its max length less [CLS], [SEP] and the document prompt's
  # tokens (none for all-MiniLM-L6-v2 and bge; e5's "passage: " is 2), counted by tokenizing an empty
  # text under the prompt the index will use.
  MAX=$(jembed model list 2>/dev/null | awk -v m="$MODEL" '$1 == m { print $5 }')
  SPECIALS=$(echo '{"id": 1, "text": ""}' | jembed tokenize --input - --output - --model "$MODEL" \
    --prompt-name document 2>/dev/null | sed -n 's/.*"input_ids":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | grep -c .)
  [ "${SPECIALS:-0}" -ge 2 ] || SPECIALS=2
  CHUNK_TOKENS=$(( ${MAX:-256} - SPECIALS ))
fi
CHUNK_OVERLAP="${CHUNK_OVERLAP:-$(( CHUNK_TOKENS / 2 ))}"

run() { # name, index options...
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  jembed index "${COMMON[@]}" --output "$WORK/$name" "$@" || die "index $name failed"
  end=$(date +%s.%N)
  jembed search --index "$WORK/$name" --queries "$WORK/queries.jsonl" "${QUERY_FIELDS[@]}" -k 10 \
    --output "$WORK/$name.hits.jsonl" --threads "$THREADS" || die "search $name failed"
  printf '%-34s %s  index %.0f s\n' "$name $*" "$(score --qrels "$QRELS" --run "$WORK/$name.hits.jsonl")" \
    "$(echo "$end - $start" | bc)" >> "$WORK/table.txt"
}
: > "$WORK/table.txt"
wanted() { [[ ",$RUNS," == *",$1,"* ]]; }
wanted whole && run whole
wanted int8 && run int8 --quantize int8
wanted chunks && run chunks --chunk-tokens "$CHUNK_TOKENS" --chunk-overlap "$CHUNK_OVERLAP"
if wanted hnsw; then
  [ -d "$WORK/whole" ] || die "--runs hnsw needs whole too (the hnsw index is made from its vectors)"
  start=$(date +%s.%N)
  "$JAVA" "${FLAGS[@]}" -cp "$JAR" io.jembed.benchmarks.HnswBenchmark --from-index "$WORK/whole" \
    --output "$WORK/hnsw" 2> >(grep -v '^WARNING: Using incubator' >&2) >&2 || die "copying whole into hnsw failed"
  end=$(date +%s.%N)
  for ef in ${EFS//,/ }; do
    jembed search --index "$WORK/hnsw" --queries "$WORK/queries.jsonl" "${QUERY_FIELDS[@]}" -k 10 --ef "$ef" \
      --output "$WORK/hnsw-$ef.hits.jsonl" --threads "$THREADS" || die "search hnsw --ef $ef failed"
    printf '%-34s %s  graph %.0f s; vs flat: %s\n' "hnsw --ef $ef" \
      "$(score --qrels "$QRELS" --run "$WORK/hnsw-$ef.hits.jsonl")" "$(echo "$end - $start" | bc)" \
      "$(score --reference "$WORK/whole.hits.jsonl" --run "$WORK/hnsw-$ef.hits.jsonl")" >> "$WORK/table.txt"
  done
fi
# int8 against float32: how many of float32's top 10 the int8 index (scan + exact re-scoring) keeps.
[ -f "$WORK/whole.hits.jsonl" ] && [ -f "$WORK/int8.hits.jsonl" ] && score --reference "$WORK/whole.hits.jsonl" --run "$WORK/int8.hits.jsonl" \
  | sed 's/^/int8 top 10 vs float32 top 10: /' >> "$WORK/table.txt"
say "$DATASET, $MODEL on $(lscpu | sed -n 's/^Model name: *//p'), $THREADS threads:"
cat "$WORK/table.txt"

#!/usr/bin/env bash
# Multi-run commands on every core against one (issue 20): each command runs with one worker
# thread and with every core, the outputs must be byte-identical, and the speed-up is the
# ratio of the median wall times (REPS runs each, default 3, alternating one thread and every
# core). Usage: [REPS=N] scripts/multirun-scaling.sh [BIN]
# (default: target/release/streamlab, built first). Run it on an otherwise idle machine:
# wall time on a shared machine measures the other work too.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release -q
  BIN=target/release/streamlab
fi
CORES=$(nproc)
REPS=${REPS:-3}
MID=$(( (REPS + 1) / 2 ))
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# name | command (OUT is replaced by an output directory)
COMMANDS=(
  "sweep|sweep scenarios/latency_vs_throughput.toml --set sources.events.rate=1000,5000,10000,20000,50000,100000 --out OUT"
  "compare|compare scenarios/streaming_vs_microbatch.toml --out OUT"
  "chaos|chaos scenarios/chaos_finds_duplicates.toml --runs 200 --out OUT"
  "crashpoints|crashpoints scenarios/exactly_once_vs_at_least_once.toml --out OUT"
)


run_with() { # threads name command rep
  local threads=$1 name=$2 cmd=$3 rep=$4
  # Every run writes to the same path (commands print it), then is moved aside.
  local out="$TMP/run" keep="$TMP/$name.$threads.$rep"
  rm -rf "$out"; mkdir -p "$out"
  local args=${cmd//OUT/$out/dir}
  if [ "$name" = chaos ]; then args="$args --jobs $threads"; fi
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  RAYON_NUM_THREADS=$threads "$BIN" $args > "$out/stdout" 2> "$out/stderr" || true
  end=$(date +%s.%N)
  mv "$out" "$keep"
  echo "$end - $start" | bc
}

printf '%-12s %10s %10s %8s  %s\n' command "1 thread" "$CORES cores" speedup "outputs"
for entry in "${COMMANDS[@]}"; do
  name=${entry%%|*}; cmd=${entry#*|}
  one=(); all=()
  for rep in $(seq "$REPS"); do
    one+=("$(run_with 1 "$name" "$cmd" "$rep")")
    all+=("$(run_with "$CORES" "$name" "$cmd" "$rep")")
  done
  t1=$(printf '%s\n' "${one[@]}" | sort -n | sed -n "${MID}p")
  tn=$(printf '%s\n' "${all[@]}" | sort -n | sed -n "${MID}p")
  # Same outputs: stdout and every file written, except wall-time lines.
  same=identical
  a="$TMP/$name.1.1"; b="$TMP/$name.$CORES.1"
  if ! diff -q <(grep -v "wall time" "$a/stdout") <(grep -v "wall time" "$b/stdout") > /dev/null \
     || ! diff -r -q "$a/dir" "$b/dir" > /dev/null 2>&1; then
    same=DIFFERENT
  fi
  printf '%-12s %9.2fs %9.2fs %7.2fx  %s\n' "$name" "$t1" "$tn" "$(echo "$t1 / $tn" | bc -l)" "$same"
done

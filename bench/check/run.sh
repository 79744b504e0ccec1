#!/bin/sh
# Benchmarks the front end on a generated ~20,000-line program.
#
#   bench/check/run.sh [BUILD_DIR] [LINES]
#
# Generates the program and its connectors with gen.py into a temporary
# folder, then times the parse alone (flow_parse_bench) and, when the `flow`
# binary exists, the whole `flow check --timings` (parse and check seconds on
# stderr). Prints lines/s for each.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
lines=${2:-20000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

python3 "$here/gen.py" "$out" --lines "$lines"
file="$out/bench.flow"
count=$(wc -l < "$file")

if [ -x "$build/flow_parse_bench" ]; then
  "$build/flow_parse_bench" --repeat 5 "$file"
fi

if [ -x "$build/flow" ]; then
  start=$(date +%s.%N)
  status=0
  "$build/flow" check --timings "$file" || status=$?
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'flow check: {int(sys.argv[3])} lines in {s:.3f} s, {int(sys.argv[3])/s:.0f} lines/s (exit {sys.argv[4]})')" \
    "$start" "$end" "$count" "$status"
fi

#!/bin/sh
# Before/after: times two flow binaries on the same compute programs.
#
#   bench/compute/pairs.sh BEFORE_FLOW AFTER_FLOW [RUNS] [PROGRAM...]
#
# For each program (default: fib loop_mod list_sum strings), one hyperfine
# invocation with the two binaries as commands `before` and `after` (RUNS
# timed runs each, default 20, after 1 warmup; a fresh database per run, as
# run.sh does) and one table row: CPU seconds (user + system, mean) of each,
# their ratio, and the median wall seconds of each. On a shared machine the
# ratio moves by tens of percent between identical runs: for a verdict, count
# instructions (docs/performance.md, "Issue 12").
set -eu
[ "$#" -ge 2 ] || { echo "usage: pairs.sh BEFORE_FLOW AFTER_FLOW [RUNS] [PROGRAM...]" >&2; exit 2; }
before=$1; after=$2; shift 2
runs=${1:-20}; [ "$#" -gt 0 ] && shift
programs=${*:-fib loop_mod list_sum strings}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| program | before CPU s | after CPU s | after/before | before wall s | after wall s |"
echo "|---|---|---|---|---|---|"
for p in $programs; do
  hyperfine -N --runs "$runs" --warmup 1 --export-json "$out/$p.json" \
    --prepare "rm -f $out/flow.db $out/flow.db-wal $out/flow.db-shm" \
    -n before "env FLOW_DB=$out/flow.db $before run $here/$p.flow --json" \
    -n after "env FLOW_DB=$out/flow.db $after run $here/$p.flow --json" >/dev/null
  python3 - "$out/$p.json" "$p" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
b, a = results["before"], results["after"]
cpu_b, cpu_a = b["user"] + b["system"], a["user"] + a["system"]
print(f"| {sys.argv[2]} | {cpu_b:.3f} | {cpu_a:.3f} | {cpu_a / cpu_b:.2f} | {b['median']:.3f} | {a['median']:.3f} |")
PY
done

#!/usr/bin/env bash
# The cost of a child workflow call (docs/performance.md, "Child runs"):
#
#   bash bench/child/run.sh [BUILD_DIR] [RUNS]      (defaults: build, 5)
#
# Times `flow run` of 100 child calls, each child one builtin step
# (children.flow), against the same 100 steps in one run (steps.flow), with
# hyperfine (a fresh database per run, stderr to /dev/null), then counts
# the durable points of one run of each: the journal rows and the runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:-$here/../../build}")
runs=${2:-5}
flow=$build/flow
[ -x "$flow" ] || { echo "run.sh: no flow binary at $flow" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
hyperfine --warmup 1 --runs "$runs" --prepare "rm -f $work/flow.db*" \
  "$flow run $here/children.flow --workflow calls --db $work/flow.db 2>/dev/null" \
  "$flow run $here/steps.flow --workflow steps --db $work/flow.db 2>/dev/null"
for f in children:calls steps:steps; do
  rm -f "$work"/flow.db*
  "$flow" run "$here/${f%%:*}.flow" --workflow "${f##*:}" --db "$work/flow.db" 2>/dev/null >/dev/null
  python3 - "$work/flow.db" "${f%%:*}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
rows = db.execute("SELECT count(*) FROM journal").fetchone()[0]
print("%s: %d runs, %d journal rows" % (sys.argv[2], runs, rows))
PY
done

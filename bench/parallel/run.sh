#!/usr/bin/env bash
# Parallel branches (docs/performance.md, "Parallel branches"):
#
#   bash bench/parallel/run.sh [BUILD_DIR] [RUNS]      (defaults: build, 3)
#
# 1. 100 exec calls of 100 ms (sh: sleep 0.1) through `parallel for ...
#    limit 10` against the same 100 calls in a `for` loop: the ratio should
#    be about 1/10.
# 2. The cost of a branch on pure code: 100,000 `parallel for` items of one
#    multiplication against the same loop appending to a list.
# hyperfine, a fresh database per run, stderr to /dev/null.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath "${1:-$here/../../build}")
runs=${2:-3}
flow=$build/flow
[ -x "$flow" ] || { echo "run.sh: no flow binary at $flow" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$here"
hyperfine --warmup 0 --runs "$runs" --prepare "rm -f $work/flow.db*" \
  "$flow run calls.flow --workflow parallel_calls --input '{\"n\": 100}' --db $work/flow.db 2>/dev/null" \
  "$flow run calls.flow --workflow sequential_calls --input '{\"n\": 100}' --db $work/flow.db 2>/dev/null"
hyperfine --warmup 1 --runs "$((runs + 2))" --prepare "rm -f $work/flow.db*" \
  "$flow run calls.flow --workflow pure_branches --input '{\"n\": 100000}' --db $work/flow.db 2>/dev/null" \
  "$flow run calls.flow --workflow pure_loop --input '{\"n\": 100000}' --db $work/flow.db 2>/dev/null"

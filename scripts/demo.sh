#!/usr/bin/env bash
# The end-to-end demo the first README command finishes with: what
# `flow check` catches, then every example run against the stand-in services
# of examples/services (examples/run.sh, also a ctest entry).
set -euo pipefail
cd "$(dirname "$0")/.."
FLOW=build/flow
echo "== flow check examples/mistakes/mistakes.flow (shows what flow check catches, exit 1)"
status=0
$FLOW check examples/mistakes/mistakes.flow || status=$?
if [ "$status" -ne 1 ]; then
  echo "expected diagnostics (exit 1) from examples/mistakes/mistakes.flow, got $status" >&2
  exit 1
fi
bash examples/run.sh "$FLOW"
echo "== done"

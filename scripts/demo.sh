#!/usr/bin/env bash
# The end-to-end example the first README command finishes with.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOW=build/flow
echo "== flow check examples/onboarding/onboard.flow (checks cleanly)"
$FLOW check examples/onboarding/onboard.flow
echo "ok"
echo "== flow check examples/mistakes/mistakes.flow (shows what flow check catches)"
if $FLOW check examples/mistakes/mistakes.flow; then
  echo "expected diagnostics from examples/mistakes/mistakes.flow" >&2
  exit 1
fi
echo "== done"

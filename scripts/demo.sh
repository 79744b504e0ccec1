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
DB=$(mktemp -d)/demo.db
trap 'rm -rf "$(dirname "$DB")"' EXIT
echo "== flow run examples/onboarding/onboard.flow (a free plan: create the account, send the welcome mail)"
$FLOW run examples/onboarding/onboard.flow --db "$DB" --id demo-free --json \
  --input '{"customer": {"email": "ada@example.com", "name": "Ada Lovelace", "plan": "free"}}'
echo "== flow run again with a pro plan (charging needs a finance approval: the run waits, exit 3)"
status=0
$FLOW run examples/onboarding/onboard.flow --db "$DB" --id demo-pro --json \
  --input '{"customer": {"email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro", "seats": 2}}' || status=$?
if [ "$status" -ne 3 ]; then
  echo "expected the pro run to wait for approval (exit 3), got $status" >&2
  exit 1
fi
echo "== done"

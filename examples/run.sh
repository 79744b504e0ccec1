#!/usr/bin/env bash
# Runs every example end to end against the stand-in services of
# examples/services, as far as today's flow goes (examples/README.md):
#
#   bash examples/run.sh [PATH/TO/flow]      (default: build/flow)
#
# The services listen on free loopback ports, the connectors are pointed at
# them with BILLING_URL / CMS_URL, runs go to a temporary database. Every
# step's exit code is asserted, and at the end the record of every request
# the services saw is checked (services/check_record.py). Exit 0 when all of
# it held; the first surprise stops the script with a message.
set -euo pipefail
exec 2>&1   # reports (stdout) and the workflows' log lines (stderr) in one stream

here=$(cd "$(dirname "$0")" && pwd)
flow=$(realpath -m "${1:-$here/../build/flow}")
fail_first=2           # the CMS's bad minute: 503s before each draft/publish succeeds
ready_timeout_s=10     # a Python service starts in well under a second
[ -x "$flow" ] || { echo "run.sh: no flow binary at $flow (build first)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
stop_services() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_services EXIT

# start_service NAME VAR ARGS...: starts examples/services/NAME.py on a free
# port, waits for its "listening on" line and sets VAR to its base URL.
start_service() {
  local name=$1 var=$2 log=$work/$1.log
  shift 2
  : >"$log"
  python3 -B "$here/services/$name.py" --port 0 --record "$work/record.jsonl" "$@" 2>"$log" &
  pids+=($!)
  local deadline=$((SECONDS + ready_timeout_s))
  until grep -q "listening on" "$log"; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "run.sh: $name did not start:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.05
  done
  printf -v "$var" '%s' "$(sed -n 's/.*listening on //p' "$log")"
}

# expect CODE HEADER COMMAND...: prints the header, runs flow, checks its exit code.
expect() {
  local want=$1 header=$2 got=0
  shift 2
  echo "== $header"
  "$flow" "$@" || got=$?
  if [ "$got" -ne "$want" ]; then
    echo "run.sh: expected exit $want from 'flow $*', got $got" >&2
    exit 1
  fi
}

# journal RUN STATUS [OPERATION:OUTCOME...]: the run's journal, one line per
# event (services/journal.py), and a check of its status and compensations.
journal() {
  local run=$1 show=$work/show.json
  shift
  echo "== flow show $run --json, one line per journal event"
  "$flow" show "$run" --json >"$show" || { echo "run.sh: flow show $run failed" >&2; exit 1; }
  python3 "$here/services/journal.py" "$@" <"$show"
}

expect 0 "flow check: the four examples type-check against their connectors (exit 0)" \
  check "$here/onboarding/onboard.flow" "$here/publishing/publish.flow" "$here/dunning/dunning.flow" \
  "$here/renewals/renew.flow"

export FLOW_DB=$work/flow.db EXAMPLES_RECORD=$work/record.jsonl
export BILLING_TOKEN=example-billing-token CMS_TOKEN=example-cms-token
start_service billing BILLING_URL
start_service cms CMS_URL --fail-first "$fail_first"
export BILLING_URL CMS_URL
echo "== services: billing at $BILLING_URL, cms at $CMS_URL (${fail_first} x 503 before each draft)"

expect 0 "onboarding, free plan: account created, welcome mail sent (exit 0)" \
  run "$here/onboarding/onboard.flow" --workflow onboard --id onboard-free \
  --input '{"customer": {"email": "grace@example.com", "name": "Grace Hopper", "plan": "free"}}'
expect 3 "onboarding, pro plan: the charge waits for finance's approval (exit 3)" \
  run "$here/onboarding/onboard.flow" --workflow onboard --id onboard-pro --input "@$here/onboarding/input.json"
expect 0 "flow cancel onboard-pro: the compensation deletes the CRM account" \
  cancel onboard-pro --reason "customer changed their mind"
journal onboard-pro cancelled crm.delete_account:completed

expect 3 "a batch of twelve, ten at a time, each a child run: eleven complete, the pro customer's charge waits for finance (exit 3)" \
  run "$here/onboarding/onboard.flow" --workflow onboard_batch --id batch-1 --input "@$here/onboarding/batch.json"
expect 0 "flow inbox: the approval is the seventh child run's, batch-1/1.7/1" inbox
expect 0 "flow approve batch-1/1.7/1: the child is charged and welcomed, then the batch completes" \
  approve batch-1/1.7/1 --as finance-fay --comment "ok"
expect 0 "flow runs: the batch and its twelve children" runs
journal batch-1 completed

expect 3 "publishing: the draft survives the CMS's 503s (retry), then waits for an editor (exit 3)" \
  run "$here/publishing/publish.flow" --id publish-1 --input "@$here/publishing/input.json"
expect 0 "flow cancel publish-1: the compensation deletes the draft in the CMS" \
  cancel publish-1 --reason "withdrawn by the author"
journal publish-1 cancelled cms.delete_draft:completed

expect 3 "publishing, a second run: drafted through the 503s, then it waits for an editor (exit 3)" \
  run "$here/publishing/publish.flow" --id publish-2 --input "@$here/publishing/input.json"
expect 0 "flow inbox: publish-2 waits for an editor's decision" inbox
expect 0 "flow approve publish-2: published, the CMS's 503s ridden out by retry (exit 0)" \
  approve publish-2 --as editor-eve --comment "lovely piece"
journal publish-2 completed

expect 3 "renewals: twelve subscriptions wait for finance's approval of the batch (exit 3)" \
  run "$here/renewals/renew.flow" --id renewals-1 --input "@$here/renewals/input.json"
expect 0 "flow approve renewals-1: twelve charges, ten at a time, each with its own key (exit 0)" \
  approve renewals-1 --as finance-fay --comment "renewals ok"
journal renewals-1 completed

expect 3 "dunning: a day's grace before the first reminder, the run waits on its timer (exit 3)" \
  run "$here/dunning/dunning.flow" --id dunning-1 --input "@$here/dunning/input.json"

expect 0 "flow runs" runs
echo "== what the services saw: their record, one line per request"
python3 "$here/services/check_record.py" "$EXAMPLES_RECORD" --fail-first "$fail_first" \
  --billing "$BILLING_URL" --cms "$CMS_URL"

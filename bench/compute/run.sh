#!/bin/sh
# Benchmarks the flow VM against Lua 5.4 and CPython on four small programs.
#
#   bench/compute/run.sh [PROGRAM...]      # default: fib loop_mod list_sum strings
#
# Environment:
#   FLOW    the flow binary (default: build/flow of this checkout)
#   LUA     default lua5.4;  PYTHON  default /usr/bin/python3 (Debian's)
#   RUNS    timed runs per command (default 10, at least 5), after 1 warmup
#   STRICT  1: exit 1 when a target is missed (default: report only)
#
# Builds nothing. First runs every program once in every language and fails
# loudly unless each prints the result in expected.txt; then times each
# program with hyperfine (one invocation per program, the three languages as
# commands named flow, lua and python) and prints two tables, CPU time (on
# which the targets are judged) and wall time, with flow's time as a ratio to
# Lua's and to CPython's (report.py). When the flow
# binary or its `run` command does not exist yet, flow's column reads
# "flow: not built yet" and only Lua and Python are timed.
#
# Every flow run gets a fresh, empty database (FLOW_DB in a temporary folder,
# emptied by hyperfine's --prepare before each run), so no run pays for an
# earlier run's history. The durable store writes only the run's start and
# end for these programs (no steps), so the time is the VM's plus a constant
# process start and two SQLite transactions.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FLOW=${FLOW:-$(cd "$here/../.." && pwd)/build/flow}
LUA=${LUA:-lua5.4}
# Debian's CPython by default, not whatever `python3` is first on PATH: a
# pyenv shim there costs a bash process and its own Python build, whose
# site-packages can add tens of milliseconds of imports to every start.
if [ -z "${PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
RUNS=${RUNS:-10}
STRICT=${STRICT:-0}
# Fewer timed runs than this give a median that one disturbed run can move.
MIN_RUNS=5

if [ "$#" -gt 0 ]; then programs=$*; else programs="fib loop_mod list_sum strings"; fi
if [ "$RUNS" -lt "$MIN_RUNS" ]; then
  echo "run.sh: RUNS=$RUNS, need at least $MIN_RUNS" >&2
  exit 2
fi
for tool in hyperfine "$LUA" "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/db

# Single-quotes $1 for the shell that hyperfine runs each command in.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

fail() { echo "run.sh: $*" >&2; exit 1; }

expected() {
  value=$(awk -v p="$1" '$1 == p { print $2 }' "$here/expected.txt")
  [ -n "$value" ] || fail "no expected result for '$1' in expected.txt"
  printf '%s' "$value"
}

# flow is measured when the binary exists and its --help lists a `run`
# subcommand (`flow run --help` is no test: it exits 0 while `run` is
# missing, printing the top-level help).
have_flow=0
if [ -x "$FLOW" ] && "$FLOW" --help 2>&1 | grep -qE '^[[:space:]]+run([[:space:]]|$)'; then
  have_flow=1
else
  echo "flow: not built yet ($FLOW has no 'run' command); timing lua and python only" >&2
fi

# Prints the `result` of `flow run FILE --json` on a fresh database; fails
# unless the run completed.
flow_result() {
  rm -rf "$db" && mkdir "$db"
  out=$(FLOW_DB="$db/flow.db" "$FLOW" run "$1" --json) || fail "flow run $1 failed: $out"
  printf '%s' "$out" | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
if doc.get("status") != "completed":
    sys.exit("status %r, not completed: %s" % (doc.get("status"), json.dumps(doc)))
print(json.dumps(doc["result"]))' || fail "flow run $1: unexpected output: $out"
}

check() {  # PROGRAM LANGUAGE ACTUAL
  want=$(expected "$1")
  [ "$3" = "$want" ] || fail "$1 in $2 printed '$3', expected '$want'"
  echo "ok  $1 $2 = $3"
}

echo "lua: $("$LUA" -v 2>&1 | head -n 1)"
echo "python: $PYTHON, $("$PYTHON" --version 2>&1)"
if [ "$have_flow" = 1 ]; then echo "flow: $FLOW, $("$FLOW" --version 2>&1)"; fi

for p in $programs; do
  for ext in flow lua py; do
    [ -f "$here/$p.$ext" ] || fail "missing $here/$p.$ext"
  done
  check "$p" lua "$("$LUA" "$here/$p.lua")"
  check "$p" python "$("$PYTHON" "$here/$p.py")"
  if [ "$have_flow" = 1 ]; then check "$p" flow "$(flow_result "$here/$p.flow")"; fi
done

for p in $programs; do
  set -- --warmup 1 --runs "$RUNS" --export-json "$tmp/$p.json" \
    --prepare "rm -rf $(quote "$db") && mkdir $(quote "$db")"
  if [ "$have_flow" = 1 ]; then
    set -- "$@" -n flow \
      "FLOW_DB=$(quote "$db/flow.db") $(quote "$FLOW") run $(quote "$here/$p.flow") --json"
  fi
  set -- "$@" -n lua "$(quote "$LUA") $(quote "$here/$p.lua")" \
    -n python "$(quote "$PYTHON") $(quote "$here/$p.py")"
  echo
  echo "== $p"
  hyperfine "$@"
done

# Targets are judged on CPU time (report.py says why); the wall-time table
# follows for the record.
echo
status=0
# shellcheck disable=SC2086 # $programs is a word list on purpose
"$PYTHON" "$here/report.py" --metric cpu "$tmp" $programs || status=$?
echo
# shellcheck disable=SC2086
"$PYTHON" "$here/report.py" --metric wall "$tmp" $programs || true
if [ "$STRICT" = 1 ] && [ "$status" != 0 ]; then exit 1; fi
exit 0

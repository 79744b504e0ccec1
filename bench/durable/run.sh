#!/usr/bin/env bash
# Durable steps per second: `flow run` against the raw SQLite ceiling.
#
#   bash bench/durable/run.sh [BUILD_DIR] [full|normal] [RUNS]
#
# (defaults: build, full, 5). Needs BUILD_DIR/flow, BUILD_DIR/flow_bench_sqlite
# and BUILD_DIR/flow_bench_store.
#  1. builtin steps: `flow run bench/durable/steps.flow` (1,000 log.info
#     steps) with a fresh database per run, under hyperfine (warmup 1);
#     steps/s = 1000 / mean wall time (process start, compile and run
#     creation included: measured separately on a 1-step workflow and
#     printed as the fixed cost);
#  2. measures what one commit of flow writes (journal rows per commit,
#     their data size, the VM state size; commits = fdatasync calls under
#     strace) and runs flow_bench_sqlite with the same sizes, the same
#     synchronous setting and a database in the same directory, right
#     before and right after the flow runs: the raw transactions/s (one
#     transaction per step is the ceiling);
#     flow_bench_store, flow's own Store::Commit at the same sizes, splits
#     the gap between the store and the engine;
#  3. prints flow steps/s ÷ raw transactions/s (target: >= 70 %), also as
#     the median over RUNS back-to-back raw -> flow pairs (pairs.py), the
#     figure that survives the disk's drifting fsync latency; there flow's
#     rate is the marginal one (a 1-step run's wall time subtracted, as
#     the raw benchmark times its loop without its setup); and the CPU
#     time per step against per raw transaction;
#  4. exec-connector steps/s (200 steps of tests/servers/exec_tool.py echo)
#     and HTTP steps/s (200 idempotent POST /charges against
#     tests/servers/http_server.py, started here on 127.0.0.1, port 0).
# Every database lives in a temp dir under BUILD_DIR (the same disk for
# flow and the raw benchmark: fsync cost is what is measured), removed at
# the end. flow's store always uses synchronous=FULL (SqliteOptions has no
# command-line switch): with `normal` the ratio compares unlike settings,
# which the report says.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SYNC=${2:-full}
RUNS=${3:-5}
FLOW=$BUILD/flow
RAW=$BUILD/flow_bench_sqlite
STORE=$BUILD/flow_bench_store
STEPS=1000
CONNECTOR_STEPS=200

case $SYNC in full|normal) ;; *) echo "run.sh: synchronous must be full or normal, not '$SYNC'" >&2; exit 2 ;; esac
for bin in "$FLOW" "$RAW" "$STORE"; do
  [[ -x $bin ]] || { echo "run.sh: $bin is missing; build it first" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "run.sh: hyperfine is not installed" >&2; exit 2; }

WORK=$(mktemp -d "$BUILD/durable-bench.XXXXXX")
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[[ $SYNC == full ]] || echo "run.sh: note: flow runs with synchronous=FULL; only the raw benchmark uses $SYNC" >&2

# mean seconds from a hyperfine JSON export
mean() { python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$1"; }
stddev() { python3 -c 'import json,sys; print("%.4f" % (json.load(open(sys.argv[1]))["results"][0]["stddev"] or 0))' "$1"; }
rate() { python3 -c 'import sys; print("%.1f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

# Times `flow run FILE` with a fresh database per run; $1 = name, $2 = file.
time_flow() {
  local name=$1 file=$2 db=$WORK/$1.db
  hyperfine --warmup 1 --runs "$RUNS" --style none --export-json "$WORK/$name.json" \
    --prepare "rm -f '$db' '$db-wal' '$db-shm'" \
    "'$FLOW' run '$file' --db '$db' >/dev/null 2>&1" >/dev/null
  # The last run must have completed, or the timing means nothing.
  local status
  status=$(python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("SELECT status FROM runs").fetchall(); print(r[0][0] if len(r)==1 else "runs=%d" % len(r))' "$db" 2>/dev/null || echo "unreadable")
  [[ $status == completed ]] || { echo "run.sh: $name did not complete (status: $status)" >&2; exit 1; }
}

echo "durable steps: synchronous=$SYNC, runs=$RUNS, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. builtin steps
printf 'workflow one() -> int {\n  log.info(message: "step 0")\n  return 1\n}\n' >"$WORK/one.flow"
time_flow one "$WORK/one.flow"
FIXED=$(mean "$WORK/one.json")
# One run under strace: its fdatasync count is the number of commits.
FSYNCS=$(strace -f -c -e trace=fdatasync,fsync -o "$WORK/strace.txt" \
  "$FLOW" run "$ROOT/bench/durable/steps.flow" --db "$WORK/sizes.db" >/dev/null 2>&1 &&
  awk '$NF == "fdatasync" || $NF == "fsync" { n += $4 } END { print n + 0 }' "$WORK/strace.txt")
COMMITS=$(python3 -c 'import sys; print("%.2f" % (int(sys.argv[1]) / int(sys.argv[2])))' "$FSYNCS" $STEPS)

# ---- 2. what one step commit writes, from a run's database
read -r EVENTS_PER_COMMIT EVENT_BYTES STATE_BYTES < <(python3 - "$WORK/sizes.db" $STEPS "$FSYNCS" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); steps = int(sys.argv[2]); commits = max(1, int(sys.argv[3]))
rows, size = db.execute("SELECT count(*), avg(length(data)) FROM journal WHERE step IS NOT NULL").fetchone()
(state,) = db.execute("SELECT length(bytes) FROM state").fetchone()
# Journal rows per commit: a step's commit carries its step_started and
# the previous step's step_completed; the raw transaction models one commit.
print(max(1, round(rows / commits)), max(8, round(size or 8)), state)
EOF
)
# The disk's fsync latency moves with the other work on the machine, so the
# raw rate is measured right before and right after the flow runs (the
# before one here, the after one below) and the mean of the two is used.
raw() {
  "$RAW" --dir "$WORK" --n $STEPS --synchronous "$SYNC" --state-bytes "$STATE_BYTES" \
    --event-bytes "$EVENT_BYTES" --events "$EVENTS_PER_COMMIT" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["transactions_per_s"])'
}
RAW_BEFORE=$(raw)
STORE_RATE=$("$STORE" --dir "$WORK" --n $STEPS --synchronous "$SYNC" --state-bytes "$STATE_BYTES" \
  --event-bytes "$EVENT_BYTES" --events "$EVENTS_PER_COMMIT" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["transactions_per_s"])')
time_flow steps "$ROOT/bench/durable/steps.flow"
RAW_AFTER=$(raw)
RAW_RATE=$(python3 -c 'import sys; print("%.1f" % ((float(sys.argv[1]) + float(sys.argv[2])) / 2))' "$RAW_BEFORE" "$RAW_AFTER")
STEPS_MEAN=$(mean "$WORK/steps.json")
STEPS_SD=$(stddev "$WORK/steps.json")
FLOW_RATE=$(rate $STEPS "$STEPS_MEAN")
FLOW_RATE_NET=$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[1]) / (float(sys.argv[2]) - float(sys.argv[3]))))' $STEPS "$STEPS_MEAN" "$FIXED")
# Paired raw -> flow runs: the ratio that survives a drifting disk.
PAIRS=$(python3 "$ROOT/bench/durable/pairs.py" "$FLOW" "$RAW" "$ROOT/bench/durable/steps.flow" "$WORK/one.flow" "$WORK" "$RUNS" $STEPS \
  -- --synchronous "$SYNC" --state-bytes "$STATE_BYTES" --event-bytes "$EVENT_BYTES" --events "$EVENTS_PER_COMMIT")
pair() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$PAIRS" "$1"; }
PAIR_RATIO=$(python3 -c 'import sys; print("%.0f" % (100 * float(sys.argv[1])))' "$(pair median_ratio)")
PAIR_LIST=$(python3 -c 'import json,sys; print(", ".join("%.0f/%.0f" % (p["flow_per_s"], p["raw_per_s"]) for p in json.loads(sys.argv[1])["pairs"]))' "$PAIRS")
RATIO=$(python3 -c 'import sys; print("%.0f" % (100 * float(sys.argv[1]) / float(sys.argv[2])))' "$FLOW_RATE" "$RAW_RATE")

# ---- 4. connector steps
mkdir -p "$WORK/exec" "$WORK/http"
# The interpreter itself, not a version-manager shim (pyenv's python3 is a
# shell script that starts several processes before Python).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
cp "$ROOT/bench/durable/exec_steps.flow" "$WORK/exec/"
cat >"$WORK/exec/exec.json" <<EOF
{ "connector": "tool",
  "transport": { "kind": "exec", "command": ["$PYTHON", "$ROOT/tests/servers/exec_tool.py"] },
  "operations": { "echo": { "args": ["echo"],
    "input": { "type": "object", "properties": { "i": { "type": "integer" } } },
    "output": { "type": "object" }, "idempotent": true } } }
EOF
time_flow exec "$WORK/exec/exec_steps.flow"
EXEC_RATE=$(rate $CONNECTOR_STEPS "$(mean "$WORK/exec.json")")
# The floor under the exec figure: starting the tool alone, without flow.
echo '{"i": 1}' >"$WORK/exec/in.json"
hyperfine --warmup 1 --runs 20 --style none --export-json "$WORK/tool.json" \
  "cd '$WORK/exec' && '$PYTHON' '$ROOT/tests/servers/exec_tool.py' echo <in.json >/dev/null" >/dev/null
TOOL_RATE=$(rate 1 "$(mean "$WORK/tool.json")")

coproc SERVER { exec python3 "$ROOT/tests/servers/http_server.py" --max-lifetime 900; }
SERVER_PID=$SERVER_PID
read -r PORT <&"${SERVER[0]}"
cp "$ROOT/bench/durable/http_steps.flow" "$WORK/http/"
cat >"$WORK/http/http.json" <<EOF
{ "connector": "billing",
  "transport": { "kind": "http", "base_url": "http://127.0.0.1:$PORT" },
  "operations": { "charge": { "http": { "method": "POST", "path": "/charges" },
    "input": { "type": "object", "required": ["customer", "amount"],
               "properties": { "customer": { "type": "string" }, "amount": { "type": "integer" } } },
    "output": { "type": "object", "required": ["id", "amount"],
                "properties": { "id": { "type": "string" }, "amount": { "type": "integer" } } },
    "idempotent": true } } }
EOF
time_flow http "$WORK/http/http_steps.flow"
HTTP_RATE=$(rate $CONNECTOR_STEPS "$(mean "$WORK/http.json")")

# ---- 3. report
cat <<EOF

| | figure |
|---|---|
| flow run, $STEPS builtin steps: wall mean ± σ | ${STEPS_MEAN} ± ${STEPS_SD} s |
| — fixed cost (1-step workflow, whole process) | ${FIXED} s |
| flow builtin steps/s | **$FLOW_RATE** ($FLOW_RATE_NET without the fixed cost) |
| one flow commit (from the flow database) | $EVENTS_PER_COMMIT journal row(s) of ~$EVENT_BYTES B, state $STATE_BYTES B |
| flow commits (fdatasync calls, strace) per step | $COMMITS |
| raw SQLite transactions/s (flow_bench_sqlite, same sizes, same disk; before / after the flow runs) | **$RAW_RATE** ($RAW_BEFORE / $RAW_AFTER) |
| flow Store::Commit/s (flow_bench_store, same sizes) | $STORE_RATE |
| flow ÷ raw, hyperfine mean ÷ mean of the raw runs around it | $RATIO % |
| flow ÷ raw, median of $RUNS back-to-back pairs, flow's marginal steps/s (flow/s / raw/s: $PAIR_LIST) | **$PAIR_RATIO %** (target >= 70 %) |
| — flow's whole-process steps/s in the pairs (median) | $(pair median_flow_whole_per_s) |
| flow ÷ raw, best of each over the pairs ($(pair best_flow_per_s) / $(pair best_raw_per_s)) | $(python3 -c 'import sys; print("%.0f" % (100 * float(sys.argv[1])))' "$(pair best_ratio)") % |
| CPU (user + sys) per step, flow run (marginal) / per raw transaction (medians of the pairs) | $(pair median_flow_cpu_us_per_step) µs / $(pair median_raw_cpu_us_per_tx) µs |
| exec-connector steps/s ($CONNECTOR_STEPS steps, exec_tool.py echo) | $EXEC_RATE (the tool alone, started by a shell: $TOOL_RATE/s) |
| HTTP steps/s ($CONNECTOR_STEPS idempotent POST /charges, local server) | $HTTP_RATE |
EOF

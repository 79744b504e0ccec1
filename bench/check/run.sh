#!/bin/sh
# `flow check` throughput on a generated program (docs/performance.md,
# "flow check throughput").
#
#   bash bench/check/run.sh [BUILD_DIR] [LINES] [RUNS]
#
# 1. gen.py writes a ~LINES-line program (default 20000) and its connector
#    files into a temporary folder; the program must check with no error and
#    no warning, or the script stops.
# 2. hyperfine times `flow check FILE` (2 warmup runs, RUNS >= 10 timed runs,
#    default 10): wall-clock mean, min and CPU time per run.
# 3. `flow check --timings` runs RUNS more times for the split into parse and
#    check (medians of the phase timings it prints on stderr).
# 4. A short table: the machine and its load (the machine is shared: wall
#    time depends on it, CPU time much less), lines, seconds and lines/s.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
lines=${2:-20000}
runs=${3:-10}
[ "$runs" -ge 10 ] || runs=10
flow="$build/flow"
if [ ! -x "$flow" ]; then
  echo "run.sh: $flow not found; build first (cmake --build build)" >&2
  exit 2
fi
command -v hyperfine >/dev/null || { echo "run.sh: hyperfine not installed" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$here/gen.py" "$out" --lines "$lines" >/dev/null
file="$out/bench.flow"
count=$(wc -l < "$file")

# The benchmark only means something on a program that checks cleanly.
if ! "$flow" check "$file" 2>"$out/diags.txt" || [ -s "$out/diags.txt" ]; then
  echo "run.sh: the generated program does not check cleanly:" >&2
  head -20 "$out/diags.txt" >&2
  exit 1
fi

hyperfine --warmup 2 --runs "$runs" -N --export-json "$out/hyperfine.json" \
  "$flow check $file" >/dev/null

: > "$out/timings.txt"
i=0
while [ "$i" -lt "$runs" ]; do
  "$flow" check --timings "$file" 2>>"$out/timings.txt"
  i=$((i + 1))
done

cpu=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //')
load=$(cut -d' ' -f1 /proc/loadavg)
python3 - "$out/hyperfine.json" "$out/timings.txt" "$count" "$runs" "$(nproc) x $cpu" "$load" <<'EOF'
import json, re, statistics, sys
result = json.load(open(sys.argv[1]))["results"][0]
parse, check = [], []
for line in open(sys.argv[2]):
    m = re.search(r"parse ([0-9.]+) s, check ([0-9.]+) s", line)
    if m:
        parse.append(float(m.group(1)))
        check.append(float(m.group(2)))
lines, runs = int(sys.argv[3]), int(sys.argv[4])
mean, low = result["mean"], result["min"]
cpu = result["user"] + result["system"]
p, c = statistics.median(parse), statistics.median(check)
rows = [
    ("machine", sys.argv[5]),
    ("load average (1 min, at the end)", sys.argv[6]),
    ("lines", f"{lines}"),
    ("parse (median of --timings)", f"{p:.3f} s"),
    ("check (median of --timings)", f"{c:.3f} s"),
    (f"flow check wall, mean of {runs}", f"{mean:.3f} s ± {result['stddev']:.3f}"),
    ("flow check wall, min", f"{low:.3f} s"),
    ("flow check CPU (user+sys), mean", f"{cpu:.3f} s"),
    ("lines/s (wall mean)", f"{lines / mean:,.0f}"),
    ("lines/s (wall min)", f"{lines / low:,.0f}"),
    ("lines/s (CPU)", f"{lines / cpu:,.0f}"),
    ("lines/s (parse + check)", f"{lines / (p + c):,.0f}"),
]
width = max(len(k) for k, _ in rows)
for k, v in rows:
    print(f"{k:<{width}}  {v}")
EOF

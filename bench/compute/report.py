#!/usr/bin/env python3
"""Prints the bench/compute table from hyperfine's JSON exports.

    report.py [--metric cpu|wall] DIR PROGRAM...

For each PROGRAM, DIR/PROGRAM.json is the `hyperfine --export-json` file of
one hyperfine invocation whose commands are named `flow`, `lua` and `python`
(`flow` is absent when the flow VM is not built yet).

Metric `cpu` (the default): user + system CPU seconds of the process, the
mean over the timed runs. All three programs are single-threaded, so on an
idle machine this equals the wall time; on a shared, loaded machine (ours:
2 cores, several builds) the wall time mostly measures how long the process
waited for a core, and the CPU time is what stays comparable between runs.
Metric `wall`: the median wall time (the median so that one disturbed run
does not move a ratio). It includes time blocked on I/O, such as flow's
SQLite writes, which `cpu` leaves out; report both when recording figures.

Targets (the issue that asked for this benchmark): flow faster than CPython on
every program, and no more than LUA_LIMIT times Lua 5.4's time on any.

Exit status: 0 when every target is met, 1 when one is missed, 2 when flow
was not measured (nothing to judge).
"""

import json
import os
import sys

# flow may take at most this multiple of Lua 5.4's time on any program.
LUA_LIMIT = 1.3
# flow must be faster than CPython: its time over CPython's below this.
PYTHON_LIMIT = 1.0

NOT_BUILT = "flow: not built yet"


def seconds(path, metric):
    """Returns {command name: seconds} from one hyperfine export."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if metric == "wall":
        return {r["command"]: r["median"] for r in data["results"]}
    return {r["command"]: r["user"] + r["system"] for r in data["results"]}


def row(program, times):
    lua, py = times["lua"], times["python"]
    flow = times.get("flow")
    if flow is None:
        return [program, NOT_BUILT, f"{lua:.3f}", f"{py:.3f}", "-", "-", "-", "-"], None
    to_lua, to_py = flow / lua, flow / py
    met = ["yes" if to_lua <= LUA_LIMIT else "NO",
           "yes" if to_py < PYTHON_LIMIT else "NO"]
    cells = [program, f"{flow:.3f}", f"{lua:.3f}", f"{py:.3f}",
             f"{to_lua:.2f}", f"{to_py:.2f}"] + met
    return cells, all(m == "yes" for m in met)


def main(argv):
    metric = "cpu"
    if len(argv) > 2 and argv[1] == "--metric":
        metric, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) < 3 or metric not in ("cpu", "wall"):
        print("usage: report.py [--metric cpu|wall] DIR PROGRAM...", file=sys.stderr)
        return 2
    folder, programs = argv[1], argv[2:]
    header = ["program", "flow s", "lua s", "python s", "flow/lua", "flow/python",
              f"<= {LUA_LIMIT}x lua", "< python"]
    rows, outcomes = [], []
    for program in programs:
        cells, ok = row(program, seconds(os.path.join(folder, program + ".json"), metric))
        rows.append(cells)
        outcomes.append(ok)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for cells in [header] + rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(cells, widths))))
    print("(" + ("user+system CPU seconds, mean" if metric == "cpu"
                 else "wall seconds, median") + " over the runs of each whole process)")
    if None in outcomes:
        print("targets: not judged, " + NOT_BUILT)
        return 2
    missed = outcomes.count(False)
    print("targets: all met" if missed == 0 else f"targets: {missed} program(s) missed")
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

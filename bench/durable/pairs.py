#!/usr/bin/env python3
"""Paired runs for bench/durable/run.sh: raw SQLite, then `flow run`, N times.

    pairs.py FLOW RAW STEPS_FLOW ONE_FLOW WORKDIR PAIRS STEPS -- RAW_ARGS...

On a shared machine the disk's fsync latency moves by 10x within a minute,
so a raw rate measured at one moment and a flow rate at another do not
compare. Each pair here runs flow_bench_sqlite (STEPS transactions) and
right after it `flow run ONE_FLOW` (one step) and `flow run STEPS_FLOW`
(STEPS steps), each on a fresh database, and takes the ratio of the two
rates; the median ratio over the pairs is the figure.

flow_bench_sqlite times its transaction loop only, after its own setup
(opening, schema, first rows). The like-for-like flow figure is the same:
the marginal cost of a step, (STEPS - 1) / (wall(STEPS_FLOW) -
wall(ONE_FLOW)), which leaves out what every `flow run` pays once (process
start, compiling the file, creating the database and its schema, the run's
start). The whole-process rate, STEPS / wall(STEPS_FLOW), is reported too.
CPU time (user + sys of the child) is load-independent enough to compare
too: flow's per step (also marginal) against raw's per transaction.

Prints one JSON object: pairs (raw/s, flow/s, ratio, cpu µs each), the
medians, and the best of each side with their ratio.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv, **kwargs):
    """(wall seconds, cpu seconds, stdout) of one child process."""
    cpu0, t0 = child_cpu(), time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True, **kwargs)
    return time.monotonic() - t0, child_cpu() - cpu0, done.stdout


def flow_run(flow, file, db):
    """(wall, cpu) of `flow run FILE` on a fresh database, removed after."""
    wall, cpu, _ = timed([flow, "run", file, "--db", db])
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    return wall, cpu


def main():
    sep = sys.argv.index("--")
    flow, raw, steps_flow, one_flow, workdir, pairs, steps = sys.argv[1:sep]
    raw_args = sys.argv[sep + 1:]
    pairs, steps = int(pairs), int(steps)
    rows = []
    for i in range(pairs):
        _, raw_cpu, out = timed([raw, "--dir", workdir, "--n", str(steps), "--json"] + raw_args)
        raw_rate = json.loads(out)["transactions_per_s"]
        one_wall, one_cpu = flow_run(flow, one_flow, os.path.join(workdir, "pair%d-one.db" % i))
        wall, flow_cpu = flow_run(flow, steps_flow, os.path.join(workdir, "pair%d.db" % i))
        flow_rate = (steps - 1) / max(wall - one_wall, 1e-9)
        rows.append({"raw_per_s": round(raw_rate, 1), "flow_per_s": round(flow_rate, 1),
                     "flow_whole_per_s": round(steps / wall, 1),
                     "ratio": round(flow_rate / raw_rate, 3),
                     "raw_cpu_us_per_tx": round(1e6 * raw_cpu / steps, 1),
                     "flow_cpu_us_per_step": round(1e6 * (flow_cpu - one_cpu) / (steps - 1), 1)})
    print(json.dumps({
        "pairs": rows,
        "median_ratio": statistics.median(r["ratio"] for r in rows),
        # The least disturbed run of each: on a shared disk, the best
        # figures are the closest to what the code itself allows.
        "best_raw_per_s": max(r["raw_per_s"] for r in rows),
        "best_flow_per_s": max(r["flow_per_s"] for r in rows),
        "median_flow_whole_per_s": statistics.median(r["flow_whole_per_s"] for r in rows),
        "best_ratio": round(max(r["flow_per_s"] for r in rows) / max(r["raw_per_s"] for r in rows), 3),
        "median_raw_cpu_us_per_tx": statistics.median(r["raw_cpu_us_per_tx"] for r in rows),
        "median_flow_cpu_us_per_step": statistics.median(r["flow_cpu_us_per_step"] for r in rows),
    }))


if __name__ == "__main__":
    sys.exit(main())

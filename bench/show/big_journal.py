#!/usr/bin/env python3
"""Peak memory of `flow show` on a run with a big journal (issue 10).

    python3 bench/show/big_journal.py --flow build/flow [--events 520000]

Makes a real run with `flow run` (a workflow of one log step), then appends
EVENTS journal rows to it directly with sqlite3 -- copies of the run's own
step_started / step_completed pair, about 230 bytes of data each, the size
of a small step's events -- so the database is exactly what a long run
leaves (building it through `flow run` would take an hour of commits). Then
it runs, each under /usr/bin/time -v, with stdout to /dev/null:

    flow show RUN --json
    flow show RUN                        (human, on stderr: to /dev/null)
    flow show RUN --json --limit 1000 --after 260000

and prints the maximum resident set size and the wall time of each. The
figures go to docs/performance.md with this command.
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

SOURCE = """workflow main(n: int) -> int {
  log.info(message: "step", data: { n: n, note: "a payload of a few dozen bytes" })
  return n
}
"""


def time_v(argv, cwd):
    """(max RSS in KiB, wall seconds, exit code) of argv under /usr/bin/time -v."""
    report_path = os.path.join(cwd, "time-report.txt")
    with open(os.devnull, "w") as null:
        subprocess.run(["/usr/bin/time", "-v", "-o", report_path] + argv, cwd=cwd, stdout=null, stderr=null)
    with open(report_path) as f:
        report = f.read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", report).group(1)
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + float(part)
    code = int(re.search(r"Exit status: (\d+)", report).group(1))
    return rss, seconds, code


def fill(db_path, run_id, events):
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT type, step, attempt, data, at_ms FROM journal WHERE run_id = ? "
                      "AND type IN ('step_started', 'step_completed') ORDER BY seq", (run_id,)).fetchall()
    if len(rows) != 2:
        sys.exit("expected one step_started and one step_completed, got %r" % rows)
    seq = db.execute("SELECT MAX(seq) FROM journal WHERE run_id = ?", (run_id,)).fetchone()[0]
    batch = []
    for i in range(events):
        kind, step, attempt, data, at_ms = rows[i % 2]
        seq += 1
        batch.append((run_id, seq, kind, i // 2 + 2, attempt, data, at_ms + i))
        if len(batch) == 50000:
            db.executemany("INSERT INTO journal (run_id, seq, type, step, attempt, data, at_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        db.executemany("INSERT INTO journal (run_id, seq, type, step, attempt, data, at_ms) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--events", type=int, default=520000)
    options = parser.parse_args()
    flow = os.path.abspath(options.flow)
    workdir = tempfile.mkdtemp(prefix="flow-big-journal-")
    try:
        with open(os.path.join(workdir, "w.flow"), "w") as f:
            f.write(SOURCE)
        db = os.path.join(workdir, "flow.db")
        subprocess.run([flow, "run", "w.flow", "--id", "big", "--input", '{"n": 1}', "--db", db],
                       cwd=workdir, check=True, stderr=subprocess.DEVNULL)
        fill(db, "big", options.events)
        total = sqlite3.connect(db).execute("SELECT count(*) FROM journal").fetchone()[0]
        print("journal events: %d, database: %.1f MB" % (total, os.path.getsize(db) / 1e6))
        for extra in (["--json"], [], ["--json", "--limit", "1000", "--after", str(options.events // 2)]):
            argv = [flow, "show", "big", "--db", db] + extra
            rss, seconds, code = time_v(argv, workdir)
            print("%-44s max RSS %8.1f MB  wall %6.2f s  exit %d"
                  % (" ".join(["flow show big"] + extra), rss / 1024, seconds, code))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

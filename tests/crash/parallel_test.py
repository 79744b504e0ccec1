#!/usr/bin/env python3
"""Branches survive kill -9 with several steps in flight.

    python3 tests/crash/parallel_test.py --flow build/flow [--seed N] [--rounds N]

SPEC §2.5 and §4, issue 14: a `kill -9` with several steps of branches in
flight resends each unfinished one with its own key on resume and never
repeats a completed one. A workflow runs 20 branches (`parallel for ...
limit 6`), each two exec steps; the exec tool is the back end and keeps its
own record: every call appends "<start ms> <key>" to invocations.log, and
each idempotency key's effect is stored once in effects/<key> (an
idempotent service: a key seen again answers the stored result). The loop
kills `flow run` / `flow resume` / `flow worker --once` at random instants
until the run completes or the rounds run out; then `flow resume` finishes
it undisturbed. Then:

  - the result is right (every item's value, in input order);
  - effects exist for exactly the 41 keys r1:1.K:1, r1:1.K:2 (K = 1..20)
    and r1:1, each made once;
  - the journal has one step_completed per (branch, step), with the branch
    in its `branch` column;
  - no invocation of a key started after that step's completion was
    journaled (a completed step is never sent again).

Nothing sleeps to synchronise: kills happen after random delays, but every
assertion reads the back end's record or the database once no flow process
is alive.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Flow, check  # noqa: E402

ITEMS = 20
DEFAULT_ROUNDS = 60
MIN_KILLS = 3

CONNECTOR = {
    "connector": "tool",
    "transport": {"kind": "exec", "command": ["python3", "tool.py"]},
    "operations": {"work": {
        "args": ["work"],
        "input": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
        "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
        "idempotent": True,
    }},
}

TOOL = """import json, os, sys, time
args = json.load(sys.stdin)
key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "")
with open("invocations.log", "a") as log:
    log.write("%d %s\\n" % (int(time.time() * 1000), key))
time.sleep(0.05)
os.makedirs("effects", exist_ok=True)
os.makedirs("pending", exist_ok=True)
path = os.path.join("effects", key)
# The effect appears whole or not at all: written aside, then linked into
# place (link fails if it exists), so a copy killed half-way (a resend
# kills its previous attempt) never leaves an empty effect behind.
pending = os.path.join("pending", "%s.%d" % (key, os.getpid()))
with open(pending, "w") as f:
    f.write(json.dumps({"n": args["n"] * 10}))
try:
    os.link(pending, path)
except FileExistsError:
    pass
os.unlink(pending)
with open(path) as f:
    print(f.read())
"""

WORKFLOW = """connector tool = "tool.json"
workflow batch() -> int {
  let values = parallel for c in range(%d) limit 6 {
    let a = tool.work(n: c * 10 + 1)
    let b = tool.work(n: a.n + 2)
    b.n
  }
  var total = 0
  for v in values {
    total = total * 3 %% 1000003 + v
  }
  let z = tool.work(n: 7)
  return total + z.n
}
""" % ITEMS


def expected_result():
    total = 0
    for c in range(ITEMS):
        total = total * 3 % 1000003 + ((c * 10 + 1) * 10 + 2) * 10
    return total + 70


def database(flow):
    return sqlite3.connect("file:%s?mode=ro" % flow.db, uri=True, timeout=10)


def run_done(flow):
    if not flow.run_exists("r1"):
        return False
    db = database(flow)
    try:
        return db.execute("SELECT status FROM runs WHERE id = 'r1'").fetchone()[0] == "completed"
    finally:
        db.close()


def kill_loop(flow, rng, rounds):
    killed = 0
    for _ in range(rounds):
        if run_done(flow):
            break
        pick = rng.random()
        if flow.run_exists("r1") and pick < 0.2:
            proc = flow.start("worker", "--once")
        elif flow.run_exists("r1"):
            proc = flow.start("resume", "r1", "--json")
        else:
            proc = flow.start("run", "w.flow", "--workflow", "batch", "--id", "r1", "--json")
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            proc.kill()
            killed += 1
        proc.wait()
    for _ in range(10):
        code, out, err = flow.run("resume", "r1", "--json")
        if code == 0:
            return json.loads(out), killed
        check(code in (3, 4), "flow resume r1 exited %d: %s %s" % (code, out[-300:], err[-300:]))
    raise Failure("the run did not complete after the kills")


def check_outcome(flow, workdir, report):
    check(report.get("result") == expected_result(),
          "result %r, expected %d" % (report.get("result"), expected_result()))
    completed_at = {}
    db = database(flow)
    try:
        for branch, step, at in db.execute(
                "SELECT branch, step, at_ms FROM journal WHERE run_id = 'r1' AND type = 'step_completed'"):
            key = "r1:%s:%d" % (branch, step) if branch is not None else "r1:%d" % step
            check(key not in completed_at, "the journal completes %s twice" % key)
            completed_at[key] = at
    finally:
        db.close()
    keys = sorted(["r1:1.%d:%d" % (k, p) for k in range(1, ITEMS + 1) for p in (1, 2)] + ["r1:1"])
    check(sorted(completed_at) == keys, "completed steps %s, expected %s" % (sorted(completed_at), keys))
    effects = sorted(os.listdir(os.path.join(workdir, "effects")))
    check(effects == keys, "effects for keys %s, expected %s" % (effects, keys))
    with open(os.path.join(workdir, "invocations.log")) as f:
        calls = [line.split() for line in f if line.strip()]
    for start, key in calls:
        check(key in completed_at, "an invocation with key %r, which the journal never completed" % key)
        check(int(start) <= completed_at[key],
              "key %s was sent at %s, after its completion was journaled at %d" % (key, start, completed_at[key]))
    return len(calls)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, "tool.json"), "w") as f:
            json.dump(CONNECTOR, f)
        with open(os.path.join(workdir, "tool.py"), "w") as f:
            f.write(TOOL)
        with open(os.path.join(workdir, "w.flow"), "w") as f:
            f.write(WORKFLOW)
        flow = Flow(os.path.abspath(args.flow), workdir)
        try:
            report, killed = kill_loop(flow, rng, args.rounds)
            calls = check_outcome(flow, workdir, report)
            check(killed >= MIN_KILLS, "only %d processes were killed before the run completed" % killed)
        except Failure as failure:
            print("FAIL (seed %d): %s" % (seed, failure))
            return 1
    print("ok: seed %d, %d killed, %d tool calls for %d keys" % (seed, killed, calls, 2 * ITEMS + 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

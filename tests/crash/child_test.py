#!/usr/bin/env python3
"""Child workflow calls survive kill -9 of the parent or of the child.

    python3 tests/crash/child_test.py --flow build/flow [--seed N] [--rounds N]
        [--shape sequential|parallel]

SPEC §2.5 and issue 14 item 1: a kill -9 of the parent or of the child at
any instant never starts a second child for the same call and never
repeats a child's completed step. A parent workflow calls a child workflow
five times in a loop (`--shape parallel`: in a `parallel for`, the
children r1/1.K/1 driven at the same time, and the first kill comes once
the tool's record shows three children's steps started, several in
flight at once; tests/crash/parallel_children_test.py runs that shape);
each child makes two exec steps. The exec tool is the
back end and keeps its own record: every call appends "<start ms> <key>"
to invocations.log, and each idempotency key's effect is stored once in
effects/<key> (an idempotent service: a key seen again answers the stored
result). The loop kills at random instants `flow run`/`flow resume` of the
parent, `flow resume` of an unfinished child or `flow worker --once
--concurrency 4` (several threads of one process, which share the lease
owner id: only the in-process claim keeps two of them off one run), until
the parent completes or the rounds run out; then a worker pass and `flow
resume` finish it undisturbed. Then:

  - the parent's result is right (every child's result delivered once);
  - the database holds exactly the parent and its five children r1/1..r1/5
    (no second child for a call), each completed, each with parent r1;
  - effects exist for exactly the 11 keys r1/K:1, r1/K:2 (K = 1..5) and r1:1,
    each once;
  - no invocation of a key started after that step's step_completed was
    journaled (a completed step is never sent again), and every journal has
    at most one step_completed per position.

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

CHILDREN = 5
# Kill rounds at most before the loop lets the run finish undisturbed.
DEFAULT_ROUNDS = 60
# Fewer kills than this before the parent completed would make the test say
# little (each round kills with probability > 1/2: this is ~never short).
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

# Logs every call; the effect of a key is made once (os.O_EXCL), later
# calls with that key answer the stored result. A short pause widens the
# window in which a kill finds a step in flight.
TOOL = """import json, os, sys, time
args = json.load(sys.stdin)
key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "")
with open("invocations.log", "a") as log:
    log.write("%d %s\\n" % (int(time.time() * 1000), key))
time.sleep(0.05)
os.makedirs("effects", exist_ok=True)
path = os.path.join("effects", key.replace("/", "_"))
try:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    os.write(fd, json.dumps({"n": args["n"] * 10}).encode())
    os.close(fd)
except FileExistsError:
    pass
with open(path) as f:
    print(f.read())
"""

PROVISION = """connector tool = "tool.json"
workflow provision(c: int) -> int {
  let a = tool.work(n: c * 10 + 1)
  let b = tool.work(n: c * 10 + 2)
  return a.n + b.n
}
"""

# The parent of each shape, and the id of its K-th child (K from 1).
SHAPES = {
    "sequential": (PROVISION + """workflow batch() -> int {
  var total = 0
  for c in range(%d) {
    total = total + provision(c: c)
  }
  let z = tool.work(n: 7)
  return total + z.n
}
""" % CHILDREN, "r1/%d"),
    "parallel": (PROVISION + """workflow batch() -> int {
  let parts = parallel for c in range(%d) {
    provision(c: c)
  }
  var total = 0
  for p in parts {
    total = total + p
  }
  let z = tool.work(n: 7)
  return total + z.n
}
""" % CHILDREN, "r1/1.%d/1"),
}


def expected_result():
    total = sum((c * 10 + 1) * 10 + (c * 10 + 2) * 10 for c in range(CHILDREN))
    return total + 70


def database(flow):
    return sqlite3.connect("file:%s?mode=ro" % flow.db, uri=True, timeout=10)


def unfinished_children(flow):
    if not flow.run_exists("r1"):
        return []
    db = database(flow)
    try:
        return [r[0] for r in db.execute(
            "SELECT id FROM runs WHERE parent_id IS NOT NULL AND status IN ('running', 'waiting')")]
    finally:
        db.close()


def parent_done(flow):
    if not flow.run_exists("r1"):
        return False
    db = database(flow)
    try:
        return db.execute("SELECT status FROM runs WHERE id = 'r1'").fetchone()[0] == "completed"
    finally:
        db.close()


def started_keys(workdir):
    try:
        with open(os.path.join(workdir, "invocations.log")) as f:
            return {line.split()[1] for line in f if len(line.split()) == 2}
    except FileNotFoundError:
        return set()


def kill_with_children_in_flight(flow):
    """Kills `flow run` once the tool's record shows three distinct keys
    started (each call takes 0.2 s): several children mid-step at once."""
    proc = flow.start("run", "w.flow", "--workflow", "batch", "--id", "r1", "--json")
    while proc.poll() is None and len(started_keys(flow.workdir)) < 3:
        time.sleep(0.005)
    check(proc.poll() is None, "flow run ended before three children were mid-step")
    proc.kill()
    proc.wait()
    in_flight = started_keys(flow.workdir)
    check(len(in_flight) >= 3, "only %d keys started" % len(in_flight))


def kill_loop(flow, rng, rounds, shape):
    """Returns the parent's final report and how many processes were killed
    (rather than exiting on their own)."""
    killed = 0
    if shape == "parallel":
        kill_with_children_in_flight(flow)
        killed += 1
    for _ in range(rounds):
        if parent_done(flow):
            break
        children = unfinished_children(flow)
        pick = rng.random()
        if children and pick < 0.3:
            proc = flow.start("resume", rng.choice(children))
        elif flow.run_exists("r1") and pick < 0.5:
            # Several threads of one process: the parent's and the child's
            # drivers share the lease owner; only the in-process claim keeps
            # two threads off one run.
            proc = flow.start("worker", "--once", "--concurrency", "4")
        elif flow.run_exists("r1"):
            proc = flow.start("resume", "r1", "--json")
        else:
            proc = flow.start("run", "w.flow", "--workflow", "batch", "--id", "r1", "--json")
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.kill()
            killed += 1
        proc.wait()
    # Undisturbed to the end: a worker pass with several threads, then
    # resume until the parent is done.
    code, out, err = flow.run("worker", "--once", "--concurrency", "4")
    check(code == 0, "flow worker --once exited %d: %s" % (code, err[-300:]))
    for _ in range(10):
        code, out, err = flow.run("resume", "r1", "--json")
        if code == 0:
            return json.loads(out), killed
        check(code in (3, 4), "flow resume r1 exited %d: %s %s" % (code, out[-300:], err[-300:]))
    raise Failure("the parent did not complete after the kills")


def check_outcome(flow, workdir, report, child_id):
    check(report.get("result") == expected_result(),
          "result %r, expected %d" % (report.get("result"), expected_result()))
    db = database(flow)
    try:
        runs = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, parent_id, status FROM runs")}
        children = [child_id % k for k in range(1, CHILDREN + 1)]
        check(sorted(runs) == sorted(["r1"] + children), "runs in the database: %s" % sorted(runs))
        for child in children:
            check(runs[child] == ("r1", "completed"), "child %s is %s" % (child, runs[child]))
        completed_at = {}
        for run_id in runs:
            seen = set()
            for step, at in db.execute(
                    "SELECT step, at_ms FROM journal WHERE run_id = ? AND type = 'step_completed'", (run_id,)):
                check(step not in seen, "run %s journals step %d completed twice" % (run_id, step))
                seen.add(step)
                completed_at["%s:%d" % (run_id, step)] = at
    finally:
        db.close()
    keys = sorted(["%s:%d" % (child_id % k, p) for k in range(1, CHILDREN + 1) for p in (1, 2)] + ["r1:1"])
    effects = sorted(name.replace("_", "/") for name in os.listdir(os.path.join(workdir, "effects")))
    check(effects == keys, "effects for keys %s, expected %s" % (effects, keys))
    with open(os.path.join(workdir, "invocations.log")) as f:
        calls = [line.split() for line in f if line.strip()]
    for start, key in calls:
        check(key in completed_at, "an invocation with key %r, which no journal completed" % key)
        check(int(start) <= completed_at[key],
              "key %s was sent at %s, after its completion was journaled at %d" % (key, start, completed_at[key]))
    return len(calls)


def main(shape="sequential"):
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--shape", choices=sorted(SHAPES), default=shape)
    args = parser.parse_args()
    workflow, child_id = SHAPES[args.shape]
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, "tool.json"), "w") as f:
            json.dump(CONNECTOR, f)
        with open(os.path.join(workdir, "tool.py"), "w") as f:
            f.write(TOOL)
        with open(os.path.join(workdir, "w.flow"), "w") as f:
            f.write(workflow)
        flow = Flow(os.path.abspath(args.flow), workdir)
        try:
            report, killed = kill_loop(flow, rng, args.rounds, args.shape)
            calls = check_outcome(flow, workdir, report, child_id)
            # Not vacuous: processes were killed on the way.
            check(killed >= MIN_KILLS, "only %d processes were killed before the parent completed" % killed)
        except Failure as failure:
            print("FAIL (seed %d): %s" % (seed, failure))
            return 1
    print("ok: seed %d, %d killed, %d tool calls for 11 keys (%s children)" % (seed, killed, calls, args.shape))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Approvals and signal waits inside branches survive kill -9.

    python3 tests/crash/parallel_waits_test.py --flow build/flow [--seed N] [--rounds N]

docs/composition.md, "Waits inside branches as built": with several
branches waiting at once, `flow approve RUN` answers the oldest open
approval and `flow signal RUN go` is consumed by the oldest `wait "go"`.
A workflow runs 5 branches (`parallel for`), each an exec step, an
`approve`, a `wait "go" as int` and a second exec step that uses the
signal's payload. The loop starts `flow run`, `flow approve`, `flow
signal`, `flow resume` and `flow worker --once` at random and kills each
after a random delay (kill -9), until the run completes or the rounds run
out; then it finishes the run undisturbed. Then:

  - every approval request was decided exactly once (one approval_decided
    naming it, one `resumed` delivering it), and nothing decided twice;
  - every signal delivered was consumed once (no signal seq in two
    `resumed` events), each branch consumed one, and each branch's value
    is computed from the payload of the signal it consumed;
  - each exec step's key has one effect, no invocation started after its
    step's completion was journaled (no step repeated).

First, a run of 3 branches that each `sleep 1s` waits (exit 3) until
`flow worker --once`, after the run's wake_at_ms has passed (polled),
completes it, each timer fired once in its branch.

Nothing sleeps to synchronise: kills happen after random delays, and every
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
from harness import Failure, Flow, check, wait_for  # noqa: E402
import parallel_test  # noqa: E402  (its exec tool: one effect per key, an invocation log)

ITEMS = 5
DEFAULT_ROUNDS = 80
MIN_KILLS = 5

WORKFLOW = """connector tool = "tool.json"
workflow w() -> [int] {
  return parallel for c in range(%d) {
    let a = tool.work(n: c)
    let d = approve "item ${c}?"
    let s = wait "go" as int
    let b = tool.work(n: a.n + s)
    b.n
  }
}
""" % ITEMS


def database(flow):
    return sqlite3.connect("file:%s?mode=ro" % flow.db, uri=True, timeout=10)


def journal(flow):
    db = database(flow)
    try:
        rows = db.execute("SELECT seq, type, branch, step, data FROM journal WHERE run_id = 'r1' ORDER BY seq").fetchall()
    finally:
        db.close()
    return [(seq, kind, branch, step, json.loads(data) if data else {}) for seq, kind, branch, step, data in rows]


def status(flow):
    if not flow.run_exists("r1"):
        return None
    db = database(flow)
    try:
        return db.execute("SELECT status FROM runs WHERE id = 'r1'").fetchone()[0]
    finally:
        db.close()


def open_approvals(events):
    answered = {d["request"] for _, _, _, _, d in events if isinstance(d.get("request"), int)}
    return [seq for seq, kind, branch, _, _ in events
            if kind == "approval_requested" and branch and seq not in answered]


def unconsumed_signals(events):
    consumed = {d["seq"] for _, kind, _, _, d in events if kind == "resumed" and d.get("after") == "signal"}
    return [seq for seq, kind, _, _, _ in events if kind == "signal_received" and seq not in consumed]


def kill_loop(flow, rng, rounds):
    killed = 0
    killed_kinds = set()
    sent = 0
    for _ in range(rounds):
        st = status(flow)
        if st == "completed":
            break
        pick = rng.random()
        if st is None:
            proc = flow.start("run", "w.flow", "--id", "r1", "--json")
        elif pick < 0.35:
            proc = flow.start("approve", "r1", "--as", "u%d" % rng.randrange(100), "--json")
        elif pick < 0.6 and sent < ITEMS + 3:
            sent += 1
            proc = flow.start("signal", "r1", "go", "--data", str(sent), "--json")
        elif pick < 0.8:
            proc = flow.start("resume", "r1", "--json")
        else:
            proc = flow.start("worker", "--once")
        # The recording commands end in tens of milliseconds: killed sooner.
        time.sleep(rng.uniform(0.0, 0.04 if proc.args[1] in ("approve", "signal") else 0.12))
        if proc.poll() is None:
            proc.kill()
            killed += 1
            killed_kinds.add(proc.args[1])
        proc.wait()
    # Kills of the commands that record (not only of the drivers).
    check({"approve", "signal"} <= killed_kinds, "no kill of %s" % ({"approve", "signal"} - killed_kinds))
    # Undisturbed: answer what is open, signal what waits, until done.
    for _ in range(60):
        st = status(flow)
        if st is None:
            code, out, err = flow.run("run", "w.flow", "--id", "r1", "--json")
            continue
        if st == "completed":
            code, out, err = flow.run("show", "r1", "--json")
            check(code == 0, "flow show r1 exited %d: %s" % (code, err[-300:]))
            return json.loads(out), killed
        check(st in ("running", "waiting"), "the run ended %s" % st)
        events = journal(flow)
        waits = [seq for seq, kind, branch, _, _ in events if kind == "signal_awaited" and branch]
        consumed = sum(1 for _, kind, _, _, d in events if kind == "resumed" and d.get("after") == "signal")
        if open_approvals(events):
            code, out, err = flow.run("approve", "r1", "--as", "finisher", "--json")
            check(code == 0, "flow approve exited %d: %s" % (code, err[-300:]))
        elif len(waits) > consumed and not unconsumed_signals(events):
            sent += 1
            code, out, err = flow.run("signal", "r1", "go", "--data", str(sent), "--json")
            check(code == 0, "flow signal exited %d: %s" % (code, err[-300:]))
        else:
            code, out, err = flow.run("resume", "r1", "--json")
            check(code in (0, 3, 4), "flow resume r1 exited %d: %s %s" % (code, out[-300:], err[-300:]))
    raise Failure("the run did not complete after the kills")


def check_outcome(flow, workdir, report):
    events = journal(flow)
    by_seq = {seq: (kind, branch, step, d) for seq, kind, branch, step, d in events}
    # Approvals: one decision and one delivery per request.
    requests = [seq for seq, kind, branch, _, _ in events if kind == "approval_requested" and branch]
    check(len(requests) == ITEMS, "%d approval requests, expected %d" % (len(requests), ITEMS))
    for r in requests:
        decided = [s for s, kind, _, _, d in events if kind == "approval_decided" and d.get("request") == r]
        delivered = [s for s, kind, _, _, d in events
                     if kind == "resumed" and d.get("after") == "approval" and d.get("request") == r]
        check(len(decided) == 1, "approval %d decided %d times" % (r, len(decided)))
        check(len(delivered) == 1, "approval %d delivered %d times" % (r, len(delivered)))
        check(by_seq[delivered[0]][1] == by_seq[r][1], "approval %d delivered to another branch" % r)
    # Signals: each consumed once, one per branch.
    consumed = [(branch, d["seq"]) for _, kind, branch, _, d in events if kind == "resumed" and d.get("after") == "signal"]
    seqs = [s for _, s in consumed]
    check(len(seqs) == len(set(seqs)), "a signal consumed twice: %s" % seqs)
    branches = sorted(b for b, _ in consumed)
    check(branches == sorted("1.%d" % k for k in range(1, ITEMS + 1)), "signals consumed by branches %s" % branches)
    payload = {b: by_seq[s][3]["payload"] for b, s in consumed}
    expected = [(c * 10 + payload["1.%d" % (c + 1)]) * 10 for c in range(ITEMS)]
    check(report.get("result") == expected, "result %r, expected %r" % (report.get("result"), expected))
    # Steps: each key's effect once, nothing sent after its completion.
    completed_at = {}
    for seq, kind, branch, step, _ in events:
        if kind != "step_completed":
            continue
        key = "r1:%s:%d" % (branch, step)
        check(key not in completed_at, "the journal completes %s twice" % key)
    db = database(flow)
    try:
        for branch, step, at in db.execute(
                "SELECT branch, step, at_ms FROM journal WHERE run_id = 'r1' AND type = 'step_completed'"):
            completed_at["r1:%s:%d" % (branch, step)] = at
    finally:
        db.close()
    check(len(completed_at) == 2 * ITEMS, "%d completed steps, expected %d" % (len(completed_at), 2 * ITEMS))
    effects = sorted(os.listdir(os.path.join(workdir, "effects")))
    check(effects == sorted(completed_at), "effects for keys %s, expected %s" % (effects, sorted(completed_at)))
    with open(os.path.join(workdir, "invocations.log")) as f:
        calls = [line.split() for line in f if line.strip()]
    for start, key in calls:
        check(key in completed_at, "an invocation with key %r, which the journal never completed" % key)
        check(int(start) <= completed_at[key],
              "key %s was sent at %s, after its completion was journaled at %d" % (key, start, completed_at[key]))
    return len(calls)


SLEEPER = """workflow nap() -> [int] {
  return parallel for k in range(3) {
    sleep 1s
    k
  }
}
"""


def sleep_scenario(flow):
    """A sleep in a branch is a durable timer: `flow run` exits 3, `flow
    worker --once` before it is due resumes nothing, and once the row's
    wake_at_ms has passed (polled) it completes the run."""
    code, out, err = flow.run("run", "nap.flow", "--id", "n1", "--json")
    check(code == 3, "flow run of the sleeper exited %d: %s %s" % (code, out, err[-300:]))
    report = json.loads(out)
    check(report["waiting"].get("kind") == "timer" and report["waiting"].get("branch") == "1.1"
          and len(report["waiting"].get("also", [])) == 2, "waiting %r" % report["waiting"])
    db = database(flow)
    try:
        wake = db.execute("SELECT wake_at_ms FROM runs WHERE id = 'n1'").fetchone()[0]
    finally:
        db.close()
    if int(time.time() * 1000) < wake - 200:
        code, out, err = flow.run("worker", "--once")
        check(code == 0 and "0 run(s) resumed" in err, "an early worker: %d %s" % (code, err[-300:]))
    wait_for(lambda: int(time.time() * 1000) > wake, "the sleeps to be due")
    code, out, err = flow.run("worker", "--once")
    check(code == 0 and "1 run(s) resumed" in err, "the worker: %d %s %s" % (code, out, err[-300:]))
    code, out, err = flow.run("show", "n1", "--json")
    shown = json.loads(out)
    check(shown["status"] == "completed" and shown["result"] == [0, 1, 2], "the sleeper ended %r" % shown)
    fired = [e for e in shown["journal"] if e["event"] == "timer_fired"]
    check(sorted(e.get("branch") for e in fired) == ["1.1", "1.2", "1.3"], "timers fired %r" % fired)


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
            json.dump(parallel_test.CONNECTOR, f)
        with open(os.path.join(workdir, "tool.py"), "w") as f:
            f.write(parallel_test.TOOL)
        with open(os.path.join(workdir, "w.flow"), "w") as f:
            f.write(WORKFLOW)
        with open(os.path.join(workdir, "nap.flow"), "w") as f:
            f.write(SLEEPER)
        flow = Flow(os.path.abspath(args.flow), workdir)
        try:
            sleep_scenario(flow)
            report, killed = kill_loop(flow, rng, args.rounds)
            calls = check_outcome(flow, workdir, report)
            check(killed >= MIN_KILLS, "only %d processes were killed before the run completed" % killed)
        except Failure as failure:
            print("FAIL (seed %d): %s" % (seed, failure))
            return 1
    print("ok: seed %d, %d killed, %d tool calls for %d keys" % (seed, killed, calls, 2 * ITEMS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Exactly once with no exceptions, and runs that can always be stopped.

    python3 tests/crash/exactly_once_test.py --flow build/flow [--scenario NAME]

SPEC §4 with real processes killed by SIGKILL (issue 10). Each scenario has
its own directory and database. The back ends keep their own record: an
exec tool (tool.py, written below) appends one line per call to
invocations.log whatever its idempotency key (so a step sent twice shows
twice), and the HTTP test server (tests/servers/http_server.py) records
requests and the effects of POST .../charges, one per idempotency key.

Scenarios:
  pure_after_step   a step, then seconds of pure computation: the step's
                    completion is durable before that computation runs; a
                    kill -9 in it, then `flow resume`: the tool ran once
  cancel_killed     a saga waiting for approval; `flow cancel` is killed
                    while its first refund is in flight: the run is not
                    revived (`flow approve` is refused), `flow worker
                    --once` finishes the cancellation: each refund once, in
                    reverse order, the step after the approval never sent,
                    status cancelled, compensation keys of their own
  cancel_in_flight  `flow cancel` of a run whose step is in flight in a live
                    `flow run`: that process finishes the step, undoes it
                    and the run ends cancelled; and a `flow run` killed with
                    its step in flight: `flow cancel` sends the step again
                    (same key) and undoes it
  cancel_retrying   a charge whose response is lost after the server made
                    it (a 503 with Retry-After, which fixes the jittered
                    backoff): `flow cancel` during its backoff, in the live
                    `flow run` (20 s) and of a run suspended for a long one
                    (10 min): the charge is sent once
                    more with its key (the server keeps one effect) and
                    refunded; the run ends cancelled
  cancel_branches   a `flow run` killed with -9 while four `parallel for`
                    items are blocked in their steps, three with a
                    `compensate`: `flow cancel` sends each of those three
                    once more with its own key (<run>:<branch>:1) and undoes
                    each once; the item without `compensate` is not sent
                    again, nothing after the items is sent; cancelled
  cancel_parent     `flow cancel` of a parent whose child run is in the middle
                    of a step: in the parent's own live `flow run`, the
                    child stops at its next durable point (it sends nothing
                    more) and is undone; driven by another process (`flow
                    approve CHILD`), the parent's compensations wait for the
                    child's: children first (SPEC §2.5)
  two_databases     two databases on one machine, each with a run `same`
                    whose step is in flight: the one whose `flow run` was
                    killed is resumed, and its resend (which kills what is
                    left of its previous attempt, found by key, run id and
                    operation) leaves the other database's live step alone
  cancel_loop       `while true {}` in a live `flow run` (the instruction
                    budget set out of reach): `flow cancel` stops it,
                    compensates, exits 0 with status cancelled
  worker_sigterm    a `flow worker` driving `while true {}` exits 0 at once
                    on SIGTERM; the run is left at its last durable point
                    and a later `flow cancel` ends it
  limits            the instruction budget and the memory cap fail a run
                    with kind `limit` (exit 1), never a crash; a bad
                    FLOW_MAX_INSTRUCTIONS is exit 2
  blocked           the exec connector's folder is moved while the run
                    waits for approval: the approved step cannot be sent,
                    the run waits (reason blocked, naming the folder),
                    nothing is compensated; moved back, `flow resume`
                    completes it
  state_flips       random byte flips of a waiting run's saved state:
                    `flow resume` exits 4 every time, never a result
Nothing sleeps to synchronise: waits poll a file, the database, a server's
record or a process's exit.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Failure, Flow, Server, check, event_type, header, invocations,  # noqa: E402
                     journal_of, wait_for, write_work_block_tool)

# How long any wait for a condition may take before the test fails.
DEADLINE_SECONDS = 60
# An instruction budget no test reaches: only a stop request ends the loop.
UNREACHABLE_BUDGET = str(10 ** 15)

def write(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def journal_types(flow, run_id):
    """The journal's event types, read-only from the database (while a flow
    process may be writing: WAL readers do not block it)."""
    try:
        db = sqlite3.connect("file:%s?mode=ro" % flow.db, uri=True, timeout=10)
    except sqlite3.Error:
        return []  # not created yet
    try:
        return [r[0] for r in db.execute("SELECT type FROM journal WHERE run_id = ? ORDER BY seq", (run_id,))]
    except sqlite3.Error:
        return []
    finally:
        db.close()


def show(flow, run_id):
    code, report = flow.json("show", run_id, "--json")
    check(code == 0, "flow show %s exited %d" % (run_id, code))
    return report


def finish(proc, what):
    """Waits for a started flow process; its (exit code, stdout, stderr)."""
    try:
        code = proc.wait(timeout=DEADLINE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure("%s did not exit within %d s" % (what, DEADLINE_SECONDS))
    out, err = Flow.output(proc)
    return code, out, err


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()


STARTED = []  # every process a scenario started: killed when it ends, pass or fail


def start(flow, *args):
    proc = flow.start(*args)
    STARTED.append(proc)
    return proc


# ---------------------------------------------------------------- item 1

PURE_AFTER_STEP = """connector tool = "tool.json"
workflow main() -> int {
  let r = tool.work(n: 1)
  var i = 0
  while i < 300000000 { i = i + 1 }
  return r.n
}
"""


def scenario_pure_after_step(flow, workdir):
    write_work_block_tool(workdir)
    source = write(workdir, "main.flow", PURE_AFTER_STEP)
    os.environ["FLOW_MAX_INSTRUCTIONS"] = UNREACHABLE_BUDGET
    proc = start(flow, "run", source, "--id", "p1")
    # The step's completion must be durable while the loop after it runs.
    wait_for(lambda: "step_completed" in journal_types(flow, "p1") or proc.poll() is not None,
             "the step's completion to be durable")
    check(proc.poll() is None and "completed" not in journal_types(flow, "p1"),
          "the completion was not durable before the pure code after the step ran: the run ended first")
    kill(proc)
    check(invocations(workdir) == [["work", "1", "p1:1"]], "tool calls before the kill: %s" % invocations(workdir))
    code, out, err = flow.run("resume", "p1", "--json")
    check(code == 0 and json.loads(out)["result"] == 10, "flow resume: exit %d %r %r" % (code, out, err[-300:]))
    check(invocations(workdir) == [["work", "1", "p1:1"]],
          "the completed step was sent again after the kill: %s" % invocations(workdir))


# ---------------------------------------------------------------- item 2

def billing_connector(url):
    money = {"type": "object", "required": ["customer", "amount"],
             "properties": {"customer": {"type": "string"}, "amount": {"type": "integer"}}}
    charge = {"type": "object", "required": ["id", "amount"],
              "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}}
    return {
        "connector": "billing",
        "transport": {"kind": "http", "base_url": url},
        "operations": {
            "charge": {"http": {"method": "POST", "path": "/charges"}, "input": money, "output": charge,
                       "idempotent": True},
            "refund": {"http": {"method": "POST", "path": "/refunds/charges"}, "input": money, "output": charge,
                       "idempotent": True},
        },
    }


SAGA = """connector billing = "billing.json"
workflow order() -> int {
  let c1 = billing.charge(customer: "c1", amount: 10)
    compensate billing.refund(customer: c1.id, amount: c1.amount)
  let c2 = billing.charge(customer: "c2", amount: 20)
    compensate billing.refund(customer: c2.id, amount: c2.amount)
  let c3 = billing.charge(customer: "c3", amount: 30)
    compensate billing.refund(customer: c3.id, amount: c3.amount)
  approve "ship?"
  let after = billing.charge(customer: "after-approval", amount: 1)
  return c1.amount + c2.amount + c3.amount + after.amount
}
"""


def effects_by_customer(server):
    counts = {}
    for e in server.effects():
        counts[e["customer"]] = counts.get(e["customer"], 0) + 1
    return counts


def refund_order(server):
    """The charges refunded, in the order the refunds first reached the server."""
    seen = []
    for r in server.requests():
        if r["path"] == "/refunds/charges" and r["json"]["customer"] not in seen:
            seen.append(r["json"]["customer"])
    return seen


def scenario_cancel_killed(flow, workdir):
    with Server() as server:
        write(workdir, "billing.json", json.dumps(billing_connector(server.url)))
        source = write(workdir, "saga.flow", SAGA)
        code, report = flow.json("run", source, "--id", "s1", "--json")
        check(code == 3 and report["waiting"]["kind"] == "approval", "the saga did not wait: %d %s" % (code, report))
        # The first refund is held: in flight when `flow cancel` is killed.
        server.control(path="/refunds/charges", hang=1, seconds=3)
        cancel = start(flow, "cancel", "s1")
        wait_for(lambda: any(r["path"] == "/refunds/charges" for r in server.requests()), "the first refund")
        kill(cancel)
        run = show(flow, "s1")
        check(run["status"] != "cancelled", "the cancel finished before it was killed")
        check(any(event_type(e) == "cancel_requested" for e in journal_of(run)),
              "the cancellation was not recorded before the first refund was sent")
        code, out, err = flow.run("approve", "s1")
        check(code == 2, "flow approve of a run being cancelled: exit %d %r" % (code, err[-300:]))
        code, out, err = flow.run("worker", "--once", "--json")
        check(code == 0, "worker --once: exit %d %r" % (code, err[-300:]))
        done = json.loads(out)["resumed"]
        check([(r["run"], r["status"]) for r in done] == [("s1", "cancelled")], "the worker's pass: %s" % done)
        check([c["status"] for c in done[0]["compensations"]] == ["completed"] * 3, "compensations: %s" % done)
        check(refund_order(server) == ["ch_3", "ch_2", "ch_1"],
              "the refunds did not reach the server newest first: %s" % refund_order(server))
        # The held request may still complete: the server's record, once it has.
        wait_for(lambda: len(server.effects()) >= 6, "the refunds' effects")
        effects = effects_by_customer(server)
        check(effects == {"c1": 1, "c2": 1, "c3": 1, "ch_1": 1, "ch_2": 1, "ch_3": 1},
              "effects (each charge and each refund exactly once, nothing after the approval): %s" % effects)
        run = show(flow, "s1")
        check(run["status"] == "cancelled", "status after the worker: %s" % run["status"])
        keys = [e["data"]["key"] for e in journal_of(run) if event_type(e) == "compensation_started"]
        check(keys and all(k.startswith("s1:undo:") for k in keys), "compensation keys: %s" % keys)
        completed = [e["step"] for e in journal_of(run) if event_type(e) == "compensation_completed"]
        check(len(completed) == 3 and len(set(completed)) == 3, "compensations journaled: %s" % completed)


# ---------------------------------------------------------------- item 3

IN_FLIGHT = """connector tool = "tool.json"
workflow main(n: int) -> int {
  let r = tool.block(n: n) compensate tool.work(n: r.n)
  approve "go?"
  return r.n
}
"""


def scenario_cancel_in_flight(flow, workdir):
    write_work_block_tool(workdir)
    source = write(workdir, "main.flow", IN_FLIGHT)
    # A live `flow run` with the step in flight.
    run = start(flow, "run", source, "--id", "f1", "--input", '{"n": 1}')
    wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-1")), "f1's step to be sent")
    cancel = start(flow, "cancel", "f1", "--json")
    wait_for(lambda: "cancel_requested" in journal_types(flow, "f1"), "the cancellation to be recorded")
    write(workdir, "go-1", "")
    code, out, err = finish(cancel, "flow cancel of a live run")
    check(code == 0, "flow cancel exited %d: %s" % (code, err[-300:]))
    code, _, err = finish(run, "the flow run being cancelled")
    check(code == 1, "the cancelled flow run exited %d: %s" % (code, err[-300:]))
    check(show(flow, "f1")["status"] == "cancelled", "f1 is not cancelled")
    check(invocations(workdir) == [["block", "1", "f1:1"], ["work", "10", "f1:undo:1"]],
          "f1's tool calls: %s" % invocations(workdir))
    # A `flow run` killed with its step in flight, then cancelled.
    run = start(flow, "run", source, "--id", "f2", "--input", '{"n": 2}')
    wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-2")), "f2's step to be sent")
    kill(run)
    write(workdir, "go-2", "")
    code, out, err = flow.run("cancel", "f2", "--json")
    check(code == 0 and json.loads(out)["status"] == "cancelled", "flow cancel f2: %d %r %r" % (code, out, err[-300:]))
    calls = [c for c in invocations(workdir) if c[2].startswith("f2:")]
    check(calls == [["block", "2", "f2:1"], ["block", "2", "f2:1"], ["work", "20", "f2:undo:1"]],
          "f2's tool calls (the step resent with its key, then undone): %s" % calls)


RETRYING = """connector billing = "billing.json"
workflow order(customer: string) -> int {
  let c = billing.charge(customer: customer, amount: 10) retry 3 backoff %s
    compensate billing.refund(customer: c.id, amount: c.amount)
  return c.amount
}
"""


def scenario_cancel_retrying(flow, workdir):
    with Server() as server:
        write(workdir, "billing.json", json.dumps(billing_connector(server.url)))
        # A live `flow run` waiting 20 s before its second attempt.
        # The backoff has full jitter, so the server's Retry-After (a floor)
        # makes the wait exactly 20 s: long enough for the cancel to come
        # in, short enough to be waited in process.
        source = write(workdir, "live.flow", RETRYING % "20s")
        server.control(path="/charges", lose_response=1, lost_status=503, retry_after=20)
        run = start(flow, "run", source, "--id", "r1", "--input", '{"customer": "live"}')
        wait_for(lambda: "step_failed" in journal_types(flow, "r1"), "r1's first attempt to fail")
        check(effects_by_customer(server) == {"live": 1}, "the lost response's effect: %s" % server.effects())
        code, out, err = flow.run("cancel", "r1", "--json", timeout=DEADLINE_SECONDS)
        check(code == 0 and json.loads(out)["status"] == "cancelled",
              "flow cancel r1 during its backoff: %d %r %r" % (code, out, err[-300:]))
        code, _, err = finish(run, "the flow run being cancelled")
        check(code == 1, "the cancelled flow run exited %d: %s" % (code, err[-300:]))
        check(effects_by_customer(server) == {"live": 1, "ch_1": 1},
              "r1: the charge made before the cancel was not refunded once: %s" % server.effects())
        # A run suspended (reason retry) for a backoff too long to wait in process.
        source = write(workdir, "long.flow", RETRYING % "10m")
        server.control(path="/charges", lose_response=1, lost_status=503, retry_after=600)
        code, report = flow.json("run", source, "--id", "r2", "--input", '{"customer": "long"}', "--json")
        check(code == 3 and report["waiting"]["kind"] == "retry",
              "r2 did not wait to retry: %d %s; the server's record: %s"
              % (code, report, [(r["path"], r["headers"].get("Idempotency-Key"), r["at_ms"]) for r in server.requests()]))
        code, out, err = flow.run("cancel", "r2", "--json")
        check(code == 0 and json.loads(out)["status"] == "cancelled",
              "flow cancel r2: %d %r %r" % (code, out, err[-300:]))
        check(effects_by_customer(server) == {"live": 1, "ch_1": 1, "long": 1, "ch_3": 1},
              "r2: the charge made before the cancel was not refunded once: %s" % server.effects())
        keys = [r["headers"].get("Idempotency-Key") for r in server.requests() if r["path"] == "/charges"]
        check(keys == ["r1:1", "r1:1", "r2:1", "r2:1"], "the charges' keys (each resent once at the cancel): %s" % keys)


BRANCHES = """connector tool = "tool.json"
workflow main(xs: [int]) -> int {
  parallel for x in xs {
    if x == 4 {
      tool.block(n: x)
    } else {
      let r = tool.block(n: x) compensate tool.work(n: r.n)
    }
  }
  let after = tool.work(n: 99)
  return after.n
}
"""


def scenario_cancel_branches(flow, workdir):
    write_work_block_tool(workdir)
    source = write(workdir, "main.flow", BRANCHES)
    run = start(flow, "run", source, "--id", "b1", "--input", '{"xs": [1, 2, 3, 4]}')
    for n in range(1, 5):
        wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-%d" % n)), "item %d's step to be sent" % n)
    kill(run)
    for n in range(1, 5):
        write(workdir, "go-%d" % n, "")
    code, out, err = flow.run("cancel", "b1", "--json")
    check(code == 0 and json.loads(out)["status"] == "cancelled", "flow cancel b1: %d %r %r" % (code, out, err[-300:]))
    calls = invocations(workdir)
    blocks = sorted(tuple(c) for c in calls if c[0] == "block")
    want = sorted([("block", str(n), "b1:1.%d:1" % n) for n in (1, 2, 3)] * 2 + [("block", "4", "b1:1.4:1")])
    check(blocks == want, "the items' steps (each with a compensate resent once with its own key): %s" % calls)
    undo = sorted(c[1] for c in calls if c[0] == "work")
    check(undo == ["10", "20", "30"], "the undos (each completed item once, nothing after the items): %s" % calls)
    keys = sorted(c[2] for c in calls if c[0] == "work")
    check(keys == ["b1:undo:1", "b1:undo:2", "b1:undo:3"], "the undos' keys: %s" % calls)
    # Registered in completion order, run newest first: the journal says which.
    journal = journal_of(show(flow, "b1"))
    completed = [e["branch"] for e in journal if event_type(e) == "step_completed"]
    check(sorted(completed) == ["1.1", "1.2", "1.3"], "the resent steps' completions: %s" % completed)
    undone = [e["data"]["args"]["n"] for e in journal if event_type(e) == "compensation_started"]
    check(undone == [int(b[-1]) * 10 for b in reversed(completed)],
          "compensations not newest first (completions %s): %s" % (completed, undone))


PARENT_LIVE = """connector tool = "tool.json"
workflow child(n: int) -> int {
  let r = tool.block(n: n) compensate tool.work(n: r.n)
  let s = tool.work(n: 99)
  return r.n + s.n
}
workflow main() -> int {
  let a = tool.work(n: 1) compensate tool.work(n: 2)
  let c = child(n: 5)
  return a.n + c
}
"""

PARENT_ELSEWHERE = """connector tool = "tool.json"
workflow child(n: int) -> int {
  approve "go?"
  let r = tool.block(n: n) compensate tool.work(n: r.n)
  return r.n
}
workflow main() -> int {
  let a = tool.work(n: 3) compensate tool.work(n: 4)
  let c = child(n: 6)
  return a.n + c
}
"""


def scenario_cancel_parent(flow, workdir):
    write_work_block_tool(workdir)
    # The child is driven by its parent's own `flow run`, its step in flight.
    source = write(workdir, "live.flow", PARENT_LIVE)
    run = start(flow, "run", source, "--workflow", "main", "--id", "q1")
    wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-5")), "the child's step to be sent")
    cancel = start(flow, "cancel", "q1", "--json")
    wait_for(lambda: "cancel_requested" in journal_types(flow, "q1"), "q1's cancellation to be recorded")
    write(workdir, "go-5", "")
    code, _, err = finish(cancel, "flow cancel q1")
    check(code == 0, "flow cancel q1 exited %d: %s" % (code, err[-300:]))
    code, _, err = finish(run, "the flow run being cancelled")
    check(code == 1, "the cancelled flow run exited %d: %s" % (code, err[-300:]))
    check(show(flow, "q1")["status"] == "cancelled" and show(flow, "q1/1")["status"] == "cancelled",
          "q1 and its child are not both cancelled")
    check(invocations(workdir) == [["work", "1", "q1:1"], ["block", "5", "q1/1:1"], ["work", "50", "q1/1:undo:1"],
                                   ["work", "2", "q1:undo:1"]],
          "q1: the child went on after its parent's cancel, or was not undone first: %s" % invocations(workdir))
    # The child is driven by `flow approve` while `flow cancel` takes the parent.
    source = write(workdir, "elsewhere.flow", PARENT_ELSEWHERE)
    code, report = flow.json("run", source, "--workflow", "main", "--id", "q2", "--json")
    check(code == 3 and report["waiting"]["kind"] == "child", "q2 did not wait for its child: %d %s" % (code, report))
    approve = start(flow, "approve", "q2/1")
    wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-6")), "the approved child step to be sent")
    code, out, err = flow.run("cancel", "q2", "--json")
    check(code == 0, "flow cancel q2 exited %d: %s" % (code, err[-300:]))
    write(workdir, "go-6", "")
    code, _, err = finish(approve, "flow approve q2/1")
    check(code == 0, "flow approve q2/1 exited %d: %s" % (code, err[-300:]))
    wait_for(lambda: show(flow, "q2")["status"] == "cancelled", "q2 to end cancelled")
    calls = [c for c in invocations(workdir) if c[2].startswith("q2")]
    check(calls == [["work", "3", "q2:1"], ["block", "6", "q2/1:1"], ["work", "60", "q2/1:undo:1"],
                    ["work", "4", "q2:undo:1"]],
          "q2: the parent was undone before its child: %s" % calls)


BLOCK_ONCE = """connector tool = "tool.json"
workflow main() -> int {
  let r = tool.block(n: 1)
  return r.n
}
"""


def scenario_two_databases(flow, workdir):
    dirs = [os.path.join(workdir, name) for name in ("one", "two")]
    flows = []
    for d in dirs:
        write_work_block_tool(d)
        write(d, "main.flow", BLOCK_ONCE)
        flows.append(Flow(flow.binary, d))
    live = start(flows[0], "run", os.path.join(dirs[0], "main.flow"), "--id", "same")
    wait_for(lambda: os.path.exists(os.path.join(dirs[0], "blocked-1")), "the first database's step to be sent")
    killed = start(flows[1], "run", os.path.join(dirs[1], "main.flow"), "--id", "same")
    wait_for(lambda: os.path.exists(os.path.join(dirs[1], "blocked-1")), "the second database's step to be sent")
    kill(killed)
    write(dirs[1], "go-1", "")
    code, out, err = flows[1].run("resume", "same", "--json")
    check(code == 0 and json.loads(out)["result"] == 10, "resume in the second database: %d %r %r" % (code, out, err[-300:]))
    check(live.poll() is None, "the first database's run ended while its step was blocked: exit %s, %r"
          % (live.returncode, Flow.output(live)[1][-300:] if live.returncode is not None else ""))
    write(dirs[0], "go-1", "")
    code, out, err = finish(live, "the first database's flow run")
    check(code == 0, "the first database's run, whose step the other database's resume must not kill: exit %d %r"
          % (code, err[-300:]))
    check(invocations(dirs[0]) == [["block", "1", "same:1"]], "first database's calls: %s" % invocations(dirs[0]))


# ---------------------------------------------------------------- item 7

LOOP = """connector tool = "tool.json"
workflow main() -> int {
  let r = tool.work(n: 1) compensate tool.work(n: 2)
  var i = 0
  while true { i = i + 1 }
  return i
}
"""


def scenario_cancel_loop(flow, workdir):
    write_work_block_tool(workdir)
    source = write(workdir, "main.flow", LOOP)
    os.environ["FLOW_MAX_INSTRUCTIONS"] = UNREACHABLE_BUDGET
    run = start(flow, "run", source, "--id", "l1")
    wait_for(lambda: "step_completed" in journal_types(flow, "l1"), "the step before the loop")
    code, out, err = flow.run("cancel", "l1", "--json", timeout=DEADLINE_SECONDS)
    check(code == 0, "flow cancel of a looping run exited %d: %s" % (code, err[-300:]))
    report = json.loads(out)
    check(report["status"] == "cancelled" and report["compensations"] == [{"step": "tool.work", "status": "completed"}],
          "flow cancel --json: %s" % report)
    code, _, err = finish(run, "the looping flow run")
    check(code == 1, "the cancelled flow run exited %d: %s" % (code, err[-300:]))
    check(invocations(workdir) == [["work", "1", "l1:1"], ["work", "2", "l1:undo:1"]],
          "tool calls: %s" % invocations(workdir))


SLEEP_THEN_LOOP = """connector tool = "tool.json"
workflow main() -> int {
  let r = tool.work(n: 1) compensate tool.work(n: 2)
  sleep 1s
  var i = 0
  while true { i = i + 1 }
  return i
}
"""


def scenario_worker_sigterm(flow, workdir):
    write_work_block_tool(workdir)
    source = write(workdir, "main.flow", SLEEP_THEN_LOOP)
    os.environ["FLOW_MAX_INSTRUCTIONS"] = UNREACHABLE_BUDGET
    code, out, err = flow.run("run", source, "--id", "w1")
    check(code == 3, "the run did not wait for its timer: %d %s" % (code, err[-300:]))
    worker = start(flow, "worker")
    try:
        wait_for(lambda: "timer_fired" in journal_types(flow, "w1"), "the worker to reach the loop")
        worker.send_signal(signal.SIGTERM)
        code, _, err = finish(worker, "the worker after SIGTERM")
        check(code == 0, "the worker exited %d on SIGTERM: %s" % (code, err[-300:]))
    finally:
        if worker.poll() is None:
            kill(worker)
    run = show(flow, "w1")
    check(run["status"] == "running", "the run the worker let go of is %s" % run["status"])
    code, out, err = flow.run("cancel", "w1", "--json")
    check(code == 0 and json.loads(out)["status"] == "cancelled", "flow cancel w1: %d %r %r" % (code, out, err[-300:]))
    check(invocations(workdir) == [["work", "1", "w1:1"], ["work", "2", "w1:undo:1"]],
          "tool calls: %s" % invocations(workdir))


def scenario_limits(flow, workdir):
    loop = write(workdir, "loop.flow", "workflow main() -> int {\n  var i = 0\n  while true { i = i + 1 }\n"
                                       "  return i\n}\n")
    os.environ["FLOW_MAX_INSTRUCTIONS"] = "1000000"
    code, report = flow.json("run", loop, "--json")
    check(code == 1 and report["error"]["kind"] == "limit" and re.search(r"loop\.flow:3:\d+$", report["error"].get("at", "")),
          "the budget: exit %d %s" % (code, report))
    del os.environ["FLOW_MAX_INSTRUCTIONS"]
    grow = write(workdir, "grow.flow", "workflow main() -> int {\n  var s = \"x\"\n  while true { s = s + s }\n"
                                       "  return len(s)\n}\n")
    os.environ["FLOW_MAX_MEMORY_MB"] = "64"
    code, report = flow.json("run", grow, "--json", "--id", "g1")
    check(code == 1 and report["error"] == {"kind": "limit", "at": grow + ":3:20",
                                             "message": "the run's values exceed the memory limit of 64 MiB"},
          "the memory cap: exit %d %s" % (code, report))
    code, report = flow.json("resume", "g1", "--json")
    check(code == 1 and report["status"] == "failed", "a later resume of the run: %d %s" % (code, report))
    del os.environ["FLOW_MAX_MEMORY_MB"]
    os.environ["FLOW_MAX_INSTRUCTIONS"] = "lots"
    code, out, err = flow.run("run", loop)
    del os.environ["FLOW_MAX_INSTRUCTIONS"]
    check(code == 2 and err.count("\n") == 1 and "FLOW_MAX_INSTRUCTIONS" in err,
          "a bad FLOW_MAX_INSTRUCTIONS: exit %d %r" % (code, err))


# ---------------------------------------------------------------- item 9

BLOCKED = """connector tool = "svc/tool.json"
workflow main() -> int {
  let a = tool.work(n: 1) compensate tool.work(n: 2)
  approve "go?"
  let b = tool.work(n: 3)
  return a.n + b.n
}
"""


def scenario_blocked(flow, workdir):
    svc = os.path.join(workdir, "svc")
    write_work_block_tool(svc)
    source = write(workdir, "main.flow", BLOCKED)
    code, report = flow.json("run", source, "--id", "b1", "--json")
    check(code == 3, "the run did not wait for approval: %d %s" % (code, report))
    os.rename(svc, svc + "-moved")
    code, out, err = flow.run("approve", "b1", "--json")
    check(code == 0, "flow approve: %d %r" % (code, err[-300:]))
    report = json.loads(out)
    check(report["status"] == "waiting" and report["waiting"]["kind"] == "blocked",
          "the approved run is not blocked: %s" % report)
    check("'%s' of connector 'tool' is missing" % svc in report["waiting"]["message"],
          "the message does not name the missing folder: %s" % report["waiting"]["message"])
    run = show(flow, "b1")
    check(run["status"] == "waiting" and not any(event_type(e).startswith("compensation") for e in journal_of(run)),
          "a blocked run was compensated: %s" % [event_type(e) for e in journal_of(run)])
    code, out, err = flow.run("resume", "b1", "--json")
    check(code == 3 and json.loads(out)["waiting"]["kind"] == "blocked", "resume while still missing: %d %r" % (code, out))
    os.rename(svc + "-moved", svc)
    code, out, err = flow.run("resume", "b1", "--json")
    check(code == 0 and json.loads(out)["result"] == 40, "resume once fixed: %d %r %r" % (code, out, err[-300:]))
    check(invocations(svc) == [["work", "1", "b1:1"], ["work", "3", "b1:2"]], "tool calls: %s" % invocations(svc))


# ---------------------------------------------------------------- item 5

WAITING = """workflow main(n: int) -> int {
  let xs = [n, n + 1, n * 1000]
  let d = approve "go?"
  return xs[0] + xs[1] + xs[2]
}
"""
FLIPS = 40


def scenario_state_flips(flow, workdir, seed):
    source = write(workdir, "main.flow", WAITING)
    code, _, err = flow.run("run", source, "--id", "v1", "--input", '{"n": 7}')
    check(code == 3, "the run did not wait: %d %s" % (code, err[-300:]))
    db = sqlite3.connect(flow.db)
    good = db.execute("SELECT bytes FROM state WHERE run_id = 'v1'").fetchone()[0]
    db.close()
    rng = random.Random(seed)
    for _ in range(FLIPS):
        bad = bytearray(good)
        at = rng.randrange(len(bad))
        bad[at] ^= rng.randrange(1, 256)
        db = sqlite3.connect(flow.db)
        db.execute("UPDATE state SET bytes = ? WHERE run_id = 'v1'", (bytes(bad),))
        db.commit()
        db.close()
        code, out, err = flow.run("resume", "v1", "--json")
        check(code == 4 and out == "" and err.count("\n") == 1,
              "byte %d of the state damaged: flow resume exit %d %r %r (seed %d)" % (at, code, out, err, seed))
    db = sqlite3.connect(flow.db)
    db.execute("UPDATE state SET bytes = ? WHERE run_id = 'v1'", (good,))
    db.commit()
    db.close()
    code, out, err = flow.run("approve", "v1", "--json")
    check(code == 0 and json.loads(out)["result"] == 7 + 8 + 7000, "the intact state: %d %r" % (code, out))


SCENARIOS = {"pure_after_step": scenario_pure_after_step, "cancel_killed": scenario_cancel_killed,
             "cancel_in_flight": scenario_cancel_in_flight, "cancel_retrying": scenario_cancel_retrying,
             "cancel_branches": scenario_cancel_branches, "cancel_parent": scenario_cancel_parent,
             "two_databases": scenario_two_databases,
             "cancel_loop": scenario_cancel_loop,
             "worker_sigterm": scenario_worker_sigterm, "limits": scenario_limits, "blocked": scenario_blocked,
             "state_flips": scenario_state_flips}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.randrange(1 << 30)
    names = [options.scenario] if options.scenario else list(SCENARIOS)
    saved = dict(os.environ)
    for name in names:
        workdir = tempfile.mkdtemp(prefix="flow-once-%s-" % name)
        try:
            flow = Flow(os.path.abspath(options.flow), workdir)
            if name == "state_flips":
                SCENARIOS[name](flow, workdir, seed)
            else:
                SCENARIOS[name](flow, workdir)
            print("ok: %s" % name)
        except Failure as f:
            print("FAIL: %s: %s (seed %d)" % (name, f, seed))
            return 1
        except (subprocess.TimeoutExpired, UnicodeDecodeError, ValueError, KeyError) as e:
            # flow hung, printed bytes that are not text (a damaged value) or no JSON object
            print("FAIL: %s: %s: %s (seed %d)" % (name, type(e).__name__, e, seed))
            return 1
        finally:
            for proc in STARTED:
                if proc.poll() is None:
                    kill(proc)
            del STARTED[:]
            os.environ.clear()
            os.environ.update(saved)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

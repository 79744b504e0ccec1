#!/usr/bin/env python3
"""`flow worker`: timers, runs whose owner died, stopping, two workers.

    python3 tests/crash/worker_test.py --flow build/flow [--scenario NAME]

SPEC §4 "Who drives a run": `flow worker` drives every run that is due --
waiting runs whose wake-up time passed, and running runs whose owner died.
Each scenario uses its own directory and database, and an exec connector
(tool.py, written below) that appends one line per call to
invocations.log: that record, not flow's word, says how often a step ran.

Scenarios:
  usage     --concurrency outside 1..64 and --json without --once are exit
            2; --once on no database drives nothing and creates nothing
  timer     a `sleep 1s` run (exit 3): `worker --once` before it is due
            drives nothing, after it is due (the clock is polled) completes it
  wait_timeout  a `wait ... timeout 1s` run: passes of `worker --once`
            until its timeout passed deliver error kind `timeout`
  orphan    `flow run` is kill -9ed while its step blocks (until a file
            appears); `worker --once` takes the run at once (same host, pid
            gone), resends the step with the same key (`resent`), completes it
  forever   a worker without --once completes a timer run when it becomes
            due; SIGTERM while it drives a blocked step: it exits 0 only
            after that run completed, never mid-step
  two       two `worker --once --concurrency 2` processes on one database
            with several due runs: every run completes, and each step was
            started once (one step_started, one tool call per run)
Nothing sleeps to synchronise: waits poll a file, the clock, or `flow show`.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Failure, Flow, check, event_type, invocations, journal_of, wait_for,  # noqa: E402
                     write_work_block_tool)

# How long any wait for a condition may take before the test fails.
DEADLINE_SECONDS = 60
# How often a wait looks at its condition again.
POLL_SECONDS = 0.02

TIMER = """connector tool = "tool.json"
workflow main(n: int) -> int {
  sleep 1s
  let r = tool.work(n: n)
  return r.n
}
"""

BLOCKING = """connector tool = "tool.json"
workflow main(n: int) -> int {
  let r = tool.block(n: n)
  return r.n
}
"""


def setup(workdir, source):
    write_work_block_tool(workdir)
    path = os.path.join(workdir, "main.flow")
    with open(path, "w") as f:
        f.write(source)
    return path


def worker_once(flow, *extra):
    code, out = flow.json("worker", "--once", "--json", *extra)
    check(code == 0, "flow worker --once exited %d: %s" % (code, json.dumps(out)))
    return out


def status_of(flow, run):
    code, show = flow.json("show", run, "--json")
    check(code == 0, "flow show %s exited %d" % (run, code))
    return show


def start_timer_run(flow, source, run, n):
    code, report = flow.json("run", source, "--id", run, "--input", json.dumps({"n": n}), "--json")
    check(code == 3, "flow run of the sleep workflow exited %d, expected 3: %s" % (code, report))
    check(report.get("waiting", {}).get("kind") == "timer", "not waiting on a timer: %s" % report)


def wait_until_due(flow, run):
    """Polls the clock until the run's wake_at_ms (from the store) passed."""
    show = status_of(flow, run)
    wake = [e for e in journal_of(show) if event_type(e) == "timer_started"][-1]["data"]["wake_at_ms"]
    wait_for(lambda: time.time() * 1000 > wake + 5, "run %s to be due" % run)


def step_starts(flow, run):
    return [e for e in journal_of(status_of(flow, run)) if event_type(e) == "step_started"]


def scenario_timer(flow, workdir):
    source = setup(workdir, TIMER)
    start_timer_run(flow, source, "t1", 4)
    early = worker_once(flow)
    check(early["resumed"] == [], "worker --once drove a run before it was due: %s" % early)
    check(status_of(flow, "t1")["status"] == "waiting", "t1 is no longer waiting after an early pass")
    check(invocations(workdir) == [], "the step ran before the timer was due")
    wait_until_due(flow, "t1")
    late = worker_once(flow)
    check([(r["run"], r["status"]) for r in late["resumed"]] == [("t1", "completed")],
          "worker --once after the due time: %s" % late)
    check(late["resumed"][0]["result"] == 40, "t1's result: %s" % late)
    check(invocations(workdir) == [["work", "4", "t1:1"]], "tool calls: %s" % invocations(workdir))
    again = worker_once(flow)
    check(again["resumed"] == [], "a completed run was driven again: %s" % again)
    start_timer_run(flow, source, "t2", 5)
    wait_until_due(flow, "t2")
    code, out, err = flow.run("worker", "--once")
    check(code == 0 and out == "run t2 completed: 50\n" and err == "flow: worker: 1 run(s) resumed\n",
          "worker --once human output: %d %r %r" % (code, out, err))


def scenario_orphan(flow, workdir):
    source = setup(workdir, BLOCKING)
    proc = flow.start("run", source, "--id", "o1", "--input", '{"n": 7}', "--json")
    wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-7")), "the step to block")
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped: its pid is gone, not a zombie
    check(status_of(flow, "o1")["status"] == "running", "the killed run is not `running`")
    open(os.path.join(workdir, "go-7"), "w").close()
    out = worker_once(flow)
    check([(r["run"], r["status"]) for r in out["resumed"]] == [("o1", "completed")],
          "worker --once did not complete the orphaned run: %s" % out)
    # Nothing is written before a step is sent: the one step_started (with
    # its end) is the resend's, marked as one a dead process may have sent.
    starts = step_starts(flow, "o1")
    check(len(starts) == 1 and starts[0]["data"].get("resent") is True,
          "expected the in-flight step resent once: %s" % starts)
    calls = invocations(workdir)
    check(len(calls) == 2 and {line[2] for line in calls} == {"o1:1"},
          "the in-flight step was not resent once with its key: %s" % calls)


def scenario_forever(flow, workdir):
    source = setup(workdir, BLOCKING + TIMER.replace("workflow main", "workflow later").split("\n", 1)[1])
    worker = flow.start("worker")
    try:
        code, report = flow.json("run", source, "--workflow", "later", "--id", "f1", "--input", '{"n": 2}', "--json")
        check(code == 3, "flow run of the timer workflow exited %d" % code)
        wait_for(lambda: status_of(flow, "f1")["status"] == "completed", "the worker to complete f1")
        # A run in hand when SIGTERM arrives: the blocked step, started by
        # `flow run` that is then killed, taken over by the worker.
        proc = flow.start("run", source, "--workflow", "main", "--id", "f2", "--input", '{"n": 3}')
        wait_for(lambda: os.path.exists(os.path.join(workdir, "blocked-3")), "f2's step to block")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wait_for(lambda: [l[0] for l in invocations(workdir)].count("block") == 2,
                 "the worker to resend f2's step")
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=0.5)
            raise Failure("the worker exited on SIGTERM with a step in hand (exit %d)" % worker.returncode)
        except subprocess.TimeoutExpired:
            pass
        open(os.path.join(workdir, "go-3"), "w").close()
        code = worker.wait(timeout=DEADLINE_SECONDS)
        out, err = Flow.output(worker)
        check(code == 0, "the worker exited %d on SIGTERM: %s" % (code, err[-400:]))
        check(status_of(flow, "f2")["status"] == "completed", "f2 was not completed before the worker exited")
        check("completed" in out, "the worker reported nothing about its runs: %r" % out[-400:])
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def scenario_two(flow, workdir):
    source = setup(workdir, TIMER)
    runs = ["w%d" % i for i in range(8)]
    for i, run in enumerate(runs):
        start_timer_run(flow, source, run, i)
    for run in runs:
        wait_until_due(flow, run)
    a = flow.start("worker", "--once", "--json", "--concurrency", "2")
    b = flow.start("worker", "--once", "--json", "--concurrency", "2")
    outs = []
    for proc in (a, b):
        code = proc.wait(timeout=DEADLINE_SECONDS)
        out, err = Flow.output(proc)
        check(code == 0, "a worker exited %d: %s" % (code, err[-400:]))
        outs.append(json.loads(out))
    for run in runs:
        check(status_of(flow, run)["status"] == "completed", "%s was not completed: %s" % (run, outs))
        starts = step_starts(flow, run)
        check(len(starts) == 1, "%s has %d step_started events: both workers drove it" % (run, len(starts)))
    calls = sorted(line[2] for line in invocations(workdir))
    check(calls == sorted("%s:1" % r for r in runs), "tool calls: %s" % calls)


SIGNAL_TIMEOUT = """workflow main() -> string {
  var kind = "none"
  try {
    let reply = wait "reply" timeout 1s
  } catch err {
    kind = err.kind
  }
  return kind
}
"""


def scenario_wait_timeout(flow, workdir):
    source = setup(workdir, SIGNAL_TIMEOUT)
    code, report = flow.json("run", source, "--id", "s1", "--json")
    check(code == 3 and report["waiting"]["kind"] == "signal", "flow run of the wait: %d %s" % (code, report))
    early = worker_once(flow)
    check(early["resumed"] == [], "worker --once drove a wait before its timeout: %s" % early)
    wake = [e for e in journal_of(status_of(flow, "s1")) if event_type(e) == "signal_awaited"][-1]["at"]
    deadline = time.time() + DEADLINE_SECONDS
    while True:
        out = worker_once(flow)
        if out["resumed"]:
            break
        check(time.time() < deadline, "the wait never timed out (awaited at %s)" % wake)
        time.sleep(POLL_SECONDS * 10)
    check([(r["run"], r["status"], r.get("result")) for r in out["resumed"]] == [("s1", "completed", "timeout")],
          "the timed-out wait: %s" % out)


def scenario_usage(flow, workdir):
    for args, text in ((("--concurrency", "0"), "between 1 and 64"), (("--concurrency", "65"), "between 1 and 64"),
                       (("--json",), "--json needs --once")):
        code, out, err = flow.run("worker", *args)
        check(code == 2 and out == "" and err.count("\n") == 1 and text in err,
              "flow worker %s: exit %d, %r %r" % (" ".join(args), code, out, err))
    code, out, err = flow.run("worker", "--once", "--json", "--concurrency", "64")
    check(code == 0 and json.loads(out) == {"errors": [], "resumed": [], "skipped": []},
          "worker --once without a database: exit %d, %r" % (code, out))
    check(not os.path.exists(flow.db), "worker --once created a database")


SCENARIOS = {"usage": scenario_usage, "timer": scenario_timer, "wait_timeout": scenario_wait_timeout, "orphan": scenario_orphan, "forever": scenario_forever, "two": scenario_two}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    options = parser.parse_args()
    names = [options.scenario] if options.scenario else list(SCENARIOS)
    for name in names:
        workdir = tempfile.mkdtemp(prefix="flow-worker-%s-" % name)
        try:
            SCENARIOS[name](Flow(os.path.abspath(options.flow), workdir), workdir)
            print("ok: %s" % name)
        except Failure as f:
            print("FAIL: %s: %s" % (name, f))
            return 1
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

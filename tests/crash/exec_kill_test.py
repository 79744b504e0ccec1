#!/usr/bin/env python3
"""An exec step's processes never outlive a killed flow, and a resumed run
never has two copies of one step running at once (issue 10, item 4).

The step's tool (tests/servers/exec_tool.py, mode "exclusive") takes an
exclusive lock named after its idempotency key, starts a grandchild that
holds the lock too, and works for a minute the first time; sent again, it
works 0.2 s. A copy that finds the lock held records "OVERLAP" in
invocations.log. `flow run` is killed with SIGKILL while the tool works:

  dies     the tool and its grandchild must be gone soon after (their
           guardian kills the process group when flow dies); then `flow
           resume` resends the step once and the run completes.
  at-once  `flow resume` right after the kill, without waiting for anything:
           no overlap.
  escaped  the grandchild left the group (setsid), so nothing kills it when
           flow dies; the resend must find it by the step's key, kill it
           and wait, before the tool runs again: no overlap.

Every scenario uses its own run id and checks the tool's own record, so a
flow that skipped the resend or ran two copies cannot pass. Polls have
deadlines; nothing sleeps in place of a condition.

    python3 tests/crash/exec_kill_test.py --flow build/flow
"""

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time

from harness import Failure, Flow, check

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "servers", "exec_tool.py")

CONNECTOR = {
    "connector": "crm",
    "transport": {"kind": "exec", "command": ["python3", "tools/exec_tool.py"]},
    "operations": {
        "work": {"args": ["exclusive"],
                 "input": {"type": "object", "properties": {"escape": {"type": "boolean"},
                                                            "seconds": {"type": "number"}}},
                 "output": {"type": "object"}, "idempotent": True},
    },
}

SOURCE = """connector crm = "crm.json"
workflow w(escape: bool) -> int {
  crm.work(escape: escape, seconds: 60)
  return 1
}
"""


def alive(pid):
    """Whether `pid` still runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise Failure("timed out after %d s waiting for %s" % (seconds, what))
        time.sleep(0.02)


def pids_of(workdir, key):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
    path = os.path.join(workdir, "pids-%s.json" % safe)
    wait_for(lambda: os.path.exists(path), 120, "the tool to start (%s)" % path)
    with open(path) as f:
        pids = json.load(f)
    os.unlink(path)
    return pids


def invocations(workdir):
    with open(os.path.join(workdir, "invocations.log")) as f:
        return f.read().splitlines()


def scenario(flow, workdir, name, escape, wait_for_death):
    run_id = "%s-%d" % (name, random.randrange(1 << 30))
    key = run_id + ":1"
    proc = flow.start("run", os.path.join(workdir, "w.flow"), "--id", run_id,
                      "--input", json.dumps({"escape": escape}))
    pids = pids_of(workdir, key)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if wait_for_death:
        wait_for(lambda: not alive(pids["tool"]) and not alive(pids["grandchild"]), 20,
                 "the tool %d and its grandchild %d to die with flow" % (pids["tool"], pids["grandchild"]))
    code, out, err = flow.run("resume", run_id, "--json")
    check(code == 0, "%s: flow resume exited %d: %s" % (name, code, err[-600:]))
    check(json.loads(out).get("status") == "completed", "%s: not completed: %s" % (name, out))
    lines = [l for l in invocations(workdir) if l.endswith(" " + key)]
    check(not any(l.startswith("OVERLAP") for l in lines),
          "%s: two copies of step %s ran at once: %s" % (name, key, lines))
    check(lines == ["exclusive " + key] * 2,
          "%s: expected the step sent twice (before the kill, on resume), got %s" % (name, lines))
    for what in ("tool", "grandchild"):
        check(not alive(pids[what]), "%s: the first attempt's %s (pid %d) still runs after the resume"
              % (name, what, pids[what]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="flow-exec-kill-")
    try:
        os.makedirs(os.path.join(workdir, "tools"))
        shutil.copy(TOOL, os.path.join(workdir, "tools", "exec_tool.py"))
        with open(os.path.join(workdir, "crm.json"), "w") as f:
            json.dump(CONNECTOR, f)
        with open(os.path.join(workdir, "w.flow"), "w") as f:
            f.write(SOURCE)
        flow = Flow(os.path.abspath(options.flow), workdir)
        scenario(flow, workdir, "dies", escape=False, wait_for_death=True)
        scenario(flow, workdir, "at-once", escape=False, wait_for_death=False)
        scenario(flow, workdir, "escaped", escape=True, wait_for_death=False)
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

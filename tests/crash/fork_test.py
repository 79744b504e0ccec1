#!/usr/bin/env python3
"""`flow fork RUN --from CHECKPOINT`: a new run from a checkpoint's state.

    python3 tests/crash/fork_test.py --flow build/flow

The workflow calls an exec tool (tool.py, which appends one line per call to
invocations.log: the record of what ran), draws uuid() before and after its
checkpoint, and completes. Then:
- the fork reruns only the step after the checkpoint (one more tool call,
  with the fork's idempotency key), keeps the value drawn before the
  checkpoint and draws a new one after it (the original's effect records are
  copied into its journal, so replay lines up), and its journal opens with
  `started` naming its origin;
- `--id` names the fork; a second `fork --id` of the same origin reports it;
- bad input, exit 2 with one line: an unknown run, an unknown checkpoint
  (naming the run's checkpoints), --input other than the original's;
- a fork that fails runs the compensations registered before the checkpoint.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Flow, check, event_type, journal_of  # noqa: E402

OP = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
CONNECTOR = {
    "connector": "tool",
    "transport": {"kind": "exec", "command": ["python3", "tool.py"]},
    "operations": {
        "work": {"args": ["work"], "input": OP, "output": OP, "idempotent": True},
        "undo": {"args": ["undo"], "input": OP, "output": OP, "idempotent": True},
        "check": {"args": ["check"], "input": OP, "output": OP, "idempotent": True},
    },
}

# `check` fails when the file fail-check exists.
TOOL = """import json, os, sys
args = json.load(sys.stdin)
with open("invocations.log", "a") as log:
    log.write("%s %d %s\\n" % (sys.argv[1], args["n"], os.environ.get("FLOW_IDEMPOTENCY_KEY", "")))
if sys.argv[1] == "check" and os.path.exists("fail-check"):
    sys.stderr.write("check failed")
    sys.exit(3)
print(json.dumps({"n": args["n"]}))
"""

SOURCE = """connector tool = "tool.json"
workflow main(n: int) -> { total: int, before: string, after: string } {
  let a = tool.work(n: n)
    compensate tool.undo(n: a.n)
  let before = uuid()
  checkpoint "after-a"
  let b = tool.check(n: n + 1)
  let after = uuid()
  return { total: a.n + b.n, before: before, after: after }
}
"""


def calls(workdir):
    path = os.path.join(workdir, "invocations.log")
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="flow-fork-")
    try:
        with open(os.path.join(workdir, "tool.json"), "w") as f:
            json.dump(CONNECTOR, f)
        with open(os.path.join(workdir, "tool.py"), "w") as f:
            f.write(TOOL)
        source = os.path.join(workdir, "main.flow")
        with open(source, "w") as f:
            f.write(SOURCE)
        flow = Flow(os.path.abspath(options.flow), workdir)
        run(flow, workdir, source)
        print("ok: fork")
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def one_line_error(flow, expected_text, *args):
    code, out, err = flow.run(*args)
    check(code == 2, "flow %s exited %d, expected 2: %s" % (" ".join(args), code, err))
    check(out == "" and err.count("\n") == 1 and err.startswith("flow: "),
          "flow %s: not one line on stderr: %r %r" % (" ".join(args), out, err))
    check(expected_text in err, "flow %s said %r, expected it to contain %r" % (" ".join(args), err, expected_text))


def run(flow, workdir, source):
    code, orig = flow.json("run", source, "--id", "orig", "--input", '{"n": 1}', "--json")
    check(code == 0 and orig["status"] == "completed", "the original run: %s" % orig)
    check(calls(workdir) == [["work", "1", "orig:1"], ["check", "2", "orig:2"]], "original calls: %s" % calls(workdir))

    code, fork = flow.json("fork", "orig", "--from", "after-a", "--id", "f1", "--json")
    check(code == 0, "flow fork exited %d: %s" % (code, fork))
    check(fork["run"] == "f1" and fork["status"] == "completed", "the fork's report: %s" % fork)
    result = fork["result"]
    check(result["total"] == 3, "the fork's total: %s" % result)
    check(result["before"] == orig["result"]["before"], "the value drawn before the checkpoint changed")
    check(result["after"] != orig["result"]["after"], "the fork reused the original's post-checkpoint uuid()")
    check(calls(workdir)[2:] == [["check", "2", "f1:1"]],
          "the fork did not rerun exactly the step after the checkpoint: %s" % calls(workdir))
    code, show = flow.json("show", "f1", "--json")
    events = journal_of(show)
    started = events[0]
    check(event_type(started) == "started" and started["data"].get("forked_from") == {"run": "orig", "checkpoint": "after-a"},
          "the fork's journal does not open with its origin: %s" % started)
    check(started["data"].get("input") == {"n": 1} and "program" in started["data"], "started: %s" % started)
    check(event_type(events[1]) == "effect" and events[1]["data"]["value"] == orig["result"]["before"],
          "the original's effect record was not copied: %s" % events[1])

    code, again = flow.json("fork", "orig", "--from", "after-a", "--id", "f1", "--json")
    check(code == 0 and again == fork, "a second fork --id f1 did not report f1: %s" % again)
    check(len(calls(workdir)) == 3, "a second fork --id f1 ran something")
    one_line_error(flow, "run 'orig' already exists and is not a fork", "fork", "orig", "--from", "after-a", "--id", "orig")

    one_line_error(flow, "flow: unknown run 'nope'", "fork", "nope", "--from", "after-a")
    one_line_error(flow, "run 'orig' has no checkpoint 'after-b'; did you mean 'after-a'? (its checkpoints: 'after-a')",
                   "fork", "orig", "--from", "after-b")
    one_line_error(flow, "start a new run with 'flow run'", "fork", "orig", "--from", "after-a", "--input", '{"n": 2}')
    one_line_error(flow, "invalid input", "fork", "orig", "--from", "after-a", "--input", "{")
    code, same = flow.json("fork", "orig", "--from", "after-a", "--input", '{"n": 1}', "--json")
    check(code == 0 and same["status"] == "completed" and same["run"] != "f1", "fork with the same --input: %s" % same)

    # A failing fork undoes the step the original ran before the checkpoint.
    open(os.path.join(workdir, "fail-check"), "w").close()
    before = len(calls(workdir))
    code, failed = flow.json("fork", "orig", "--from", "after-a", "--id", "f3", "--json")
    check(code == 1 and failed["status"] == "failed", "the failing fork: %s" % failed)
    check(failed["compensations"] == [{"step": "tool.undo", "status": "completed"}], "compensations: %s" % failed)
    check(calls(workdir)[before:] == [["check", "2", "f3:1"], ["undo", "1", "f3:undo:1"]],
          "the failing fork's calls: %s" % calls(workdir)[before:])


if __name__ == "__main__":
    sys.exit(main())

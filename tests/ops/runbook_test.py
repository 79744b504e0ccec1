#!/usr/bin/env python3
"""What docs/runs.md's operator's runbook says, done for real.

    python3 tests/ops/runbook_test.py --flow build/flow

Each scenario runs the real `flow` binary (and the real `sqlite3` shell)
in a fresh folder and checks the claim the runbook makes:

* retention: scripts/prune-runs.sql, exactly as the runbook tells to run
  it, removes the runs that ended before the cutoff with everything they
  own, keeps running and waiting runs working, and leaves the journal
  append-only; without @days it does nothing;
* moving a deployment folder: a run in flight whose program uses an exec
  connector does not complete after the folder moved (its stored program
  names the old absolute path), and does once a symlink at the old path
  points to the new one; new runs compiled in the new place just work;
* a locked database: a command that cannot get the write lock within the
  busy timeout exits 4 with one line naming the lock, writes nothing, and
  works once the lock is gone.

Exit 0 when every claim held; otherwise the first one that did not.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PRUNE = os.path.join(HERE, "..", "..", "scripts", "prune-runs.sql")

TOOL = """import json, sys
request = json.load(sys.stdin)
print(json.dumps({"id": "made-" + request["name"]}))
"""
CONNECTOR = {
    "connector": "tool",
    "transport": {"kind": "exec", "command": ["python3", "../tools/make.py"]},
    "operations": {"make": {
        "input": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        "output": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        "idempotent": True}},
}
WORKFLOW = """connector tool = "connectors/tool.json"
workflow w(name: string, mode: string) -> string {
  if mode == "fail" {
    fail "broken on purpose"
  }
  if mode == "ask" {
    approve "make ${name}?"
  }
  let made = tool.make(name: name)
  checkpoint "made"
  return made.id
}
"""


class Failure(Exception):
    pass


def check(condition, reason):
    if not condition:
        raise Failure(reason)


class Flow:
    def __init__(self, binary, cwd):
        self.binary, self.cwd = binary, cwd

    def __call__(self, *args, cwd=None):
        env = {k: v for k, v in os.environ.items() if k not in ("FLOW_DB", "FLOW_ROLES")}
        p = subprocess.run([self.binary, *args], cwd=cwd or self.cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout, p.stderr

    def json(self, *args, cwd=None):
        code, out, err = self(*args, "--json", cwd=cwd)
        check(out.count("\n") == 1, f"flow {' '.join(args)} --json printed {out!r} (stderr {err!r})")
        return code, json.loads(out)


def make_deployment(root):
    os.makedirs(os.path.join(root, "tools"))
    os.makedirs(os.path.join(root, "connectors"))
    with open(os.path.join(root, "tools", "make.py"), "w") as f:
        f.write(TOOL)
    with open(os.path.join(root, "connectors", "tool.json"), "w") as f:
        json.dump(CONNECTOR, f)
    with open(os.path.join(root, "w.flow"), "w") as f:
        f.write(WORKFLOW)


def start(flow, run_id, mode, cwd=None):
    return flow.json("run", "w.flow", "--id", run_id, "--input", json.dumps({"name": run_id, "mode": mode}), cwd=cwd)


def prune(db, days):
    args = ["sqlite3", "-bail"] + (["-cmd", f".parameter set @days {days}"] if days is not None else []) + [db]
    with open(PRUNE) as script:
        return subprocess.run(args, stdin=script, capture_output=True, text=True, timeout=60)


def retention(flow, root):
    check(start(flow, "done", "plain")[0] == 0, "a plain run completes")
    check(start(flow, "broken", "fail")[0] == 1, "a failing run fails")
    check(start(flow, "open", "ask")[0] == 3, "an asking run waits")
    db = os.path.join(root, "flow.db")
    p = prune(db, None)
    check(p.returncode != 0 and "NOT NULL" in p.stderr, f"without @days the script stops: {p.stdout!r} {p.stderr!r}")
    p = prune(db, 30)
    check(p.returncode == 0 and "removed 0 runs" in p.stdout, f"30 days keeps today's runs: {p.stdout!r} {p.stderr!r}")
    check(len(flow.json("runs")[1]["runs"]) == 3, "nothing removed yet")
    p = prune(db, 0)
    check(p.returncode == 0 and "removed 2 runs" in p.stdout, f"0 days removes the ended runs: {p.stdout!r} {p.stderr!r}")
    runs = flow.json("runs")[1]["runs"]
    check([r["run"] for r in runs] == ["open"], f"only the waiting run is left: {runs}")
    check(flow("show", "done")[0] == 2, "a removed run is unknown")
    with sqlite3.connect(db) as c:
        for table in ("journal", "state", "checkpoints"):
            n = c.execute(f"SELECT count(*) FROM {table} WHERE run_id IN ('done', 'broken')").fetchone()[0]
            check(n == 0, f"{table} rows of removed runs are gone")
        check(c.execute("SELECT count(*) FROM programs").fetchone()[0] == 1, "the program in use is kept")
    with sqlite3.connect(db) as c:
        try:
            c.execute("DELETE FROM journal WHERE run_id = 'open'")
            raise Failure("the journal accepted a DELETE after the prune")
        except sqlite3.IntegrityError as e:
            check("append-only" in str(e), f"the trigger is back: {e}")
    code, report = flow.json("approve", "open", "--as", "ops")
    check(code == 0 and report["result"] == "made-open", f"the waiting run goes on after a prune: {report}")


def moving(flow, root):
    old = os.path.join(root, "deploy")
    make_deployment(old)
    check(start(flow, "m1", "ask", cwd=old)[0] == 3, "m1 waits")
    check(start(flow, "m2", "ask", cwd=old)[0] == 3, "m2 waits")
    moved = os.path.join(root, "moved")
    os.rename(old, moved)
    code, report = flow.json("approve", "m1", "--as", "ops", cwd=moved)
    check(code == 0 and report["status"] != "completed",
          f"a run in flight cannot reach its exec tool after the move: {report}")
    os.symlink(moved, old)
    code, report = flow.json("approve", "m2", "--as", "ops", cwd=moved)
    check(report.get("result") == "made-m2", f"with a symlink at the old path the run completes: {report}")
    os.remove(old)
    code, report = start(flow, "m3", "plain", cwd=moved)
    check(code == 0 and report["result"] == "made-m3", f"a new run in the new place completes: {report}")


def locked(flow, root):
    check(start(flow, "lk", "ask")[0] == 3, "lk waits")
    db = os.path.join(root, "flow.db")
    with sqlite3.connect(db, isolation_level=None) as c:
        before = c.execute("SELECT count(*) FROM journal WHERE run_id = 'lk'").fetchone()[0]
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            code, out, err = flow("approve", "lk", "--as", "ops")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        check(code == 4, f"a locked database is exit 4, got {code}: {err!r}")
        check(err.count("\n") == 1 and "database is locked" in err, f"one line naming the lock: {err!r}")
        after = c.execute("SELECT count(*) FROM journal WHERE run_id = 'lk'").fetchone()[0]
        check(after == before, "nothing was written while the database was locked")
    code, report = flow.json("approve", "lk", "--as", "ops")
    check(report.get("result") == "made-lk", f"once the lock is gone the command works: {report}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flow", required=True)
    args = ap.parse_args()
    binary = os.path.realpath(args.flow)
    for scenario in (retention, moving, locked):
        root = tempfile.mkdtemp(prefix="flow_runbook_")
        try:
            if scenario is not moving:
                make_deployment(root)
            scenario(Flow(binary, root), root)
            print(f"ok: {scenario.__name__}")
        except Failure as e:
            print(f"FAIL: {scenario.__name__}: {e}", file=sys.stderr)
            return 1
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

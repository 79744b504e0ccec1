"""Shared pieces of the crash tests (tests/crash/*_test.py).

The test HTTP server (tests/servers/http_server.py) as a context manager,
`flow` invocations with their exit code and JSON output, and the checks on
`flow show --json` that several scenarios share. Nothing here sleeps to
synchronise: the server is ready when it has printed its port line, a flow
command is done when its process has exited.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "servers", "http_server.py")


class Failure(Exception):
    """An assertion of the test that did not hold; its text is the reason."""


def check(condition, reason):
    if not condition:
        raise Failure(reason)


# How long a wait for a condition may take before the test fails, and how
# often it looks at the condition again.
WAIT_DEADLINE_SECONDS = 60
WAIT_POLL_SECONDS = 0.01


def wait_for(condition, what, deadline=WAIT_DEADLINE_SECONDS):
    """Polls `condition` until it returns a true value, and returns that
    value; a Failure naming `what` after `deadline` seconds."""
    end = time.time() + deadline
    while True:
        value = condition()
        if value:
            return value
        check(time.time() < end, "timed out waiting for %s" % what)
        time.sleep(WAIT_POLL_SECONDS)


# The exec connector `tool` of the crash tests that stop a step in flight
# (exactly_once_test.py, worker_test.py).
_WORK_BLOCK_OPERATION = {
    "input": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
    "output": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
    "idempotent": True,
}
WORK_BLOCK_CONNECTOR = {
    "connector": "tool",
    "transport": {"kind": "exec", "command": ["python3", "tool.py"]},
    "operations": {"work": dict(_WORK_BLOCK_OPERATION, args=["work"]),
                   "block": dict(_WORK_BLOCK_OPERATION, args=["block"])},
}

# `work` answers at once; `block` writes blocked-<n> and waits for go-<n>.
# Every call is logged, whatever its key: "<mode> <n> <key>".
WORK_BLOCK_TOOL = """import json, os, sys, time
args = json.load(sys.stdin)
key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "")
with open("invocations.log", "a") as log:
    log.write("%s %d %s\\n" % (sys.argv[1], args["n"], key))
if sys.argv[1] == "block":
    open("blocked-%d" % args["n"], "w").close()
    while not os.path.exists("go-%d" % args["n"]):
        time.sleep(0.01)
print(json.dumps({"n": args["n"] * 10}))
"""


def write_work_block_tool(folder):
    """Writes tool.json (WORK_BLOCK_CONNECTOR) and tool.py (WORK_BLOCK_TOOL)
    into `folder`, creating it."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tool.json"), "w") as f:
        json.dump(WORK_BLOCK_CONNECTOR, f)
    with open(os.path.join(folder, "tool.py"), "w") as f:
        f.write(WORK_BLOCK_TOOL)


def invocations(folder):
    """What the exec test tools recorded in `folder`/invocations.log: one
    list of words per call, [] before the first."""
    path = os.path.join(folder, "invocations.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


class Server:
    """tests/servers/http_server.py on 127.0.0.1, an ephemeral port."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, SERVER, "--max-lifetime", "900"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # blocks until the port line
        check(line.strip().isdigit(), "the test server did not print its port (got %r)" % line)
        self.port = int(line)
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def control(self, **rule):
        return self.call("POST", "/_control", rule)

    def reset(self):
        return self.call("POST", "/_reset", {})

    def requests(self):
        return self.call("GET", "/_requests")

    def effects(self):
        return self.call("GET", "/_effects")


def charge_operation(**policy):
    """The connector operation for the test server's POST /charges (an
    idempotent effect store keyed by Idempotency-Key), with the policy flags
    a test needs (effect, idempotent, ...)."""
    op = {
        "http": {"method": "POST", "path": "/charges"},
        "input": {"type": "object", "required": ["customer", "amount"],
                  "properties": {"customer": {"type": "string"}, "amount": {"type": "integer"}}},
        "output": {"type": "object", "required": ["id", "amount"],
                   "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}},
    }
    op.update(policy)
    return op


def header(record, name):
    """A request header of a recorded request, case-insensitively."""
    for key, value in record["headers"].items():
        if key.lower() == name.lower():
            return value
    return None


class Flow:
    """Runs the flow binary against one database in one directory."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.db = os.path.join(workdir, "flow.db")

    def argv(self, *args):
        return [self.binary] + list(args) + ["--db", self.db]

    def start(self, *args):
        """Starts `flow ARGS --db DB`; output goes to files in the workdir."""
        out = tempfile.TemporaryFile(dir=self.workdir)
        err = tempfile.TemporaryFile(dir=self.workdir)
        proc = subprocess.Popen(self.argv(*args), stdout=out, stderr=err, cwd=self.workdir)
        proc.out, proc.err = out, err
        return proc

    @staticmethod
    def output(proc):
        proc.out.seek(0)
        proc.err.seek(0)
        return proc.out.read().decode(errors="replace"), proc.err.read().decode(errors="replace")

    def run(self, *args, timeout=120):
        """Runs to completion: (exit code, stdout, stderr)."""
        done = subprocess.run(self.argv(*args), capture_output=True, text=True, cwd=self.workdir,
                              timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def run_exists(self, run_id):
        """Whether the database holds the run (plumbing for the kill loops,
        which must choose between `flow run` and `flow resume`; read-only,
        and only while no flow process is alive)."""
        if not os.path.exists(self.db):
            return False
        try:
            db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
            try:
                return db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None
            finally:
                db.close()
        except sqlite3.Error:
            return False  # created but no tables yet: the run does not exist

    def json(self, *args):
        code, out, err = self.run(*args)
        try:
            return code, json.loads(out)
        except ValueError:
            raise Failure("flow %s --json printed no JSON object (exit %d): stdout %r, stderr %r"
                          % (" ".join(args), code, out[-400:], err[-400:]))


def journal_of(show):
    """The journal events of a `flow show --json` object."""
    events = show.get("journal")
    check(isinstance(events, list), "flow show --json has no 'journal' list: %s" % json.dumps(show)[:400])
    return events


def event_type(event):
    """The type of a journal event of `flow show --json` (key "event")."""
    return event.get("event", event.get("type", ""))


def completed_steps(events):
    """step position -> how many step_completed events name it."""
    counts = {}
    for e in events:
        if event_type(e) == "step_completed":
            counts[e.get("step")] = counts.get(e.get("step"), 0) + 1
    return counts

#!/usr/bin/env python3
"""The kill -9 soak: random kills of every command that drives a run.

    python3 tests/crash/soak_test.py --flow build/flow [--runs N] [--iterations N] [--seed S]

CI runs the short form (the defaults: 5 runs, 60 iterations, about a
minute); the long form is documented in docs/testing.md:

    python3 tests/crash/soak_test.py --flow build/flow --runs 40 --iterations 2000

A saga with approvals and retries (three charges, each with a refund as its
compensation and `retry 5`, an `approve` between the second and the third)
is started for every run. Each run is given a fate: approved, cancelled, or
both (approvals and cancels race). Then, `--iterations` times, one or two of
`flow run`, `flow resume RUN`, `flow worker --once`, `flow approve RUN` and
`flow cancel RUN` (as the fate allows) are started at once and, most of the
time, killed with SIGKILL after a random delay. The HTTP test server meanwhile fails some
requests with 503 (retried), holds some for a while (so kills land with
steps in flight) and records every request with the time it arrived and
every effect (one per idempotency key). Last, without kills, every run is
driven to its end.

Asserted from the server's own record, not flow's word:
  - exactly once: each charge and each refund has at most one effect, and
    exactly one when flow journaled it completed;
  - no step or compensation was sent again after its completion was
    durable: no request carries the key of a journaled completion and
    arrived after it was journaled;
  - the saga: a cancelled or failed run has a refund for every charge it
    made, a completed run made its three charges and no refund;
  - every run whose cancellation was recorded (a `cancel_requested` event,
    or a `flow cancel` that exited 0) ends `cancelled`, every other run ends
    `completed` (or `failed`, only if a charge ran out of retries), and the
    journal has at most one completion per position;
  - no flow process died of anything but our SIGKILL, and every exit 4
    was a lease held by another live process.
The seed is printed; --seed replays the same choices (not the same timing).
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Flow, Server, check, header  # noqa: E402

# A killed process gets at most this long to run first (seconds); most
# kills come within SHORT_KILL_DELAY, where a command is still in its first
# steps (process start-up is a few milliseconds).
MAX_KILL_DELAY = 0.4
SHORT_KILL_DELAY = 0.03
# How often a started process is left to finish instead of being killed.
FINISH_PROBABILITY = 0.25
# How long a finishing process may take before the soak gives up.
PROCESS_DEADLINE = 120
# The drain: rounds of driving every unfinished run without kills.
DRAIN_ROUNDS = 20

SAGA = """connector billing = "billing.json"
workflow order(n: int) -> int {
  let c1 = billing.charge(customer: "c${n}-1", amount: 10) retry 5 backoff 20ms
    compensate billing.refund(customer: c1.id, amount: c1.amount)
  let c2 = billing.charge(customer: "c${n}-2", amount: 20) retry 5 backoff 20ms
    compensate billing.refund(customer: c2.id, amount: c2.amount)
  approve "ship order ${n}?"
  let c3 = billing.charge(customer: "c${n}-3", amount: 30) retry 5 backoff 20ms
    compensate billing.refund(customer: c3.id, amount: c3.amount)
  return c1.amount + c2.amount + c3.amount
}
"""


def connector(url):
    money = {"type": "object", "required": ["customer", "amount"],
             "properties": {"customer": {"type": "string"}, "amount": {"type": "integer"}}}
    charge = {"type": "object", "required": ["id", "amount"],
              "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}}
    op = {"input": money, "output": charge, "idempotent": True}
    return {"connector": "billing", "transport": {"kind": "http", "base_url": url},
            "operations": {"charge": dict(op, http={"method": "POST", "path": "/charges"}),
                           "refund": dict(op, http={"method": "POST", "path": "/refunds/charges"})}}


class Soak:
    def __init__(self, flow, server, workdir, runs, rng):
        self.flow = flow
        self.server = server
        self.rng = rng
        self.source = os.path.join(workdir, "saga.flow")
        with open(self.source, "w") as f:
            f.write(SAGA)
        with open(os.path.join(workdir, "billing.json"), "w") as f:
            json.dump(connector(server.url), f)
        self.runs = ["soak-%d" % i for i in range(runs)]
        self.fate = {r: rng.choice(["approve", "cancel", "both"]) for r in self.runs}
        self.cancelled_ok = set()  # runs a `flow cancel` exited 0 for
        self.introduced = 0  # runs[:introduced] take part in the rounds
        self.kills = 0
        self.commands = {}
        self.lease_conflicts = 0

    # ------------------------------------------------------------ commands

    def command_for(self, run):
        n = run.split("-")[1]
        if not self.flow.run_exists(run):
            return ["run", self.source, "--id", run, "--input", json.dumps({"n": int(n)})]
        choices = [["resume", run], ["worker", "--once"]]
        if self.fate[run] in ("approve", "both"):
            choices.append(["approve", run])
        if self.fate[run] in ("cancel", "both"):
            choices.append(["cancel", run])
        return self.rng.choice(choices)

    def check_exit(self, argv, proc, killed):
        out, err = Flow.output(proc)
        code = proc.returncode
        if killed and code == -signal.SIGKILL:
            return
        check(code >= 0, "flow %s died of signal %d: %s" % (" ".join(argv), -code, err[-400:]))
        if argv[0] == "cancel" and code == 0:
            self.cancelled_ok.add(argv[1])
        if code == 4:
            check("is owned by pid" in err,
                  "flow %s exited 4 without a lease conflict: %s" % (" ".join(argv), err[-400:]))
            self.lease_conflicts += 1

    def round(self, iteration, iterations):
        """One or two commands at once, most of them killed at random. Run
        k joins at iteration k * iterations / runs, so runs are alive all
        along the soak."""
        while self.introduced < len(self.runs) and iteration >= self.introduced * iterations // len(self.runs):
            self.introduced += 1
        active = self.runs[:self.introduced]
        procs = []
        for run in self.rng.sample(active, min(len(active), self.rng.choice([1, 1, 2]))):
            argv = self.command_for(run)
            self.commands[argv[0]] = self.commands.get(argv[0], 0) + 1
            procs.append((argv, self.flow.start(*argv)))
        if self.rng.random() < FINISH_PROBABILITY:
            for argv, proc in procs:
                proc.wait(timeout=PROCESS_DEADLINE)
                self.check_exit(argv, proc, False)
            return
        longest = SHORT_KILL_DELAY if self.rng.random() < 0.6 else MAX_KILL_DELAY
        time.sleep(self.rng.random() * longest)  # the kill instant, not a synchronisation
        for argv, proc in procs:
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
                self.kills += 1
            proc.wait()
            self.check_exit(argv, proc, killed)

    def weather(self):
        """Now and then: a failing or slow server."""
        roll = self.rng.random()
        path = self.rng.choice(["/charges", "/refunds/charges"])
        if roll < 0.15:
            self.server.control(path=path, fail=1)
        elif roll < 0.5:
            self.server.control(path=path, hang=1, seconds=self.rng.choice([0.1, 0.3, 0.6]))

    # ------------------------------------------------------------ the end

    def status(self, run):
        code, report = self.flow.json("show", run, "--json")
        check(code == 0, "flow show %s exited %d" % (run, code))
        return report

    def drain(self):
        """Drives every run to its end, without kills."""
        for _ in range(DRAIN_ROUNDS):
            pending = [r for r in self.runs if not self.finished(r)]
            if not pending:
                return
            for run in pending:
                if not self.flow.run_exists(run):
                    argv = self.command_for(run)
                elif self.fate[run] in ("cancel", "both"):
                    argv = ["cancel", run]
                else:
                    report = self.status(run)
                    waiting = report.get("waiting") or {}
                    # A decision recorded by a killed approver is delivered by a resume.
                    argv = ["approve", run] if waiting.get("kind") == "approval" and self.rng.random() < 0.5 \
                        else ["resume", run]
                proc = self.flow.start(*argv)
                proc.wait(timeout=PROCESS_DEADLINE)
                self.check_exit(argv, proc, False)
        raise Failure("runs never finished: %s" % {r: (self.fate[r], self.status(r)["status"], self.status(r)["waiting"],
                                                        [e["event"] for e in self.status(r)["journal"]][-8:])
                                                     for r in self.runs if not self.finished(r)})

    def finished(self, run):
        return self.flow.run_exists(run) and self.status(run)["status"] in ("completed", "failed", "cancelled")


def journal(flow, run):
    db = sqlite3.connect("file:%s?mode=ro" % flow.db, uri=True)
    try:
        return [{"type": t, "step": s, "data": json.loads(d), "at_ms": a}
                for t, s, d, a in db.execute("SELECT type, step, data, at_ms FROM journal WHERE run_id = ? "
                                             "ORDER BY seq", (run,))]
    finally:
        db.close()


def verify(soak):  # noqa: C901 (one list of checks, in the docstring's order)
    flow, server = soak.flow, soak.server
    effects = server.effects()
    requests = server.requests()
    by_customer = {}
    for e in effects:
        by_customer.setdefault(e["customer"], []).append(e)
    for customer, made in by_customer.items():
        check(len(made) == 1, "%d effects for %s (keys %s)" % (len(made), customer, [e["key"] for e in made]))
    charge_of = {e["id"]: e["customer"] for e in effects if e["customer"].startswith("c")}
    refunded = {e["customer"] for e in effects if e["customer"].startswith("ch_")}
    for run in soak.runs:
        events = journal(flow, run)
        status = soak.status(run)["status"]
        n = run.split("-")[1]
        # At most one completion per position, and each durable completion
        # was the last time its key reached the server.
        done = {}
        for e in events:
            if e["type"] in ("step_completed", "compensation_completed"):
                check(e["step"] not in done, "%s: position %s completed twice" % (run, e["step"]))
                done[e["step"]] = e
        keys = {}
        for e in events:
            if e["type"] in ("step_started", "compensation_started") and e["step"] in done:
                keys[e["data"]["key"]] = done[e["step"]]
        for r in requests:
            key = header(r, "Idempotency-Key")
            if key in keys:
                completed = keys[key]
                check(r["at_ms"] <= completed["at_ms"] + 1,
                      "%s: key %s reached the server %.0f ms after its completion was durable"
                      % (run, key, r["at_ms"] - completed["at_ms"]))
        charges = [c for c in ("c%s-1" % n, "c%s-2" % n, "c%s-3" % n) if c in by_customer]
        for e in events:
            if e["type"] == "step_completed":
                check(e["data"]["result"]["id"] in charge_of, "%s: a journaled charge has no effect" % run)
        requested = any(e["type"] == "cancel_requested" for e in events) or run in soak.cancelled_ok
        if requested:
            check(status == "cancelled", "%s: its cancellation was recorded, and it ended %s" % (run, status))
        else:
            check(status in ("completed", "failed"), "%s ended %s without a cancellation" % (run, status))
        if status in ("cancelled", "failed"):
            trail = [(e["type"], e["step"], e["data"].get("key")) for e in events]
            for c in charges:
                check(by_customer[c][0]["id"] in refunded,
                      "%s ended %s and charge %s (%s, key %s) was never refunded; journal %s"
                      % (run, status, by_customer[c][0]["id"], c, by_customer[c][0]["key"], trail))
        else:
            check(len(charges) == 3, "%s completed with charges %s" % (run, charges))
            check(not any(by_customer[c][0]["id"] in refunded for c in charges), "%s completed and was refunded" % run)
        for e in events:
            if e["type"] == "compensation_completed":
                check(e["data"]["result"]["id"] in {x["id"] for x in effects}, "%s: a journaled refund has no effect" % run)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, logs) for a post-mortem")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="flow-soak-")
    t0 = time.monotonic()
    try:
        with Server() as server:
            soak = Soak(Flow(os.path.abspath(options.flow), workdir), server, workdir, options.runs, rng)
            for i in range(options.iterations):
                soak.weather()
                soak.round(i, options.iterations)
            soak.drain()
            verify(soak)
            outcomes = {}
            for run in soak.runs:
                outcomes[soak.status(run)["status"]] = outcomes.get(soak.status(run)["status"], 0) + 1
            print("soak: ok: seed %d, %d runs %s, %d iterations, %d kills, commands %s, %d lease conflicts, %.0f s"
                  % (seed, options.runs, outcomes, options.iterations, soak.kills, soak.commands,
                     soak.lease_conflicts, time.monotonic() - t0))
        return 0
    except Failure as f:
        print("soak: FAIL (seed %d): %s" % (seed, f))
        return 1
    finally:
        if options.keep:
            print("soak: kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

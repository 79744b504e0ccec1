#!/usr/bin/env python3
"""Compensations run in reverse order when a late step fails for good.

    python3 tests/crash/compensation_test.py --flow build/flow

SPEC §2.5 and §4: `compensate <step>` is registered when the step
completes; when the workflow later fails, the registered compensations run
newest first, each a durable, retried step; the run ends `failed`, and
`flow run --json` (its "compensations" list) and `flow show` report each
one's outcome.

The workflow charges three customers (POST /charges, each with a
`compensate billing.refund(charge: cN.id)`), then calls billing.ship, which
the server answers with 400 every time: a 4xx is permanent, so it is not
retried and the run fails. The first refund request is also answered 503
once, so one compensation needs the default compensation retry.

Checked from the server's record: the three refunds reached it in reverse
order (ch_3, ch_2, ch_1), each refund once successfully, the ship request
was sent once (no retry of a 4xx), the three charges happened once each;
and from flow: exit 1, status failed with the ship error, three
compensations with a successful outcome in `flow run --json`, and the same
in `flow show RUN --json` and the text of `flow show RUN`.

Scenario 2 runs the same workflow (no 503 this time; each refund request is
held REFUND_SECONDS by the server) and kills `flow run` / `flow resume` with
SIGKILL at random instants (seeded RNG, seed printed, --seed replays) until
one exits 1 with status failed. At least MIN_KILLS kills, MIN_COMPENSATION_KILLS
of them after the first refund was sent. Then: the refunds were first sent
newest first, a refund resent after a kill carried its key again, each
compensation is completed exactly once in the journal, and both the last
`--json` report and `flow show --json` list three completed compensations.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Flow, Server, charge_operation, check, event_type, header, journal_of  # noqa: E402

RUN_ID = "compensation-1"
KILL_RUN_ID = "compensation-kills"
# Scenario 2 (compensations under kill -9): each refund request is held
# this long by the server, so the compensation phase is most of the run and
# random kills land in it, often with a refund in flight.
REFUND_SECONDS = 0.15
# At least this many kills, this many of them after the first refund was
# sent; bounds on the whole loop.
MIN_KILLS = 4
MIN_COMPENSATION_KILLS = 2
MAX_ITERATIONS = 200
MAX_SECONDS = 90

WORKFLOW = """connector billing = "billing.json"

workflow order() -> int {
  let c1 = billing.charge(customer: "c1", amount: 10)
    compensate billing.refund(charge: c1.id)
  let c2 = billing.charge(customer: "c2", amount: 20)
    compensate billing.refund(charge: c2.id)
  let c3 = billing.charge(customer: "c3", amount: 30)
    compensate billing.refund(charge: c3.id)
  billing.ship(order: "o1") retry 3 backoff 10ms
  return c1.amount + c2.amount + c3.amount
}
"""


def connector(url):
    obj = {"type": "object"}
    return {
        "connector": "billing",
        "transport": {"kind": "http", "base_url": url},
        "operations": {
            "charge": charge_operation(effect="irreversible"),
            "refund": {
                "http": {"method": "POST", "path": "/refunds"},
                "input": {"type": "object", "required": ["charge"],
                          "properties": {"charge": {"type": "string"}}},
                "output": obj, "idempotent": True,
            },
            "ship": {
                "http": {"method": "POST", "path": "/ship"},
                "input": {"type": "object", "required": ["order"],
                          "properties": {"order": {"type": "string"}}},
                "output": obj, "idempotent": True,
            },
        },
    }


def compensations_ok(entries, where):
    """Three entries, each naming a successful outcome."""
    check(isinstance(entries, list), "%s: no compensations list" % where)
    check(len(entries) == 3, "%s: %d compensations, expected 3: %s" % (where, len(entries), entries))
    for entry in entries:
        text = json.dumps(entry)
        outcome = entry.get("status") if isinstance(entry, dict) else None
        check(outcome == "completed",
              "%s: a compensation without a successful outcome: %s" % (where, text))
        check("refund" in text, "%s: a compensation that does not name billing.refund: %s" % (where, text))


def verify_server(server):
    requests = [r for r in server.requests() if r["method"] == "POST"]
    refunds = [r for r in requests if r["path"] == "/refunds"]
    # One failed (503) attempt, then one successful request per refund.
    answered = refunds[1:]
    order = [(r["json"] or {}).get("charge") for r in answered]
    check(order == ["ch_3", "ch_2", "ch_1"],
          "refunds reached the server in the order %s, expected ch_3, ch_2, ch_1 (all: %s)"
          % (order, [(r["json"] or {}).get("charge") for r in refunds]))
    check((refunds[0]["json"] or {}).get("charge") == "ch_3", "the first refund attempt was not for ch_3")
    check(header(refunds[0], "Idempotency-Key") == header(refunds[1], "Idempotency-Key"),
          "the retried refund of ch_3 carried a different Idempotency-Key")
    ships = [r for r in requests if r["path"] == "/ship"]
    check(len(ships) == 1, "ship was sent %d times; a 400 must not be retried" % len(ships))
    charges = [r for r in requests if r["path"] == "/charges"]
    check(len(charges) == 3 and len(server.effects()) == 3,
          "%d charge requests and %d effects, expected 3 each" % (len(charges), len(server.effects())))
    last_charge = requests.index(charges[-1])
    first_refund = requests.index(refunds[0])
    check(requests.index(ships[0]) < first_refund and last_charge < first_refund,
          "a refund was sent before the charges and the failed ship")


def verify_flow(flow, code, result):
    check(code == 1, "flow run exited %d, expected 1 (workflow failed): %s" % (code, json.dumps(result)))
    check(result.get("run") == RUN_ID, "flow run --json names run %r" % result.get("run"))
    check(result.get("status") == "failed", "flow run --json status %r, expected failed" % result.get("status"))
    error = result.get("error") or {}
    check(error.get("kind") == "http" and "400" in error.get("message", ""),
          "the run's error is %s, expected kind http with the 400 from ship" % json.dumps(error))
    compensations_ok(result.get("compensations"), "flow run --json")

    code, show = flow.json("show", RUN_ID, "--json")
    check(code == 0, "flow show --json exited %d" % code)
    check(show.get("status") == "failed", "flow show says status %r" % show.get("status"))
    compensations_ok(show.get("compensations"), "flow show --json")
    types = [event_type(e) for e in journal_of(show)]
    check(sum(1 for t in types if t.startswith("compensation")) >= 3,
          "the journal has no compensation events: %s" % types)

    code, out, err = flow.run("show", RUN_ID)
    text = out  # a report: SPEC §5 puts it on stdout
    check(code == 0, "flow show exited %d" % code)
    lines = [line for line in text.splitlines() if "refund" in line]
    check(len(lines) >= 3, "flow show does not list the three compensations:\n%s" % text)


def refund_charges(server):
    return [(r["json"] or {}).get("charge") for r in server.requests()
            if r["method"] == "POST" and r["path"] == "/refunds"]


def kill_loop(flow, server, source, rng, window):
    """Runs/resumes KILL_RUN_ID with kills until it ends; (kills, in comp., JSON)."""
    kills = in_compensation = 0
    exists = False
    deadline = time.monotonic() + MAX_SECONDS
    for iteration in range(MAX_ITERATIONS):
        check(time.monotonic() < deadline, "the run did not end within %d s" % MAX_SECONDS)
        if exists:
            proc = flow.start("resume", KILL_RUN_ID, "--json")
        else:
            proc = flow.start("run", source, "--id", KILL_RUN_ID, "--json")
        # Kill before the expected end (start-up and steps, then the refunds
        # not yet known to be done), so most attempts are cut short until
        # enough kills happened; then let it finish.
        before_refunds = max(0.01, window - 3 * REFUND_SECONDS)
        done = max(0, len(set(refund_charges(server))) - 1)
        remaining = before_refunds + (3 - done) * REFUND_SECONDS
        delay = rng.uniform(0, remaining * (0.6 if kills < MIN_KILLS + MIN_COMPENSATION_KILLS else 1.5))
        try:
            code = proc.wait(timeout=delay)  # the random instant is the point of the test
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            code = proc.wait()
        if code == -signal.SIGKILL:
            kills += 1
            in_compensation += 1 if refund_charges(server) else 0
            exists = exists or flow.run_exists(KILL_RUN_ID)
            continue
        out, err = Flow.output(proc)
        check(code == 1, "iteration %d: exit %d, expected 1 (failed): %s %s" % (iteration, code, out[-300:], err[-300:]))
        try:
            return kills, in_compensation, json.loads(out)
        except ValueError:
            raise Failure("iteration %d: stdout is not JSON: %r" % (iteration, out[-300:]))
    raise Failure("the run did not end after %d iterations" % MAX_ITERATIONS)


def verify_kills(flow, server, kills, in_compensation, final):
    check(kills >= MIN_KILLS and in_compensation >= MIN_COMPENSATION_KILLS,
          "%d kills, %d during compensation: at least %d and %d needed"
          % (kills, in_compensation, MIN_KILLS, MIN_COMPENSATION_KILLS))
    check(final.get("status") == "failed", "final status %r" % final.get("status"))
    compensations_ok(final.get("compensations"), "the last flow run/resume --json")
    # Refunds: first sent newest first; each charge's refund under one key.
    charges = refund_charges(server)
    first = []
    for c in charges:
        if c not in first:
            first.append(c)
    check(first == ["ch_3", "ch_2", "ch_1"], "refunds were first sent for %s, expected ch_3, ch_2, ch_1" % first)
    keys = {}
    for r in server.requests():
        if r["path"] == "/refunds":
            keys.setdefault((r["json"] or {}).get("charge"), set()).add(header(r, "Idempotency-Key"))
    check(all(len(k) == 1 for k in keys.values()), "a refund was resent under another key: %s" % keys)
    check(len(server.effects()) == 3, "%d charges happened, expected 3" % len(server.effects()))
    code, show = flow.json("show", KILL_RUN_ID, "--json")
    check(show.get("status") == "failed", "flow show says %r" % show.get("status"))
    compensations_ok(show.get("compensations"), "flow show --json")
    done = {}
    for e in journal_of(show):
        if event_type(e) == "compensation_completed":
            done[e.get("step")] = done.get(e.get("step"), 0) + 1
    check(len(done) == 3 and all(n == 1 for n in done.values()),
          "compensations completed in the journal: %s (each of 3 exactly once expected)" % done)
    print("compensation under kills: ok: %d kills, %d during compensation, %d refund requests"
          % (kills, in_compensation, len(charges)))


def write_files(workdir, server):
    with open(os.path.join(workdir, "billing.json"), "w") as f:
        json.dump(connector(server.url), f)
    source = os.path.join(workdir, "order.flow")
    with open(source, "w") as f:
        f.write(WORKFLOW)
    return source


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1 << 31)
    print("seed %d (replay with --seed %d)" % (seed, seed), flush=True)
    workdir = tempfile.mkdtemp(prefix="flow-compensation-")
    try:
        with Server() as server:
            source = write_files(workdir, server)
            server.control(path="/ship", fail=1000, status=400, body={"error": "cannot ship"})
            server.control(path="/refunds", fail=1, status=503)
            flow = Flow(os.path.abspath(options.flow), workdir)
            code, result = flow.json("run", source, "--id", RUN_ID, "--json")
            verify_flow(flow, code, result)
            verify_server(server)
            print("compensation: ok")

            server.reset()
            server.control(path="/ship", fail=1000, status=400, body={"error": "cannot ship"})
            server.control(path="/refunds", hang=1000, seconds=REFUND_SECONDS)
            t0 = time.monotonic()
            code, _ = flow.json("run", source, "--id", "calibrate", "--json")
            window = time.monotonic() - t0
            check(code == 1, "the calibration run exited %d, expected 1" % code)
            server.reset()
            server.control(path="/ship", fail=1000, status=400, body={"error": "cannot ship"})
            server.control(path="/refunds", hang=1000, seconds=REFUND_SECONDS)
            kills, in_compensation, final = kill_loop(flow, server, source, random.Random(seed), window)
            verify_kills(flow, server, kills, in_compensation, final)
    except Failure as f:
        print("FAIL (seed %d): %s" % (seed, f))
        return 1
    finally:
        if options.keep:
            print("files kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""kill -9 at random instants, then resume: every effect happens exactly once.

    python3 tests/crash/crash_test.py --flow build/flow [--seed N] [--scenario NAME]

SPEC §4: a crash at any instant loses at most the pure computation since the
last durable point; resuming never repeats a completed step; a step in flight
at the crash is sent again with the same idempotency key.

Each scenario runs a 30-step workflow (charges.charge for i in range(30)
against the idempotent POST /charges of tests/servers/http_server.py) with a
fixed run id. It starts `flow run`, kills it with SIGKILL after a random
delay (drawn from a seeded RNG; the seed is printed and --seed replays it),
and then loops `flow resume RUN` (or `flow run` again when the kill came
before the run existed), killing each after a random delay, until one exits
0 with status completed. The delay range is fitted to the measured start-up
and step times (a calibration run) so that kills land mid-run: before,
during and after HTTP requests, inside commits, during backoff. At least
MIN_KILLS kills must happen, within MAX_SECONDS and MAX_ITERATIONS.

Then, from the server's own record (not flow's word): each of the 30
charges was created exactly once; all requests of one step carried the same
Idempotency-Key and different steps different keys; and from flow: the
result is right and `flow show RUN --json` has each step completed once.

Scenarios: `kills` (plain), `kills_503` (before each start the server is
told to fail the next 0-3 requests with 503, or to lose 0-1 responses after
the effect, and the step retries with backoff: retries and kills mix).
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
from harness import Failure, Flow, Server, charge_operation, check, completed_steps, header, journal_of  # noqa: E402

STEPS = 30
EXPECTED_TOTAL = sum(i + 1 for i in range(STEPS))
# At least this many SIGKILLs per scenario: fewer would not exercise enough
# different instants to mean anything.
MIN_KILLS = 15
# The kill window aims at this many, so that chance rarely leaves fewer
# than MIN_KILLS.
TARGET_KILLS = 25
# Bounds so a flow that never completes fails the test instead of hanging it
# (per scenario; both together stay within 3 minutes).
MAX_SECONDS = 90
MAX_ITERATIONS = 400
# How far the kill window may widen when kills keep landing before progress.
MAX_STRETCH = 20.0
MIN_STRETCH = 0.3
# Every /charges request is held this long by the server (its "hang" rule),
# so a step takes measurable time and many kills land while a request is in
# flight: the case where the resumed run must resend with the same key.
REQUEST_SECONDS = 0.015
# kills_503: scripted failures in all, and the attempts each step may take.
# Every scripted failure could hit the same step, so the attempts must exceed
# the budget, or a legitimate run would fail for good.
FAILURE_BUDGET = 30
RETRY_ATTEMPTS = FAILURE_BUDGET + 2

CONNECTOR = {
    "connector": "charges",
    "transport": {"kind": "http", "base_url": "http://127.0.0.1:1"},  # port filled in
    "operations": {
        "charge": charge_operation(idempotent=False),
    },
}

# The retry clause matters only in kills_503; backoff is short so the test
# stays fast, yet each backoff is a durable point a kill may land in.
WORKFLOW = """connector charges = "charges.json"

workflow pay() -> int {
  var total = 0
  for i in range(%d) {
    let c = charges.charge(customer: "c${i}", amount: i + 1)
      retry %d backoff 10ms max 40ms
    total = total + c.amount
  }
  return total
}
""" % (STEPS, RETRY_ATTEMPTS)


def write_files(workdir, server):
    connector = dict(CONNECTOR, transport={"kind": "http", "base_url": server.url})
    with open(os.path.join(workdir, "charges.json"), "w") as f:
        json.dump(connector, f)
    path = os.path.join(workdir, "pay.flow")
    with open(path, "w") as f:
        f.write(WORKFLOW)
    return path


def calibrate(flow, source):
    """Times one uninterrupted run: (start-up seconds, seconds per step)."""
    t0 = time.monotonic()
    code, out, err = flow.run("run", source, "--id", "calibrate", "--workflow", "pay", "--input", "{}",
                              "--json")
    total = time.monotonic() - t0
    check(code == 0, "the calibration run failed (exit %d): %s %s" % (code, out[-300:], err[-300:]))
    # Start-up: `flow run --id` of the finished run compiles, opens the
    # store and reports, without steps.
    t0 = time.monotonic()
    flow.run("run", source, "--id", "calibrate", "--workflow", "pay", "--input", "{}", "--json")
    startup = time.monotonic() - t0
    per_step = max(0.0005, (total - startup) / STEPS)
    return startup, per_step


def start(flow, source, run_id, exists):
    if exists:
        return flow.start("resume", run_id, "--json")
    return flow.start("run", source, "--id", run_id, "--workflow", "pay", "--input", "{}", "--json")


def drive_with_kills(flow, server, source, run_id, rng, startup, per_step, disturb):
    """Starts/resumes until a completed exit; returns (kills, final JSON)."""
    kills = 0
    exists = False
    stretch = 1.0  # adapts the window to the progress kills allow
    deadline = time.monotonic() + MAX_SECONDS
    for iteration in range(MAX_ITERATIONS):
        check(time.monotonic() < deadline,
              "no completed run after %d s (%d kills, %d iterations)" % (MAX_SECONDS, kills, iteration))
        if disturb:
            disturb(rng)
        # Spread TARGET_KILLS over the remaining steps: the window covers
        # start-up plus a few steps' time, stretched by what kills achieved.
        before = len(server.effects())
        steps_per_kill = min(4.0, max(0.3, (STEPS - before) / max(1, TARGET_KILLS - kills + 1)))
        delay = rng.uniform(0.5 * startup, startup + steps_per_kill * per_step) * stretch
        proc = start(flow, source, run_id, exists)
        try:
            code = proc.wait(timeout=delay)  # the random instant is the point of the test
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            code = proc.wait()
        if code == -signal.SIGKILL:  # else it had exited just before the kill
            kills += 1
            exists = exists or flow.run_exists(run_id)
            # No progress: kills come too early (start-up, retries and
            # backoff take longer than the calibration said); widen.
            # Too much progress: the run would end with too few kills; narrow.
            progress = len(server.effects()) - before
            if progress == 0:
                stretch = min(MAX_STRETCH, stretch * 1.3)
            elif progress > 1.5 * steps_per_kill:
                stretch = max(MIN_STRETCH, stretch * 0.7)
            continue
        out, err = Flow.output(proc)
        check(code == 0, "iteration %d: flow %s exited %d (not killed): stdout %r stderr %r"
              % (iteration, "resume" if exists else "run", code, out[-400:], err[-400:]))
        try:
            final = json.loads(out)
        except ValueError:
            raise Failure("iteration %d: exit 0 but stdout is not JSON: %r" % (iteration, out[-400:]))
        check(final.get("status") == "completed",
              "iteration %d: exit 0 with status %r: %s" % (iteration, final.get("status"), out[-400:]))
        return kills, final
    raise Failure("no completed run after %d iterations (%d kills)" % (MAX_ITERATIONS, kills))


def verify(flow, server, run_id, final, kills):
    check(kills >= MIN_KILLS, "only %d kills happened (at least %d needed): the delays missed the run"
          % (kills, MIN_KILLS))
    check(final.get("run") == run_id, "final JSON names run %r, not %r" % (final.get("run"), run_id))
    check(final.get("result") == EXPECTED_TOTAL,
          "result %r, expected %d" % (final.get("result"), EXPECTED_TOTAL))

    # Exactly once, from the server's record of effects.
    effects = server.effects()
    by_customer = {}
    for e in effects:
        by_customer.setdefault(e["customer"], []).append(e)
    for i in range(STEPS):
        got = by_customer.get("c%d" % i, [])
        check(len(got) == 1, "charge c%d happened %d times (effects: %s)" % (i, len(got), got))
        check(got[0]["amount"] == i + 1, "charge c%d has amount %r" % (i, got[0]["amount"]))
    check(len(effects) == STEPS, "%d effects, expected %d: %s" % (len(effects), STEPS, effects))

    # One key per step, reused by every attempt and every resend.
    keys = {}
    for r in server.requests():
        if r["method"] != "POST" or r["path"] != "/charges":
            continue
        customer = (r["json"] or {}).get("customer")
        key = header(r, "Idempotency-Key")
        check(key, "a request for %s carried no Idempotency-Key" % customer)
        keys.setdefault(customer, set()).add(key)
    for customer, ks in keys.items():
        check(len(ks) == 1, "the requests of step %s carried %d different keys: %s" % (customer, len(ks), ks))
    all_keys = [next(iter(ks)) for ks in keys.values()]
    check(len(set(all_keys)) == len(all_keys), "two steps shared an Idempotency-Key")
    resent = sum(1 for r in server.requests() if r["path"] == "/charges") - STEPS

    # flow's own journal: each step completed exactly once.
    code, show = flow.json("show", run_id, "--json")
    check(code == 0, "flow show exited %d" % code)
    check(show.get("status") == "completed", "flow show says status %r" % show.get("status"))
    counts = completed_steps(journal_of(show))
    check(len(counts) == STEPS, "the journal has %d completed steps, expected %d" % (len(counts), STEPS))
    twice = {s: n for s, n in counts.items() if n != 1}
    check(not twice, "steps completed more than once in the journal: %s" % twice)
    return resent


def disturb_503(server):
    """Scripts failures before some starts, at most FAILURE_BUDGET in all."""
    used = [0]

    def disturb(rng):
        # The counters apply to the next requests, whichever steps they are;
        # attempts of one step add up across kills, so the total stays below
        # the retry clause's attempts (RETRY_ATTEMPTS).
        left = FAILURE_BUDGET - used[0]
        if left <= 0 or rng.random() < 0.5:
            return
        n = rng.randint(1, min(3, left))
        if rng.random() < 0.7:
            server.control(path="/charges", fail=n, status=503)
        else:
            server.control(path="/charges", lose_response=n)
        used[0] += n
    return disturb


def scenario(name, flow_binary, seed, keep):
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="flow-crash-%s-" % name)
    try:
        with Server() as server:
            source = write_files(workdir, server)
            flow = Flow(flow_binary, workdir)
            server.control(path="/charges", hang=1000000, seconds=REQUEST_SECONDS)
            startup, per_step = calibrate(flow, source)
            server.reset()
            server.control(path="/charges", hang=1000000, seconds=REQUEST_SECONDS)
            run_id = "crash-%s-%d" % (name, seed)
            t0 = time.monotonic()
            disturb = disturb_503(server) if name == "kills_503" else None
            kills, final = drive_with_kills(flow, server, source, run_id, rng, startup, per_step, disturb)
            resent = verify(flow, server, run_id, final, kills)
            print("%s: ok: %d kills, %d requests resent or retried, %.1f s (start-up %.0f ms, %.1f ms/step)"
                  % (name, kills, resent, time.monotonic() - t0, startup * 1000, per_step * 1000))
    finally:
        if keep:
            print("%s: files kept in %s" % (name, workdir))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True, help="the flow binary")
    parser.add_argument("--seed", type=int, default=None, help="replay a seed (printed by every run)")
    parser.add_argument("--scenario", choices=["kills", "kills_503"], action="append")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1 << 31)
    print("seed %d (replay with --seed %d)" % (seed, seed), flush=True)
    try:
        for i, name in enumerate(options.scenario or ["kills", "kills_503"]):
            scenario(name, os.path.abspath(options.flow), seed + i, options.keep)
    except Failure as f:
        print("FAIL (seed %d): %s" % (seed, f))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

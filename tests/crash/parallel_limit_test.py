#!/usr/bin/env python3
"""Branch steps are really in flight at the same time, at most `limit`.

    python3 tests/crash/parallel_limit_test.py --flow build/flow

SPEC §2.5 and issue 14: the steps of `parallel for` branches are sent at
once (each on a thread of the engine, docs/composition.md), at most N at a
time for `limit N` (8 without one). The test server counts the requests it
is answering at the same moment (GET /_inflight); the first requests of a
run wait until as many as the limit are open at once (or 30 s: then the
test fails, as too few were in flight), then every request is held 0.3 s,
so one beyond the limit would overlap them. Then:

  - `limit 4` over 12 items: at most 4 open at once, and 4 reached;
  - no limit over 20 items: 8 reached, never 9;
  - each item charged once, with its own key "<run>:<branch>:1", and the
    result lists the charges in input order;
  - a `parallel` block of 3 HTTP steps has 3 open at once;
  - child workflow calls in branches count against the engine's bound on
    what one run has in flight (kMaxStepsInFlight, 64): `parallel for ...
    limit 100` over 66 items, each a child run making one HTTP step,
    reaches 64 open at once and never 65.

The assertions read the server's own counters; no assertion is timed.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Failure, Flow, Server, charge_operation, check, header  # noqa: E402

HOLD_SECONDS = 0.3

SOURCE = """
connector svc = "svc.json"

workflow limited(n: int) -> [string] {
  let ids = parallel for i in range(n) limit 4 {
    let c = svc.charge(customer: "c${i}", amount: i)
    c.id
  }
  return ids
}

workflow unlimited(n: int) -> [int] {
  let amounts = parallel for i in range(n) {
    let c = svc.charge(customer: "u${i}", amount: i)
    c.amount
  }
  return amounts
}

workflow block() -> string {
  parallel {
    let a = svc.charge(customer: "a", amount: 1)
    let b = svc.charge(customer: "b", amount: 2)
    let c = svc.charge(customer: "c", amount: 3)
  }
  return "${a.id} ${b.id} ${c.id}"
}

workflow pay_one(i: int) -> int {
  let c = svc.charge(customer: "k${i}", amount: i)
  return c.amount
}

workflow children(n: int) -> [int] {
  let amounts = parallel for i in range(n) limit 100 {
    pay_one(i: i)
  }
  return amounts
}
"""

# kMaxStepsInFlight (vm/engine/driver.h).
MAX_IN_FLIGHT = 64


def hold_every_request(server, gather):
    """The first `gather` requests wait for each other (so the first wave is
    open at once however loaded the machine is), then every request is held
    HOLD_SECONDS: a request beyond the limit would find the wave open."""
    server.reset()
    server.control(path="/charges", hang=1000, seconds=HOLD_SECONDS, gather=gather)


def run(flow, server, source):
    hold_every_request(server, 4)
    code, out = flow.json("run", source, "--workflow", "limited", "--id", "l1", "--input", '{"n": 12}', "--json")
    check(code == 0 and out["status"] == "completed", "limited: %s" % out)
    inflight = server.call("GET", "/_inflight")
    check(inflight["max"] == 4, "limit 4: at most %d requests were open at once, expected exactly 4" % inflight["max"])
    effects = server.effects()
    check(len(effects) == 12, "limit 4: %d charges, expected 12" % len(effects))
    keys = sorted(e["key"] for e in effects)
    check(keys == sorted("l1:1.%d:1" % k for k in range(1, 13)), "limit 4: keys %s" % keys)
    by_customer = {e["customer"]: e["id"] for e in effects}
    check(out["result"] == [by_customer["c%d" % i] for i in range(12)],
          "limit 4: the result %s is not the charges in input order" % out["result"])

    hold_every_request(server, 8)
    code, out = flow.json("run", source, "--workflow", "unlimited", "--id", "u1", "--input", '{"n": 20}', "--json")
    check(code == 0 and out["result"] == list(range(20)), "unlimited: %s" % out)
    inflight = server.call("GET", "/_inflight")
    check(inflight["max"] == 8, "default limit: at most %d requests were open at once, expected 8" % inflight["max"])

    hold_every_request(server, 3)
    code, out = flow.json("run", source, "--workflow", "block", "--id", "b1", "--json")
    check(code == 0 and out["status"] == "completed", "block: %s" % out)
    inflight = server.call("GET", "/_inflight")
    check(inflight["max"] == 3, "parallel block: %d requests open at once, expected 3" % inflight["max"])
    for request in server.requests():
        check(header(request, "Idempotency-Key").startswith("b1:1."), "block: key %s" % header(request, "Idempotency-Key"))

    hold_every_request(server, MAX_IN_FLIGHT)
    n = MAX_IN_FLIGHT + 2
    code, out = flow.json("run", source, "--workflow", "children", "--id", "k1", "--input", '{"n": %d}' % n, "--json")
    check(code == 0 and out["result"] == list(range(n)), "children: %s" % str(out)[:300])
    inflight = server.call("GET", "/_inflight")
    check(inflight["max"] == MAX_IN_FLIGHT,
          "children: %d requests open at once, expected %d" % (inflight["max"], MAX_IN_FLIGHT))
    keys = sorted(e["key"] for e in server.effects())
    check(keys == sorted("k1/1.%d/1:1" % k for k in range(1, n + 1)), "children: keys %s" % keys[:5])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="flow-parallel-limit-")
    try:
        with Server() as server:
            connector = {"connector": "svc", "transport": {"kind": "http", "base_url": server.url},
                         "operations": {"charge": charge_operation(idempotent=True)}}
            with open(os.path.join(workdir, "svc.json"), "w") as f:
                json.dump(connector, f)
            source = os.path.join(workdir, "main.flow")
            with open(source, "w") as f:
                f.write(SOURCE)
            run(Flow(os.path.abspath(options.flow), workdir), server, source)
        print("ok: parallel limit")
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

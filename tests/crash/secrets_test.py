#!/usr/bin/env python3
"""Secrets never reach the database, the journal, `flow show` or the output.

An http connector authenticates with a bearer token from the environment
(SPEC §3). The test server echoes the request headers (Authorization
included) in the body of a scripted 401, so the failed step's message would
carry the token if flow did not redact it. The test runs one workflow whose
first step succeeds and whose second step gets that 401, then searches for
the token in everything flow wrote or printed: the database file with its
WAL and shared-memory files, `flow run --json`, `flow show` in both forms,
and stderr. It also proves the token was really sent (the server saw it), so
a flow that never sent it cannot pass.

    python3 tests/crash/secrets_test.py --flow build/flow
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

from harness import Failure, Flow, Server, check, header

TOKEN = "s3cr3t-token-7f1e9a4c"

CONNECTOR = {
    "connector": "billing",
    "transport": {"kind": "http", "base_url": "http://127.0.0.1:1",
                  "base_url_env": "BILLING_URL",
                  "auth": {"kind": "bearer", "token_env": "BILLING_TOKEN"}},
    "operations": {
        "charge": {"http": {"method": "POST", "path": "/charges"},
                   "input": {"type": "object", "required": ["amount"],
                             "properties": {"amount": {"type": "integer"}}},
                   "output": {"type": "object"}, "idempotent": True},
        "audit": {"http": {"method": "POST", "path": "/audit"},
                  "input": {"type": "object", "properties": {"note": {"type": "string"}}},
                  "output": {"type": "object"}, "idempotent": True},
    },
}

SOURCE = """connector billing = "billing.json"
workflow pay() -> int {
  billing.charge(amount: 5)
  billing.audit(note: "after the charge")
  return 1
}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="flow-secrets-")
    try:
        with open(os.path.join(workdir, "billing.json"), "w") as f:
            json.dump(CONNECTOR, f)
        source = os.path.join(workdir, "pay.flow")
        with open(source, "w") as f:
            f.write(SOURCE)
        with Server() as server:
            os.environ["BILLING_URL"] = server.url
            os.environ["BILLING_TOKEN"] = TOKEN
            server.control(path="/audit", fail=1, status=401, echo_headers=True)
            flow = Flow(os.path.abspath(options.flow), workdir)
            code, out, err = flow.run("run", source, "--id", "p1", "--json")
            check(code == 1, "the run exited %d, expected 1 (the audit step gets a 401): %s"
                  % (code, err[-400:]))
            sent = [header(r, "Authorization") for r in server.requests()]
            check(sent and all(h == "Bearer " + TOKEN for h in sent),
                  "the server did not see the bearer token on every request: %r" % sent)
            texts = {"flow run --json": out, "flow run stderr": err}
            for args in (("show", "p1", "--json"), ("show", "p1"), ("runs", "--json")):
                c, o, e = flow.run(*args)
                check(c in (0, 1), "flow %s exited %d" % (" ".join(args), c))
                texts["flow " + " ".join(args)] = o + e
            for name in os.listdir(workdir):
                if name.startswith("flow.db"):
                    with open(os.path.join(workdir, name), "rb") as f:
                        texts[name] = f.read().decode("latin-1")
            check("flow.db" in texts, "flow wrote no database in %s" % workdir)
            check("401" in texts["flow show p1 --json"],
                  "flow show does not record the 401 at all, so this test proves nothing")
            for name, text in texts.items():
                check(TOKEN not in text, "the token appears in %s" % name)
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

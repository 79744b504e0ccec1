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

Servers rarely echo a secret byte for byte (issue 10): five more runs get
the token back JSON-escaped with `\/`, percent-encoded, upper-cased,
placed across the 512-byte cut of the message, and inside a 2xx body that
becomes the step's stored result. Every one of those forms, in any case,
is searched for too.

    python3 tests/crash/secrets_test.py --flow build/flow
"""

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

from harness import Failure, Flow, Server, check, header

TOKEN = "s3cr3t/token+7f1e 9a4c"

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

# Every form a server may echo the token in (searched case-insensitively).
FORMS = [TOKEN, TOKEN.replace("/", "\\/"), urllib.parse.quote(TOKEN, safe=""),
         urllib.parse.quote_plus(TOKEN), base64.b64encode(TOKEN.encode()).decode(),
         TOKEN[:10]]  # the part before the cut would keep

# Runs p2..p6: the audit step's answer echoes the token in one form each.
ECHOES = [
    ("p2", dict(fail=1, status=401, body='{"auth": "Bearer %s"}' % TOKEN.replace("/", "\\/"))),
    ("p3", dict(fail=1, status=401, body="auth=" + urllib.parse.quote(TOKEN, safe=""))),
    ("p4", dict(fail=1, status=401, body="AUTHORIZATION: BEARER " + TOKEN.upper())),
    ("p5", dict(fail=1, status=401, body="x" * 500 + " Bearer " + TOKEN)),
    ("p6", dict(respond={"echo": "Bearer " + TOKEN})),
]

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
            for run_id, rule in ECHOES:
                server.control(path="/audit", **rule)
                code, out, err = flow.run("run", source, "--id", run_id, "--json")
                check(code in (0, 1), "run %s exited %d: %s" % (run_id, code, err[-400:]))
                texts["flow run %s" % run_id] = out + err
            for run_id in ["p1"] + [r for r, _ in ECHOES]:
                for args in (("show", run_id, "--json"), ("show", run_id)):
                    c, o, e = flow.run(*args)
                    check(c in (0, 1), "flow %s exited %d" % (" ".join(args), c))
                    texts["flow " + " ".join(args)] = o + e
            c, o, e = flow.run("runs", "--json")
            texts["flow runs --json"] = o + e
            for name in os.listdir(workdir):
                if name.startswith("flow.db"):
                    with open(os.path.join(workdir, name), "rb") as f:
                        texts[name] = f.read().decode("latin-1")
            check("flow.db" in texts, "flow wrote no database in %s" % workdir)
            check("401" in texts["flow show p1 --json"],
                  "flow show does not record the 401 at all, so this test proves nothing")
            for name, text in texts.items():
                lower = text.lower()
                for form in FORMS:
                    check(form.lower() not in lower, "the token appears in %s as %r" % (name, form))
            check("[red" in texts["flow show p5 --json"] and "[redacted]" in texts["flow show p6 --json"],
                  "the echoed tokens never reached the journal, so this test proves nothing")
    except Failure as f:
        print("FAIL: %s" % f)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

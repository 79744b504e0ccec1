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

A second scenario: `secret("CRM_KEY")` (SPEC §2.5a) in the headers and
body of http.request and as an argument of an http connector. The first
request's answer echoes the headers (a server that reflects them must not
leak it into the step's result); the second is killed in flight (kill -9)
and resent by `flow resume`, which must read the variable again (the
journal holds only its name, and "***" where the value stood). Then a run
with CRM_KEY unset: nothing is sent and the run says which variable is
missing.

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

from harness import Failure, Flow, Server, check, header, journal_of

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


def everything_flow_wrote(flow, workdir, run_ids, printed):
    """name -> text of every output and database file that may hold a secret."""
    texts = dict(printed)
    for run_id in run_ids:
        for args in (("show", run_id, "--json"), ("show", run_id)):
            c, o, e = flow.run(*args)
            check(c in (0, 1), "flow %s exited %d: %s" % (" ".join(args), c, e[-300:]))
            texts["flow " + " ".join(args)] = o + e
    c, o, e = flow.run("runs", "--json")
    texts["flow runs --json"] = o + e
    for name in os.listdir(workdir):
        if name.startswith("flow.db"):
            with open(os.path.join(workdir, name), "rb") as f:
                texts[name] = f.read().decode("latin-1")
    check("flow.db" in texts, "flow wrote no database in %s" % workdir)
    return texts


def write_program(workdir, connector_name, connector, flow_name, source):
    """Writes the connector file and the .flow file; returns the latter's path."""
    with open(os.path.join(workdir, connector_name), "w") as f:
        json.dump(connector, f)
    path = os.path.join(workdir, flow_name)
    with open(path, "w") as f:
        f.write(source)
    return path


def bearer_token_scenario(binary, workdir):
    source = write_program(workdir, "billing.json", CONNECTOR, "pay.flow", SOURCE)
    with Server() as server:
        os.environ["BILLING_URL"] = server.url
        os.environ["BILLING_TOKEN"] = TOKEN
        server.control(path="/audit", fail=1, status=401, echo_headers=True)
        flow = Flow(binary, workdir)
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
        texts = everything_flow_wrote(flow, workdir, ["p1"] + [r for r, _ in ECHOES], texts)
        check("401" in texts["flow show p1 --json"],
              "flow show does not record the 401 at all, so this test proves nothing")
        for name, text in texts.items():
            lower = text.lower()
            for form in FORMS:
                check(form.lower() not in lower, "the token appears in %s as %r" % (name, form))
        check("[red" in texts["flow show p5 --json"] and "[redacted]" in texts["flow show p6 --json"],
              "the echoed tokens never reached the journal, so this test proves nothing")


CRM_KEY = "crm-k3y-5e9b21d7"

CRM_CONNECTOR = {
    "connector": "crm",
    "transport": {"kind": "http", "base_url": "http://127.0.0.1:1", "base_url_env": "CRM_URL"},
    "operations": {
        "note": {"http": {"method": "POST", "path": "/notes"},
                 "input": {"type": "object", "required": ["text", "token"],
                           "properties": {"text": {"type": "string"}, "token": {"type": "string"}}},
                 "output": {"type": "object"}, "idempotent": True},
    },
}

CRM_SOURCE = """connector crm = "crm.json"
workflow sync(base: string) -> int {
  let key = secret("CRM_KEY")
  let echoed = http.request(method: "POST", url: base + "/echo",
                            headers: { "X-Api-Key": key }, body: { token: key, note: "hi" })
  crm.note(text: "synced", token: key)
  return echoed.status
}
"""


def secret_builtin_scenario(binary, workdir):
    """secret() in http.request headers/body and a connector argument; a
    kill -9 in flight and a resend; then the variable unset."""
    source = write_program(workdir, "crm.json", CRM_CONNECTOR, "sync.flow", CRM_SOURCE)
    with Server() as server:
        os.environ["CRM_URL"] = server.url
        os.environ["CRM_KEY"] = CRM_KEY
        # The first answer reflects the request headers; the first /notes hangs.
        server.control(path="/echo", fail=1, status=200, echo_headers=True)
        server.control(path="/notes", hang=1, seconds=60)
        flow = Flow(binary, workdir)
        inputs = json.dumps({"base": server.url})
        proc = flow.start("run", source, "--id", "s1", "--input", inputs)
        while not any(r["path"] == "/notes" for r in server.requests()):  # polls a condition
            check(proc.poll() is None, "flow run ended before it sent /notes: %r" % (flow.output(proc),))
        proc.kill()
        proc.wait()
        printed = {"killed flow run": "".join(flow.output(proc))}
        code, out, err = flow.run("resume", "s1", "--json")
        check(code == 0, "flow resume exited %d: %s %s" % (code, out, err[-400:]))
        printed.update({"flow resume --json": out, "flow resume stderr": err})
        requests = server.requests()
        echo = [r for r in requests if r["path"] == "/echo"]
        notes = [r for r in requests if r["path"] == "/notes"]
        check(len(echo) == 1 and header(echo[0], "X-Api-Key") == CRM_KEY,
              "http.request did not send the secret header once: %r" % echo)
        check(echo[0]["json"] == {"token": CRM_KEY, "note": "hi"},
              "http.request did not send the secret in its body: %r" % echo[0]["json"])
        check(len(notes) == 2 and all((n["json"] or {}).get("token") == CRM_KEY for n in notes),
              "the connector step was not sent, then resent, with the secret: %r" % notes)
        check(notes[0]["headers"].get("Idempotency-Key") == notes[1]["headers"].get("Idempotency-Key"),
              "the resent step changed its idempotency key")
        texts = everything_flow_wrote(flow, workdir, ["s1"], printed)
        started = [e for e in journal_of(json.loads(texts["flow show s1 --json"].splitlines()[0]))
                   if e.get("event") == "step_started"]
        check(started and started[0]["data"]["args"]["headers"]["X-Api-Key"] == "***",
              "the journal does not show the secret as ***: %r" % started[:1])
        forms = [CRM_KEY.lower(), base64.b64encode(CRM_KEY.encode()).decode().lower()]
        for name, text in texts.items():
            for form in forms:
                check(form not in text.lower(), "the secret appears in %s as %r" % (name, form))

        # Unset: nothing is sent, and the run names the variable.
        del os.environ["CRM_KEY"]
        server.reset()
        code, out, err = flow.run("run", source, "--id", "s2", "--json", "--input", inputs)
        # SPEC §4 "blocked, not failed": the run waits (exit 3) until the
        # variable is set and the run resumed.
        check(code == 3, "the run without CRM_KEY exited %d: %s %s" % (code, out, err[-300:]))
        check('"blocked"' in out, "the run does not wait blocked: %s" % out)
        check("secret variable CRM_KEY is not set" in out,
              "the run does not say which variable is missing: %s" % out)
        check(server.requests() == [], "a request was sent without the secret: %r" % server.requests())
        # Set again: `flow resume` sends it, once, with the secret.
        os.environ["CRM_KEY"] = CRM_KEY
        code, out, err = flow.run("resume", "s2", "--json")
        check(code == 0, "the blocked run did not complete once CRM_KEY was set: %d %s %s" % (code, out, err[-300:]))
        echo = [r for r in server.requests() if r["path"] == "/echo"]
        check(len(echo) == 1 and header(echo[0], "X-Api-Key") == CRM_KEY,
              "the resumed run did not send the secret header once: %r" % echo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    options = parser.parse_args()
    binary = os.path.abspath(options.flow)
    for scenario in (bearer_token_scenario, secret_builtin_scenario):
        workdir = tempfile.mkdtemp(prefix="flow-secrets-")
        try:
            scenario(binary, workdir)
        except Failure as f:
            print("FAIL (%s): %s" % (scenario.__name__, f))
            return 1
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

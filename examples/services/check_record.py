#!/usr/bin/env python3
"""Prints and checks the record of examples/run.sh: what the services saw.

  check_record.py RECORD --fail-first N --billing URL --cms URL

RECORD holds one JSON line per request, written by the HTTP services
(stand_in.py: method, path, key, status, replayed) and by the exec stand-ins
(op, key, status). The checks are the story run.sh tells, seen from the
services' side: each effect happened exactly once, a retried step sent the
same Idempotency-Key on every attempt, a cancel undid what was done, and
an approved article was published once.
Then two probes: the services refuse a request without the bearer token
(401), and a repeated Idempotency-Key gets the stored answer without a
second effect. Exit 0 when all held, 1 with the first failed check.
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request


def check(condition, message):
    if not condition:
        print(f"check_record: FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def calls(record, service, what=".*", key_prefix=""):
    """The entries of `service` whose op or "METHOD path" matches the regex `what`."""
    return [e for e in record if e["service"] == service
            and re.fullmatch(what, describe(e)) and (e["key"] or "").startswith(key_prefix)]


def describe(entry):
    return entry["op"] if "op" in entry else f"{entry['method']} {entry['path']}"


def print_record(record):
    for e in record:
        replay = "  (replayed)" if e.get("replayed") else ""
        print(f"  {e['service']:<8} {describe(e):<32} key={str(e['key']):<16} {e['status']}{replay}")


def check_onboarding(record):
    for run in ("onboard-free", "onboard-pro"):
        created = calls(record, "crm", "create-account", run + ":")
        check([e["status"] for e in created] == [0], f"{run}: one create-account, got {created}")
    mails = calls(record, "email", key_prefix="onboard-")
    check(len(mails) == 1 and mails[0]["key"].startswith("onboard-free:"),
          f"one welcome mail, for the free plan only, got {mails}")
    deleted = calls(record, "crm", "delete-account")
    check(len(deleted) == 1 and deleted[0]["key"].startswith("onboard-pro:"),
          f"cancelling onboard-pro deletes its account once, got {deleted}")
    created = calls(record, "crm", "create-account", "onboard-pro:")[0]
    check(record.index(deleted[0]) > record.index(created), "the account is deleted after it was created")
    check(not calls(record, "billing", key_prefix="onboard-"), "nothing is charged before finance approves")


def check_batch(record):
    """batch-1 onboards twelve customers, ten at a time, as the child runs
    batch-1/1.1/1 .. batch-1/1.12/1; the seventh is the pro one."""
    for child in ["batch-1/1.%d/1" % k for k in range(1, 13)]:
        created = calls(record, "crm", "create-account", child + ":")
        check([e["status"] for e in created] == [0], f"{child}: one create-account, got {created}")
        mails = calls(record, "email", key_prefix=child + ":")
        check(len(mails) == 1, f"{child}: one welcome mail, got {mails}")
    charges = [e for e in calls(record, "billing", key_prefix="batch-1") if e["method"] == "POST"]
    check(len(charges) == 1 and charges[0]["key"].startswith("batch-1/1.7/1:") and not charges[0]["replayed"],
          f"only the pro customer (batch-1/1.7/1) is charged, once, got {charges}")
    check(not calls(record, "crm", "delete-account", "batch-1"), "the completed batch undoes nothing")


def check_renewals(record):
    """renewals-1 charges twelve customers in parallel branches 1.1..1.12."""
    charges = [e for e in calls(record, "billing", key_prefix="renewals-1:") if e["method"] == "POST"]
    keys = sorted(e["key"] for e in charges)
    check(keys == sorted(f"renewals-1:1.{k}:1" for k in range(1, 13)),
          f"renewals: one charge per renewal, each with its branch's key, got {keys}")
    check(all(e["status"] == 201 and not e["replayed"] for e in charges), f"renewals: every charge made once: {charges}")


def check_publishing(record, fail_first):
    drafts = calls(record, "cms", "POST /api/v2/drafts", "publish-1:")
    statuses, keys = [e["status"] for e in drafts], [e["key"] for e in drafts]
    check(statuses == [503] * fail_first + [201],
          f"create_draft: {fail_first} x 503, then created once, got {statuses}")
    check(set(keys) == {"publish-1:1"}, f"each attempt of create_draft sends the same key, got {keys}")
    deletes = calls(record, "cms", r"DELETE /api/v2/drafts/\w+")
    check(len(deletes) == 1 and deletes[0]["status"] == 200
          and record.index(deletes[0]) > record.index(drafts[-1]),
          f"cancelling publish-1 deletes the draft once, after it was created, got {deletes}")
    check(deletes[0]["key"] not in (None, keys[0]), "the compensation is a step with its own key")
    check(not calls(record, "cms", r"POST /api/v2/drafts/\w+/publish", "publish-1:"),
          "nothing is published before an editor approves")


def check_approved_publishing(record, fail_first):
    drafts = calls(record, "cms", "POST /api/v2/drafts", "publish-2:")
    check([e["status"] for e in drafts] == [503] * fail_first + [201],
          f"publish-2: create_draft {fail_first} x 503, then created once, got {drafts}")
    posts = calls(record, "cms", r"POST /api/v2/drafts/\w+/publish")
    statuses, keys = [e["status"] for e in posts], {e["key"] for e in posts}
    check(statuses == [503] * fail_first + [201],
          f"the approved article is published once, after {fail_first} x 503, got {statuses}")
    check(len(keys) == 1 and next(iter(keys)).startswith("publish-2:"),
          f"each attempt of publish sends the same key, got {keys}")
    check(record.index(posts[0]) > record.index(drafts[-1]), "published after the draft was created")
    check(not calls(record, "cms", r"DELETE /api/v2/drafts/\w+", "publish-2:")
          and not calls(record, "cms", r"POST /api/v2/posts/\w+/unpublish"),
          "the approved run undoes nothing")


def request(url, method="GET", token=None, key=None, body=None):
    """(status, parsed body) of one request to a service."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if key:
        req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def probe(billing_url, cms_url, record_path):
    """Asks the services directly what flow's runs could not show."""
    check(request(billing_url + "/invoices/inv_1")[0] == 401, "billing without a token answers 401")
    check(request(cms_url + "/drafts/d_1", "DELETE", token="wrong")[0] == 401,
          "the CMS with a wrong token answers 401")
    token, url = os.environ["BILLING_TOKEN"], billing_url + "/customers/probe/charges"
    first = request(url, "POST", token, "probe:1", {"amount": 100})
    again = request(url, "POST", token, "probe:1", {"amount": 100})
    check(first[0] == 201 and again == first,
          f"a repeated key gets the stored answer, got {first}, then {again}")
    charges = [e for e in read(record_path) if e.get("path") == "/customers/probe/charges"]
    check([e["replayed"] for e in charges] == [False, True], "a repeated key has no second effect")


def read(path):
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("record")
    parser.add_argument("--fail-first", type=int, required=True)
    parser.add_argument("--billing", required=True, help="billing's base URL")
    parser.add_argument("--cms", required=True, help="the CMS's base URL")
    options = parser.parse_args()
    record = read(options.record)
    print_record(record)
    check(all(e["status"] != 401 for e in record), "flow sent the bearer token on every request")
    check_onboarding(record)
    check_batch(record)
    check_renewals(record)
    check_publishing(record, options.fail_first)
    check_approved_publishing(record, options.fail_first)
    check(not calls(record, "notify"), "dunning sends no reminder during its day of grace")
    probe(options.billing, options.cms, options.record)
    print("ok: each effect happened once, the retries reused their key,"
          " the cancels deleted the account and the draft, the approved post was published once")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A stand-in CRM for the onboarding example (an exec connector, SPEC §3).

Reads the operation's input JSON on stdin, prints the output JSON on stdout.
Account ids derive from the e-mail address, so a retried or resumed step
(same FLOW_IDEMPOTENCY_KEY) gets the same account back. CRM_FAIL=1 makes
every call a retryable failure (exit 75), to watch retries.
With EXAMPLES_RECORD set, each call is appended to that file as a JSON line
(service, op, status, key), the record examples/run.sh checks.
"""
import datetime
import hashlib
import json
import os
import sys

SERVICE = "crm"


def record(op: str, status: int) -> None:
    """Appends this call to $EXAMPLES_RECORD (JSON lines), when it is set."""
    path = os.environ.get("EXAMPLES_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"service": SERVICE, "op": op, "status": status,
                                  "key": os.environ.get("FLOW_IDEMPOTENCY_KEY")}) + "\n")


def perform(op: str) -> int:
    if os.environ.get("CRM_FAIL") == "1":
        print("crm unavailable", file=sys.stderr)
        return 75
    data = json.load(sys.stdin)
    if op == "create-account":
        digest = hashlib.sha1(data["email"].encode()).hexdigest()[:10]
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        print(json.dumps({"id": "acct_" + digest, "email": data["email"],
                          "plan": data["plan"], "created_at": now.replace("+00:00", "Z")}))
        return 0
    if op == "delete-account":
        print(json.dumps({"deleted": True}))
        return 0
    print(f"unknown operation {op!r}", file=sys.stderr)
    return 2


def main() -> int:
    op = sys.argv[1] if len(sys.argv) > 1 else ""
    status = perform(op)
    record(op, status)
    return status


if __name__ == "__main__":
    sys.exit(main())

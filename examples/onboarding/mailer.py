#!/usr/bin/env python3
"""A stand-in mailer for the onboarding example (an exec connector).

Prints the message it would send on stderr and returns a message id derived
from the idempotency key, so a retried send is recognisably the same message.
With EXAMPLES_RECORD set, each call is appended to that file as a JSON line
(service, op, status, key), the record examples/run.sh checks.
"""
import hashlib
import json
import os
import sys

SERVICE = "email"


def record(op: str, status: int) -> None:
    """Appends this call to $EXAMPLES_RECORD (JSON lines), when it is set."""
    path = os.environ.get("EXAMPLES_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"service": SERVICE, "op": op, "status": status,
                                  "key": os.environ.get("FLOW_IDEMPOTENCY_KEY")}) + "\n")


def perform(op: str) -> int:
    data = json.load(sys.stdin)
    key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "no-key")
    print(f"mail: {data['template']} -> {data['to']}", file=sys.stderr)
    print(json.dumps({"message_id": "msg_" + hashlib.sha1(key.encode()).hexdigest()[:12]}))
    return 0


def main() -> int:
    op = sys.argv[1] if len(sys.argv) > 1 else ""
    status = perform(op)
    record(op, status)
    return status


if __name__ == "__main__":
    sys.exit(main())

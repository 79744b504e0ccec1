#!/usr/bin/env python3
"""A stand-in notification service for the dunning example (an exec connector).

`reminder` "sends" a payment reminder, `page` opens a collections ticket; both
print what they would do on stderr and derive their ids from the idempotency
key, so a retried step returns the same id.
With EXAMPLES_RECORD set, each call is appended to that file as a JSON line
(service, op, status, key), the record examples/run.sh checks.
"""
import hashlib
import json
import os
import sys

SERVICE = "notify"


def record(op: str, status: int) -> None:
    """Appends this call to $EXAMPLES_RECORD (JSON lines), when it is set."""
    path = os.environ.get("EXAMPLES_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"service": SERVICE, "op": op, "status": status,
                                  "key": os.environ.get("FLOW_IDEMPOTENCY_KEY")}) + "\n")


def perform(op: str) -> int:
    data = json.load(sys.stdin)
    key = hashlib.sha1(os.environ.get("FLOW_IDEMPOTENCY_KEY", "").encode()).hexdigest()[:12]
    if op == "reminder":
        print(f"reminder #{data['attempt']} for {data['invoice']} -> {data['to']}", file=sys.stderr)
        print(json.dumps({"message_id": "msg_" + key}))
        return 0
    if op == "page":
        print(f"collections ticket for {data['invoice']}", file=sys.stderr)
        print(json.dumps({"ticket": "COLL-" + key}))
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

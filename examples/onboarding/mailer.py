#!/usr/bin/env python3
"""A stand-in mailer for the onboarding example (an exec connector).

Prints the message it would send on stderr and returns a message id derived
from the idempotency key, so a retried send is recognisably the same message.
"""
import hashlib
import json
import os
import sys


def main() -> int:
    data = json.load(sys.stdin)
    key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "no-key")
    print(f"mail: {data['template']} -> {data['to']}", file=sys.stderr)
    print(json.dumps({"message_id": "msg_" + hashlib.sha1(key.encode()).hexdigest()[:12]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Prints a run's journal one short line per event, and checks how it ended.

  flow show RUN --json | journal.py STATUS [OPERATION:OUTCOME ...]

Reads `flow show --json` on stdin (docs/cli.md) and prints each journal
event as `SEQ EVENT STEP/ATTEMPT details` (the operation, the Idempotency-Key,
an error and its retry delay, a result), cut to MAX_WIDTH characters. Then
checks that the run's status is STATUS and that its compensations ran
exactly as listed, e.g. `cms.delete_draft:completed`. Exit 1, with the
difference, otherwise. examples/run.sh uses it for the cancelled runs.
"""

import json
import sys

MAX_WIDTH = 120   # one terminal line; results and messages are cut with "..."


def details(data):
    what = [data.get("workflow") or data.get("operation") or data.get("name")
            or data.get("prompt") or ""]
    if "key" in data:
        what.append("key=" + data["key"])
    if "kind" in data:
        retry = ", retry in %d ms" % data["retry_in_ms"] if "retry_in_ms" in data else ""
        what.append("%s%s: %s" % (data["kind"], retry, data["message"]))
    if "result" in data:
        what.append("-> " + json.dumps(data["result"], separators=(",", ":")))
    if "approved" in data:
        comment = ": " + data["comment"] if data.get("comment") else ""
        what.append("%s by %s%s" % ("approved" if data["approved"] else "rejected", data.get("by"), comment))
    if "after" in data:
        what.append("after the " + data["after"])
    if "error" in data:
        what.append("%(kind)s: %(message)s" % data["error"])
    return "  ".join(w for w in what if w)


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    run = json.load(sys.stdin)
    for event in run["journal"]:
        step = "%s/%s" % (event["step"], event["attempt"]) if event["step"] else ""
        line = "  %-3d %-23s %-4s %s" % (event["seq"], event["event"], step, details(event["data"]))
        print(line if len(line) <= MAX_WIDTH else line[:MAX_WIDTH - 3] + "...")
    compensations = ["%(step)s:%(status)s" % c for c in run["compensations"]]
    if run["status"] != sys.argv[1] or compensations != sys.argv[2:]:
        print(f"journal.py: expected run {run['run']} {sys.argv[1]} with compensations {sys.argv[2:]},"
              f" got {run['status']} with {compensations}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

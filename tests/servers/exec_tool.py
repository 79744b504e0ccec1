#!/usr/bin/env python3
"""An exec connector for flow's transport tests (SPEC §3, exec transport).

Reads the arguments as JSON on stdin, appends one line "<mode> <key>" to
./invocations.log (in its working directory, which flow sets to the
connector's folder), then behaves according to its first argument:
  echo       prints {"args", "cwd", "key", "run", "operation", "argv"}
  flaky      exits 75 the first args.times times for one FLOW_IDEMPOTENCY_KEY
             (counted in ./state-<key>.json), then prints {"attempts": n}
  sleep      sleeps args.seconds, then prints {}
  grandchild starts a child that sleeps args.seconds (its pid written to
             args.pidfile), then sleeps as long itself
  badjson    prints text that is not JSON and exits 0
  fail       writes args.message (or a default) to stderr and exits 3
  noisy      writes args.bytes bytes to stderr and exits 3
  big        writes args.bytes bytes of JSON string to stdout
"""

import json
import os
import subprocess
import sys
import time


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "echo"
    args = json.load(sys.stdin)
    key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "")
    with open("invocations.log", "a") as log:
        log.write("%s %s\n" % (mode, key))
    if mode == "echo":
        print(json.dumps({"args": args, "cwd": os.getcwd(), "key": key,
                          "run": os.environ.get("FLOW_RUN_ID"),
                          "operation": os.environ.get("FLOW_OPERATION"), "argv": sys.argv[1:]}))
    elif mode == "flaky":
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        state = "state-%s.json" % safe
        count = json.load(open(state)) if os.path.exists(state) else 0
        if count < args.get("times", 1):
            json.dump(count + 1, open(state, "w"))
            sys.stderr.write("not yet (attempt %d)\n" % (count + 1))
            return 75
        print(json.dumps({"attempts": count + 1}))
    elif mode == "sleep":
        time.sleep(args.get("seconds", 60))
        print("{}")
    elif mode == "grandchild":
        seconds = str(args.get("seconds", 60))
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(%s)" % seconds])
        with open(args["pidfile"], "w") as f:
            f.write(str(child.pid))
        time.sleep(float(seconds))
        print("{}")
    elif mode == "badjson":
        print("this is { not json")
    elif mode == "fail":
        sys.stderr.write("  %s  \n\n" % args.get("message", "card declined"))
        return 3
    elif mode == "noisy":
        sys.stderr.write("e" * args.get("bytes", 100000))
        return 3
    elif mode == "big":
        sys.stdout.write('"' + "x" * args.get("bytes", 1000) + '"')
    return 0


if __name__ == "__main__":
    sys.exit(main())

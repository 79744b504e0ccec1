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
  env        prints {"env": {...}}: its environment as the kernel gave it
             (/proc/self/environ, before Python adjusts anything)
  exclusive  one copy of a step at a time: takes an exclusive lock on
             ./lock-<key> (a second copy that finds it held appends
             "OVERLAP <key>" to invocations.log and exits 3), starts a
             grandchild holding the lock too (in a new session when
             args.escape), writes {"tool", "grandchild"} pids to
             ./pids-<key>.json, and works: args.seconds the first time a key
             is seen, 0.2 s when it is sent again (./started-<key> exists)
"""

import fcntl
import json
import os
import subprocess
import sys
import time


def safe_name(key):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def exclusive(args, key):
    safe = safe_name(key)
    lock = os.open("lock-%s" % safe, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        with open("invocations.log", "a") as log:
            log.write("OVERLAP %s\n" % key)
        return 3
    marker = "started-%s" % safe
    seconds = 0.2 if os.path.exists(marker) else float(args.get("seconds", 60))
    open(marker, "a").close()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(%r)" % seconds],
                             pass_fds=(lock,), start_new_session=bool(args.get("escape")))
    with open("pids-%s.tmp" % safe, "w") as f:
        json.dump({"tool": os.getpid(), "grandchild": child.pid}, f)
    os.rename("pids-%s.tmp" % safe, "pids-%s.json" % safe)
    child.wait()
    print("{}")
    return 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "echo"
    args = json.load(sys.stdin)
    key = os.environ.get("FLOW_IDEMPOTENCY_KEY", "")
    with open("invocations.log", "a") as log:
        log.write("%s %s\n" % (mode, key))
    if mode == "exclusive":
        return exclusive(args, key)
    if mode == "env":
        with open("/proc/self/environ", "rb") as f:
            pairs = [item.decode(errors="replace").split("=", 1) for item in f.read().split(b"\0") if item]
        print(json.dumps({"env": {k: v for k, v in pairs}}))
        return 0
    if mode == "echo":
        print(json.dumps({"args": args, "cwd": os.getcwd(), "key": key,
                          "run": os.environ.get("FLOW_RUN_ID"),
                          "operation": os.environ.get("FLOW_OPERATION"), "argv": sys.argv[1:]}))
    elif mode == "flaky":
        safe = safe_name(key)
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

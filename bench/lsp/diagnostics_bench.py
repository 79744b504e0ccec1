#!/usr/bin/env python3
"""How long `flow lsp` takes to publish diagnostics after a change
(docs/performance.md, "flow lsp: diagnostics after a change").

    diagnostics_bench.py --flow build/flow [--lines 2000] [--changes 60]

bench/check/gen.py writes a LINES-line program and its connectors; the
benchmark opens it in the real `flow lsp` process, then sends CHANGES
didChange notifications, one at a time, each a one-character edit that makes
the file wrong (an argument name misspelt) or right again, alternately. For
each it measures, on the client's clock, the time from writing the
notification to reading the publishDiagnostics of that version, and checks
the diagnostics are the right ones (one E025 error, or none). Prints the
median, 90th percentile and maximum, the machine's load, and the server's
CPU time per change.

The target (issue 13): diagnostics for a 2,000-line file within 50 ms of a
change. Not a test: tests never assert times (docs/testing.md).
"""
import argparse
import json
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Reader:
    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buffer = b""

    def next(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                length = int(self.buffer[:end].split(b":", 1)[1])
                if len(self.buffer) >= end + 4 + length:
                    body = self.buffer[end + 4:end + 4 + length]
                    self.buffer = self.buffer[end + 4 + length:]
                    return json.loads(body)
            ready, _, _ = select.select([self.fd], [], [], max(0, deadline - time.monotonic()))
            if not ready:
                raise RuntimeError("timed out")
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise RuntimeError("the server exited")
            self.buffer += chunk


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="flow-lsp-bench-")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "check", "gen.py"), folder,
                    "--lines", str(args.lines)], check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(folder, "bench.flow")
    text = open(path).read()
    lines = text.count("\n")
    # The edit: the first `amount:` argument of a step, misspelt and restored in turn.
    at = text.index(", amount: ") + 2
    good, bad = text, text[:at] + "amoun:" + text[at + len("amount:"):]
    uri = "file://" + path

    proc = subprocess.Popen([args.flow, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = Reader(proc.stdout)

    def send(message):
        proc.stdin.write(frame(message))
        proc.stdin.flush()

    def diagnostics(version):
        while True:
            m = reader.next()
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == version:
                return m["params"]["diagnostics"]

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    reader.next()
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": good}}})
    first = diagnostics(1)
    if first:
        print(f"the generated program has diagnostics: {first[:3]}", file=sys.stderr)
        return 1

    times = []
    cpu_before = None
    for i in range(args.changes):
        version = i + 2
        wrong = i % 2 == 0
        new_text = bad if wrong else good
        change = {"jsonrpc": "2.0", "method": "textDocument/didChange",
                  "params": {"textDocument": {"uri": uri, "version": version},
                             "contentChanges": [{"text": new_text}]}}
        data = frame(change)
        start = time.perf_counter()
        proc.stdin.write(data)
        proc.stdin.flush()
        got = diagnostics(version)
        elapsed = time.perf_counter() - start
        errors = [d for d in got if d["severity"] == 1]
        if (len(errors) == 1 and errors[0]["code"] == "E025") != wrong or (not wrong and errors):
            print(f"change {version}: wrong diagnostics {got[:3]}", file=sys.stderr)
            return 1
        times.append(elapsed * 1000)

    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    reader.next()
    send({"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000 / (args.changes + 1)
    times.sort()
    p90 = times[int(len(times) * 0.9) - 1] if len(times) >= 10 else times[-1]
    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"{lines} lines, {args.changes} changes (full-text sync, every other one an error)")
    print(f"didChange -> publishDiagnostics: median {statistics.median(times):.1f} ms, "
          f"p90 {p90:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")
    print(f"server CPU per analysis (incl. start-up share): {cpu_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A scriptable HTTP server for flow's transport and durability tests.

Listens on 127.0.0.1, on an ephemeral port unless --port is given, and prints
the chosen port as the first line of stdout (tests wait on that line, never
on a sleep). It exits when its parent process dies or after --max-lifetime
seconds (default 600), so a crashed test never leaves it behind.

Endpoints (everything under /_ is control and is not recorded):
  POST /_control  {"path": "/charges", ...rule}  scripts the next requests to
                  `path` (exact, without the query string); keys:
                    "fail": N, "status": S (default 503), "body": JSON or text
                        -> the next N requests answer S with that body
                    "rate_limit": N, "retry_after": "2" or an HTTP-date
                        -> the next N requests answer 429 with Retry-After
                    "hang": N, "seconds": D
                        -> the next N requests sleep D seconds, then answer
                    "respond": JSON, "respond_status": S (default 200)
                        -> every later request answers this (e.g. a body that
                           breaks the output schema)
                    "gather": N, "gather_seconds": D -> requests wait until N
                        are being answered at once (or D seconds, default 30,
                        have passed), once: later ones do not wait (lines up
                        the first wave of concurrent requests, whatever the
                        load, before "hang" holds each)
                    "echo_headers": true -> the failure body of "fail" is the
                        request's headers (to prove secrets are redacted)
                    "lose_response": N, "lost_status": S (default 500)
                        -> /charges performs the effect, then answers S N
                           times (a response lost after the effect)
                    "fail" and "lose_response" answers carry Retry-After
                        when the rule has "retry_after" (a 503's own
                        Retry-After, RFC 9110 §10.2.3)
                  rules for one path accumulate; order: hang, rate_limit,
                  fail, lose_response, respond, default.
  POST /_reset    forgets rules, recorded requests and effects
  GET  /_requests every recorded request: method, path, query (raw), args
                  (parsed query, lists of values), headers (as sent), body
                  (text), json (parsed body or null) and at_ms (when it
                  arrived, Unix milliseconds)
  GET  /_effects  the charges created so far
  GET  /_inflight {"now": N, "max": M}: requests being answered now, and the
                  most ever at once (counted from arrival to the end of the
                  answer; parallel branches, tests/crash/parallel_limit_test.py)
Default answers: POST to a path ending in /charges creates a charge
{"id": "ch_N", "amount": ..., "customer": ..., "status": "paid"}; a second
request with the same Idempotency-Key returns the stored answer without a new
effect. Any other path echoes {"method", "path", "query", "body"} with 200.
"""

import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
GATHERED = threading.Condition(LOCK)  # notified when IN_FLIGHT["now"] grows
RULES = {}       # path -> dict of rule counters and settings
REQUESTS = []    # recorded requests
EFFECTS = []     # charges created
ANSWERS = {}     # idempotency key -> (status, body) of a /charges request
IN_FLIGHT = {"now": 0, "max": 0}  # requests being answered (under LOCK)


def take(rule, name):
    """Consumes one use of a counted rule; True when it applied."""
    if rule.get(name, 0) > 0:
        rule[name] -= 1
        return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffer each response into one write: headers and body in separate
    # segments meet Nagle and delayed ACKs (40 ms per request).
    wbufsize = 1 << 16

    def log_message(self, fmt, *args):  # quiet: tests read stdout
        pass

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        ctype = "text/plain" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_"):
            return self.control(url.path, body)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        record = {"method": self.command, "path": url.path, "raw_path": self.path.split("?")[0],
                  "query": url.query, "args": urllib.parse.parse_qs(url.query),
                  "headers": dict(self.headers.items()), "body": body, "json": parsed,
                  "at_ms": time.time() * 1000}
        with LOCK:
            REQUESTS.append(record)
            rule = RULES.setdefault(url.path, {})
            hang = rule.get("seconds", 0) if take(rule, "hang") else 0
            IN_FLIGHT["now"] += 1
            IN_FLIGHT["max"] = max(IN_FLIGHT["max"], IN_FLIGHT["now"])
            GATHERED.notify_all()
            if rule.get("gather") and not rule.get("gathered"):
                deadline = time.time() + rule.get("gather_seconds", 30)
                GATHERED.wait_for(lambda: IN_FLIGHT["now"] >= rule["gather"] or time.time() >= deadline,
                                  timeout=max(0.0, deadline - time.time()))
                rule["gathered"] = True
        try:
            if hang:
                time.sleep(hang)
            self.answer(url.path, rule, record)
        finally:
            with LOCK:
                IN_FLIGHT["now"] -= 1

    @staticmethod
    def retry_after(rule):
        return {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else None

    def answer(self, path, rule, record):
        with LOCK:
            if take(rule, "rate_limit"):
                return self.send(429, {"error": "slow down"},
                                 {"Retry-After": str(rule.get("retry_after", "1"))})
            if take(rule, "fail"):
                body = record["headers"] if rule.get("echo_headers") else rule.get("body", {"error": "scripted failure"})
                return self.send(rule.get("status", 503), body, self.retry_after(rule))
            if self.command == "POST" and path.endswith("/charges"):
                status, body = self.charge(record)
                if take(rule, "lose_response"):
                    return self.send(rule.get("lost_status", 500), {"error": "response lost"},
                                     self.retry_after(rule))
                return self.send(status, body)
            if "respond" in rule:
                return self.send(rule.get("respond_status", 200), rule["respond"])
        self.send(200, {"method": self.command, "path": path, "query": record["query"],
                        "body": record["json"]})

    def charge(self, record):
        """Creates a charge once per Idempotency-Key (called under LOCK)."""
        key = record["headers"].get("Idempotency-Key")
        if key and key in ANSWERS:
            return ANSWERS[key]
        args = record["json"] or {}
        charge = {"id": "ch_%d" % (len(EFFECTS) + 1), "amount": args.get("amount"),
                  "customer": args.get("customer", record["path"].split("/")[-2]), "status": "paid"}
        EFFECTS.append(dict(charge, key=key))
        if key:
            ANSWERS[key] = (200, charge)
        return 200, charge

    def control(self, path, body):
        with LOCK:
            if path == "/_control" and self.command == "POST":
                rule = json.loads(body)
                RULES.setdefault(rule.pop("path"), {}).update(rule)
                return self.send(200, {"ok": True})
            if path == "/_reset" and self.command == "POST":
                RULES.clear(); REQUESTS.clear(); EFFECTS.clear(); ANSWERS.clear()
                IN_FLIGHT["max"] = IN_FLIGHT["now"]
                return self.send(200, {"ok": True})
            if path == "/_requests":
                return self.send(200, REQUESTS)
            if path == "/_effects":
                return self.send(200, EFFECTS)
            if path == "/_inflight":
                return self.send(200, IN_FLIGHT)
        self.send(404, {"error": "unknown control endpoint"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is part of the tests


def watchdog(parent, deadline):
    """Exits when the parent dies (we are re-parented) or at the deadline."""
    while time.time() < deadline and os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-lifetime", type=float, default=600)
    options = parser.parse_args()
    server = Server(("127.0.0.1", options.port), Handler)
    threading.Thread(target=watchdog, args=(os.getppid(), time.time() + options.max_lifetime),
                     daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

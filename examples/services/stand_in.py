"""What the example services share: routing, auth, idempotency, the record.

A service is a list of routes, (method, path pattern, handler). Every request
goes through the same steps, in this order:

  1. Authorization must be `Bearer $TOKEN` (TOKEN from the environment
     variable the connector file names), else 401.
  2. The route must exist: unknown path 404, known path with another method 405.
  3. A request carrying an Idempotency-Key that already succeeded gets the
     stored answer again, and nothing else happens (`"replayed": true`).
  4. A "flaky" route answers 503 to the first --fail-first attempts of each
     request (attempts are counted per Idempotency-Key): a bad minute.
  5. The handler runs under one lock; a 2xx answer to a keyed request is
     stored for step 3.

Every request is appended to the --record file as one JSON line:
{"service", "method", "path", "key", "status", "replayed"}.

Options: --port (0 = any free port), --fail-first N, --record FILE. The only
output is one line on stderr, "<service> listening on <base url>", once the
port is open. SIGTERM and SIGINT stop the service with exit 0; it also exits
when its parent process dies, so a killed script leaves nothing behind.
"""

import argparse
import copy
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARENT_POLL_SECONDS = 0.5   # how often the watchdog checks the parent is alive
MAX_BODY_BYTES = 1 << 20    # requests are small JSON objects; refuse anything bigger


class HttpError(Exception):
    """Raised by a handler to answer `status` with {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Route:
    def __init__(self, method, pattern, handler, flaky=False):
        self.method = method
        # "/drafts/{draft}" -> ^/drafts/(?P<draft>[^/]+)$
        self.regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.handler = handler
        self.flaky = flaky


class Service:
    """One stand-in system: its name, token variable, routes and state."""

    def __init__(self, name, token_env, prefix, routes):
        self.name = name
        self.token_env = token_env
        self.prefix = prefix            # e.g. "/api/v2"; part of the base URL
        self.routes = routes
        self.lock = threading.Lock()
        self.answers = {}               # Idempotency-Key -> (method, path, status, body)
        self.attempts = {}              # key (or path) -> attempts seen on a flaky route
        self.fail_first = 0
        self.record_file = None
        self.token = ""

    def record(self, method, path, key, status, replayed):
        if self.record_file is None:
            return
        line = json.dumps({"service": self.name, "method": method, "path": path, "key": key,
                           "status": status, "replayed": replayed})
        with self.lock:
            self.record_file.write(line + "\n")
            self.record_file.flush()

    def find(self, method, path):
        """The route and its path parameters, or raises 404/405."""
        if not path.startswith(self.prefix):
            raise HttpError(404, "no such path: " + path)
        known_path = False
        for route in self.routes:
            match = route.regex.match(path[len(self.prefix):])
            if match:
                known_path = True
                if route.method == method:
                    params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                    return route, params
        raise HttpError(405 if known_path else 404, f"no route for {method} {path}")

    def handle(self, method, path, key, auth, body):
        """One request: returns (status, body, replayed)."""
        if not self.token or auth != "Bearer " + self.token:
            return 401, {"error": "missing or wrong bearer token"}, False
        route, params = self.find(method, path)
        with self.lock:
            if key and key in self.answers:
                stored = self.answers[key]
                if stored[:2] != (method, path):
                    raise HttpError(422, "Idempotency-Key was used for another request")
                return stored[2], stored[3], True
            if route.flaky:
                seen = self.attempts.get(key or path, 0)
                self.attempts[key or path] = seen + 1
                if seen < self.fail_first:
                    return 503, {"error": "temporarily unavailable, try again"}, False
            status, answer = route.handler(params, body)
            if key and 200 <= status < 300:  # a copy: handlers answer with live state
                self.answers[key] = (method, path, status, copy.deepcopy(answer))
            return status, answer, False


def make_handler(service):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the record file says what happened
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_json(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise HttpError(413, "request body too large")
            text = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            try:
                body = json.loads(text) if text else {}
            except ValueError:
                raise HttpError(400, "request body is not JSON")
            if not isinstance(body, dict):
                raise HttpError(400, "request body is not a JSON object")
            return body

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            key = self.headers.get("Idempotency-Key") or None
            replayed = False
            try:
                body = self.read_json()
                body.update({k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()})
                status, answer, replayed = service.handle(
                    self.command, url.path, key, self.headers.get("Authorization", ""), body)
            except HttpError as err:
                status, answer = err.status, {"error": err.message}
            service.record(self.command, url.path, key, status, replayed)
            self.answer(status, answer)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    return Handler


def lookup(table, key, what):
    """table[key], or a 404 naming the missing `what`."""
    found = table.get(key)
    if found is None:
        raise HttpError(404, f"no such {what}: {key}")
    return found


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def exit_with_parent(parent):
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def serve(service, default_port, argv=None):
    """Parses the options, then serves until SIGTERM/SIGINT (exit 0)."""
    parser = argparse.ArgumentParser(description=f"stand-in {service.name} service for flow's examples")
    parser.add_argument("--port", type=int, default=default_port, help="0 picks a free port")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer 503 to the first N attempts of each flaky request")
    parser.add_argument("--record", metavar="FILE", help="append every request as a JSON line")
    options = parser.parse_args(argv)
    service.token = os.environ.get(service.token_env, "")
    if not service.token:
        print(f"{service.name}: set {service.token_env} to the token clients must send",
              file=sys.stderr)
        return 2
    service.fail_first = options.fail_first
    if options.record:
        service.record_file = open(options.record, "a", encoding="utf-8")

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(service))
    server.daemon_threads = True
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    host, port = server.server_address[:2]
    print(f"{service.name} listening on http://{host}:{port}{service.prefix}", file=sys.stderr,
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0

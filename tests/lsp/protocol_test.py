#!/usr/bin/env python3
"""Speaks the Language Server Protocol to the real `flow lsp` process, as VS
Code does, and asserts its replies (docs/editors.md, "flow lsp").

One session walks the whole life cycle: initialize, didOpen of a file with a
misspelt argument (diagnostics with the did-you-mean, and its quick fix),
didChange fixing it (the diagnostics clear), hover, definition, completion,
document symbols, formatting (the same text as `flow fmt`), the flow/graph
request, shutdown and exit. Malformed and out-of-order messages are mixed
in, and after each the server must still answer. A second process gets
requests before `initialize` and then loses its stdin mid-message; a third
gets 400 random requests and notifications (fixed seed), well-formed or not,
and must answer every request and stay up.

Usage: protocol_test.py --flow path/to/flow
"""
import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

CONNECTOR = {
    "connector": "billing",
    "transport": {"kind": "http", "base_url": "http://127.0.0.1:9"},
    "types": {"Charge": {"type": "object", "required": ["id", "amount"],
                         "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}}},
    "operations": {
        "charge": {
            "http": {"method": "POST", "path": "/charges"},
            "input": {"type": "object", "required": ["customer", "amount"],
                      "properties": {"customer": {"type": "string"}, "amount": {"type": "integer"},
                                     "currency": {"enum": ["eur", "usd"]}}},
            "output": {"$ref": "#/types/Charge"},
            "effect": "irreversible", "idempotent": True,
        },
        "refund": {
            "http": {"method": "POST", "path": "/refunds"},
            "input": {"type": "object", "required": ["charge"],
                      "properties": {"charge": {"type": "string"}}},
            "output": {"type": "object"}, "idempotent": True,
        },
    },
}

# Line 6 holds the mistake: `amout` for `amount`.
SOURCE = """connector billing = "billing.json"

workflow pay(customer: string) -> { id: string } {
  let total = 5
  let c = billing.charge(customer: customer,
    amout: total, currency: "eur")
    compensate billing.refund(charge: c.id)
  return { id: c.id }
}
"""
# Deliberately unformatted, valid, for textDocument/formatting.
UNFORMATTED = """connector billing="billing.json"
workflow pay(customer:string)->{id:string}{ let c=billing.charge(customer:customer,amount:1)  // keep me
compensate billing.refund(charge:c.id)
return {id:c.id} }
"""


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Client:
    def __init__(self, flow):
        self.proc = subprocess.Popen([flow, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buffer = b""
        self.next_id = 0
        self.notifications = []

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.response(self.next_id)

    def read_message(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            header_end = self.buffer.find(b"\r\n\r\n")
            if header_end >= 0:
                headers = self.buffer[:header_end].decode()
                length = None
                for line in headers.split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                check(length is not None, f"a reply without Content-Length: {headers!r}")
                start = header_end + 4
                if len(self.buffer) >= start + length:
                    body = self.buffer[start:start + length]
                    self.buffer = self.buffer[start + length:]
                    return json.loads(body)
            left = deadline - time.monotonic()
            check(left > 0, "timed out waiting for the server")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                check(chunk, f"the server closed stdout (exit {self.proc.poll()})")
                self.buffer += chunk

    def response(self, id_):
        while True:
            message = self.read_message()
            if "method" in message and "id" not in message:
                self.notifications.append(message)
                continue
            if message.get("id") == id_:
                return message
            raise Failure(f"unexpected message while waiting for {id_}: {message}")

    def diagnostics(self, uri):
        """The next publishDiagnostics for uri (earlier ones first)."""
        while True:
            for i, n in enumerate(self.notifications):
                if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri:
                    return self.notifications.pop(i)["params"]
            message = self.read_message()
            check("id" not in message, f"unexpected reply: {message}")
            self.notifications.append(message)

    def alive(self, uri):
        """The server still answers a request (after an insult)."""
        reply = self.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        check("result" in reply, f"the server stopped answering: {reply}")


def position_of(text, needle, occurrence=0, delta=0):
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += delta
    line = text.count("\n", 0, index)
    return {"line": line, "character": index - (text.rfind("\n", 0, index) + 1)}


def life_cycle(flow, folder):
    path = os.path.join(folder, "pay.flow")
    uri = "file://" + path
    client = Client(flow)
    try:
        # An insult before anything: a request before initialize.
        early = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": 0, "character": 0}})
        check(early.get("error", {}).get("code") == -32002, f"before initialize: {early}")

        init = client.request("initialize", {"processId": os.getpid(), "rootUri": "file://" + folder,
                                             "capabilities": {}})
        caps = init["result"]["capabilities"]
        for cap in ("hoverProvider", "definitionProvider", "completionProvider",
                    "documentSymbolProvider", "documentFormattingProvider", "codeActionProvider"):
            check(caps.get(cap), f"initialize: no {cap}: {caps}")
        client.notify("initialized", {})
        again = client.request("initialize", {"capabilities": {}})
        check(again.get("error", {}).get("code") == -32600, f"a second initialize: {again}")

        # didOpen with an error: E025 with its did-you-mean, where `amout` is.
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "flow", "version": 1, "text": SOURCE}})
        diags = client.diagnostics(uri)
        errors = [d for d in diags["diagnostics"] if d["severity"] == 1]
        check(len(errors) == 1, f"didOpen: expected one error, got {diags}")
        e = errors[0]
        check(e["code"] == "E025" and "did you mean 'amount'" in e["message"], f"didOpen: {e}")
        start = position_of(SOURCE, "amout")
        check(e["range"]["start"] == start and e["range"]["end"]["character"] == start["character"] + 5,
              f"didOpen: range {e['range']} is not the argument name at {start}")
        check(diags.get("version") == 1, f"didOpen: version {diags.get('version')}")

        # The quick fix of the did-you-mean.
        actions = client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": e["range"], "context": {"diagnostics": [e]}})["result"]
        check(len(actions) == 1 and actions[0]["kind"] == "quickfix", f"codeAction: {actions}")
        edit = actions[0]["edit"]["changes"][uri][0]
        check(edit["newText"] == "amount" and edit["range"] == e["range"], f"codeAction edit: {edit}")

        # didChange applying that very edit (incremental sync): no error left.
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": edit["range"], "text": edit["newText"]}]})
        text = SOURCE.replace("amout", "amount")
        diags = client.diagnostics(uri)
        check(diags.get("version") == 2, f"didChange: version {diags.get('version')}")
        check(not [d for d in diags["diagnostics"] if d["severity"] == 1],
              f"didChange: errors remain: {diags}")

        # Hover: the operation's signature and flags; a local's type.
        hover = client.request("textDocument/hover", {
            "textDocument": {"uri": uri}, "position": position_of(text, "charge(", delta=2)})["result"]
        value = hover["contents"]["value"]
        check("billing.charge(customer: string, amount: int, currency?: " in value and
              "-> Charge" in value and "irreversible" in value and '"effect": "irreversible"' in value,
              f"hover on the operation: {value}")
        hover = client.request("textDocument/hover", {
            "textDocument": {"uri": uri}, "position": position_of(text, "c.id", 0)})["result"]
        check("let c: Charge" in hover["contents"]["value"], f"hover on a local: {hover}")

        # Definition: the operation inside the connector file; a local's declaration.
        where = client.request("textDocument/definition", {
            "textDocument": {"uri": uri}, "position": position_of(text, "charge(", delta=1)})["result"]
        connector_text = open(os.path.join(folder, "billing.json")).read()
        check(where["uri"] == "file://" + os.path.join(folder, "billing.json") and
              where["range"]["start"] == position_of(connector_text, '"charge"'),
              f"definition of billing.charge: {where}")
        where = client.request("textDocument/definition", {
            "textDocument": {"uri": uri}, "position": position_of(text, "total,")})["result"]
        check(where["uri"] == uri and where["range"]["start"] == position_of(text, "total ="),
              f"definition of a local: {where}")

        # Completion: operations after `billing.`, arguments inside the call.
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"text": text.replace("  return", "  billing.\n  return")}]})
        typed = text.replace("  return", "  billing.\n  return")
        items = client.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": position_of(typed, "billing.\n", delta=8)})["result"]
        labels = {i["label"] for i in items}
        check({"charge", "refund"} <= labels and "total" not in labels, f"completion after 'billing.': {labels}")
        typed = text.replace("  return", "  billing.charge(customer: \"x\", \n  return")
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": typed}]})
        items = client.request("textDocument/completion", {
            "textDocument": {"uri": uri},
            "position": position_of(typed, "\"x\", ", delta=5)})["result"]
        labels = {i["label"] for i in items}
        check({"amount", "currency"} <= labels and "customer" not in labels,
              f"completion of arguments: {labels}")
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": text}]})

        # Insults mid-session; the server answers after each.
        client.send_raw(b"Content-Length: abc\r\n\r\n")
        client.alive(uri)
        client.send_raw(b"Content-Length: 9\r\n\r\nnot json!")
        reply = client.read_message()
        check(reply.get("error", {}).get("code") == -32700 and reply.get("id") is None, f"not JSON: {reply}")
        client.alive(uri)
        client.send({"jsonrpc": "2.0", "id": 900, "method": "no/such/method"})
        check(client.response(900).get("error", {}).get("code") == -32601, "unknown method")
        client.send({"jsonrpc": "2.0", "id": 901, "method": "textDocument/hover",
                     "params": {"textDocument": {"uri": uri}}})
        check(client.response(901).get("error", {}).get("code") == -32602, "hover without a position")
        client.send({"jsonrpc": "2.0", "id": 902, "method": "textDocument/hover",
                     "params": {"textDocument": {"uri": uri}, "position": {"line": 9999, "character": -1}}})
        check("id" in client.response(902), "hover with a position out of range")
        client.send([1, 2, 3])
        check(client.read_message().get("error", {}).get("code") == -32600, "a JSON array")
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": "file:///nowhere.flow", "version": 1}, "contentChanges": [{"text": "x"}]})
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 6},
            "contentChanges": [{"range": {"start": {"line": 500, "character": 0},
                                          "end": {"line": 2, "character": 3}}, "text": ""}]})
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 7}, "contentChanges": [{"text": text}]})
        client.alive(uri)

        # A connector file changes on disk: the editor says so, the server re-checks.
        client.alive(uri)  # every earlier publication has arrived before this reply
        client.notifications.clear()
        connector_path = os.path.join(folder, "billing.json")
        renamed = json.loads(json.dumps(CONNECTOR))
        renamed["operations"]["charge_v2"] = renamed["operations"].pop("charge")
        with open(connector_path, "w") as f:
            json.dump(renamed, f)
        client.notify("workspace/didChangeWatchedFiles",
                      {"changes": [{"uri": "file://" + connector_path, "type": 2}]})
        diags = client.diagnostics(uri)
        codes = [d["code"] for d in diags["diagnostics"]]
        check("E024" in codes, f"after the connector changed: {diags}")
        with open(connector_path, "w") as f:
            json.dump(CONNECTOR, f, indent=2)
        client.notify("workspace/didChangeWatchedFiles",
                      {"changes": [{"uri": "file://" + connector_path, "type": 2}]})
        diags = client.diagnostics(uri)
        check(not [d for d in diags["diagnostics"] if d["severity"] == 1], f"connector restored: {diags}")

        # An error inside a connector file is published on that file.
        broken_path = os.path.join(folder, "broken.json")
        with open(broken_path, "w") as f:
            f.write('{\n  "connector": "broken",\n  oops\n}\n')
        broken_uri = "file://" + os.path.join(folder, "uses_broken.flow")
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": broken_uri, "languageId": "flow", "version": 1,
            "text": 'connector broken = "broken.json"\nworkflow w() {}\n'}})
        on_json = client.diagnostics("file://" + broken_path)
        check([d["code"] for d in on_json["diagnostics"]] == ["E012"] and
              on_json["diagnostics"][0]["range"]["start"]["line"] == 2, f"diagnostics on the JSON file: {on_json}")
        client.notify("textDocument/didClose", {"textDocument": {"uri": broken_uri}})
        check(client.diagnostics("file://" + broken_path)["diagnostics"] == [], "didClose clears the JSON file")

        # Symbols.
        symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})["result"]
        names = [s["name"] for s in symbols]
        check(names == ["billing", "pay"], f"documentSymbol: {names}")
        children = [c["name"] for c in symbols[1]["children"]]
        check("billing.charge" in children and "c" in children, f"documentSymbol children: {children}")

        # The graph of the workflow under the cursor.
        graph = client.request("flow/graph", {"textDocument": {"uri": uri},
                                              "position": position_of(text, "let c"), "format": "dot"})
        result = graph["result"]
        check(result["workflow"] == "pay" and result["text"].startswith('digraph "pay"') and
              "billing.charge" in result["text"] and "compensate" in result["text"], f"flow/graph: {result}")

        # Formatting: the same text `flow fmt` writes.
        fmt_uri = "file://" + os.path.join(folder, "unformatted.flow")
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": fmt_uri, "languageId": "flow", "version": 1, "text": UNFORMATTED}})
        edits = client.request("textDocument/formatting", {
            "textDocument": {"uri": fmt_uri}, "options": {"tabSize": 2, "insertSpaces": True}})["result"]
        copy = os.path.join(folder, "unformatted.flow")
        with open(copy, "w") as f:
            f.write(UNFORMATTED)
        subprocess.run([flow, "fmt", copy], check=True)
        check(len(edits) == 1 and edits[0]["newText"] == open(copy).read(), f"formatting: {edits}")
        check("// keep me" in edits[0]["newText"], "formatting lost the comment")
        client.notify("textDocument/didClose", {"textDocument": {"uri": fmt_uri}})
        cleared = client.diagnostics(fmt_uri)
        check(cleared["diagnostics"] == [], f"didClose: {cleared}")

        # The end: shutdown, a request after it, exit.
        check(client.request("shutdown", None).get("result", "missing") is None, "shutdown")
        late = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        check(late.get("error", {}).get("code") == -32600, f"a request after shutdown: {late}")
        client.notify("exit", None)
        code = client.proc.wait(timeout=30)
        check(code == 0, f"exit after shutdown: exit code {code}")
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait()


METHODS = ["textDocument/hover", "textDocument/definition", "textDocument/completion",
           "textDocument/documentSymbol", "textDocument/formatting", "textDocument/codeAction",
           "flow/graph", "initialize", "no/such"]
NOTIFICATIONS = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose",
                 "workspace/didChangeWatchedFiles", "$/cancelRequest", "initialized"]


def garbage(rng, depth=0):
    """A random JSON value: the shapes a confused or hostile client might send."""
    kinds = ["int", "str", "null", "bool", "neg"] + (["list", "obj"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, 1, 7, 2**31, 2**53, 10**30])
    if kind == "neg":
        return rng.choice([-1, -2**31, -1.5])
    if kind == "str":
        return rng.choice(["", "x", "file:///nowhere.flow", "\u0000", "é😀", "{" * 50])
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "list":
        return [garbage(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = ["textDocument", "position", "uri", "text", "range", "contentChanges", "line", "character",
            "version", "start", "end", "format", "changes"]
    return {rng.choice(keys): garbage(rng, depth + 1) for _ in range(rng.randrange(4))}


def params(rng, uri):
    """Mostly well-formed params with one part replaced by garbage."""
    good = {"textDocument": {"uri": uri, "version": rng.randrange(100), "languageId": "flow",
                             "text": rng.choice([SOURCE, SOURCE[:rng.randrange(len(SOURCE))], ""])},
            "position": {"line": rng.randrange(-2, 12), "character": rng.randrange(-2, 80)},
            "range": {"start": {"line": rng.randrange(12), "character": rng.randrange(40)},
                      "end": {"line": rng.randrange(12), "character": rng.randrange(40)}},
            "contentChanges": [{"text": rng.choice([SOURCE, "workflow", "\n" * 5])}],
            "context": {"diagnostics": []}, "format": rng.choice(["dot", "mermaid", 3])}
    if rng.random() < 0.5:
        good[rng.choice(list(good))] = garbage(rng)
    return good


def fuzz(flow, folder, seed=1313, count=400):
    """Random (fixed seed) requests and notifications, well-formed and not:
    the server answers every request and stays up."""
    import random
    rng = random.Random(seed)
    uri = "file://" + os.path.join(folder, "fuzz.flow")
    client = Client(flow)
    try:
        client.request("initialize", {"capabilities": {}})
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "flow", "version": 1, "text": SOURCE}})
        for i in range(count):
            if rng.random() < 0.4:
                client.notify(rng.choice(NOTIFICATIONS), params(rng, uri))
                continue
            method = rng.choice(METHODS)
            p = params(rng, uri) if rng.random() < 0.8 else garbage(rng)
            client.next_id += 1
            client.send({"jsonrpc": "2.0", "id": client.next_id, "method": method, "params": p})
            reply = client.response(client.next_id)
            check("result" in reply or "error" in reply, f"fuzz {i}: {method}: {reply}")
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "flow", "version": 999, "text": SOURCE}})
        client.alive(uri)
        check(client.proc.poll() is None, "the server died during the fuzz")
    finally:
        client.proc.kill()
        client.proc.wait()


def cut_off(flow):
    """Stdin closed in the middle of a message: the server ends, by itself, with 1."""
    client = Client(flow)
    client.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\": ")
    client.proc.stdin.close()
    code = client.proc.wait(timeout=30)
    check(code == 1, f"stdin cut mid-message: exit code {code} (a signal is negative)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="flow-lsp-")
    try:
        with open(os.path.join(folder, "billing.json"), "w") as f:
            json.dump(CONNECTOR, f, indent=2)
        life_cycle(args.flow, folder)
        fuzz(args.flow, folder)
        cut_off(args.flow)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("ok: the protocol session passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

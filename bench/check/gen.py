#!/usr/bin/env python3
"""Generates a realistic flow program of about LINES lines for `flow check`
benchmarks, plus the connector JSON files it uses.

    gen.py OUT_DIR [--lines 20000]

Writes OUT_DIR/bench.flow and OUT_DIR/connectors/*.json. The program is meant
to be valid flow against those connectors (no errors, no warnings): every
step names a real operation with its required arguments, reads only output
fields the schema declares, retries only idempotent operations, compensates
irreversible ones and is preceded by an `approve` where the operation
requires approval.
"""
import argparse
import json
import os

CONNECTORS = ["crm", "billing", "mailer", "inventory", "shipping", "tickets"]
OPS_PER_CONNECTOR = 6


def operation(connector, k):
    irreversible = k % 3 == 0
    op = {
        "http": {"method": "POST", "path": f"/{connector}/op{k}/{{id}}"},
        "input": {
            "type": "object",
            "required": ["id", "amount"],
            "properties": {
                "id": {"type": "string"},
                "amount": {"type": "integer", "minimum": 0},
                "note": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
        },
        "output": {"$ref": "#/types/Result"},
        "idempotent": True,
    }
    if irreversible:
        op["effect"] = "irreversible"
    if k == 1:
        op["requires_approval"] = True
    return op


def connector_json(name, port):
    return {
        "connector": name,
        "version": "2026-01-15",
        "transport": {"kind": "http", "base_url": f"http://127.0.0.1:{port}",
                      "auth": {"kind": "bearer", "token_env": f"{name.upper()}_TOKEN"}},
        "types": {
            "Result": {
                "type": "object",
                "required": ["id", "status", "total"],
                "properties": {
                    "id": {"type": "string"},
                    "status": {"enum": ["ok", "pending", "failed"]},
                    "total": {"type": "integer"},
                    "note": {"type": ["string", "null"]},
                    "items": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
        "operations": {f"op{k}": operation(name, k) for k in range(OPS_PER_CONNECTOR)},
    }


def type_decls(i):
    return [
        f"type Order{i} = {{",
        "  id: string,",
        "  customer: string,",
        f"  tier: \"basic\" | \"plus\" | \"max{i}\",",
        "  amount: int,",
        "  discount: int?,",
        "  lines: [{ sku: string, qty: int, price: int }],",
        "}",
        f"type Receipt{i} = {{ order: string, total: int, status: string, notes: [string] }}",
        "",
    ]


def fn_decls(i):
    return [
        f"fn subtotal{i}(lines: [{{ sku: string, qty: int, price: int }}]) -> int {{",
        "  var total = 0",
        "  for line in lines {",
        "    total = total + line.qty * line.price",
        "  }",
        "  return total",
        "}",
        f"fn discounted{i}(amount: int, discount: int?) -> int {{",
        "  let d = discount ?? 0",
        "  if d > amount {",
        "    return 0",
        "  } else if d < 0 {",
        "    return amount",
        "  }",
        "  return amount - d * 1 + (amount % 7) / 7",
        "}",
        f"fn label{i}(tier: string, n: int) -> string {{",
        "  if tier == \"plus\" and n > 10 or tier == \"basic\" {",
        f"    return \"order-${{tier}}-${{n}}-{i}\"",
        "  }",
        "  return lower(tier) + \"/\" + string(n)",
        "}",
        "",
    ]


def step(conn, op, bind, id_expr, amount_expr, clauses):
    lines = [f"  let {bind} = {conn}.op{op}(id: {id_expr}, amount: {amount_expr}, note: \"{bind}\")"]
    lines += [f"      {c}" for c in clauses]
    return lines


def workflow(i, t):
    c1 = CONNECTORS[i % len(CONNECTORS)]
    c2 = CONNECTORS[(i + 1) % len(CONNECTORS)]
    c3 = CONNECTORS[(i + 2) % len(CONNECTORS)]
    body = [f"workflow process{i}(order: Order{t}) -> Receipt{t} {{",
            f"  let sub = subtotal{t}(order.lines)",
            f"  let amount = discounted{t}(sub, order.discount)",
            "  var notes: [string] = []",
            f"  approve \"Process order ${{order.id}} for ${{order.customer}} (${{amount}})?\" from \"ops\" timeout 2d"]
    body += step(c1, 0, "first", "order.id", "amount",
                 ["retry 5 backoff 2s max 1m on \"timeout\", \"server_error\", \"rate_limited\"", "timeout 30s",
                  f"compensate {c1}.op2(id: first.id, amount: first.total)"])
    body += step(c2, 1, "second", "first.id", "first.total + 1",
                 ["timeout 1m", "retry 3"])
    body += [
        "  if second.status == \"failed\" {",
        f"    fail \"order ${{order.id}} failed at {c2}\"",
        "  } else if second.status == \"pending\" {",
        "    let reply = wait \"confirm\" timeout 1h as { ok: bool, by: string }",
        "    if not reply.ok {",
        "      fail \"not confirmed by ${reply.by}\"",
        "    }",
        "  }",
        "  var i = 0",
        "  while i < len(order.lines) and i < 100 {",
        "    let line = order.lines[i]",
        "    notes = notes + [\"line ${line.sku} x${line.qty}\"]",
        "    i = i + 1",
        "  }",
        "  for line in order.lines {",
        f"    let r = {c3}.op4(id: line.sku, amount: line.qty * line.price, tags: [\"bulk\", order.tier])",
        "        retry 4 backoff 500ms",
        "    notes = notes + [r.id]",
        "  }",
        "  try {",
    ]
    body += ["  " + l for l in step(c3, 3, "third", "second.id", "amount * 2",
                                    ["timeout 45s",
                                     f"compensate {c3}.op5(id: third.id, amount: 0)",
                                     "  retry 2 backoff 1s max 10s"])]
    body += [
        "    checkpoint \"third-done\"",
        "  } catch err {",
        "    log.warn(message: \"third step failed: ${err.message}\", data: { kind: err.kind })",
        "    notes = notes + [err.kind]",
        "  }",
        "  let summary = {",
        "    order: order.id,",
        "    total: amount + second.total,",
        "    status: first.status,",
        "    notes: notes,",
        "  }",
        "  log.info(message: \"done ${summary.order}: ${summary.total}\")",
        "  sleep 5m",
        f"  let tag = label{t}(order.tier, len(notes))",
        "  var total = summary.total",
        "  if tag == \"\" { total = 0 }",
        "  return { order: summary.order, total: total, status: summary.status, notes: summary.notes }",
        "}",
        "",
    ]
    return body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=20000)
    args = parser.parse_args()
    os.makedirs(os.path.join(args.out, "connectors"), exist_ok=True)
    for n, name in enumerate(CONNECTORS):
        with open(os.path.join(args.out, "connectors", f"{name}.json"), "w") as f:
            json.dump(connector_json(name, 8100 + n), f, indent=2)
    lines = ["// Generated by bench/check/gen.py: a benchmark program for `flow check`.", ""]
    lines += [f"connector {name} = \"connectors/{name}.json\"" for name in CONNECTORS]
    lines.append("")
    i = 0
    while len(lines) < args.lines:
        t = i // 4  # four workflows share each group of types and fns
        if i % 4 == 0:
            lines += type_decls(t)
            lines += fn_decls(t)
        lines += workflow(i, t)
        i += 1
    with open(os.path.join(args.out, "bench.flow"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{os.path.join(args.out, 'bench.flow')}: {len(lines)} lines, {i} workflows")


if __name__ == "__main__":
    main()

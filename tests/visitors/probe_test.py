#!/usr/bin/env python3
"""Proves that a new AST node kind fails the build where it is not handled.

Each dispatch over ast::Expr or ast::Stmt (std::visit with ast::Overload and
no catch-all, or an `if constexpr` chain ending in
static_assert(ast::kUnhandled<N>)) must stop compiling when the variant
gains a kind. compiler/ast/ast.h adds one, ProbeExpr or ProbeStmt, when
FLOW_AST_PROBE_EXPR_KIND or FLOW_AST_PROBE_STMT_KIND is defined. For each
FILE:KIND given, this script compiles FILE with the flags the build uses
(compile_commands.json) plus -fsyntax-only:

  * without the probe: it must compile (so the flags are right),
  * with the probe: it must fail, and the errors must name the probe and
    the file (so it fails for the right reason, in that file).

Usage: probe_test.py --build DIR --source DIR FILE:expr|stmt ...
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

DEFINES = {"expr": ("FLOW_AST_PROBE_EXPR_KIND", "ProbeExpr"),
           "stmt": ("FLOW_AST_PROBE_STMT_KIND", "ProbeStmt")}


def compile_command(build, source, rel):
    path = os.path.realpath(os.path.join(source, rel))
    with open(os.path.join(build, "compile_commands.json")) as f:
        for entry in json.load(f):
            if os.path.realpath(os.path.join(entry["directory"], entry["file"])) == path:
                args = entry.get("arguments") or shlex.split(entry["command"])
                out, skip = [], False
                for a in args:
                    if skip:
                        skip = False
                    elif a == "-o":
                        skip = True
                    elif a != "-c" and not a.endswith("ccache"):
                        out.append(a)
                return entry["directory"], out
    raise SystemExit(f"{rel}: not in {build}/compile_commands.json")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("cases", nargs="+", help="FILE:expr or FILE:stmt")
    args = parser.parse_args()
    failures = []
    for case in args.cases:
        rel, kind = case.rsplit(":", 1)
        define, probe = DEFINES[kind]
        directory, cmd = compile_command(args.build, args.source, rel)
        plain = subprocess.run(cmd + ["-fsyntax-only"], cwd=directory, capture_output=True, text=True)
        if plain.returncode != 0:
            failures.append(f"{rel}: does not compile even without the probe:\n{plain.stderr[-2000:]}")
            continue
        probed = subprocess.run(cmd + ["-fsyntax-only", "-D" + define], cwd=directory,
                                capture_output=True, text=True)
        name = os.path.basename(rel)
        if probed.returncode == 0:
            failures.append(f"{rel}: compiles with {probe} added: a dispatch over the {kind} variant "
                            f"skips kinds it does not name (a catch-all?)")
        elif probe not in probed.stderr or name not in probed.stderr:
            failures.append(f"{rel}: fails with {probe} added, but not for it:\n{probed.stderr[-2000:]}")
        else:
            print(f"{rel}: {probe} rejected, as it must be")
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Graphviz accepts every graph `flow graph --format dot` draws, and the SVGs
committed under docs/graphs/ are the ones it draws today.

For each workflow of each example (examples/*/*.flow) and of the golden
graph tests (tests/graph/*.flow, with their inline connector files), runs
`flow graph --format dot --workflow W | dot -Tsvg` and requires exit 0 and an
SVG. The examples' SVGs must equal docs/graphs/<example>-<workflow>.svg byte
for byte (Debian 12's graphviz is deterministic); when the graph code
changes, regenerate them with --write and commit them:

    python3 tests/graph/dot_test.py --flow build/flow --write

examples/mistakes is meant to fail `flow check`: its graph must be refused
(exit 1), not drawn.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs", "graphs")
REFUSED = {"mistakes"}  # examples whose program has errors on purpose


def workflows(text):
    return re.findall(r"^workflow\s+([A-Za-z_][A-Za-z0-9_]*)", text, re.M)


def draw(flow, path, workflow):
    graph = subprocess.run([flow, "graph", path, "--format", "dot", "--workflow", workflow],
                           capture_output=True, text=True)
    if graph.returncode != 0:
        return None, f"flow graph {path} --workflow {workflow}: exit {graph.returncode}: {graph.stderr}"
    svg = subprocess.run(["dot", "-Tsvg"], input=graph.stdout, capture_output=True, text=True)
    if svg.returncode != 0 or "<svg" not in svg.stdout:
        return None, f"dot rejected the graph of {path} {workflow}: {svg.stderr}\n{graph.stdout}"
    return svg.stdout, None


def golden_copy(path, folder):
    """The .flow part of a golden file and its inline files, written into folder."""
    text = open(path).read()
    parts = re.split(r"^// --- (.+)\n", text, flags=re.M)
    flow_path = os.path.join(folder, os.path.basename(path))
    with open(flow_path, "w") as f:
        f.write(parts[0])
    for name, content in zip(parts[1::2], parts[2::2]):
        os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
        with open(os.path.join(folder, name), "w") as f:
            f.write(content)
    return flow_path, parts[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    parser.add_argument("--write", action="store_true", help="regenerate docs/graphs/*.svg")
    args = parser.parse_args()
    problems, drawn = [], 0
    expected_svgs = set()
    examples = os.path.join(ROOT, "examples")
    for name in sorted(os.listdir(examples)):
        folder = os.path.join(examples, name)
        if not os.path.isdir(folder):
            continue
        for file in sorted(f for f in os.listdir(folder) if f.endswith(".flow")):
            path = os.path.join(folder, file)
            for workflow in workflows(open(path).read()):
                if name in REFUSED:
                    code = subprocess.run([args.flow, "graph", path, "--workflow", workflow],
                                          capture_output=True).returncode
                    if code != 1:
                        problems.append(f"{path}: a program with errors drew a graph (exit {code})")
                    continue
                svg, problem = draw(args.flow, path, workflow)
                if problem:
                    problems.append(problem)
                    continue
                drawn += 1
                target = os.path.join(DOCS, f"{name}-{workflow}.svg")
                expected_svgs.add(os.path.basename(target))
                if args.write:
                    os.makedirs(DOCS, exist_ok=True)
                    with open(target, "w") as f:
                        f.write(svg)
                elif not os.path.exists(target) or open(target).read() != svg:
                    problems.append(f"{target} is not what flow graph draws today; regenerate it with "
                                    f"python3 tests/graph/dot_test.py --flow FLOW --write")
    stale = set(f for f in os.listdir(DOCS) if f.endswith(".svg")) - expected_svgs if os.path.isdir(DOCS) else set()
    problems += [f"docs/graphs/{f} belongs to no example workflow" for f in sorted(stale)]
    folder = tempfile.mkdtemp(prefix="flow-dot-")
    try:
        graphs = os.path.join(ROOT, "tests", "graph")
        for file in sorted(f for f in os.listdir(graphs) if f.endswith(".flow") and not f.startswith("fail_")):
            path, text = golden_copy(os.path.join(graphs, file), folder)
            for workflow in workflows(text):
                svg, problem = draw(args.flow, path, workflow)
                if problem:
                    problems.append(problem)
                else:
                    drawn += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for p in problems:
        print(p, file=sys.stderr)
    if drawn < 5:
        problems.append(f"only {drawn} graphs drawn: the examples were not found")
    print(f"dot_test: {drawn} graphs drawn by dot, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fails when an #include crosses flow's layers the wrong way.

The layers and their allowed edges are one table, cmake/layers.txt, which the
build also reads to compile each target and choose its link line. This
script reads every .h, .cpp and .def under vm/, stdlib/, compiler/ and cli/,
maps the file and each header it includes to a module of the table, and
reports every include whose edge the table does not allow, plus:

  * a source file that belongs to no module (a new folder must be placed),
  * a quoted include that names no file of the tree or of the ANTLR output,
  * a cycle in the table itself (layers only go one way),
  * an `exception` line whose include no longer exists (it must go with it).

Usage: check_layers.py --source DIR [--table FILE]
Exit 0 when clean, 1 with one line per problem otherwise.
"""
import argparse
import os
import re
import sys

SOURCE_ROOTS = ["vm", "stdlib", "compiler", "cli"]
EXTENSIONS = (".h", ".cpp", ".def")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"][^>"]+[>"])', re.M)


class Table:
    def __init__(self, path):
        self.modules = {}     # name -> (target, [paths], set(may_include))
        self.exceptions = {}  # (file, header) -> line number
        with open(path) as f:
            for number, line in enumerate(f, 1):
                fields = line.split("#", 1)[0].split() if not line.lstrip().startswith("#") else []
                if not fields:
                    continue
                if fields[0] == "exception" and len(fields) == 3:
                    self.exceptions[(fields[1], fields[2])] = number
                    continue
                if len(fields) != 4:
                    raise SystemExit(f"{path}:{number}: expected 4 columns: {line.strip()}")
                name, target, paths, deps = fields
                self.modules[name] = (target, paths.split(","),
                                      set() if deps == "-" else set(deps.split(",")))

    def module_of_file(self, rel):
        """The module owning a source path: a file stem beats its folder."""
        stem, _ = os.path.splitext(rel)
        folder = os.path.dirname(rel) + "/"
        by_folder = None
        for name, (target, paths, _) in self.modules.items():
            if target == "extern":
                continue
            for p in paths:
                if p == stem:
                    return name
                if p == folder:
                    by_folder = name
        return by_folder

    def module_of_extern(self, spelled):
        for name, (target, paths, _) in self.modules.items():
            if target == "extern" and any(spelled.startswith(p) for p in paths):
                return name
        return None

    def problems_in_table(self):
        out = []
        for name, (_, _, deps) in self.modules.items():
            for d in deps - self.modules.keys():
                out.append(f"cmake/layers.txt: module '{name}' may include unknown module '{d}'")
        state = {}

        def visit(name, path):
            state[name] = "open"
            for d in sorted(self.modules[name][2] & self.modules.keys()):
                if state.get(d) == "open":
                    out.append("cmake/layers.txt: cycle " + " -> ".join(path + [d]))
                elif d not in state:
                    visit(d, path + [d])
            state[name] = "done"

        for name in self.modules:
            if name not in state:
                visit(name, [name])
        return out


def source_files(root):
    for top in SOURCE_ROOTS:
        for folder, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(EXTENSIONS):
                    yield os.path.relpath(os.path.join(folder, n), root)


def check(root, table):
    problems = table.problems_in_table()
    used_exceptions = set()
    for rel in sorted(source_files(root)):
        module = table.module_of_file(rel)
        if module is None:
            problems.append(f"{rel}: belongs to no module of cmake/layers.txt (add its folder)")
            continue
        allowed = table.modules[module][2] | {module}
        with open(os.path.join(root, rel), errors="replace") as f:
            text = f.read()
        for spelled in INCLUDE.findall(text):
            header = spelled[1:-1]
            if spelled.startswith('"') and "/" in header:
                if not os.path.exists(os.path.join(root, header)):
                    problems.append(f"{rel}: includes {spelled}, which is no file of the tree")
                    continue
                target = table.module_of_file(header)
            else:
                target = table.module_of_extern(spelled)
                if target is None and spelled.startswith('"'):
                    problems.append(f"{rel}: includes {spelled}: spell headers from the root")
                    continue
            if target is None or target in allowed:
                continue  # the standard library, nlohmann/json, fmt: anyone
            if (rel, header) in table.exceptions:
                used_exceptions.add((rel, header))
                continue
            problems.append(f"{rel}: module '{module}' includes {spelled} of module '{target}', "
                            f"which cmake/layers.txt does not allow")
    for (rel, header), number in table.exceptions.items():
        if (rel, header) not in used_exceptions:
            problems.append(f"cmake/layers.txt:{number}: exception {rel} -> {header} is no longer "
                            f"needed: delete the line")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="the repository root")
    parser.add_argument("--table", help="the layer table (default: SOURCE/cmake/layers.txt)")
    args = parser.parse_args()
    table = Table(args.table or os.path.join(args.source, "cmake", "layers.txt"))
    problems = check(args.source, table)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layer problem(s)", file=sys.stderr)
        return 1
    print(f"layers: {len(table.modules)} modules, every include allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

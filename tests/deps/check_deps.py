#!/usr/bin/env python3
"""Checks that scripts/install-deps.sh installs everything the build uses.

A fresh Debian 12 has only the base system; the README's first command must
install the rest. A developer machine with an extra package installed hides a
missing entry (issue 9: the ANTLR runtime's static library links -luuid, and
uuid-dev was installed on every machine the project had been built on). This
test derives what the build really uses from the build tree itself and asks
dpkg where each file came from:

  * every library on the link line of every target (`link.txt`: -lNAME and
    absolute paths to .so/.a files),
  * every header the compiler read (the `.o.d` dependency files),
  * every command scripts/install-deps.sh says the suite runs (--commands),
    looked up in the Debian directories, not on PATH (a pyenv or
    /usr/local copy proves nothing about a fresh machine),

and fails, naming the file and its package, when that package is neither in
the list of scripts/install-deps.sh (--list) nor a dependency (Depends or
Pre-Depends, recursively) of one, nor part of every Debian system (Essential
or Priority required). A file no package owns fails too.

Usage: check_deps.py --source DIR --build DIR
"""
import argparse
import glob
import os
import re
import subprocess
import sys

BASE_PRIORITIES = {"required"}
LIBRARY_DIRS = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"]
COMMAND_DIRS = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def installed_packages():
    """Returns ({package: (deps, essential, priority)}, {virtual: [package]})."""
    out = run(["dpkg-query", "-W", "-f",
               "${Package}\t${Status}\t${Essential}\t${Priority}\t${Depends}\t${Pre-Depends}\t${Provides}\n"])
    packages, provides = {}, {}
    for line in out.splitlines():
        name, status, essential, priority, depends, predepends, provided = (line.split("\t") + [""] * 7)[:7]
        if not status.endswith(" installed"):
            continue
        alternatives = []
        for field in (depends, predepends):
            for clause in filter(None, (c.strip() for c in field.split(","))):
                alternatives.append([strip_version(a) for a in clause.split("|")])
        packages[name] = (alternatives, essential == "yes", priority)
        for virtual in filter(None, (strip_version(p) for p in provided.split(","))):
            provides.setdefault(virtual, []).append(name)
    return packages, provides


def strip_version(spec):
    return re.sub(r"\(.*?\)|:any|:native|\[.*?\]", "", spec).strip()


def closure(roots, packages, provides):
    """Every installed package reachable from roots through Depends/Pre-Depends."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        for candidate in [name] + provides.get(name, []):
            if candidate in packages and candidate not in seen:
                seen.add(candidate)
                for alternatives in packages[candidate][0]:
                    todo.extend(alternatives)
    return seen


def file_owners():
    """{path: package} from dpkg's own lists (one read instead of a dpkg -S per file)."""
    owners = {}
    for listing in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(listing)[:-len(".list")].split(":")[0]
        for line in open(listing, errors="replace"):
            owners.setdefault(line.rstrip("\n"), package)
    return owners


def owner(path, owners):
    """The package that installed path, trying the merged-/usr spellings."""
    real = os.path.realpath(path)
    for p in (path, real):
        for candidate in (p, p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p):
            if candidate in owners:
                return owners[candidate]
    return None


def linked_files(build):
    """Absolute paths of the system libraries on every link line."""
    files = set()
    for link in glob.glob(os.path.join(build, "CMakeFiles", "*.dir", "link.txt")):
        for token in open(link).read().split():
            if token.startswith("-l"):
                name = token[2:]
                for d in LIBRARY_DIRS:
                    hits = [os.path.join(d, f"lib{name}{ext}") for ext in (".so", ".a")]
                    hits = [h for h in hits if os.path.exists(h)]
                    if hits:
                        files.add(hits[0])
                        break
                else:
                    files.add(f"-l{name} (no lib{name}.so or .a in {', '.join(LIBRARY_DIRS)})")
            elif token.startswith("/") and re.search(r"\.(so|a)(\.[0-9.]+)?$", token):
                files.add(token)
    return files


def included_headers(build):
    """System headers the compiler read, from the dependency files."""
    headers = set()
    for dep in glob.glob(os.path.join(build, "CMakeFiles", "**", "*.o.d"), recursive=True):
        text = open(dep, errors="replace").read().replace("\\\n", " ")
        for token in text.split():
            if token.startswith("/usr/") and not token.endswith(":"):
                headers.add(os.path.normpath(token))
    return headers


def command_files(source):
    out = run(["bash", os.path.join(source, "scripts", "install-deps.sh"), "--commands"])
    files = set()
    for name in out.split():
        paths = [os.path.join(d, name) for d in COMMAND_DIRS if os.path.exists(os.path.join(d, name))]
        files.add(paths[0] if paths else f"command {name} (not in {', '.join(COMMAND_DIRS)})")
    return files


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    args = parser.parse_args()

    named = run(["bash", os.path.join(args.source, "scripts", "install-deps.sh"), "--list"]).split()
    packages, provides = installed_packages()
    not_installed = [p for p in named if p not in packages and p not in provides]
    covered = closure(named, packages, provides)
    covered |= {p for p, (_, essential, priority) in packages.items()
                if essential or priority in BASE_PRIORITIES}

    owners = file_owners()
    links, headers, commands = linked_files(args.build), included_headers(args.build), command_files(args.source)
    if not links or not headers:
        print(f"check_deps: no link lines or dependency files under {args.build}; build first", file=sys.stderr)
        return 1

    problems = [f"{p}: named in install-deps.sh but not installed" for p in not_installed]
    for kind, files in (("linked", links), ("included", headers), ("run", commands)):
        for path in sorted(files):
            if not path.startswith("/"):
                problems.append(f"{kind}: {path}")
                continue
            package = owner(path, owners)
            if package is None:
                problems.append(f"{kind}: {path} belongs to no Debian package")
            elif package not in covered:
                problems.append(f"{kind}: {path} comes from package {package}, "
                                "which scripts/install-deps.sh does not install")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check_deps: {len(links)} libraries, {len(headers)} headers, {len(commands)} commands; "
          f"{len(named)} packages named, {len(covered)} covered; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

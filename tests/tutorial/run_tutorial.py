#!/usr/bin/env python3
"""Runs docs/tutorial.md as a reader would, and checks every shown output.

    python3 tests/tutorial/run_tutorial.py --flow build/flow docs/tutorial.md
    python3 tests/tutorial/run_tutorial.py --flow build/flow docs/tutorial.md --update

The tutorial is the test (docs/testing.md, "Tutorial"). Its Markdown holds
two kinds of fenced blocks that this script acts on, in document order:

* a block whose info string names a file, such as ```` ```flow file=incident.flow ````,
  is written to that path, relative to the shell's current directory at that
  point of the tutorial (the reader creates the file in their editor);
* a ```` ```console ```` block holds commands and their output. A line starting
  with `$ ` is a command (a line ending in `\\` continues it on the next
  line); the lines after it, up to the next command or the end of the
  block, are its output, exactly as a terminal shows it (stdout and stderr
  interleaved). A last output line `[exit N]` states a non-zero exit code;
  without it the command must exit 0.

Each command runs exactly as written, with `bash -c`, in a pseudo-terminal
(so the output is what a terminal shows, in order), starting in the
directory where the previous command left off (`cd` carries over; shell
variables and `export` do not, so the tutorial does not use them). The
environment: HOME is a fresh temporary directory where the tutorial starts,
PATH starts with the folder of the `flow` under test, TZ=UTC, and FLOW_DB
and FLOW_ROLES are unset.

Comparison masks what differs from run to run, on both sides:
RFC 3339 times -> <TIME>, generated run ids (run_ + 16 hex) -> run_<ID>,
SHA-256 hashes (64 hex) -> <HASH>, the temporary HOME -> /home/you, and
runs of spaces -> one space (tables pad columns to what they hold). So the
Markdown shows real output, times and all, and stays true.

--update rewrites the output lines of every console block with what the
commands print now (HOME shown as /home/you), and the exit-code lines;
review the diff. Exit 0 when everything matched (or was updated), 1 on a
mismatch (each one printed as expected/actual), 2 when the Markdown is
malformed.
"""
import argparse
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile

# A tutorial command that runs this long is hung; the slowest takes a few
# seconds (the stand-in pager is slow on purpose).
COMMAND_TIMEOUT_S = 120
SHOWN_HOME = "/home/you"

FENCE = re.compile(r"^```(\S*)(.*)$")
EXIT_LINE = re.compile(r"^\[exit (\d+)\]$")
MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<TIME>"),
    (re.compile(r"\brun_[0-9a-f]{16}\b"), "run_<ID>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<HASH>"),
]


class Malformed(Exception):
    pass


class Command:
    def __init__(self, line_no, text):
        self.line_no = line_no  # 1-based line of the `$ ` line
        self.text = text        # the command, continuation lines joined with newlines
        self.output = []        # expected output lines
        self.exit_code = 0
        self.first_line = 0     # 0-based index of the first line after the command
        self.end_line = 0       # 0-based index after its last output line


def parse(lines):
    """The actions of the tutorial: ("file", path, text) and ("command", Command)."""
    actions = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1) and not m.group(2):
            i += 1
            continue
        lang, attrs = m.group(1), m.group(2)
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            raise Malformed(f"line {i + 1}: a code block that is never closed")
        file_attr = re.search(r"\bfile=(\S+)", attrs)
        if file_attr:
            actions.append(("file", file_attr.group(1), "\n".join(lines[i + 1:end]) + "\n"))
        elif lang == "console":
            actions.extend(("command", c) for c in parse_console(lines, i + 1, end))
        i = end + 1
    return actions


def parse_console(lines, begin, end):
    commands = []
    i = begin
    while i < end:
        if not lines[i].startswith("$ "):
            if not commands:
                raise Malformed(f"line {i + 1}: console output before any '$ ' command")
            commands[-1].output.append(lines[i])
            commands[-1].end_line = i + 1
            i += 1
            continue
        text = lines[i][2:]
        line_no = i + 1
        while text.endswith("\\") and i + 1 < end:
            i += 1
            text += "\n" + lines[i]
        c = Command(line_no, text)
        c.first_line = c.end_line = i + 1
        commands.append(c)
        i += 1
    for c in commands:
        if c.output and EXIT_LINE.match(c.output[-1]):
            c.exit_code = int(EXIT_LINE.match(c.output[-1]).group(1))
            c.output.pop()
    return commands


def run_in_pty(command, cwd, env, state_file):
    """Runs `command` with bash in a pseudo-terminal; returns (exit code, output lines)."""
    script = 'cd "$1" || exit 97; eval "$2"; rc=$?; pwd > "$3"; exit $rc'
    master, slave = pty.openpty()
    proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", script, "tutorial", cwd, command, state_file],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                            start_new_session=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], COMMAND_TIMEOUT_S)
        if not ready:
            proc.kill()
            raise RuntimeError(f"'{command}' did not finish within {COMMAND_TIMEOUT_S} s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal closed it
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait()
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
    out = text.split("\n")
    if out and out[-1] == "":
        out.pop()
    return code, out


def normalise(line, home):
    line = line.replace(home, SHOWN_HOME)
    for pattern, mask in MASKS:
        line = pattern.sub(mask, line)
    return re.sub(r" {2,}", " ", line.rstrip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tutorial")
    ap.add_argument("--flow", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    with open(args.tutorial, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        actions = parse(lines)
    except Malformed as e:
        print(f"{args.tutorial}: {e}", file=sys.stderr)
        return 2
    flow = os.path.realpath(args.flow)
    root = tempfile.mkdtemp(prefix="flow_tutorial_")
    home = os.path.join(root, "you")
    os.makedirs(home)
    env = {k: v for k, v in os.environ.items() if k not in ("FLOW_DB", "FLOW_ROLES")}
    env.update(HOME=home, TZ="UTC", PATH=os.path.dirname(flow) + os.pathsep + env.get("PATH", ""))
    state = os.path.join(root, "cwd")
    cwd = home
    failures = 0
    replacements = []  # (first_line, end_line, new lines), applied bottom-up by --update
    try:
        for action in actions:
            if action[0] == "file":
                path = os.path.join(cwd, action[1])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(action[2])
                continue
            c = action[1]
            code, out = run_in_pty(c.text, cwd, env, state)
            if os.path.exists(state):
                with open(state, encoding="utf-8") as f:
                    cwd = f.read().strip() or cwd
            shown = [line.replace(home, SHOWN_HOME) for line in out]
            if args.update:
                replacements.append((c.first_line, c.end_line, shown + ([f"[exit {code}]"] if code else [])))
                continue
            want = [normalise(line, home) for line in c.output]
            got = [normalise(line, home) for line in out]
            if want != got or code != c.exit_code:
                failures += 1
                print(f"{args.tutorial}:{c.line_no}: $ {c.text}", file=sys.stderr)
                print(f"  exit: expected {c.exit_code}, got {code}", file=sys.stderr)
                for line in c.output:
                    print(f"  - {line}", file=sys.stderr)
                for line in shown:
                    print(f"  + {line}", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.update:
        for first, end, new in reversed(replacements):
            lines[first:end] = new
        with open(args.tutorial, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"updated {len(replacements)} commands in {args.tutorial}")
        return 0
    if failures:
        print(f"{failures} command(s) of {args.tutorial} did not do what it shows", file=sys.stderr)
        return 1
    print(f"PASS: {sum(1 for a in actions if a[0] == 'command')} commands of {args.tutorial}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

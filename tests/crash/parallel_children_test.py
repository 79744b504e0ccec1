#!/usr/bin/env python3
"""Child workflow calls inside `parallel for` branches survive kill -9.

    python3 tests/crash/parallel_children_test.py --flow build/flow [--seed N] [--rounds N]

SPEC §2.5 and issue 14 item 1: a parent's `parallel for` calls a child
workflow per item; the children (r1/1.K/1, K = 1..5) are driven at the
same time, each on its own thread, and each makes two exec steps. A kill
-9 at any instant -- of `flow run`/`flow resume` of the parent while
several children are mid-step, of `flow resume` of a child, or of `flow
worker --once --concurrency 4` -- never starts a second child for the
same call and never repeats a child's completed step. The first round is
not random: it kills `flow run` once the tool's own record shows three
children's steps started (several in flight at once). The exec tool is the
back end and keeps its record: every call appends "<start ms> <key>" to
invocations.log, and each idempotency key's effect is stored once in
effects/<key>. Then, with no flow process alive:

  - the parent's result is right (every child's value, in input order);
  - the database holds exactly the parent and r1/1.1/1 .. r1/1.5/1, each
    completed with parent r1;
  - effects exist for exactly the keys r1/1.K/1:1, r1/1.K/1:2 and r1:1;
  - no invocation of a key started after its step_completed was journaled,
    and every journal has at most one step_completed per position.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from child_test import main  # noqa: E402  (the same test, children in branches)

if __name__ == "__main__":
    sys.exit(main("parallel"))

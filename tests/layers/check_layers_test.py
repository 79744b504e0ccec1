#!/usr/bin/env python3
"""Proves the layer check can fail (ctest `layers/self_test`).

Each case builds a small tree in a temporary folder, laid out like the real
one and checked against the real cmake/layers.txt (or a copy with one line
changed), and asserts the exact problems check_layers.py reports: a compiler
file including the store, ANTLR outside compiler/parse, a file in an
unplaced folder, an include of a missing file, a stale exception, a cycle
in the table. The clean tree must pass, so a check that always fails would
fail here too.

Usage: check_layers_test.py --source DIR
"""
import argparse
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_layers  # noqa: E402

SOURCE = None


class LayerCheckTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="flow-layers-")
        self.table = os.path.join(self.root, "layers.txt")
        shutil.copy(os.path.join(SOURCE, "cmake", "layers.txt"), self.table)
        # A clean miniature: every module the cases use.
        self.write("vm/base/result.h", "#pragma once\n#include <string>\n")
        self.write("vm/store/store.h", '#include "vm/base/result.h"\n#include <sqlite3.h>\n')
        self.write("compiler/check/check.h", '#include "vm/base/result.h"\n')
        self.write("compiler/parse/parse.cpp", '#include <antlr4-runtime.h>\n#include "Flow.h"\n')

    def tearDown(self):
        shutil.rmtree(self.root)

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def problems(self):
        return check_layers.check(self.root, check_layers.Table(self.table))

    def test_clean_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_compiler_including_the_store_fails(self):
        self.write("compiler/check/bad.cpp", '#include "compiler/check/check.h"\n#include "vm/store/store.h"\n')
        self.assertEqual(self.problems(), [
            "compiler/check/bad.cpp: module 'check' includes \"vm/store/store.h\" of module 'store', "
            "which cmake/layers.txt does not allow"])

    def test_antlr_outside_parse_fails(self):
        self.write("compiler/check/bad.h", "#include <antlr4-runtime.h>\n")
        self.assertEqual(self.problems(), [
            "compiler/check/bad.h: module 'check' includes <antlr4-runtime.h> of module 'antlr', "
            "which cmake/layers.txt does not allow"])

    def test_base_including_upwards_fails(self):
        self.write("vm/base/bad.cpp", '#include "compiler/check/check.h"\n')
        self.assertEqual(len(self.problems()), 1)
        self.assertIn("module 'base' includes \"compiler/check/check.h\"", self.problems()[0])

    def test_unplaced_folder_fails(self):
        self.write("vm/newthing/x.cpp", '#include "vm/base/result.h"\n')
        self.assertEqual(self.problems(), [
            "vm/newthing/x.cpp: belongs to no module of cmake/layers.txt (add its folder)"])

    def test_missing_header_fails(self):
        self.write("compiler/check/x.cpp", '#include "compiler/check/gone.h"\n')
        self.assertEqual(self.problems(), [
            "compiler/check/x.cpp: includes \"compiler/check/gone.h\", which is no file of the tree"])

    def test_stale_exception_fails(self):
        # An exception for an include nobody makes any more.
        with open(self.table, "a") as f:
            f.write("exception         vm/connectors/step_call.cpp  stdlib/builtin_steps.h\n")
        self.write("vm/connectors/step_call.cpp", "")
        problems = self.problems()
        self.assertEqual(len(problems), 1)
        self.assertRegex(problems[0], r"^cmake/layers.txt:\d+: exception vm/connectors/step_call.cpp -> "
                                      r"stdlib/builtin_steps.h is no longer needed")

    def test_cycle_in_table_fails(self):
        with open(self.table) as f:
            text = f.read()
        # base may include bytecode, which may include base.
        text = text.replace("vm/base/                                                -",
                            "vm/base/                                                bytecode")
        with open(self.table, "w") as f:
            f.write(text)
        problems = self.problems()
        self.assertTrue(any("cycle" in p and "base" in p and "bytecode" in p for p in problems), problems)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    SOURCE = args.source
    unittest.main(argv=[sys.argv[0]] + rest)

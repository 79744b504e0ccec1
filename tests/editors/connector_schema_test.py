#!/usr/bin/env python3
"""The JSON Schema of the connector format that the VS Code extension
registers (editors/vscode/schemas/connector.schema.json) agrees with flow's
own connector parser:

  * every connector file of the repository that `flow check` accepts -- the
    examples' files, every inline `// --- x.json` connector of the golden
    tests and their shared `Inputs/` -- is valid against the schema (no false error in the editor);
  * typical mistakes the parser rejects (a misspelt key, a wrong enum value,
    a missing transport) are invalid against it too;
  * connector-detect.schema.json applies it to a JSON file exactly when the
    file is a connector (top-level "connector" and "operations").

Uses python3-jsonschema (Debian) and the real `flow` binary.

Usage: connector_schema_test.py --flow path/to/flow
"""
import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(ROOT, "editors", "vscode", "schemas")


def connector_texts():
    """(where, text) of every connector JSON in the repository."""
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "**", "*.json"), recursive=True)):
        yield os.path.relpath(path, ROOT), open(path, errors="replace").read()
    # The golden tests' shared inputs (`// INPUT:`, docs/testing.md).
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "Inputs", "**", "*.json"), recursive=True)):
        yield os.path.relpath(path, ROOT), open(path, errors="replace").read()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.flow"), recursive=True)):
        parts = re.split(r"^// --- (.+)\n", open(path, errors="replace").read(), flags=re.M)
        for name, content in zip(parts[1::2], parts[2::2]):
            if name.endswith(".json"):
                yield f"{os.path.relpath(path, ROOT)} ({name})", content


def flow_accepts(flow, text, folder):
    """Whether `flow check` loads this connector without E011-E013."""
    connector = os.path.join(folder, "c.json")
    with open(connector, "w") as f:
        f.write(text)
    program = os.path.join(folder, "p.flow")
    with open(program, "w") as f:
        f.write('connector c = "c.json"\nworkflow w() {}\n')
    out = subprocess.run([flow, "check", program, "--format", "json"], capture_output=True, text=True)
    codes = {d["code"] for d in json.loads(out.stdout or "[]")}
    return not codes & {"E011", "E012", "E013"}


def check(cond, what):
    if not cond:
        raise SystemExit(f"connector_schema_test: {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", required=True)
    args = parser.parse_args()
    schema = json.load(open(os.path.join(SCHEMAS, "connector.schema.json")))
    detect = json.load(open(os.path.join(SCHEMAS, "connector-detect.schema.json")))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    # The detector's "then" refers to connector.schema.json: put it inline
    # (no resolver: its API differs across python3-jsonschema versions).
    check(detect["then"] == {"$ref": "connector.schema.json"}, "connector-detect.schema.json changed shape")
    # Its "#/definitions/..." references then need the definitions at the root.
    inline = dict(detect, definitions=schema["definitions"],
                  then={k: v for k, v in schema.items() if k not in ("$schema", "$id", "definitions")})
    detector = jsonschema.Draft7Validator(inline)
    problems, accepted, rejected = [], 0, 0
    sample = None
    with tempfile.TemporaryDirectory(prefix="flow-schema-") as folder:
        for where, text in connector_texts():
            try:
                doc = json.loads(text)
            except ValueError:
                continue  # a golden test of malformed JSON: nothing to compare
            if not isinstance(doc, dict) or "connector" not in doc:
                continue
            if not flow_accepts(args.flow, text, folder):
                rejected += 1
                continue
            accepted += 1
            errors = list(validator.iter_errors(doc))
            if errors:
                problems.append(f"{where}: flow accepts it, the schema does not: {errors[0].message} "
                                f"at {list(errors[0].absolute_path)}")
            if sample is None and doc.get("operations"):
                sample = doc
    if accepted < 20:
        problems.append(f"only {accepted} connector files found: the corpus was not read")
    if sample is not None:
        op = next(iter(sample["operations"]))
        mistakes = {
            "a misspelt top-level key": lambda d: d.__setitem__("operatons", d.pop("operations")),
            "a misspelt operation key": lambda d: d["operations"][op].__setitem__("requires_aproval", True),
            "an unknown effect": lambda d: d["operations"][op].__setitem__("effect", "destructive"),
            "no transport": lambda d: d.pop("transport"),
            "an unsupported schema keyword": lambda d: d["operations"][op].__setitem__("output", {"oneOf": []}),
            "a connector name that is not an identifier": lambda d: d.__setitem__("connector", "my-crm"),
        }
        for what, mutate in mistakes.items():
            doc = copy.deepcopy(sample)
            mutate(doc)
            if validator.is_valid(doc):
                problems.append(f"the schema accepts {what}")
            with tempfile.TemporaryDirectory() as folder:
                if flow_accepts(args.flow, json.dumps(doc), folder):
                    problems.append(f"flow accepts {what}: the mistake list is out of date")
        if detector.is_valid({"connector": "x", "operations": {}}):
            problems.append("connector-detect lets a connector without a transport through")
        if not detector.is_valid({"name": "my-package", "version": "1.0.0"}):
            problems.append("connector-detect rejects a JSON file that is not a connector")
        if not detector.is_valid(sample):
            problems.append("connector-detect rejects a valid connector")
    else:
        problems.append("no connector with operations found")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"connector_schema_test: {accepted} connectors accepted by flow checked against the schema "
          f"({rejected} rejected by flow skipped), {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

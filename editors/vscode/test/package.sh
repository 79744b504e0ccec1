#!/usr/bin/env bash
# Packages the extension with `vsce package` (the npm packages of the
# committed package-lock.json, installed by scripts/install-deps.sh) and
# checks the .vsix holds what VS Code needs: the manifest, the grammar, the
# language configuration, the snippets, the connector schemas, extension.js
# and the language client it requires. The .vsix is written to OUT_DIR (the
# build tree), never committed.
#
#   bash editors/vscode/test/package.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: package.sh OUT_DIR}
mkdir -p "$out"
cd "$here"
if [ ! -x node_modules/.bin/vsce ]; then
  echo "package.sh: node_modules/.bin/vsce is missing; run scripts/install-deps.sh" >&2
  exit 1
fi
node --check extension.js
for json in package.json language-configuration.json snippets/flow.json syntaxes/flow.tmLanguage.json \
            schemas/connector.schema.json schemas/connector-detect.schema.json; do
  node -e "JSON.parse(require('fs').readFileSync('$json', 'utf8'))" || { echo "package.sh: $json is not JSON" >&2; exit 1; }
done
vsix="$out/flow-lang.vsix"
rm -f "$vsix"
# The command of the README's install line (npx finds this same local vsce).
node_modules/.bin/vsce package -o "$vsix" </dev/null
python3 - "$vsix" <<'PY'
import json, sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["extension/package.json", "extension/extension.js", "extension/language-configuration.json",
        "extension/syntaxes/flow.tmLanguage.json", "extension/snippets/flow.json",
        "extension/schemas/connector.schema.json", "extension/schemas/connector-detect.schema.json",
        "extension/node_modules/vscode-languageclient/package.json", "extension.vsixmanifest"]
missing = [n for n in need if n not in names]
unwanted = [n for n in names if "/node_modules/@vscode/vsce/" in n or "/node_modules/vscode-tmgrammar-test/" in n
            or n.startswith("extension/test/")]
manifest = json.loads(zipfile.ZipFile(sys.argv[1]).read("extension/package.json"))
if missing or unwanted or manifest["contributes"]["languages"][0]["id"] != "flow":
    print(f"package.sh: missing {missing}, unwanted {unwanted[:5]}", file=sys.stderr)
    sys.exit(1)
print(f"package.sh: {sys.argv[1]}: {len(names)} files, version {manifest['version']}")
PY

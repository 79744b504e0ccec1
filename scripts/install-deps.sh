#!/usr/bin/env bash
# Installs every Debian 12 package flow needs to build, test and benchmark.
# Idempotent: when everything is already installed it does nothing (no apt
# update), so the test command can call it on every run. Must run as root (or
# with sudo available) on a machine whose package lists can be fetched.
#
#   bash scripts/install-deps.sh             install what is missing (and the
#                                            npm packages of editors/vscode)
#   bash scripts/install-deps.sh --list      print the package names, one a line
#   bash scripts/install-deps.sh --commands  print the commands the build,
#                                            tests, benchmarks and examples run
#
# Both lists are read by tests/deps/check_deps.py (ctest deps/packages), which
# fails when the build links a library, includes a header or the suite runs a
# command that no package named here (nor one of their dependencies, nor the
# base system) provides: a machine with an extra package cannot hide it.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config
  # the grammar: ANTLR 4.7.2 tool (pulls a JRE) and the 4.9 C++ runtime;
  # the runtime's static library links libuuid (its CMake target names -luuid)
  antlr4 libantlr4-runtime-dev uuid-dev
  # libraries
  libsqlite3-dev nlohmann-json3-dev libcurl4-openssl-dev libfmt-dev libcli11-dev libgtest-dev
  # tests: the loopback HTTP test server, exec connectors and the crash tests
  # are Python scripts; sqlite3 inspects databases; procps gives ps
  python3 sqlite3 procps
  # benchmarks against peers; strace counts the durable benchmark's fsyncs;
  # time (/usr/bin/time -v) measures the peak memory of `flow show`
  lua5.4 hyperfine strace time
  # the VS Code extension (editors/vscode): node and npm run its grammar
  # tests and package it; graphviz draws `flow graph` (docs/editors.md);
  # python3-jsonschema checks the connector JSON Schema against every
  # connector file of the repository
  nodejs npm graphviz python3-jsonschema
)

# Commands that scripts/, tests/, bench/ and examples/ run, beyond the shell's
# builtins and coreutils (Essential on every Debian system).
COMMANDS=(
  cmake make c++ antlr4 python3 sqlite3 ps lua5.4 hyperfine strace time
  node npm npx dot
  grep sed awk unshare
)

case "${1:-}" in
  --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
  --commands) printf '%s\n' "${COMMANDS[@]}"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--list | --commands]" >&2; exit 2 ;;
esac

# A package counts as installed when it is, or when an installed package
# provides it (a nodejs build that bundles npm provides "npm"; installing
# Debian's npm beside it would fight over /usr/bin/npm).
provided=$(dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null |
           awk -F'\t' '$1 ~ /install ok installed/ { print $2 }' |
           tr ',' '\n' | sed -e 's/(.*)//' -e 's/:any//' -e 's/ //g' | sort -u)
missing=()
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  if printf '%s\n' "$provided" | grep -qx "$p"; then
    continue
  fi
  missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages of the VS Code extension, exactly as its committed
# package-lock.json pins them (`npm ci`; no install scripts run). Skipped
# when node_modules already matches the lock file.
vscode="$(cd "$(dirname "$0")/.." && pwd)/editors/vscode"
if ! cmp -s "$vscode/package-lock.json" "$vscode/node_modules/.flow-installed-lock" 2>/dev/null; then
  echo "installing the npm packages of editors/vscode (npm ci)" >&2
  (cd "$vscode" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$vscode/package-lock.json" "$vscode/node_modules/.flow-installed-lock"
fi

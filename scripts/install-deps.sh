#!/usr/bin/env bash
# Installs every Debian 12 package flow needs to build, test and benchmark.
# Idempotent: when everything is already installed it does nothing (no apt
# update), so the test command can call it on every run. Must run as root (or
# with sudo available) on a machine whose package lists can be fetched.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config
  # the grammar: ANTLR 4.7.2 tool (pulls a JRE) and the 4.9 C++ runtime
  antlr4 libantlr4-runtime-dev
  # libraries
  libsqlite3-dev nlohmann-json3-dev libcurl4-openssl-dev libfmt-dev libcli11-dev libgtest-dev
  # tests: the loopback HTTP test server and exec connectors are Python scripts
  python3 sqlite3 procps
  # benchmarks against peers
  lua5.4 hyperfine
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# README's first command: install every dependency, build flow, and run an
# example end to end on the embedded store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/demo.sh

#!/usr/bin/env bash
# Configures and builds flow into build/ (Release with debug info). Two jobs:
# the machine has two cores, and the generated parser is one big file.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2

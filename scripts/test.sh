#!/usr/bin/env bash
# Install what the tests need, build, and run the whole test suite:
# unit tests, the filesystem conformance suite on the local disk and on
# Azurite, and the end-to-end tests of the cairn binary.
#
# Precondition: Node.js 20 or newer with npm (Azurite runs on it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --test
if ! command -v node >/dev/null ||
   [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "Error: the tests need Node.js 20 or newer (for Azurite)." >&2
  exit 1
fi
(cd tests/harness && npm install --no-audit --no-fund --loglevel=error)

# The optimised build that scripts/quickstart.sh makes must compile too:
# the optimiser sees warnings that a debug build does not.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
  -DCAIRN_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"

build=${BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
  -DCAIRN_SANITIZE="${CAIRN_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)"
# Tests labelled "long" take minutes each; run them with
#   ctest --test-dir "$build" -L long --output-on-failure
ctest --test-dir "$build" --output-on-failure -j2 --timeout 600 -LE long

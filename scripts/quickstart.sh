#!/usr/bin/env bash
# Install what cairn needs, build it, install the binary, and run the
# example pipeline on the default local stack.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCAIRN_BUILD_TESTS=OFF \
  >/dev/null
cmake --build build -j"$(nproc)"

prefix=${PREFIX:-$HOME/.local}
cmake --install build --prefix "$prefix" >/dev/null
echo "Installed $prefix/bin/cairn"
echo
"$prefix/bin/cairn" pipeline run examples/breast_cancer/pipeline.yaml
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo; echo "Add $prefix/bin to your PATH to use 'cairn' directly." ;;
esac

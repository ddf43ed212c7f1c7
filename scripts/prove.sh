#!/usr/bin/env bash
# The main job: set up, then run the Z3 proof suite. Exit 0 only if every theorem
# is proved with its vacuity check and negative control.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAINOFTRUST_DEBIAN=0 bash scripts/setup.sh
exec .venv/bin/chainoftrust prove "$@"

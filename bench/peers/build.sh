#!/usr/bin/env bash
# build.sh builds the Go peer servers into a directory and installs the Node
# peer's dependencies when they are missing.
#
# Usage: bench/peers/build.sh [DIR]
#   DIR defaults to ../../bin/peers relative to bench/peers (bellhop's bin/peers);
#   a relative DIR is taken relative to the current directory.
# Environment: GO (default go), NPM (default npm). Without npm on PATH the
# Node step is skipped with a note.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../bin/peers}
mkdir -p "$out"
out=$(cd "$out" && pwd)

GO=${GO:-go}
NPM=${NPM:-npm}

(cd "$here" && "$GO" build -o "$out/" ./cmd/...)
echo "built: $(cd "$out" && ls peer-* | tr '\n' ' ')in $out"

if [[ -d $here/node/node_modules/ws ]]; then
	exit 0
fi
if ! command -v "$NPM" >/dev/null; then
	echo "note: $NPM not found; node peer not set up (needs: cd bench/peers/node && npm ci)" >&2
	exit 0
fi
(cd "$here/node" && "$NPM" ci --no-audit --no-fund)

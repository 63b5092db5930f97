#!/usr/bin/env bash
# install-chromium.sh installs Debian's chromium when it is not on PATH: the
# operations board's tests drive it headless (cmd/bellhop/board_test.go).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends chromium; then
	"${sudo[@]}" apt-get update
	"${sudo[@]}" apt-get install -y --no-install-recommends chromium
fi

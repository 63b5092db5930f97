#!/usr/bin/env bash
# install-redis.sh installs Debian's redis-server when it is not on PATH. The
# tests start their own redis-server on a free loopback port, so only the
# binary is needed: the package's own service is kept from starting (it would
# take port 6379, which may already be in use).
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# A policy-rc.d that exits 101 tells Debian's maintainer scripts not to start
# services. Only create one when none exists, and remove it afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 755 "$policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

install() {
	"${sudo[@]}" apt-get install -y --no-install-recommends redis-server
}

# Refresh the package lists only when they do not know the package, or when
# an install from stale lists fails.
if ! apt-cache show redis-server >/dev/null 2>&1; then
	"${sudo[@]}" apt-get update
fi
if ! install; then
	"${sudo[@]}" apt-get update
	install
fi
redis-server --version

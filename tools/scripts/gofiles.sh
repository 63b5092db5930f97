#!/usr/bin/env bash
# gofiles.sh prints the repository's Go source files, one per line, skipping
# what the go command skips (testdata, vendor, node_modules, names starting
# with "." or "_").
#
# Usage: gofiles.sh all|nontest
set -euo pipefail

mode=${1:-all}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

args=(. -mindepth 1
	\( -type d \( -name testdata -o -name vendor -o -name node_modules -o -name '.*' -o -name '_*' \) -prune \)
	-o -type f -name '*.go')
case $mode in
all) ;;
nontest) args+=(! -name '*_test.go') ;;
*)
	echo "usage: gofiles.sh all|nontest" >&2
	exit 2
	;;
esac
find "${args[@]}" -print | sed 's|^\./||' | sort

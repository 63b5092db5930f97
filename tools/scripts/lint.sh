#!/usr/bin/env bash
# lint.sh runs every static check and fails if any of them reports something:
# gofmt -l, go vet, staticcheck and the print ban (noprint.sh). All checks run
# even when an earlier one fails, so one pass shows every finding.
#
# Usage: lint.sh STATICCHECK_BINARY   (GO selects the go command, default go)
set -uo pipefail

go=${GO:-go}
staticcheck=${1:?usage: lint.sh STATICCHECK_BINARY}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=()

step() {
	local name=$1
	shift
	echo "== $name"
	if ! "$@"; then
		failed+=("$name")
	fi
}

# gofmt_check lists unformatted files; gofmt -l exits 0 even when it lists.
gofmt_check() {
	local gofmt out
	gofmt="$("$go" env GOROOT)/bin/gofmt"
	mapfile -t files < <(bash "$here/gofiles.sh" all)
	if [ ${#files[@]} -eq 0 ]; then
		return 0
	fi
	out=$("$gofmt" -l "${files[@]}") || return 1
	if [ -n "$out" ]; then
		echo "gofmt: these files are not formatted (run gofmt -w):"
		echo "$out"
		return 1
	fi
}

step gofmt gofmt_check
step vet "$go" vet ./...
step staticcheck "$staticcheck" ./...
step noprint bash "$here/noprint.sh"
# bench/peers is a module of its own (the peer servers' libraries stay out of
# bellhop's go.mod): vet and staticcheck it from inside.
peers="$here/../../bench/peers"
step "vet bench/peers" bash -c 'cd "$1" && "$2" vet ./...' _ "$peers" "$go"
step "staticcheck bench/peers" bash -c 'cd "$1" && "$2" ./...' _ "$peers" "$staticcheck"

if [ ${#failed[@]} -ne 0 ]; then
	echo "lint: failed: ${failed[*]}"
	exit 1
fi
echo "lint: ok"

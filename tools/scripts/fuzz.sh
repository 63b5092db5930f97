#!/usr/bin/env bash
# fuzz.sh finds every fuzz target (func FuzzXxx in a _test.go file) and runs
# each one alone for FUZZTIME, since go test -fuzz takes one target per run.
# New failing inputs are written by go test under the package's
# testdata/fuzz/FuzzXxx/, ready to commit as regression seeds.
#
# Environment:
#   GO        go command (default go)
#   FUZZTIME  time per target, as go test -fuzztime takes it (default 20s)
#   FUZZPKG   package pattern to search (default ./...)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

go=${GO:-go}
fuzztime=${FUZZTIME:-20s}
pattern=${FUZZPKG:-./...}

pkgs=$("$go" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' "$pattern")
targets=()
for pkg in $pkgs; do
	# go test -list prints matching names, then an "ok" line; a build error
	# fails the script here rather than skipping the package.
	list=$("$go" test -list '^Fuzz' -run '^$' "$pkg")
	for name in $(grep -E '^Fuzz[[:alnum:]_]*$' <<<"$list" || true); do
		targets+=("$pkg $name")
	done
done

if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz targets found in $pattern"
	exit 0
fi
echo "fuzz: ${#targets[@]} targets, $fuzztime each"

failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $name ($pkg)"
	if ! "$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
		failed+=("$pkg.$name")
	fi
done

if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"

#!/usr/bin/env bash
# cover.sh runs the tests once with the race detector and a coverage profile,
# prints each package's statement coverage, and fails when a package that has
# tests is below the minimum, unless it is exempt. A failing test fails too.
#
# Environment:
#   GO            go command (default go)
#   COVER_MIN     minimum percentage per package (default 80)
#   COVER_EXEMPT  space-separated directories, relative to the module root,
#                 whose packages (and sub-packages) are reported but not
#                 enforced (default "cmd tools")
#   COVER_DIR     where cover.out and cover.txt are written (default coverage)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

go=${GO:-go}
min=${COVER_MIN:-80}
exempt=${COVER_EXEMPT-cmd tools}
dir=${COVER_DIR:-coverage}
mkdir -p "$dir"

module=$("$go" list -m)
# Each line is "import/path yes" or "import/path no" (whether it has tests).
pkgs=$("$go" list -e -f '{{.ImportPath}} {{if or .TestGoFiles .XTestGoFiles}}yes{{else}}no{{end}}' ./...)
if ! grep -q ' yes$' <<<"$pkgs"; then
	echo "cover: no package has tests"
	exit 1
fi

status=0
"$go" test -race -count=1 -covermode=atomic -coverprofile="$dir/cover.out" ./... 2>&1 |
	tee "$dir/cover.txt" || status=$?

echo
echo "== coverage per package (minimum ${min}%; exempt: ${exempt:-none})"
# The awk program reads the package list, then go test's output, and prints
# one row per package. It exits 1 if an enforced package with tests is low or
# has no coverage line (its tests did not run). Packages without tests are
# listed but not enforced.
awk -v module="$module" -v min="$min" -v exempt="$exempt" '
	FNR == NR { order[++n] = $1; if ($2 == "yes") tested[$1] = 1; next }
	match($0, /coverage: [0-9.]+%/) {
		for (i = 1; i <= NF; i++) if ($i in tested) pct[$i] = substr($0, RSTART + 10, RLENGTH - 11)
	}
	/coverage: \[no statements\]/ {
		for (i = 1; i <= NF; i++) if ($i in tested) pct[$i] = "none"
	}
	function isExempt(rel,   k, parts, m) {
		m = split(exempt, parts, " ")
		for (k = 1; k <= m; k++) if (rel == parts[k] || index(rel, parts[k] "/") == 1) return 1
		return 0
	}
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			p = order[i]; rel = p; sub("^" module "/?", "", rel); if (rel == "") rel = "."
			verdict = "ok"
			if (!(p in tested)) { printf "%-40s %8s  %s\n", rel, "-", "no tests"; continue }
			if (!(p in pct)) { verdict = "NO RESULT"; shown = "-" }
			else if (pct[p] == "none") { shown = "n/a" }
			else { shown = pct[p] "%"; if (pct[p] + 0 < min + 0) verdict = "LOW" }
			if (verdict != "ok" && isExempt(rel)) verdict = verdict " (exempt)"
			else if (verdict != "ok") bad++
			printf "%-40s %8s  %s\n", rel, shown, verdict
		}
		exit bad > 0
	}
' <(printf '%s\n' "$pkgs") "$dir/cover.txt" || {
	echo "cover: some packages are below ${min}% or produced no coverage"
	[ "$status" -ne 0 ] || status=1
}

total=$("$go" tool cover -func="$dir/cover.out" 2>/dev/null | awk '/^total:/ {print $NF}') || true
echo "total: ${total:-unknown} (profile $dir/cover.out)"
if [ "$status" -ne 0 ]; then
	echo "cover: FAILED"
	exit 1
fi
echo "cover: ok"

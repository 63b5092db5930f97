#!/usr/bin/env bash
# noprint.sh is a forbidigo-style check: library code must not print to the
# process's stdout or stderr, so fmt.Print, fmt.Printf, fmt.Println and the
# print/println builtins are banned in non-test Go files outside cmd/ and
# tools/ (commands own their output; packages log through the *slog.Logger
# they are given). Comment lines are ignored.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# allowed are the top-level directories where printing is legitimate.
allowed='^(cmd|tools)/'
pattern='(^|[^[:alnum:]_.])(fmt\.Print(f|ln)?|print|println)([^[:alnum:]_]|$)'

mapfile -t files < <(bash tools/scripts/gofiles.sh nontest | grep -Ev "$allowed" || true)
if [ ${#files[@]} -eq 0 ]; then
	echo "noprint: no files to check"
	exit 0
fi
hits=$(grep -HnE "$pattern" "${files[@]}" |
	grep -Ev '^[^:]+:[0-9]+:[[:space:]]*(//|func[[:space:]])' || true)
if [ -n "$hits" ]; then
	echo "noprint: fmt.Print*/print/println outside cmd/ and tools/ (use the package's *slog.Logger or return the text):"
	echo "$hits"
	exit 1
fi
echo "noprint: ok (${#files[@]} files)"

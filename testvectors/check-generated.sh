#!/bin/sh
# Regenerates the test vector files into a temporary directory and fails,
# showing the difference, if they differ from the checked-in ones. Run from
# anywhere inside the module; CI calls it from .ci/run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$root"
go run ./testvectors/internal/gen -out "$tmp"

# Compare the generated set with the checked-in set: every generated file
# must exist and match, and every checked-in generated-kind file must have
# been generated.
status=0
for f in $(cd "$tmp" && find . -type f | sort); do
	if ! diff -u "$here/$f" "$tmp/$f" >"$tmp.diff" 2>&1; then
		echo "check-generated: testvectors/${f#./} is not what the generator writes:" >&2
		head -n 40 "$tmp.diff" >&2
		status=1
	fi
done
for f in $(cd "$here" && { ls *.json 2>/dev/null; find captures -type f 2>/dev/null; } | sort); do
	if [ ! -f "$tmp/$f" ]; then
		echo "check-generated: testvectors/$f is checked in but not generated" >&2
		status=1
	fi
done
rm -f "$tmp.diff"
if [ "$status" -ne 0 ]; then
	echo "check-generated: run 'go generate ./testvectors' and commit the result" >&2
fi
exit "$status"

#!/bin/sh
# Regenerates the fuzz seed corpora (the seed-* files under
# */testdata/fuzz/<Target>/) into a temporary directory and fails, showing
# what differs, if the checked-in ones are not what the generator writes.
# Other files in those directories are crashers kept as regression entries
# and are not the generator's. CI calls it from .ci/run.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$root"
go run ./fuzz/internal/seedgen -out "$tmp" >/dev/null

(cd "$tmp" && find . -path '*/testdata/fuzz/*/seed-*' -type f | sort) >"$tmp/generated.list"
find . -path '*/testdata/fuzz/*/seed-*' -type f | sort >"$tmp/checked-in.list"
status=0
if ! diff -u "$tmp/checked-in.list" "$tmp/generated.list" >"$tmp/list.diff"; then
	echo "check-seeds: the set of seed files differs (- checked in, + generated):" >&2
	head -n 40 "$tmp/list.diff" >&2
	status=1
fi
while read -r f; do
	if [ -f "$root/$f" ] && ! cmp -s "$root/$f" "$tmp/$f"; then
		echo "check-seeds: ${f#./} is not what the generator writes" >&2
		status=1
	fi
done <"$tmp/generated.list"
if [ "$status" -ne 0 ]; then
	echo "check-seeds: run 'go run ./fuzz/internal/seedgen' and commit the result" >&2
fi
exit "$status"

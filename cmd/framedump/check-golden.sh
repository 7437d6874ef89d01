#!/bin/sh
# Regenerate framedump's golden files into a temporary directory and fail,
# with a diff, if the checked-in ones differ: a change of output must come
# with its golden files (go generate ./cmd/framedump rewrites them).
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test ./cmd/framedump -run '^TestGolden$' -count=1 -update -goldendir "$tmp" >/dev/null
if ! diff -r cmd/framedump/testdata/golden "$tmp"; then
	echo "cmd/framedump/testdata/golden is stale: run go generate ./cmd/framedump" >&2
	exit 1
fi

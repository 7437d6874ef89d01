#!/bin/bash
# Statement coverage of the protocol code (frame/, rpc/, local/,
# internal/wire/, cmd/framedump/) reached by the whole test suite, which
# includes every checked-in fuzz corpus entry (go test runs each file under
# testdata/fuzz/<Target>/ as a test case) and the f.Add seeds.
#
#	bash fuzz/coverage.sh            # unit tests + checked-in corpora
#	bash fuzz/coverage.sh -cache     # also what local fuzzing found
#	bash fuzz/coverage.sh -func      # also list every function below 100%
#	bash fuzz/coverage.sh -cache -run '^FuzzDecode$'   # one target alone
#
# -cache adds the inputs `go test -fuzz` has collected on this machine
# (in $(go env GOCACHE)/fuzz), which go test alone never runs: the
# measurement then happens in a temporary copy of the module whose
# testdata/fuzz directories hold them too, so the tree stays clean.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=false
funcs=false
run=.
while [ $# -gt 0 ]; do
	case $1 in
	-cache) cache=true ;;
	-func) funcs=true ;;
	-run) run=$2; shift ;;
	*) echo "usage: $0 [-cache] [-func] [-run regexp]" >&2; exit 2 ;;
	esac
	shift
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
src=$root
if $cache; then
	src=$tmp/src
	mkdir -p "$src"
	(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src")
	module=$(cd "$root" && go list -m)
	fuzzcache=$(go env GOCACHE)/fuzz
	n=0
	if [ -d "$fuzzcache/$module" ]; then
		while read -r d; do
			target=$(basename "$d")
			pkg=${d#"$fuzzcache/$module/"}
			pkg=${pkg%"/$target"}
			# The cache is per machine: targets of other branches have
			# no package here, or no function, and are left out by go test.
			[ -d "$src/$pkg" ] || continue
			mkdir -p "$src/$pkg/testdata/fuzz/$target"
			cp "$d"/* "$src/$pkg/testdata/fuzz/$target/" 2>/dev/null || true
			n=$((n + $(ls "$d" | wc -l)))
		done < <(find "$fuzzcache/$module" -type d -name 'Fuzz*')
	fi
	echo "added $n inputs from the local fuzz cache"
fi

pkgs=./frame/...,./rpc/...,./local/...,./internal/wire/...,./cmd/framedump/...
cd "$src"
go test -count=1 -run "$run" -coverpkg="$pkgs" -coverprofile="$tmp/cover.out" ./... >"$tmp/test.log" 2>&1 || {
	cat "$tmp/test.log"; exit 1
}

# Each test binary writes its own blocks: a statement counts as covered
# when any binary ran it.
awk -F'[: ,]' 'NR > 1 {
	key = $1 ":" $2 "," $3; stmts[key] = $4
	if ($5 > 0) hit[key] = 1
} END {
	for (k in stmts) {
		split(k, p, ":"); f = p[1]; sub(/\/[^\/]*$/, "", f)
		total[f] += stmts[k]; all += stmts[k]
		if (k in hit) { cov[f] += stmts[k]; allcov += stmts[k] }
	}
	for (f in total) printf "%-55s %6.1f%%  (%d of %d statements)\n", f, 100 * cov[f] / total[f], cov[f], total[f]
	printf "%-55s %6.1f%%  (%d of %d statements)\n", "total", 100 * allcov / all, allcov, all
}' "$tmp/cover.out" | sort

if $funcs; then
	# One merged profile for go tool cover: the highest count of each block.
	awk 'NR == 1 { print; next } { key = $1 " " $2; if (!(key in c) || $3 > c[key]) c[key] = $3 }
		END { for (k in c) print k, c[k] }' "$tmp/cover.out" >"$tmp/merged.out"
	echo
	echo "functions below 100%:"
	go tool cover -func="$tmp/merged.out" | grep -v '100.0%$' | grep -v '^total:' || true
fi

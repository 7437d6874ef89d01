#!/bin/bash
# Builds every Go fuzz target of framerpc as a libFuzzer binary, the way
# OSS-Fuzz and ClusterFuzzLite run Go targets: go-118-fuzz-build compiles a
# target into a C archive with libFuzzer instrumentation and its own
# `testing` shim, and clang links the archive with the fuzzing engine.
#
# In OSS-Fuzz/ClusterFuzzLite (base-builder-go) this runs as
# $SRC/framerpc/fuzz/oss-fuzz/build.sh with $OUT, $CXX, $CXXFLAGS and
# $LIB_FUZZING_ENGINE set; fuzz/oss-fuzz/local.sh runs it on a developer's
# machine or in CI with local defaults.
#
# The shim is a dependency of the build only, never of the module: the
# source is copied to a temporary directory and the copy's go.mod gets it.
# go-118-fuzz-build compiles the target's package as an ordinary package,
# so a target's helpers must be in the files it compiles: every
# *fuzz_test.go file holds fuzz targets and their helpers and nothing else,
# and the copy renames those files so that they are part of the package.
#
# Each binary gets, next to it, <name>_seed_corpus.zip made from the
# checked-in seeds (testdata/fuzz/<Target>/) by corpus.go, in the byte
# layout go-118-fuzz-build's argument decoding expects.

set -euo pipefail

# The module root: two levels up from this script in the repository, or,
# where OSS-Fuzz runs a copy as $SRC/build.sh, the module of the working
# directory (the Dockerfile's WORKDIR).
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/../../go.mod" ]; then
	root=$(cd "$here/../.." && pwd)
else
	root=$(dirname "$(go env GOMOD)")
fi
OUT=${OUT:-$root/fuzz/oss-fuzz/out}
CXX=${CXX:-clang++}
CXXFLAGS=${CXXFLAGS:-}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
# The version of go-118-fuzz-build and of its shim, pinned together.
FUZZ_BUILD_VERSION=${FUZZ_BUILD_VERSION:-v0.0.0-20250520111509-a70c2aa677fa}

mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

if ! command -v go-118-fuzz-build >/dev/null; then
	GOFLAGS= go install "github.com/AdamKorcz/go-118-fuzz-build@$FUZZ_BUILD_VERSION"
	PATH=$PATH:$(go env GOPATH)/bin
fi

# The copy: tracked files when this is a git checkout (no build output,
# no stray files), everything otherwise (OSS-Fuzz's checkout is one).
src=$work/src
mkdir -p "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src")
else
	cp -R "$root/." "$src"
	rm -rf "$src/fuzz/oss-fuzz/out"
fi
cd "$src"
go get "github.com/AdamKorcz/go-118-fuzz-build/testing@$FUZZ_BUILD_VERSION"

# name package-dir Func, one line per target.
targets=$work/targets
for f in $(find . -name '*fuzz_test.go' -not -path './fuzz/oss-fuzz/*' | sort); do
	dir=$(dirname "$f")
	for fn in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$f"); do
		echo "$(basename "$dir")_$fn $dir $fn" >>"$targets"
	done
	mv "$f" "${f%_test.go}_libfuzzer.go"
done

while read -r name dir fn; do
	echo "-- $name ($dir $fn)"
	# From the package's own directory: the generated main file is put in
	# the working directory and must be allowed to import an internal
	# package.
	(cd "$dir" && go-118-fuzz-build -o "$work/$name.a" -func "$fn" .)
	# shellcheck disable=SC2086 # the flags are lists
	$CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$work/$name.a" -o "$OUT/$name"
	go run ./fuzz/oss-fuzz/corpus.go -fn "$fn" -dir "$dir/testdata/fuzz/$fn" -zip "$OUT/${name}_seed_corpus.zip"
done <"$targets"
cp "$targets" "$OUT/targets.txt"

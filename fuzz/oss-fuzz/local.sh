#!/bin/bash
# The libFuzzer path of fuzz/oss-fuzz, run where CI runs: build every
# target exactly as OSS-Fuzz would (build.sh, with clang's libFuzzer), then
# run each binary for a few seconds on its seed corpus, so that the scale
# path is exercised on every change and never rots. A crash, a leak report
# or a timeout fails it, as on OSS-Fuzz.
#
#	bash fuzz/oss-fuzz/local.sh          # build and run each for 5 s
#	SECONDS_EACH=60 bash fuzz/oss-fuzz/local.sh
#
# Needs Go and clang (CI installs clang if it is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SECONDS_EACH=${SECONDS_EACH:-5}
own_out=false
if [ -z "${OUT:-}" ]; then
	OUT=$(mktemp -d)
	own_out=true
fi
export OUT

bash "$here/build.sh"

status=0
while read -r name _ _; do
	corpus=$(mktemp -d)
	unzip -q -o "$OUT/${name}_seed_corpus.zip" -d "$corpus" || true
	echo "-- $name: $(ls "$corpus" | wc -l) seeds, ${SECONDS_EACH}s"
	# -timeout: an input that takes 10 s is a hang, as the Go targets'
	# own deadlines say. The run's own log goes to a file, shown on failure.
	if ! "$OUT/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/$name-" "$corpus" >"$OUT/$name.log" 2>&1; then
		echo "FAIL $name:"; tail -n 40 "$OUT/$name.log"
		status=1
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$OUT/$name.log" | tr '\n' ' '
	echo
	rm -rf "$corpus"
done <"$OUT/targets.txt"
# A directory this script made is removed unless something failed: then
# it holds the crash artifacts and the logs.
if [ "$status" -eq 0 ] && $own_out; then
	rm -rf "$OUT"
elif [ "$status" -ne 0 ]; then
	echo "binaries, logs and crash artifacts are in $OUT"
fi
exit "$status"

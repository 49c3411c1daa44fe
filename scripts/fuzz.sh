#!/usr/bin/env bash
# fuzz.sh TARGET PACKAGE [FUZZTIME]: runs one Go fuzz target for FUZZTIME
# (default 60s) and fails on a finding: a failing input, which go test writes
# to PACKAGE/testdata/fuzz/TARGET (check it in with its fix).
#
# Go's fuzzing coordinator up to Go 1.26 can report a bare "context deadline
# exceeded" right as -fuzztime runs out, with no failing input: a race in the
# toolchain (go.dev/issue/75804, fixed in Go 1.27), not a finding. This
# script says so and does not fail for it. Any other failure, or a new file
# in the corpus directory, fails.
set -uo pipefail
target=$1 pkg=$2 fuzztime=${3:-60s}
GO=${GO:-go}
corpus="$pkg/testdata/fuzz/$target"
before=$(ls "$corpus" 2>/dev/null | sort)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
$GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg/" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] && exit 0
after=$(ls "$corpus" 2>/dev/null | sort)
new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -v '^$' || true)
if [ -z "$new" ] && grep -q -- "--- FAIL: $target" "$out" && grep -q '^    context deadline exceeded$' "$out" &&
	[ "$(grep -c -- '--- FAIL' "$out")" -eq 1 ]; then
	echo "fuzz.sh: $target ran its $fuzztime; the failure above is Go's fuzztime deadline race (go.dev/issue/75804), no failing input was written: not a finding"
	exit 0
fi
[ -n "$new" ] && echo "fuzz.sh: $target wrote a failing input: $corpus/$new"
exit "$status"

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs each libFuzzer harness of a -Dfuzz=true build for a bounded time, one
# after the other in a single process each (the machine is shared), each on
# a copy of its seed corpus so that the tree's corpus stays as it is.
#
#   tests/fuzz/run-fuzzers.sh BUILD SECONDS RESULTS [NAME...]
#
# Writes one line per fuzzer to RESULTS, in the form of meson's testlog.json
# (tests/summarize.py counts each as one test). A crash, leak, timeout or
# failed check fails that fuzzer; its input is kept under
# $BERTH_FUZZ_ARTIFACTS (default BUILD/fuzz-artifacts) and the path printed:
# replay it with BUILD/tests/fuzz/fuzz-NAME FILE, and once fixed keep it in
# tests/fuzz/regressions/NAME/. NAME defaults to every tests/fuzz/corpus/NAME.
# Exit status 1 if any failed.
set -u
[ $# -ge 3 ] || { echo "usage: $0 BUILD SECONDS RESULTS [NAME...]" >&2; exit 2; }
build=$1 seconds=$2 results=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
names=("$@")
if [ ${#names[@]} = 0 ]; then
        for d in "$src"/corpus/*/; do names+=("$(basename "$d")"); done
fi
artifacts=${BERTH_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
mkdir -p "$artifacts" && artifacts=$(cd "$artifacts" && pwd)
: >"$results"

work=$(mktemp -d /var/tmp/berth-fuzz-run.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

json_line() {   # name, OK|FAIL, message
        python3 -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "result": sys.argv[2], "stdout": sys.argv[3]}))' "$@"
}

rc=0
for name in "${names[@]}"; do
        bin=$build/tests/fuzz/fuzz-$name
        dir=$work/$name
        mkdir -p "$dir/corpus" "$dir/tmp"
        cp -r "$src/corpus/$name/." "$dir/corpus/"
        [ -d "$src/regressions/$name" ] && cp -r "$src/regressions/$name/." "$dir/corpus/"
        dict=()
        [ -f "$src/$name.dict" ] && dict=(-dict="$src/$name.dict")
        start=$SECONDS
        # The harnesses' temporary files go below $dir/tmp, removed with it
        # even when a crash skips their own cleanup.
        TMPDIR=$dir/tmp "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
                -print_final_stats=1 "${dict[@]}" \
                -artifact_prefix="$artifacts/$name-" "$dir/corpus" >"$dir/log" 2>&1
        status=$?
        elapsed=$((SECONDS - start))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
        if [ $status = 0 ] && [ -n "$runs" ]; then
                msg="fuzz-$name: ${runs} runs in ${elapsed} s, no crash"
                json_line "fuzz-$name" OK "$msg" >>"$results"
                echo "$msg"
        else
                artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -1)
                msg="fuzz-$name: FAILED (exit $status) after ${elapsed} s; input: ${artifact:-none}"
                json_line "fuzz-$name" FAIL "$msg" >>"$results"
                echo "$msg"
                grep -E -A25 '^==[0-9]+==ERROR|check failed|runtime error|^SUMMARY' "$dir/log" | head -60
                cp "$dir/log" "$artifacts/$name.log" && echo "log: $artifacts/$name.log"
                rc=1
        fi
done
exit $rc

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every test: installs what is missing, builds three times (plain, with
# AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer harnesses
# with clang), runs the whole suite on the plain build, the unit tests and
# the fuzz corpora on the sanitizer build, each fuzzer for a bounded time
# (BERTH_FUZZ_SECONDS, 30 s by default; each counts as one test), then prints
# one line "N passed, N failed". Needs root (the integration tests boot
# systemd in their own namespaces).
set -u
cd "$(dirname "$0")/.."

bash tests/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

setup_only() {
        local dir=$1; shift
        if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
        else meson setup "$dir" "$@" >/dev/null; fi
}

setup() {
        setup_only "$@" && ninja -C "$1" >/dev/null
}

rc=0
setup build || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug ||
        { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2 || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C build-sanitize --suite unit --suite fuzz-regress --print-errorlogs || rc=1

# The fuzzers, one after the other; their results are testlog.json lines.
fuzz_results=build-fuzz/fuzz-results.json
if CC=clang setup_only build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false &&
   ninja -C build-fuzz fuzzers >/dev/null; then
        bash tests/fuzz/run-fuzzers.sh build-fuzz "${BERTH_FUZZ_SECONDS:-30}" "$fuzz_results" || rc=1
else
        echo "fuzz build failed"
        mkdir -p build-fuzz
        echo '{"name": "fuzz-build", "result": "FAIL", "stdout": "fuzz build failed"}' >"$fuzz_results"
        rc=1
fi

python3 tests/summarize.py build/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json \
        "$fuzz_results"
exit $rc

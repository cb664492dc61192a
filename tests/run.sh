#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every test: installs what is missing, builds twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer), runs the whole suite on the
# plain build and the unit tests on the sanitizer build, then prints one line
# "N passed, N failed". Needs root (the integration tests boot systemd in
# their own namespaces).
set -u
cd "$(dirname "$0")/.."

bash tests/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

setup() {
        local dir=$1; shift
        if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
        else meson setup "$dir" "$@" >/dev/null; fi && ninja -C "$dir" >/dev/null
}

rc=0
setup build || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug ||
        { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

meson test -C build --print-errorlogs --num-processes 2 || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C build-sanitize --suite unit --print-errorlogs || rc=1

python3 tests/summarize.py build/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json
exit $rc

#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counts test cases across meson test logs: each Check test case, each TAP
line of the integration tests. A test program that died before reporting
counts as one failure, and so does a test that skipped: tests/run.sh installs
everything the tests need first, so a skip means one did not run. Prints
"N passed, N failed". tests/fuzz/run-fuzzers.sh writes its results in the
same form, one line per fuzzer."""
import json
import re
import sys

CHECK = re.compile(r'^\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)', re.M)
# "ok" then a space or the end: a script's "ok: ..." is not TAP.
TAP = re.compile(r'^(not ok|ok)(?=[ \t]|$)(.*)$', re.M)
SKIP = re.compile(r'#\s*SKIP', re.I)


def count(entry):
    out = entry.get('stdout') or ''
    ok = entry.get('result') == 'OK'
    m = CHECK.search(out)
    if m:
        total, failures, errors = map(int, m.groups())
        bad = failures + errors
        return total - bad, bad + (0 if ok or bad else 1)
    taps = TAP.findall(out)
    if taps:
        # A "# SKIP" directive did not test anything: not a pass.
        bad = sum(1 for verdict, rest in taps if verdict == 'not ok' or SKIP.search(rest))
        return len(taps) - bad, bad + (0 if ok or bad else 1)
    if entry.get('result') == 'SKIP':
        print(f"{entry.get('name')}: skipped, counted as a failure", file=sys.stderr)
        return 0, 1
    return (1, 0) if ok else (0, 1)


passed = failed = 0
for path in sys.argv[1:]:
    try:
        # Only "\n" ends a record: test output may hold other line breaks.
        with open(path, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').split('\n')
    except OSError:
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            failed += 1
            continue
        p, f_ = count(entry)
        passed += p
        failed += f_
print(f'{passed} passed, {failed} failed')

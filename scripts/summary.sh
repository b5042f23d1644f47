#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# summary.sh: one closing line for everything `make check` ran, from Automake's .trs files.
cd "$(dirname "$0")/.."
pass=$(cat $(find . -path ./build-asan -prune -o -name '*.trs' -print) 2>/dev/null | grep -c '^:test-result: PASS')
fail=$(cat $(find . -path ./build-asan -prune -o -name '*.trs' -print) 2>/dev/null | grep -cE '^:test-result: (FAIL|XPASS|ERROR)')
skip=$(cat $(find . -path ./build-asan -prune -o -name '*.trs' -print) 2>/dev/null | grep -c '^:test-result: SKIP')
echo "$pass passed, $fail failed, $skip skipped"

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test.sh: the one command that installs what is missing, builds apilogin and runs every
# test (unit tests as TAP through `make check`, then the end-to-end tests, each in its own
# private mount + network namespace). .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh
echo "== unit and end-to-end tests (make check)"
rc=0
failed=""
step_failed() { rc=1; failed="$failed $1"; }
make -s check VERBOSE=1 || step_failed "make-check"
# Fuzzing (~20 s per target, ~4 min) and the ASan+UBSan build's unit tests: their own
# results print here, before the closing summary line (which counts make check's tests).
echo "== fuzzing (scripts/fuzz.sh)"
./scripts/fuzz.sh || step_failed "fuzz"
echo "== ASan+UBSan build (scripts/sanitize.sh)"
./scripts/sanitize.sh || step_failed "sanitize"
./scripts/summary.sh
# The release tarball builds on its own and passes the same tests (issue 10: distcheck).
echo "== make distcheck (scripts/distcheck.sh)"
./scripts/distcheck.sh || step_failed "distcheck"
# Second step: the .debs installed and used on a booted Debian bookworm (systemd-nspawn).
# APILOGIN_SKIP_SYSTEM_TEST=1 leaves it out.
if [ -z "${APILOGIN_SKIP_SYSTEM_TEST:-}" ]; then
        echo "== system test: packages on a booted Debian (tests/system/run.sh)"
        bash tests/system/run.sh || step_failed "system-test"
fi
# Name the failed steps last, so a truncated log still says which one broke.
if [ $rc -ne 0 ]; then
        echo "== test.sh: FAILED:$failed" >&2
else
        echo "== test.sh: every step passed"
fi
exit $rc

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# distcheck.sh: `make distcheck` in the configured tree: the release tarball is made, built
# in a read-only copy with its own prefix, and passes `make check` there (every e2e test
# takes its paths from the configured directories). Its long log goes to a file; here the
# test counts, and the end of the log when it fails. The tarball and its directory are
# removed afterwards (distcheck leaves the directory read-only when it fails).
set -u
cd "$(dirname "$0")/.."
log=distcheck.log
rc=0
make -s distcheck > "$log" 2>&1 || rc=$?
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' "$log" | tail -n 7
if [ "$rc" -ne 0 ]; then
        grep -E '^(FAIL|ERROR|XPASS):' "$log" | head -n 40
        tail -n 40 "$log"
        echo "distcheck: FAILED (full log: $log)"
else
        grep -E 'archives ready for distribution' -A2 "$log"
        echo "distcheck: passed"
fi
for d in apilogin-*/; do
        [ -d "$d" ] && chmod -R u+w "$d" && rm -rf "$d"
done
rm -f apilogin-*.tar.gz
exit "$rc"

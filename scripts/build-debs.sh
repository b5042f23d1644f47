#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build-debs.sh [OUTDIR]: build the Debian packages (dpkg-buildpackage -us -uc -b) from a
# clean copy of this tree, so that the in-tree development build is left alone, then run
# lintian on them. The .debs and the lintian report (lintian.txt) land in OUTDIR
# (default: ./build/debs). Needs the Build-Depends of debian/control (install-deps.sh).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$SRC/build/debs}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/apilogin-debs.XXXXXX)
trap 'rm -rf --one-file-system "$WORK"' EXIT

# Tracked files plus new ones not ignored: what the next commit would hold, no build output.
mkdir -p "$WORK/apilogin"
(cd "$SRC" && git ls-files -co --exclude-standard | while IFS= read -r f; do
        [ -e "$f" ] && printf '%s\n' "$f"; done | tar -cf - -T -) | tar -C "$WORK/apilogin" -xf -
cd "$WORK/apilogin"
dpkg-buildpackage -us -uc -b -j2 > "$WORK/build.log" 2>&1 || {
        tail -40 "$WORK/build.log" >&2
        echo "build-debs: dpkg-buildpackage failed" >&2
        exit 1
}
cp "$WORK"/*.deb "$WORK"/*.changes "$OUT"/
rm -f "$OUT/lintian.txt"
lintian --pedantic --info "$WORK"/*.changes > "$OUT/lintian.txt" 2>&1 || true
echo "build-debs: $(ls "$WORK"/*.deb | wc -l) packages in $OUT;" \
        "lintian: $(grep -c '^E:' "$OUT/lintian.txt") errors," \
        "$(grep -c '^W:' "$OUT/lintian.txt") warnings (see $OUT/lintian.txt)"

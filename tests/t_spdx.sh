#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_spdx.sh: every source file of the tree (C, shell, Python, the autotools inputs, the man
# pages) names its licence with an SPDX-License-Identifier line near its top (LICENSE:
# LGPL-2.1-or-later), so a distribution can ship any file alone and know its terms.
srcdir=${top_srcdir:-$(dirname "$0")/..}
cd "$srcdir" || exit 99
files=$(find . \( -path ./.git -o -path ./debian -o -path './build*' -o -path ./autom4te.cache \
                -o -path './apilogin-*' -o -path ./_build -o -name '.deps' -o -name '.libs' \) -prune -o \
             -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' \
                -o -name Makefile.am -o -name configure.ac -o -path './man/*.[58]' \) -print |
        grep -vE '/(config|confdefs)\.h$' | sort)
n=0 bad=0
for f in $files; do
        n=$((n + 1))
        head -n 3 "$f" | grep -q 'SPDX-License-Identifier: LGPL-2.1-or-later' || {
                bad=$((bad + 1)); echo "# no SPDX line: $f"; }
done
echo "1..2"
if [ "$n" -gt 100 ]; then echo "ok 1 - $n source files found"; else echo "not ok 1 - only $n source files found"; fi
if [ "$bad" = 0 ]; then echo "ok 2 - every one has an SPDX-License-Identifier line"
else echo "not ok 2 - $bad of $n have no SPDX-License-Identifier line"; fi
[ "$bad" = 0 ] && [ "$n" -gt 100 ]

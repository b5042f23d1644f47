#!/bin/bash
# t_manpage_keys.sh: every key the config parser accepts is documented in apilogin.conf(5).
#
# The key list is read from the parser's own tables: every `.name = "KEY"` entry of the
# key_def tables in core/conf.c, and of any driver table in daemon/providers/*.c (where a
# provider registry may declare its own keys). A key counts as documented when the man
# page has a `.TP` entry whose tag starts with \fBKEY\fR. The test refuses to pass when it
# finds implausibly few keys, so a change of the table syntax cannot make it pass vacuously.
set -u
SRC=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
PAGE=$SRC/man/apilogin.conf.5
n=0 fail=0

keys=$(cat "$SRC"/core/conf.c "$SRC"/daemon/providers/*.c 2>/dev/null |
        grep -oE '\.name[[:space:]]*=[[:space:]]*"[a-z][a-z0-9_]*"' |
        sed -E 's/.*"(.*)"/\1/' | sort -u)
# Tags of the man page's .TP entries: the line after each .TP.
tags=$(awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$PAGE" |
        sed -nE 's/^\\fB([a-z][a-z0-9_]*)\\f[RPI].*/\1/p' | sort -u)
count=$(printf '%s\n' "$keys" | grep -c .)
echo "1..$((count + 1))"
n=$((n + 1))
if [ "$count" -ge 20 ]; then
        echo "ok $n - $count keys found in the parser's tables"
else
        echo "not ok $n - only $count keys found in core/conf.c: has the table syntax changed?"
        fail=$((fail + 1))
fi
for k in $keys; do
        n=$((n + 1))
        if printf '%s\n' "$tags" | grep -qxF "$k"; then
                echo "ok $n - $k is documented in apilogin.conf(5)"
        else
                echo "not ok $n - $k is accepted by the parser but missing from apilogin.conf(5)"
                fail=$((fail + 1))
        fi
done
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]

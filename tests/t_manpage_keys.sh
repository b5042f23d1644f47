#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_manpage_keys.sh: every key the config parser accepts is documented in apilogin.conf(5),
# and so is every provider type.
#
# The key list comes from the parser's own tables, as the daemon prints them
# (`apilogind --list-keys`: [global]'s keys, the keys every provider has, then each type's
# own keys from its driver, registered in daemon/providers/registry.c). A key counts as
# documented when the man page has a `.TP` entry whose tag starts with \fBKEY\fR; a type
# when the page names it in bold. The test refuses to pass when it finds implausibly few
# keys, so a change of the listing cannot make it pass vacuously.
set -u
SRC=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${top_builddir:-$SRC}
PAGE=$SRC/man/apilogin.conf.5
n=0 fail=0

list=$("$BUILD/daemon/apilogind" --list-keys) || { echo "Bail out! apilogind --list-keys failed"; exit 99; }
keys=$(printf '%s\n' "$list" | cut -f2 | sort -u)
types=$(printf '%s\n' "$list" | cut -f1 | grep -vxE 'global|provider' | sort -u)
# Tags of the man page's .TP entries: the line after each .TP.
tags=$(awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' "$PAGE" |
        sed -nE 's/^\\fB([a-z][a-z0-9_]*)\\f[RPI].*/\1/p' | sort -u)
count=$(printf '%s\n' "$keys" | grep -c .)
echo "1..$((count + $(printf '%s\n' "$types" | grep -c .) + 1))"
n=$((n + 1))
if [ "$count" -ge 30 ]; then
        echo "ok $n - $count keys listed by apilogind --list-keys"
else
        echo "not ok $n - only $count keys listed by apilogind --list-keys: has its format changed?"
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
for t in $types; do
        n=$((n + 1))
        if grep -qF "\\fB$t\\fR" "$PAGE"; then
                echo "ok $n - type $t is documented in apilogin.conf(5)"
        else
                echo "not ok $n - type $t is registered but missing from apilogin.conf(5)"
                fail=$((fail + 1))
        fi
done
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" = 0 ]

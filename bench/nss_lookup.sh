#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# nss_lookup.sh: run the NSS lookup benchmark (bench/nss_lookup.c) against the built module.
# Usage: bench/nss_lookup.sh [BUILD_DIR]   (default: the current directory)
# Needs root (a private mount namespace hides a tmpfs cache and a private /etc/passwd and
# nsswitch.conf; nothing on the host changes). Exits 77 when it cannot run.
set -eu
build=${1:-.}
mod=$build/nss_module/.libs/libnss_apilogin.so.2
prog=$build/bench/nss_lookup
[ -f "$mod" ] || mod=$build/libnss_apilogin.so.2
if [ ! -f "$mod" ] || [ ! -x "$prog" ]; then
        echo "nss_lookup.sh: build first (no $mod or $prog)" >&2
        exit 77
fi
if [ "$(id -u)" != 0 ]; then
        echo "nss_lookup.sh: needs root for a private mount namespace, skipping" >&2
        exit 77
fi
moddir=$(cd "$(dirname "$mod")" && pwd)
# LD_LIBRARY_PATH lets glibc itself load the module for the "glibc getpw*_r" rows.
LD_LIBRARY_PATH=$moddir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$prog" "$moddir/$(basename "$mod")"

#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# build.sh: configure (once) and build apilogin in the source tree, for the FHS paths the
# modules are compiled against (/etc, /var/lib/apilogin, /run/apilogin).
set -eu
cd "$(dirname "$0")/.."
if [ ! -f Makefile ]; then
        ./autogen.sh
        ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
                --libdir=/usr/lib/$(gcc -print-multiarch) --enable-warnings ${CONFIGURE_FLAGS:-} >/dev/null
fi
make -s -j2

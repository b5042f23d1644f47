#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# install-deps.sh: install the Debian packages apilogin needs to build, test and demo,
# skipping the ones already present. Debian 12 / Ubuntu 22.04 or newer.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
libpam0g-dev libcurl4-openssl-dev libcjson-dev libcdb-dev libkeyutils-dev
libcrypt-dev
libsystemd-dev libmicrohttpd-dev libcmocka-dev
pamtester openssh-server openssh-client sshpass libfaketime faketime
curl openssl iproute2 tmux util-linux python3 procps login passwd
clang libclang-rt-dev llvm valgrind strace
debhelper dh-nss devscripts lintian fakeroot mmdebstrap systemd-container"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
        echo "install-deps: run as root (or: sudo apt-get install -y$missing)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

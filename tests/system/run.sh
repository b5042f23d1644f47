#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/system/run.sh: apilogin as a Debian administrator meets it, on a booted Debian.
#
# Builds the .debs (scripts/build-debs.sh), makes a minimal bookworm root with mmdebstrap
# (packages from the Debian archive of this machine's apt sources; the tarball is cached
# in $CACHE, keyed by suite + package list), boots it with
#   systemd-nspawn --boot --private-network --volatile=overlay --register=no --keep-unit
# in a cgroup of its own (PID 1 of this machine need not be systemd), and drives it with
# nsenter into the container's namespaces. Inside: install the packages, check
# nsswitch.conf, the socket, the inert shipped config, the pam-auth-update profile, then a
# config pointing at refapi (this tree's build, bound in read-only) on 127.0.0.1, a real
# ssh login of a never-seen remote user, a local user's login, a daemon restart that keeps
# the session, a logout that revokes the token, and apt purge restoring common-* and
# nsswitch.conf byte for byte.
#
# Root only. Output is TAP-like, closing with "N passed, N failed". Everything it starts is
# stopped on every exit path; the whole run is bounded by SYSTEST_TIMEOUT seconds.
# Environment: SYSTEST_DEBS=DIR reuses already built .debs; SYSTEST_KEEP=1 keeps the work
# directory; CACHE=DIR (default /var/cache/apilogin-systest).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${top_builddir:-$SRC}
SUITE=bookworm
CACHE=${CACHE:-/var/cache/apilogin-systest}
TIMEOUT=${SYSTEST_TIMEOUT:-1200}
# What the image holds: systemd, sshd and ssh+sshpass to log in through it, curl for
# refapi's counters, and the run-time libraries of the packages and of refapi (the
# container has no network, so apt installs the .debs from what is there).
IMAGE_PKGS="systemd systemd-sysv dbus libpam-systemd openssh-server openssh-client sshpass
iproute2 procps curl libcurl4 libcjson1 libcdb1 libkeyutils1 libmicrohttpd12
libsystemd0"

if [ -z "${SYSTEST_INNER:-}" ]; then
        [ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
        export SYSTEST_INNER=1
        exec timeout --kill-after=20 "$TIMEOUT" bash "$0" "$@"
fi

N=0 PASS=0 FAIL=0
W= NSPAWN_PID= LEADER= CG_DIRS= BG_PIDS=
START=$(date +%s)
ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - $*"; }
# check DESCRIPTION CMD...: ok when CMD succeeds; its output is shown only when it fails.
check() {
        local d=$1
        shift
        if "$@" > "$W/check.out" 2>&1; then
                ok "$d"
        else
                not_ok "$d"
                tail -15 "$W/check.out" | sed 's/^/#   /'
        fi
}
not() { ! "$@"; }
note() { echo "# $*"; }
finish() {
        echo "1..$N"
        echo "$PASS passed, $FAIL failed ($(($(date +%s) - START)) s)"
        [ "$FAIL" = 0 ] && [ "$N" -gt 0 ]
        exit $?
}
bail() { echo "Bail out! $*"; FAIL=$((FAIL + 1)); finish; }

cleanup() {
        local p d
        trap - EXIT INT TERM
        for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
        if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
                # SIGTERM asks nspawn for a clean shutdown of the container.
                kill -TERM "$NSPAWN_PID" 2>/dev/null
                for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$NSPAWN_PID" 2>/dev/null
        fi
        wait 2>/dev/null
        for d in $CG_DIRS; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        if [ -n "$W" ] && [ -d "$W" ]; then
                grep -o " $W/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r |
                        while read -r m; do umount -l "$m" 2>/dev/null; done
                if [ -n "${SYSTEST_KEEP:-}" ]; then note "kept $W"; else rm -rf --one-file-system "$W"; fi
        fi
}
trap cleanup EXIT
trap 'echo "# interrupted (timeout?)"; FAIL=$((FAIL + 1)); finish' INT TERM

for t in mmdebstrap systemd-nspawn nsenter dpkg-buildpackage lintian; do
        command -v "$t" >/dev/null || { echo "1..0 # SKIP no $t (scripts/install-deps.sh)"; exit 77; }
done
W=$(mktemp -d /var/tmp/apilogin-systest.XXXXXX)
chmod 755 "$W"
mkdir -p "$W/share" "$CACHE"

# ---- 1. packages, refapi, root image -----------------------------------------------------
if [ -n "${SYSTEST_DEBS:-}" ]; then
        cp "$SYSTEST_DEBS"/*.deb "$W/share/" 2>/dev/null
else
        "$SRC/scripts/build-debs.sh" "$W/debs" | sed 's/^/# /'
        cp "$W"/debs/*.deb "$W/share/" 2>/dev/null
        [ -f "$W/debs/lintian.txt" ] && grep -E '^(E|W):' "$W/debs/lintian.txt" | sed 's/^/# lintian: /'
fi
rm -f "$W"/share/*-dbgsym_*.deb
n_debs=$(ls "$W"/share/*.deb 2>/dev/null | wc -l)
check "the three packages are built ($n_debs .debs)" [ "$n_debs" = 3 ]
[ "$n_debs" = 3 ] || bail "no packages"
[ -x "$BUILD/tests/refapi/refapi" ] || make -C "$BUILD" -s tests/refapi/refapi >/dev/null 2>&1
[ -x "$BUILD/tests/refapi/refapi" ] || bail "refapi not built ($BUILD/tests/refapi/refapi)"
cp "$BUILD/tests/refapi/refapi" "$SRC/tests/data/e2e_accounts.json" "$W/share/"

key=$(printf '%s %s\n' "$SUITE" "$IMAGE_PKGS" | tr -s ' \n' ' ' | sha256sum | cut -c1-16)
TARBALL=$CACHE/root-$SUITE-$key.tar
# A cache entry that is not a plain file (an interrupted or older run) is rebuilt.
[ -f "$TARBALL" ] || rm -rf "$TARBALL" "$TARBALL.tmp"
if [ ! -s "$TARBALL" ]; then
        t0=$(date +%s)
        # --format=tar: mmdebstrap picks the format from the name, and ".tmp" would
        # make it a directory.
        if mmdebstrap --variant=apt --format=tar --include="$(echo $IMAGE_PKGS | tr ' ' ,)" \
                "$SUITE" "$TARBALL.tmp" > "$W/mmdebstrap.log" 2>&1; then
                mv "$TARBALL.tmp" "$TARBALL"
                # Roots made for another package list are of no further use.
                find "$CACHE" -maxdepth 1 -name "root-$SUITE-*.tar" ! -name "$(basename "$TARBALL")" -delete
                note "root image built in $(($(date +%s) - t0)) s: $TARBALL"
        else
                rm -rf "$TARBALL.tmp"
                sed 's/^/# /' "$W/mmdebstrap.log" | tail -20
                bail "mmdebstrap failed"
        fi
fi
mkdir "$W/root"
tar -C "$W/root" -xf "$TARBALL" || bail "cannot unpack $TARBALL"
ok "a minimal Debian $SUITE root ($(du -sm "$W/root" | cut -f1) MB, cached as $(basename "$TARBALL"))"

# ---- 2. boot ------------------------------------------------------------------------------
# The container gets cgroups of its own, made here: with cgroup v1 (+ the unified
# hierarchy) a directory in name=systemd and in unified, with v2 one directory. The
# process that becomes nspawn moves into them before it execs.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        CG_DIRS="/sys/fs/cgroup/apilogin-systest.$$"
else
        CG_DIRS="/sys/fs/cgroup/systemd/apilogin-systest.$$"
        [ -d /sys/fs/cgroup/unified ] && CG_DIRS="$CG_DIRS /sys/fs/cgroup/unified/apilogin-systest.$$"
fi
(
        for d in $CG_DIRS; do mkdir -p "$d" && echo $BASHPID > "$d/cgroup.procs" || exit 1; done
        exec systemd-nspawn --quiet --register=no --keep-unit --boot --private-network \
                --volatile=overlay --console=read-only -D "$W/root" -M apilogin-systest \
                --bind-ro="$W/share:/mnt/systest"
) < /dev/null > "$W/console.log" 2>&1 &
NSPAWN_PID=$!
t0=$(date +%s.%N)
for _ in $(seq 200); do
        LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd | head -1)
        [ -n "$LEADER" ] && break
        kill -0 "$NSPAWN_PID" 2>/dev/null || break
        sleep 0.05
done
[ -n "$LEADER" ] || { sed 's/^/# /' "$W/console.log" | tail -20; bail "the container did not start"; }

# C CMD...: run CMD inside the container (all its namespaces, a clean environment).
C() {
        nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
                LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
# Until its manager answers (its private socket appears a little after PID 1 starts).
for _ in $(seq 600); do
        state=$(C timeout 60 systemctl is-system-running --wait 2>/dev/null)
        case $state in running|degraded|maintenance|stopping) break ;; esac
        sleep 0.1
done
boot_s=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
check "the container boots under systemd ($state in $boot_s s)" \
        test "$state" = running -o "$state" = degraded
[ "$state" = degraded ] && C systemctl --failed --no-legend | sed 's/^/#   failed: /'

# ---- 3. install ----------------------------------------------------------------------------
SSH_OPTS="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
-o PubkeyAuthentication=no -o PreferredAuthentications=password -o ConnectTimeout=10"
# ssh_as USER PASSWORD CMD: a real password login through the container's sshd.
ssh_as() {
        local u=$1 p=$2
        shift 2
        C env SSHPASS="$p" sshpass -e ssh $SSH_OPTS "$u@127.0.0.1" "$@"
}
# The administrator's state before apilogin: a local user, home directories made at login.
C useradd -m -s /bin/bash carol
echo 'carol:carol-pw-3Kz' | C chpasswd
C pam-auth-update --enable mkhomedir
C sh -c 'mkdir -p /root/before && cp -p /etc/pam.d/common-* /etc/nsswitch.conf /root/before/'

out=$(C sh -c 'apt-get install -y --no-install-recommends /mnt/systest/*.deb' 2>&1)
all_installed() {
        [ "$(C dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null | grep -c 'ok installed')" = $# ]
}
if all_installed apilogind libpam-apilogin libnss-apilogin; then
        ok "apt installs the packages offline (every dependency is in the image)"
else
        not_ok "apt installs the packages"
        printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'
fi
check "nsswitch.conf: apilogin right after files on passwd and group" \
        C grep -qE '^passwd:[[:space:]]+files apilogin( |$)' /etc/nsswitch.conf
C grep -E '^(passwd|group):' /etc/nsswitch.conf | sed 's/^/#   /'
check "nsswitch.conf group line too" C grep -qE '^group:[[:space:]]+files apilogin( |$)' /etc/nsswitch.conf
check "the pam-auth-update profile is installed but not enabled (Default: no)" \
        not C grep -q pam_apilogin /etc/pam.d/common-auth
check "apilogind.socket is enabled and listening" \
        C sh -c 'systemctl is-enabled -q apilogind.socket && systemctl is-active -q apilogind.socket && test -S /run/apilogin/socket'
check "apilogind.service is not running yet (socket-activated)" \
        not C systemctl is-active -q apilogind.service
check "the shipped config is a conffile" C grep -qx /etc/apilogin/apilogin.conf /var/lib/dpkg/info/apilogind.conffiles
check "the commented example is installed as documentation" \
        C test -s /usr/share/doc/apilogind/examples/apilogin.conf.example
check "man pages installed" C test -s /usr/share/man/man5/apilogin.conf.5.gz -a \
        -s /usr/share/man/man8/pam_apilogin.8.gz -a -s /usr/share/man/man8/nss_apilogin.8.gz \
        -a -s /usr/share/man/man8/apilogind.8.gz -a -s /usr/share/man/man8/apiloginctl.8.gz
check "apiloginctl check-config accepts the shipped config" C apiloginctl check-config

# ---- 4. inert until configured -----------------------------------------------------------
BOB_TOKEN=e0f36a30bbfb6299571c8694047fe5dd81228b7d75679a8cca68e551fb7e9a2f4edc5d20
out=$(echo "$BOB_TOKEN" | C apiloginctl test-login bob 2>&1)
check "with the shipped config the daemon answers a remote name 'not ours' ($out)" \
        grep -q '^user_unknown' <<<"$out"
check "... the first request started apilogind.service through its socket" \
        C systemctl is-active -q apilogind.service
t=$(C systemctl show -p Type -p WatchdogUSec apilogind.service | tr '\n' ' ')
check "the service is Type=notify with a watchdog ($t)" \
        grep -qE 'Type=notify.*WatchdogUSec=30s|WatchdogUSec=30s.*Type=notify' <<<"$t"
C pam-auth-update --enable apilogin
check "pam-auth-update --enable apilogin puts the module before pam_unix in common-auth" \
        C awk '/pam_apilogin/ { a = NR } /pam_unix/ && !u { u = NR } END { exit !(a && a < u) }' \
        /etc/pam.d/common-auth
C grep -h pam_apilogin /etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-session |
        sed 's/^/#   /'
check "... and into common-account and common-session" \
        C sh -c 'grep -q pam_apilogin /etc/pam.d/common-account && grep -q pam_apilogin /etc/pam.d/common-session'
check "profile enabled, nothing configured: a local user logs in over ssh (pam_unix)" \
        test "$(ssh_as carol carol-pw-3Kz id -un 2>&1)" = carol
check "... and a remote name does not" not ssh_as bob "$BOB_TOKEN" true

# ---- 5. configured: refapi inside the container ----------------------------------------
C systemd-run --quiet --unit=refapi /mnt/systest/refapi --accounts /mnt/systest/e2e_accounts.json \
        --port 8080
C sh -c 'for i in $(seq 100); do curl -sf http://127.0.0.1:8080/_stats >/dev/null && exit 0; sleep 0.1; done; exit 1' ||
        not_ok "refapi did not start"
stat_of() {
        C curl -s http://127.0.0.1:8080/_stats |
                python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}
C sh -c 'cat > /etc/apilogin/apilogin.conf' <<'EOF'
# written by tests/system/run.sh
[global]
providers = gps
first_login_from = sshd
timeout = 5s

[provider gps]
type = token_login
url = http://127.0.0.1:8080/wialon/ajax.html
EOF
check "apiloginctl check-config accepts the new config" C apiloginctl check-config
C systemctl reload apilogind
check "systemctl reload: the daemon reloads its config" \
        C sh -c 'for i in $(seq 50); do journalctl -q -u apilogind | grep -q "Reloaded /etc/apilogin/apilogin.conf" && exit 0; sleep 0.1; done; exit 1'
conf_sum=$(C md5sum /etc/apilogin/apilogin.conf)
C sh -c 'dpkg -i /mnt/systest/apilogind_*.deb' >/dev/null 2>&1
check "reinstalling the package keeps the edited config" test "$(C md5sum /etc/apilogin/apilogin.conf)" = "$conf_sum"

# A never-seen remote user's first ssh login, in a session that stays open.
check "bob is unknown to NSS before his first login" not C getent passwd bob
C env SSHPASS="$BOB_TOKEN" sshpass -e ssh $SSH_OPTS bob@127.0.0.1 \
        'echo $$ > /tmp/bob.pid; id > /tmp/bob.id; echo "$APILOGIN_TOKEN_FILE" > /tmp/bob.tf; pwd > /tmp/bob.pwd; exec sleep 600' \
        > "$W/bob-session.log" 2>&1 &
BG_PIDS="$BG_PIDS $!"
C sh -c 'for i in $(seq 150); do [ -s /tmp/bob.pid ] && [ -s /tmp/bob.tf ] && exit 0; sleep 0.1; done; exit 1'
idline=$(C cat /tmp/bob.id 2>/dev/null)
uid=$(sed -nE 's/^uid=([0-9]+)\(bob\).*/\1/p' <<<"$idline")
check "first ssh login of never-seen bob (token_login via refapi): id says '$idline'" \
        test -n "$uid" -a "${uid:-0}" -ge 200000 -a "${uid:-0}" -le 299999
[ -n "$uid" ] || sed 's/^/#   /' "$W/bob-session.log"
tf=$(C cat /tmp/bob.tf 2>/dev/null)
check "the session has APILOGIN_TOKEN_FILE ($tf), owned by bob, mode 0600" \
        test "$(C stat -c '%U %a' "${tf:-/nonexistent}" 2>/dev/null)" = "bob 600"
check "pam_mkhomedir made bob's home" test "$(C cat /tmp/bob.pwd 2>/dev/null)" = /home/bob
check "getent passwd bob answers from the NSS module now" C getent passwd bob
tok=$(C cat "${tf:-/nonexistent}" 2>/dev/null)
check "a local user still logs in over ssh with the provider configured" \
        test "$(ssh_as carol carol-pw-3Kz id -un 2>&1)" = carol
check "a wrong secret for a remote user is refused" not ssh_as bob wrong-token-123 true

# ---- 6. restart keeps the session; logout revokes ----------------------------------------
lo0=$(stat_of logout_token_login_ok)
C systemctl restart apilogind
check "systemctl restart apilogind: the daemon is active again" \
        C sh -c 'for i in $(seq 50); do systemctl is-active -q apilogind && exit 0; sleep 0.1; done; exit 1'
sleep 1
check "... bob's token file is still there, same token" \
        test -n "$tok" -a "$(C cat "${tf:-/nonexistent}" 2>/dev/null)" = "$tok"
check "... and was not logged out at the API" test "$(stat_of logout_token_login_ok)" = "$lo0"
C sh -c 'kill "$(cat /tmp/bob.pid)"'
check "logout (bob's session ends): the token is logged out at the API" \
        C sh -c "for i in \$(seq 100); do curl -s http://127.0.0.1:8080/_stats | grep -q '\"logout_token_login_ok\": *$((lo0 + 1))[,}]' && exit 0; sleep 0.1; done; exit 1"
check "... and the token file is gone" \
        C sh -c "for i in \$(seq 50); do [ ! -e '${tf:-/nonexistent}' ] && exit 0; sleep 0.1; done; exit 1"

# ---- 7. hardening score, purge --------------------------------------------------------------
score=$(C systemd-analyze security apilogind.service 2>/dev/null | grep -i 'overall exposure')
note "systemd-analyze security: ${score#→ }"
check "systemd-analyze security gives a score" test -n "$score"
out=$(C apt-get purge -y apilogind libpam-apilogin libnss-apilogin 2>&1)
installed() { C dpkg-query -W -f='${Status}\n' "$@" 2>/dev/null | grep -q 'ok installed'; }
check "apt purge removes the three packages" not installed apilogind libpam-apilogin libnss-apilogin
for f in common-auth common-account common-session common-password common-session-noninteractive; do
        check "after purge /etc/pam.d/$f is byte-identical to before install" \
                C cmp -s "/root/before/$f" "/etc/pam.d/$f"
done
check "after purge /etc/nsswitch.conf is byte-identical to before install" \
        C cmp -s /root/before/nsswitch.conf /etc/nsswitch.conf
check "after purge /etc/apilogin is gone" not C test -e /etc/apilogin/apilogin.conf
check "after purge a local user still logs in" test "$(ssh_as carol carol-pw-3Kz id -un 2>&1)" = carol
finish

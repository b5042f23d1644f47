#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rss.sh: apilogind's resident memory (VmRSS) over 100,000 logins: does it stay flat?
# The daemon runs against refapi on loopback (login_check, lockout off, no offline
# verifiers); bench/pam_auth_client makes the logins through the real pam_apilogin.so
# (pam_start..pam_authenticate..pam_end, never an open session, so every login leaves a
# pending token behind for the daemon to expire), in 2 processes. Half of the logins use
# a wrong password, and names rotate over 3 users (one unknown to the API, one disabled), so both outcomes and several counters
# are exercised. VmRSS is sampled at 0 (after one warm-up login), 10k, 50k and 100k logins.
# A benchmark, not a test: no threshold; the figures are printed side by side.
# Runs inside a private namespace like the e2e tests. Build first (./scripts/build.sh).
# Usage: bench/rss.sh [TOTAL_LOGINS]   (default 100000; samples at 10%, 50%, 100%)
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
. tests/e2e/lib.sh
e2e_init "$@"
TOTAL=${1:-100000}
CLIENT=$BUILD/bench/pam_auth_client
[ -x "$CLIENT" ] || { echo "rss: not built: $CLIENT" >&2; exit 1; }
refapi_start "$DATA/e2e_accounts.json"
config_write <<'CONF'
[global]
providers = fleet
lockout = off
timeout = 5s

[provider fleet]
type = login_check
url = @URL@/v1/login_check
CONF
DAEMON_FLAGS=--foreground daemon_start >/dev/null || exit 1
echo "auth required $PAM_SO config=$T/apilogin.conf" > /etc/pam.d/bench-rss

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status"; }

# logins N: N logins, spread over 2 processes and the 4 kinds below (N/8 per process and
# kind); prints pam_auth_client's lines as "#" comments.
logins() {
        local each=$(($1 / 8)) spec
        [ "$each" -ge 1 ] || return 0
        for spec in "alice alice-pw-7Qx" "alice wrong-pw-1" "nobody-else x-pw" "dave dave-pw-7Qx"; do
                set -- $spec
                "$CLIENT" bench-rss "$1" "$2" "$each" 2 | sed 's/^/# /'
        done
}

"$CLIENT" bench-rss alice alice-pw-7Qx 1 1 >/dev/null   # warm up: curl, TLS-less pool, cache
echo "# rss: $TOTAL logins against refapi at $REFAPI_URL, apilogind pid $DAEMON_PID"
s0=$(rss)
done_n=0
samples=()
for target in $((TOTAL / 10)) $((TOTAL / 2)) "$TOTAL"; do
        logins $((target - done_n))
        done_n=$target
        samples+=("$(rss)")
done
kill -0 "$DAEMON_PID" 2>/dev/null || { echo "rss: apilogind died" >&2; exit 1; }
label() { [ $(($1 % 1000)) = 0 ] && echo "$(($1 / 1000))k" || echo "$1"; }
echo "RSS after 0/$(label $((TOTAL / 10)))/$(label $((TOTAL / 2)))/$(label "$TOTAL") logins:" \
        "$s0/${samples[0]}/${samples[1]}/${samples[2]} kB"

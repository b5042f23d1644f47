#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# offline.sh: time to a login decision (PAM auth through pam_apilogin.so and apilogind,
# login_check against refapi on loopback, offline_login = yes, a verifier made by one
# online login first), median and max of R logins each, side by side:
#   (a) healthy API                      (online answer)
#   (b) API down: connection refused      (offline decision from the verifier)
#   (c1) API stalling, no offline_after  (the whole `timeout`: what other modules wait,
#                                         then the offline decision)
#   (c2) API stalling, offline_after = 2s (the latency budget)
# timeout is TIMEOUT (default 10s). Runs inside a private namespace like the e2e tests.
# Build first (./scripts/build.sh). Usage: bench/offline.sh [R] [TIMEOUT_S]
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
. tests/e2e/lib.sh
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
R=${1:-3}
TO=${2:-10}
PW=alice-pw-7Qx
STALL_SECONDS=$((TO + 10)) refapi_start "$DATA/e2e_accounts.json"

# measure LABEL: R logins of alice; prints median and max in ms, and the outcomes seen.
measure() {
        local i t0 ms all=() outs=""
        for i in $(seq "$R"); do
                t0=$(date +%s%N)
                login apilogin-test alice "$PW"
                ms=$(( ($(date +%s%N) - t0) / 1000000 ))
                all+=("$ms")
                outs="$outs $(printf '%s' "$OUT" | sed -n 's/^auth: //p' | tr ' ' '_')"
        done
        sorted=$(printf '%s\n' "${all[@]}" | sort -n)
        printf '%-40s median %6d ms  max %6d ms  (%s)\n' "$1" \
                "$(echo "$sorted" | sed -n "$(( (R + 1) / 2 ))p")" "$(echo "$sorted" | tail -1)" \
                "$(echo $outs | tr ' ' '\n' | sort | uniq -c | tr '\n' ' ')"
}

run_daemon() {
        daemon_stop
        TIMEOUT=${TO}s standard_config "offline_login = yes
$1"
        daemon_start || exit 1
}

run_daemon ""
login apilogin-test alice "$PW"   # online: leaves the verifier
wait_until 5 test -s /var/lib/apilogin/private/offline/alice || { echo "Bail out! no verifier"; exit 1; }
echo "# time to a decision, $R logins each, timeout = ${TO}s"
measure "(a) healthy API"
refapi_fault /v1/login_check stall
measure "(c1) stalling API, no offline_after"
run_daemon "offline_after = 2s"
measure "(c2) stalling API, offline_after = 2s"
refapi_fault /v1/login_check none
refapi_stop
measure "(b) API down (refused)"
echo "# baseline: a module without a latency budget waits the whole timeout = $((TO * 1000)) ms on a stalling API"

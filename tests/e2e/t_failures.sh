#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_failures.sh: everything that is not a definite answer maps to PAM_AUTHINFO_UNAVAIL, so
# pam_unix can still serve local users: API down, stalled (answer within timeout + 1 s),
# HTTP 500, a garbage body, an oversized body, and no daemon at all.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
STALL_SECONDS=20 refapi_start "$DATA/e2e_accounts.json"
TIMEOUT=2s standard_config
daemon_start || exit 1
UNAVAIL="auth: Authentication service cannot retrieve authentication info"
PW=alice-pw-7Qx

for mode in 500 garbage oversized; do
        refapi_fault /v1/login_check $mode
        login apilogin-test alice "$PW"
        expect_pam "HTTP fault '$mode' maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
done

refapi_fault /v1/login_check stall
start=$(date +%s%N)
login apilogin-test alice "$PW"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_pam "a stalled API maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
check "the stalled login answered within timeout + 1 s (took ${ms} ms)" [ "$ms" -lt 3000 ]
refapi_fault /v1/login_check none
login apilogin-test alice "$PW"
expect_pam "the API answers again after the fault is cleared" "auth: Success"

# API down: a closed port on loopback.
daemon_stop
kill "$REFAPI_PID"; wait "$REFAPI_PID" 2>/dev/null; REFAPI_PID=
daemon_start || exit 1
login apilogin-test alice "$PW"
expect_pam "API down (closed port) maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"

# No daemon.
daemon_stop
start=$(date +%s%N)
login apilogin-test alice "$PW"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_pam "no daemon maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
check "and answers at once (${ms} ms)" [ "$ms" -lt 1000 ]
out=$(printf 'x\n' | pamtester apilogin-stack nobody authenticate 2>&1)
check "the realistic stack falls through to pam_unix for a local user" grep -q "Authentication failure" <<<"$out"
check "no log holds the password" logs_clean "$PW"
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_failover.sh: an unreachable, stalled or 5xx endpoint moves on to the next (fallback_urls,
# then the next provider in `providers`); a definite answer stops there; the whole login
# stays inside `timeout`; the log says which endpoint answered.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
STALL_SECONDS=30 refapi_start "$DATA/e2e_accounts.json"
A_URL=$REFAPI_URL A_PID=$REFAPI_PID
# a second, independent API server for the second provider
"$REFAPI" --accounts "$DATA/e2e_accounts.json" --port 0 --port-file "$T/b.port" > "$T/b.log" 2>&1 &
B_PID=$!
for _ in $(seq 100); do [ -s "$T/b.port" ] && break; sleep 0.05; done
B_URL=http://127.0.0.1:$(cat "$T/b.port")
config_write <<CONF
[global]
providers = first second
timeout = 4s
lockout = off

[provider first]
type = login_check
url = http://127.0.0.1:9/v1/login_check
fallback_urls = $A_URL/v1/login_check

[provider second]
type = login_check
url = $B_URL/v1/login_check
CONF
daemon_start || exit 1
bstat() { curl -s "$B_URL/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"; }

login apilogin-test alice alice-pw-7Qx
expect_pam "a dead first URL fails over to the live fallback URL" "auth: Success"
check "the fallback answered, not the second provider" test "$(refstat login_check_ok)" = 1 -a "$(bstat login_check)" = 0
check "the log names the endpoint that answered" grep -q "$A_URL/v1/login_check" "$T/daemon.log"

login apilogin-test alice wrong
expect_pam "a definite answer (wrong password) stops there" "auth: Authentication failure"
check "the second provider was not asked" [ "$(bstat login_check)" = 0 ]

refapi_fault /v1/login_check 500
login apilogin-test alice alice-pw-7Qx
expect_pam "a 5xx moves on to the second provider" "auth: Success"
check "the second provider answered" [ "$(bstat login_check_ok)" = 1 ]

refapi_fault /v1/login_check stall
start=$(date +%s%N)
login apilogin-test alice alice-pw-7Qx
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_pam "a stalled first provider fails over to the second" "auth: Success"
check "the second provider answered again" [ "$(bstat login_check_ok)" = 2 ]
check "the whole login stayed inside timeout (4 s; took ${ms} ms)" [ "$ms" -lt 4000 ]

curl -s -X POST "$B_URL/_fault?path=/v1/login_check&mode=stall" >/dev/null
start=$(date +%s%N)
login apilogin-test alice alice-pw-7Qx
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_pam "everything stalled: PAM_AUTHINFO_UNAVAIL" "auth: Authentication service cannot retrieve authentication info"
check "... still inside timeout + 1 s (took ${ms} ms)" [ "$ms" -lt 5000 ]
kill "$B_PID" 2>/dev/null
e2e_done

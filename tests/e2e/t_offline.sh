#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_offline.sh: offline_login = yes. An online login leaves a yescrypt verifier (root 0600
# in a 0700 directory, no file holds the password); with the API down the same password
# logs in offline, a wrong one is refused, a never-seen user is unavailable; the session
# says "offline": true and gets a fresh token once the API is back; a stalling API with
# offline_after = 2s answers in about 2 s; "wrong password" online deletes the verifier;
# offline_max_age expires it.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
STALL_SECONDS=20 refapi_start "$DATA/e2e_accounts.json"
TIMEOUT=3s standard_config "offline_login = yes"
daemon_start || exit 1
UNAVAIL="auth: Authentication service cannot retrieve authentication info"
FAIL="auth: Authentication failure"
PW=alice-pw-7Qx
V=$STATEDIR/private/offline/alice

login apilogin-test alice "$PW"
expect_pam "online login succeeds" "auth: Success"
check "a verifier was written" wait_until 5 test -s "$V"
check "the verifier is root 0600" [ "$(stat -c '%u %a' "$V")" = "0 600" ]
check "its directory is root 0700" [ "$(stat -c '%u %a' "$(dirname "$V")")" = "0 700" ]
check "it holds a yescrypt hash" grep -q ' \$y\$' "$V"

# API down (closed port).
refapi_stop
login apilogin-test alice "$PW"
expect_pam "API down: the same password logs in offline" "auth: Success"
check "logged as an offline login" wait_until 2 grep -qs 'user=alice.*offline login' "$T/syslog.txt" "$T/daemon.log"
login apilogin-test alice wrong-pw
expect_pam "API down: a wrong password is refused" "$FAIL"
login apilogin-test eve "$PW"
expect_pam "API down: a never-seen user is unavailable" "$UNAVAIL"

# An offline session: token.json says offline, no token; the API comes back.
session_bg a apilogin-test alice "$PW" 40
check "the offline session opened" wait_until 10 grep -q "open: Success" "$T/sess_a.out"
check "token.json says offline: true" wait_until 3 bash -c "[ \"\$(python3 -c \"import json;print(json.load(open('$(dirname "$(token_path alice)")/token.json'))['offline'])\")\" = True ]"
check "and has no token" [ ! -s "$(token_path alice)" ]
check "the password waits in the keyring" key_present alice
refapi_start_again "$DATA/e2e_accounts.json"
check "API back: the token file gets a token" wait_until 40 token_ready alice
check "token.json says offline: false" wait_until 3 bash -c "[ \"\$(python3 -c \"import json;print(json.load(open('$(dirname "$(token_path alice)")/token.json'))['offline'])\")\" = False ]"
tok=$(cat "$(token_path alice)")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$REFAPI_URL/v1/whoami")
check "the API accepts the fresh token (HTTP $code)" [ "$code" = 200 ]
session_end a

# The latency budget: a stalling API with offline_after = 2s.
daemon_stop
TIMEOUT=10s standard_config "offline_login = yes
offline_after = 2s"
daemon_start || exit 1
refapi_fault /v1/login_check stall
start=$(date +%s%N)
login apilogin-test alice "$PW"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_pam "stalling API + offline_after = 2s: offline success" "auth: Success"
check "answered within the budget plus margin (${ms} ms < 4000)" [ "$ms" -lt 4000 ]
refapi_fault /v1/login_check none

# A definite "wrong password" online deletes the verifier.
login apilogin-test alice "$PW"
check "verifier present before" test -s "$V"
refapi_stop
sed "s/alice-pw-7Qx/alice-NEW-pw/" "$DATA/e2e_accounts.json" > "$T/changed.json"
refapi_start_again "$T/changed.json"
sleep 2.1  # non-root rate limit does not apply to root; keep logins apart anyway
login apilogin-test alice "$PW"
expect_pam "the old password is refused online" "$FAIL"
check "the verifier is deleted" [ ! -e "$V" ]
refapi_stop
login apilogin-test alice "$PW"
expect_pam "and the old password no longer logs in offline" "$UNAVAIL"

# offline_max_age of a few seconds.
refapi_start_again "$T/changed.json"
daemon_stop
TIMEOUT=3s standard_config "offline_login = yes
offline_max_age = 3s"
daemon_start || exit 1
login apilogin-test alice alice-NEW-pw
check "verifier written again" wait_until 5 test -s "$V"
refapi_stop
login apilogin-test alice alice-NEW-pw
expect_pam "within offline_max_age: offline success" "auth: Success"
sleep 4
login apilogin-test alice alice-NEW-pw
expect_pam "after offline_max_age: unavailable" "$UNAVAIL"

for s in "$PW" alice-NEW-pw; do
        hex=$(printf '%s' "$s" | od -An -tx1 | tr -d ' \n')
        b64=$(printf '%s' "$s" | base64)
        url=$(python3 -c "import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=''))" "$s")
        check "no file under /run or /var/lib holds the password ($s: plain, hex, base64, URL)" \
                bash -c "! grep -rqsiF -e '$s' -e '$hex' -e '$b64' -e '$url' /run /var/lib"
done
check "no log holds a password" logs_clean "$PW" alice-NEW-pw
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_refresh.sh: apilogind keeps a session's token fresh in the background, with tokens
# that live 3 seconds: login_check through its refresh_url (the token file changes in
# place before each expiry, refapi counts the refreshes, the token in the file is never
# stale, owner and mode stay), rest_login through its refresh grant, and renew = none
# (jsonrpc), whose token simply expires and token.json says so.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
cat > "$T/accounts.json" <<'EOF'
{"token_ttl": 3,
 "login_check": [{"username": "alice", "password": "alice-pw-7Qx"}],
 "jsonrpc": [{"login": "erin", "password": "erin-pw-7Qx"}],
 "rest_login": [{"username": "frank", "password": "frank-pw-7Qx",
                 "domain": "tenant.example.com", "role": "Admin"}]}
EOF
refapi_start "$T/accounts.json"
config_write <<'CONF'
[global]
providers = fleet
timeout = 3s

[provider fleet]
type = login_check
url = @URL@/v1/login_check
refresh_url = @URL@/v1/token/refresh

[provider calls]
type = jsonrpc
url = @URL@/v4.0

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com
CONF
daemon_start || exit 1
add_service apilogin-calls provider=calls
add_service apilogin-pbx provider=pbx

# session_until NAME SERVICE USER SECRET: session_bg whose command lasts until the test
# calls session_done NAME (at most 300 s), not a fixed time: on a loaded machine the
# checks made inside the session may take longer than the session would have lasted.
session_until() {
        printf '%s\n' "$4" | "$PAM_SESSION" "$2" "$3" auth open \
                "run:i=0; while [ ! -e $T/done_$1 ] && [ \$i -lt 1500 ]; do sleep 0.2; i=\$((i + 1)); done" \
                close > "$T/sess_$1.out" 2>&1 &
        printf -v "SESS_$1" '%s' "$!"
}
session_done() {
        touch "$T/done_$1"
        wait "$(eval echo "\$SESS_$1")"
}

# ---- login_check with refresh_url ---------------------------------------------------------
PW=alice-pw-7Qx
session_until a apilogin-test alice "$PW"
check "alice's session opened with a token file" wait_until 5 token_ready alice
tf=$(token_path alice)
uid=$(id -u alice)
# Sample the file for 7 s (more than two lifetimes): every read must be one whole token,
# and the token in the file must always be accepted by the API (never stale).
: > "$T/tokens.txt"
bad_read=0 stale=0
end=$((SECONDS + 7))
while [ $SECONDS -lt $end ]; do
        tok=$(cat "$tf" 2>/dev/null)
        [[ $tok =~ ^[0-9a-f]{32}$ ]] || bad_read=$((bad_read + 1))
        echo "$tok" >> "$T/tokens.txt"
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
                "$REFAPI_URL/v1/whoami")
        [ "$code" = 200 ] || stale=$((stale + 1))
        sleep 0.25
done
n_tokens=$(sort -u "$T/tokens.txt" | wc -l)
check "every read of the token file gave one whole token" [ "$bad_read" = 0 ]
check "the token file changed in place at least twice in 7 s (3 s tokens): $n_tokens tokens" \
        [ "$n_tokens" -ge 3 ]
check "the API accepted the file's token at every sample (never stale): $stale stale" \
        [ "$stale" = 0 ]
check "refapi counted the refreshes (refresh_ok >= 2)" [ "$(refstat refresh_ok)" -ge 2 ]
check "no refresh was refused" [ "$(refstat refresh_fail)" = 0 ]
check "the refreshed file keeps owner and mode 0600" [ "$(stat -c '%u %a' "$tf")" = "$uid 600" ]
check "token.json carries the refreshed token, state valid" \
        wait_until 2 token_json_matches alice valid
exp=$(token_json_get alice expires_at)
check "token.json's expiry lies ahead" [ "${exp%.*}" -gt "$(date +%s)" ]
check "no password was kept for a provider that refreshes" key_absent alice
session_done a
check "the session closed normally" grep -q "close: Success" "$T/sess_a.out"
check "the last close removed the token files" [ ! -e "$tf" ]
n=$(refstat refresh)
sleep 3
check "no refresh after the session ended" [ "$(refstat refresh)" = "$n" ]

# ---- rest_login: the refresh_token grant --------------------------------------------------
session_until f apilogin-pbx frank frank-pw-7Qx
check "frank's session opened" wait_until 5 token_ready frank
t0=$(cat "$(token_path frank)")
check "rest_login token refreshed through auth/refresh_token" \
        wait_until 5 refstat_ge rest_refresh_ok 1
check "frank's token file changed" bash -c "[ \"\$(cat '$(token_path frank)')\" != '$t0' ]"
session_done f

# ---- renew = none (jsonrpc's default): plain expiry -----------------------------------------
session_until e apilogin-calls erin erin-pw-7Qx
check "erin's session opened" wait_until 5 token_ready erin
t0=$(cat "$(token_path erin)")
# grep, not token_json_get: the token lives 3 s, and python3 can take seconds to start on
# a loaded machine.
check "token.json says valid at first" \
        grep -q '"state":"valid"' "$(dirname "$(token_path erin)")/token.json"
check "after the expiry token.json says expired" \
        wait_until 6 token_state_is erin expired
check "the expired token was not renewed (one login)" [ "$(refstat jsonrpc_login_ok)" = 1 ]
check "the token file still holds the token it had" [ "$(cat "$(token_path erin)")" = "$t0" ]
check "the expiry was logged once" [ "$(grep -c 'Token of erin at provider calls.*marked expired' "$T/daemon.log")" = 1 ]
session_done e

check "no log holds a password" logs_clean "$PW" frank-pw-7Qx erin-pw-7Qx
check "no log holds a token" logs_clean $(sort -u "$T/tokens.txt")
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_backoff.sh: the API goes down while tokens need renewing (3-second tokens): apilogind
# backs off exponentially instead of hammering it, and recovers when it is back on the
# same port. The restarted API knows none of the old tokens: login_check with
# renew = relogin falls back from the refused refresh to a re-login; rest_login, which
# cannot log in again, marks the token expired in token.json and logs it once, with no
# retry loop.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
cat > "$T/accounts.json" <<'EOF'
{"token_ttl": 3,
 "login_check": [{"username": "alice", "password": "alice-pw-7Qx"}],
 "rest_login": [{"username": "frank", "password": "frank-pw-7Qx",
                 "domain": "tenant.example.com", "role": "Admin"}]}
EOF
refapi_start "$T/accounts.json"
config_write <<'CONF'
[global]
providers = fleet
timeout = 2s

[provider fleet]
type = login_check
url = @URL@/v1/login_check
refresh_url = @URL@/v1/token/refresh
renew = relogin

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com
CONF
daemon_start || exit 1
add_service apilogin-pbx provider=pbx

# 300 s, ended by session_end below: on a loaded machine the checks may outlast 50 s.
session_bg a apilogin-test alice alice-pw-7Qx 300
session_bg f apilogin-pbx frank frank-pw-7Qx 300
check "both sessions opened" wait_until 5 token_ready alice
wait_until 5 token_ready frank
check "alice's token was refreshed while the API was up" wait_until 5 refstat_ge refresh_ok 1
check "frank's token was refreshed while the API was up" wait_until 5 refstat_ge rest_refresh_ok 1

refapi_stop
sleep 10
grep -E "Failed to renew the token of alice" "$T/daemon.log" > "$T/fails.txt"
n_fail=$(wc -l < "$T/fails.txt")
check "the failures were logged as a warning once, then at debug level" \
        [ "$(grep -c "warning: Failed to renew the token of alice" "$T/fails.txt")" = 1 ]
check "in 10 s down, a few attempts only (backoff, not a loop): $n_fail" \
        [ "$n_fail" -ge 2 -a "$n_fail" -le 6 ]
grep -oE "retrying in [0-9.]+ s" "$T/fails.txt" | grep -oE "[0-9.]+" > "$T/waits.txt"
check "each wait longer than the one before: $(tr '\n' ' ' < "$T/waits.txt")" \
        python3 -c "import sys; w=[float(x) for x in open('$T/waits.txt')]; sys.exit(not all(b > a for a, b in zip(w, w[1:])))"

refapi_start_again "$T/accounts.json"
check "alice's token recovered once the API was back" \
        wait_until 20 grep -q "Renewed the token of alice at provider fleet after" "$T/daemon.log"
check "the refused refresh fell back to a re-login" \
        grep -q "Token of alice at provider fleet was refused on renewal.*logging in again" "$T/daemon.log"
tok=$(cat "$(token_path alice)")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$REFAPI_URL/v1/whoami")
check "alice's token file holds a token the new API accepts" [ "$code" = 200 ]
check "and it is refreshed again afterwards" wait_until 5 refstat_ge refresh_ok 1
check "frank's token is marked expired in token.json" wait_until 20 token_state_is frank expired
check "that was logged once" [ "$(grep -c "Token of frank at provider pbx was refused on renewal" "$T/daemon.log")" = 1 ]
n=$(refstat rest_refresh)
sleep 4
check "no retry loop for frank's refused token" [ "$(refstat rest_refresh)" = "$n" ]
check "alice's session is still served" token_state_is alice valid
session_end a
session_end f
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_keepalive.sh: token_login (Wialon) sessions die after session_idle seconds without a
# call (3 s here); apilogind keeps them alive with avl_evts (every second here, through
# APILOGIND_KEEPALIVE_S), so the session outlives the idle limit; when the session dies
# anyway (logged out remotely) the daemon logs in again with the user's access token from
# the kernel keyring, and the token file gets the new session id.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
cat > "$T/accounts.json" <<EOF
{"session_idle": 3,
 "token_login": [{"token": "$BOB_TOKEN", "user": "bob", "display_name": "Bob Builder"}]}
EOF
refapi_start "$T/accounts.json"
config_write <<'CONF'
[global]
providers = gps
timeout = 3s

[provider gps]
type = token_login
url = @URL@/wialon/ajax.html
CONF
APILOGIND_KEEPALIVE_S=1 daemon_start || exit 1

# The session lasts until the checks inside it are done (at most 300 s), not a fixed
# time: on a loaded machine they may take longer than 14 s.
printf '%s\n' "$BOB_TOKEN" | "$PAM_SESSION" apilogin-test bob auth open \
        "run:i=0; while [ ! -e $T/done_b ] && [ \$i -lt 1500 ]; do sleep 0.2; i=\$((i + 1)); done" \
        close > "$T/sess_b.out" 2>&1 &
SESS_b=$!
check "bob's session opened" wait_until 5 token_ready bob
tf=$(token_path bob)
sid=$(cat "$tf")
check "the access token is kept in the keyring for re-login" key_present bob
check "refapi counted keep-alives (avl_evts_ok >= 3 in 5 s)" wait_until 5 refstat_ge avl_evts_ok 3
sleep 3
# 8 s after the login, with no call but the daemon's: the session must still be alive.
check "the session id is unchanged (no re-login was needed)" [ "$(cat "$tf")" = "$sid" ]
check "one token/login so far" [ "$(refstat token_login_ok)" = 1 ]
check "the session outlived its 3 s idle limit" \
        bash -c "curl -s '$REFAPI_URL/avl_evts?sid=$sid' | grep -q '\"tm\"'"

# The API ends the session: the next keep-alive fails, and the daemon logs in again.
curl -s "$REFAPI_URL/wialon/ajax.html?svc=core/logout&params=%7B%7D&sid=$sid" > "$T/logout.txt"
check "the session was logged out remotely" grep -q '"error":0' "$T/logout.txt"
check "the daemon logged in again with the kept token" wait_until 5 refstat_ge token_login_ok 2
check "the token file holds the new session id" wait_until 2 token_differs bob "$sid"
sid2=$(cat "$tf")
check "the new session id is alive" \
        bash -c "curl -s '$REFAPI_URL/avl_evts?sid=$sid2' | grep -q '\"tm\"'"
check "the re-login was logged" grep -q "Token of bob at provider gps was refused on renewal" "$T/daemon.log"
check "no file under /run or /var/lib holds the access token" no_file_holds "$BOB_TOKEN"

touch "$T/done_b"
wait "$SESS_b"
check "the session closed" grep -q "close: Success" "$T/sess_b.out"
check "the close called core/logout" wait_until 3 refstat_ge logout_token_login_ok 2
check "the token files are gone" [ ! -e "$tf" ]
check "the keyring key is gone" key_absent bob
n=$(refstat avl_evts)
sleep 2
check "no keep-alive after the end" [ "$(refstat avl_evts)" = "$n" ]
check "no log holds the access token or a session id" logs_clean "$BOB_TOKEN" "$sid" "$sid2"
e2e_done

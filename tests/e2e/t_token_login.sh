#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_token_login.sh: the token_login (Wialon) API end to end: right token, wrong token,
# another user's token, disabled user, the session id handed to the session and logged out
# (core/logout) when the last session closes.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1

login apilogin-gps bob "$BOB_TOKEN" auth acct
expect_pam "bob logs in with his 72-character token" "acct: Success"
login apilogin-gps bob "${BOB_TOKEN%?}x"
expect_pam "a wrong token is refused" "auth: Authentication failure"
login apilogin-gps bob "short-token"
expect_pam "a token of the wrong length is refused" "auth: Authentication failure"
n=$(refstat token_login)
login apilogin-gps bob "$EVE_TOKEN"
expect_pam "eve's token does not log in bob (au check)" "auth: Authentication failure"
check "that attempt did reach the API" [ "$(refstat token_login)" = $((n + 1)) ]
login apilogin-gps boris 1a1cc24070ae45cf4ba8299f43dc4d15dfc9dab5a81216dfeaf864e14b0f2b726fd746d2
expect_pam "a disabled user is refused" "auth: Permission denied"

login apilogin-gps bob "$BOB_TOKEN" auth open \
        'run:curl -s "'"$REFAPI_URL"'/avl_evts?sid=$(cat "$APILOGIN_TOKEN_FILE")" > '"$T/evts.txt"'; cat "$APILOGIN_TOKEN_FILE" > '"$T/sid.txt" close
expect_pam "session opened and closed" "close: Success"
check "the token file holds a live Wialon session id" grep -q '"tm"' "$T/evts.txt"
check "closing the last session called core/logout" [ "$(refstat logout_token_login)" -ge 1 ]
sid=$(cat "$T/sid.txt")
check "the session id is dead after logout" bash -c "! curl -s '$REFAPI_URL/avl_evts?sid=$sid' | grep -q tm"
check "getent passwd bob shows the display name" grep -q "^bob:\*:[0-9]*:[0-9]*:Bob Builder:" <<<"$(getent passwd bob)"
check "no log holds the token or the session id" logs_clean "$BOB_TOKEN" "$sid"
e2e_done

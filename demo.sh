#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# demo.sh: from a fresh Debian 12 machine to a real login through apilogin in one command.
# Installs what is missing, builds, then inside a private mount + network namespace (the
# host's /etc, /run and /var are never touched) starts the bundled reference API server on
# 127.0.0.1 and apilogind, logs a demo user in through pam_apilogin.so with pamtester, and
# resolves the user through libnss_apilogin with getent and id.
set -euo pipefail
cd "$(dirname "$0")"
if [ -z "${APILOGIN_E2E_NS:-}" ]; then
        echo "== 1. installing missing packages (Debian)"
        ./scripts/install-deps.sh
        echo "== 2. building"
        ./scripts/build.sh
        make -s tests/e2e/pam_session
fi
. tests/e2e/lib.sh
e2e_init "$@"
set +e

step() { printf '\n== %s\n' "$*"; }
show() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/   /'; }

step "3. reference login APIs on 127.0.0.1 (tests/refapi, accounts: tests/refapi/accounts.example.json)"
refapi_start "$SRC/tests/refapi/accounts.example.json"
echo "   refapi listening at $REFAPI_URL"
step "4. config $T/apilogin.conf"
config_write <<'CONF'
[global]
providers = fleet
timeout = 5s

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider gps]
type = token_login
url = @URL@/wialon/ajax.html

[provider calls]
type = jsonrpc
url = @URL@/v4.0

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com

[provider room]
type = ws_auth
url = ws://127.0.0.1:@PORT@/
users = kiosk:user
CONF
sed 's/^/   /' "$T/apilogin.conf"
step "5. apilogind"
daemon_start && echo "   apilogind running (pid $DAEMON_PID), socket /run/apilogin/socket"
step "6. PAM service /etc/pam.d/apilogin-test (inside the namespace only)"
sed 's/^/   /' /etc/pam.d/apilogin-test
step "7. before the login, NSS does not know alice"
show bash -c 'getent passwd alice || echo "(getent: alice not found)"' 
step "8. log alice in through pam_apilogin.so (password alice-pw)"
show bash -c "echo alice-pw | pamtester -v apilogin-test alice authenticate acct_mgmt"
step "9. resolve alice through libnss_apilogin"
show getent passwd alice
show id alice
step "10. a session: the token file handed to alice's session"
echo alice-pw | "$PAM_SESSION" apilogin-test alice auth open \
        'run:echo "   APILOGIN_TOKEN_FILE=$APILOGIN_TOKEN_FILE"; ls -ln "$APILOGIN_TOKEN_FILE" | sed "s/^/   /"' close |
        sed 's/^/   /'
step "11. a wrong password"
show bash -c "echo nope | pamtester apilogin-test alice authenticate"
step "12. bob logs in with a Wialon token through the token_login provider"
show bash -c "echo e0f36a30bbfb6299571c8694047fe5dd81228b7d75679a8cca68e551fb7e9a2f4edc5d20 | pamtester apilogin-gps bob authenticate"
show getent passwd bob
step "13. erin logs in through the jsonrpc provider (UIS login.user)"
add_service apilogin-calls provider=calls
show bash -c "echo erin-pw | pamtester apilogin-calls erin authenticate"
step "14. user 1002 of tenant.example.com logs in through the rest_login provider (PortSIP, cookie variant)"
add_service apilogin-pbx provider=pbx
show bash -c "echo gina-pw | pamtester apilogin-pbx 1002 authenticate"
step "15. the kiosk logs in with the room's PIN through the ws_auth provider (TrueConf, WebSocket)"
add_service apilogin-room provider=room
echo 1234 | "$PAM_SESSION" apilogin-room kiosk auth open \
        'run:echo "   token.json keys: $(python3 -c "import json,sys; print(sorted(json.load(open(sys.argv[1]))))" "$(dirname "$APILOGIN_TOKEN_FILE")/token.json")"' close |
        sed 's/^/   /'
step "16. what the API saw"
show curl -s "$REFAPI_URL/_stats"
echo
step "done: everything ran inside a private namespace; nothing on the host changed."

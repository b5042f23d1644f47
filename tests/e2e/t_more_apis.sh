#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_more_apis.sh: the jsonrpc (UIS login.user) and rest_login (PortSIP /api/login) APIs end
# to end: right/wrong credentials, disabled account, rate limit, API faults, both rest_login
# success shapes (token in the POST body; empty 200 + cookie, then GET /login), the role
# kept in token.json, and logout at the last close.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
STALL_SECONDS=20 refapi_start "$DATA/e2e_accounts.json"
config_write <<'CONF'
[global]
providers = calls
timeout = 2s
lockout = off

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
UNAVAIL="auth: Authentication service cannot retrieve authentication info"
SHOW='run:cp "$(dirname "$APILOGIN_TOKEN_FILE")/token.json" '"$T/token.json"

# --- jsonrpc ---
login apilogin-calls erin erin-pw-7Qx auth acct open "$SHOW" close
expect_pam "jsonrpc: right password opens a session" "close: Success"
check "jsonrpc: token.json has the access token and its expire_at" \
        python3 -c "import json,sys,time; d=json.load(open('$T/token.json')); sys.exit(not (len(d['token'])>8 and d['expires_at']>time.time()))"
check "jsonrpc: refapi counted login.user" [ "$(refstat jsonrpc_login_ok)" = 1 ]
check "jsonrpc: the last close called logout.user" [ "$(refstat jsonrpc_logout_ok)" = 1 ]
login apilogin-calls erin wrong
expect_pam "jsonrpc: wrong password (auth_error)" "auth: Authentication failure"
login apilogin-calls ivan ivan-pw-7Qx
expect_pam "jsonrpc: account_inactive is refused as expired" "auth: User account has expired"
login apilogin-calls lena lena-pw-7Qx
expect_pam "jsonrpc: -32029 limit_exceeded maps to PAM_MAXTRIES" "auth: Have exhausted maximum number of retries"
login apilogin-calls ipek ipek-pw-7Qx
expect_pam "jsonrpc: ip_not_whitelisted maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
check "jsonrpc: ip_not_whitelisted is logged loudly" grep -q "not whitelisted" "$T/daemon.log"
for mode in garbage 500 stall; do
        refapi_fault /v4.0 $mode
        login apilogin-calls erin erin-pw-7Qx
        expect_pam "jsonrpc: API fault '$mode' maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
done
refapi_fault /v4.0 none

# --- rest_login ---
login apilogin-pbx frank frank-pw-7Qx auth acct open "$SHOW" close
expect_pam "rest_login: token in the POST body opens a session" "close: Success"
check "rest_login: token.json has the token" \
        python3 -c "import json,sys; d=json.load(open('$T/token.json')); sys.exit(not len(d['token'])==40)"
check "rest_login: the last close called /api/logout" [ "$(refstat rest_logout)" -ge 1 ]
n=$(refstat rest_login_get)
login apilogin-pbx gina gina-pw-7Qx auth open "$SHOW" close
expect_pam "rest_login: empty 200 + cookie, then GET /login" "close: Success"
check "rest_login: the cookie variant called GET /api/login" [ "$(refstat rest_login_get)" = $((n + 1)) ]
check "rest_login: the role from GET /login is kept in token.json" \
        python3 -c "import json,sys; d=json.load(open('$T/token.json')); sys.exit(not d.get('role')=='StandardUser')"
login apilogin-pbx frank wrong
expect_pam "rest_login: wrong password (UNAUTHORIZED)" "auth: Authentication failure"
login apilogin-pbx hugo hugo-pw-7Qx
expect_pam "rest_login: 403 refuses the account" "auth: Permission denied"
login apilogin-pbx rosa rosa-pw-7Qx
expect_pam "rest_login: 429 maps to PAM_MAXTRIES" "auth: Have exhausted maximum number of retries"
n=$(refstat rest_login)
login apilogin-pbx "fr.ank." x
expect_pam "rest_login: a name breaking the API's rules is refused" "auth: Authentication failure"
check "rest_login: ... without sending it" [ "$(refstat rest_login)" = "$n" ]
for mode in garbage 500 stall; do
        refapi_fault /api/login $mode
        login apilogin-pbx frank frank-pw-7Qx
        expect_pam "rest_login: API fault '$mode' maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
done
refapi_fault /api/login none
daemon_stop
kill "$REFAPI_PID"; wait "$REFAPI_PID" 2>/dev/null; REFAPI_PID=
daemon_start || exit 1
login apilogin-calls erin erin-pw-7Qx
expect_pam "jsonrpc: API down maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
login apilogin-pbx frank frank-pw-7Qx
expect_pam "rest_login: API down maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
check "no log holds a password" logs_clean erin-pw-7Qx frank-pw-7Qx gina-pw-7Qx
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_cookies.sh: rest_login (PortSIP) variant B against a server that sets several cookies.
# refapi answers the accepted POST /api/login with an empty 200 and three Set-Cookie
# headers, the session's last: "lang=en; Path=/", "pbx_ui=dark; Path=/ui", then
# "session=...; Path=/; HttpOnly". The GET /api/login that follows must carry what a
# browser would: the session and the language cookies, never the one set for /ui (refapi
# answers 400 to that). Each login has its own jar: a second login starts without the
# first one's cookies. Cookie values are never logged nor written to disk.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
config_write <<'CONF'
[global]
providers = pbx
timeout = 3s
lockout = off

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com
CONF
daemon_start || exit 1
add_service apilogin-pbx provider=pbx
SHOW='run:cp "$(dirname "$APILOGIN_TOKEN_FILE")/token.json" '"$T/token.json"

login apilogin-pbx gina gina-pw-7Qx auth open "$SHOW" close
expect_pam "variant B with a language cookie before the session cookie opens a session" \
        "close: Success"
check "refapi: the POST was answered with the cookies, then GET /api/login succeeded" \
        [ "$(refstat rest_login_get_ok)" = 1 ]
check "the GET carried the language cookie too, as a browser would" \
        [ "$(refstat rest_cookie_lang)" = 1 ]
check "the GET did not carry the cookie set for Path=/ui" \
        [ "$(refstat rest_cookie_off_path)" = 0 ]
check "token.json has the token and the role from GET /api/login" \
        python3 -c "import json,sys; d=json.load(open('$T/token.json')); sys.exit(not (len(d['token'])==40 and d.get('role')=='StandardUser'))"

# A second login: a new jar, the first one's session cookie is not sent with the POST.
login apilogin-pbx gina gina-pw-7Qx auth
expect_pam "a second variant B login succeeds as well" "auth: Success"
check "refapi: two GETs, both with their own session" [ "$(refstat rest_login_get_ok)" = 2 ]
check "refapi: no GET failed" [ "$(refstat rest_login_get_fail)" = 0 ]
login apilogin-pbx gina wrong
expect_pam "a wrong password is still a wrong password" "auth: Authentication failure"

# Cookie values are secrets: the session cookie never reaches a log or a file.
check "the daemon logged no cookie" logs_clean "pbx_ui" "lang=en"
check "no cookie under /run or /var/lib" no_file_holds "pbx_ui"
e2e_done

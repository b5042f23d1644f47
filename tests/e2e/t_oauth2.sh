#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_oauth2.sh: type oauth2_password, the OAuth 2.0 resource owner password grant (RFC 6749
# section 4.3) against refapi's /oauth2/token and /oauth2/revoke (RFC 7009), end to end:
# a good and a wrong password, a client secret the server refuses (PAM_SERVICE_ERR, logged
# as the administrator's), 429 (PAM_MAXTRIES), 503 (PAM_AUTHINFO_UNAVAIL), the request's
# shape (form-encoded, the client authenticated by HTTP Basic with the secret read from
# client_secret_file, no query string at all, so no secret in any URL), refresh through
# the refresh_token grant with short-lived tokens (refapi's refresh tokens are single use,
# so only a daemon that keeps the rotated one can refresh twice), revocation of both
# tokens at the last close, the proxy key (and the environment's proxies ignored), and a
# client_secret_file readable by others refused at daemon start, naming the file.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
# The secret has characters that form encoding must escape (RFC 6749 section 2.3.1).
SECRET='s3cr:et/+ &x=y%'
cat > "$T/accounts.json" <<EOF
{"oauth2_token_ttl": 3,
 "oauth2_client": {"client_id": "host:7", "client_secret": "$SECRET"},
 "oauth2_password": [
   {"username": "olga", "password": "olga-pw-7Qx"},
   {"username": "ralf", "password": "ralf-pw-7Qx", "rate_limited": true},
   {"username": "una", "password": "una-pw-7Qx", "unavailable": true},
   {"username": "otto", "password": "otto-pw-7Qx"}]}
EOF
refapi_start "$T/accounts.json"
printf '%s\n' "$SECRET" > "$T/client_secret"
chmod 600 "$T/client_secret"
config_write <<'CONF'
[global]
providers = idp
timeout = 3s
lockout = off

[provider idp]
type = oauth2_password
url = @URL@/oauth2/token
client_id = host:7
client_secret_file = @T@/client_secret
scope = openid profile
revocation_url = @URL@/oauth2/revoke

# Reachable only through the proxy: 192.0.2.1 (TEST-NET-1) has no route in this namespace.
[provider viaproxy]
type = oauth2_password
url = http://192.0.2.1/oauth2/token
insecure_http = yes
proxy = @URL@
client_id = host:7
client_secret_file = @T@/client_secret
CONF
# The environment's proxies point nowhere: a daemon that used them could reach nothing.
http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
        daemon_start || exit 1
add_service apilogin-idp provider=idp
add_service apilogin-proxy provider=viaproxy

# ---- logins ---------------------------------------------------------------------------------
OUT=$(printf '%s\n' olga-pw-7Qx | PAM_SESSION_SHOW_PROMPT=1 "$PAM_SESSION" apilogin-idp olga auth 2>&1)
expect_pam "the right password logs in (http_proxy & co in the daemon's environment ignored)" \
        "auth: Success"
expect_pam "the prompt is 'Password: '" "prompt: Password: "
login apilogin-idp olga wrong-pw
expect_pam "a wrong password (invalid_grant) is PAM_AUTH_ERR" "auth: Authentication failure"
login apilogin-idp ralf ralf-pw-7Qx
expect_pam "429 from the token endpoint is PAM_MAXTRIES" \
        "auth: Have exhausted maximum number of retries"
login apilogin-idp una una-pw-7Qx
expect_pam "503 from the token endpoint is PAM_AUTHINFO_UNAVAIL" \
        "auth: Authentication service cannot retrieve authentication info"

# ---- the request's shape ----------------------------------------------------------------------
n=$(refstat oauth2_token)
check "refapi saw the 4 token requests" [ "$n" = 4 ]
check "every token request was form-encoded" [ "$(refstat oauth2_form)" = "$n" ]
check "every token request authenticated the client by HTTP Basic (form-encoded id:secret)" \
        [ "$(refstat oauth2_basic_ok)" = "$n" ]
check "no request had a query string (no secret in any URL)" [ "$(refstat oauth2_query_args)" = 0 ]
check "the scope was sent" [ "$(refstat oauth2_scope)" = "$n" ]

# ---- the client secret is the administrator's business ---------------------------------------
printf 'not-the-secret\n' > "$T/client_secret"
login apilogin-idp olga olga-pw-7Qx
expect_pam "a client secret the server refuses (invalid_client) is PAM_SERVICE_ERR" \
        "auth: Error in service module"
check "refapi refused the client" [ "$(refstat oauth2_basic_bad)" = 1 ]
check "the daemon logged invalid_client as the administrator's error" \
        grep -q "api_code=invalid_client.*check client_id and client_secret_file" "$T/daemon.log"
printf '%s\n' "$SECRET" > "$T/client_secret"
login apilogin-idp olga olga-pw-7Qx
expect_pam "the secret file is read again at each login: fixed, olga logs in" "auth: Success"

# ---- the proxy key ------------------------------------------------------------------------------
login apilogin-proxy olga olga-pw-7Qx
expect_pam "a provider reached only through its proxy logs in" "auth: Success"
check "refapi served that request as the proxy (absolute-form request)" [ "$(refstat proxied)" = 1 ]

# ---- refresh with rotated refresh tokens, revocation at close ---------------------------------
session_bg o apilogin-idp otto otto-pw-7Qx 9
check "otto's session opened with a token file" wait_until 5 token_ready otto
first=$(cat "$(token_path otto)")
# Tokens live 3 s: at least two refreshes while the session lasts. refapi's refresh tokens
# are single use, so the second one only works with the refresh token the first returned.
check "the access token is refreshed twice (the rotated refresh token was kept)" \
        wait_until 12 refstat_ge oauth2_refresh_ok 2
# (one read of /_stats for both counters: a refresh may be in flight between two reads)
refused_refreshes() {
        curl -s "$REFAPI_URL/_stats" | python3 -c \
                "import json,sys; s=json.load(sys.stdin); print(s['oauth2_refresh_grant'] - s['oauth2_refresh_ok'])"
}
check "no refresh grant was refused" [ "$(refused_refreshes)" = 0 ]
check "the token file holds a new token" wait_until 3 token_differs otto "$first"
wait "$SESS_o"
check "the session closed" grep -q "close: Success" "$T/sess_o.out"
check "the refresh token was revoked at the last close" wait_until 5 refstat_ge oauth2_revoke_refresh 1
check "the access token was revoked at the last close" wait_until 5 refstat_ge oauth2_revoke_access 1
check "no unknown token was sent for revocation" [ "$(refstat oauth2_revoke_unknown)" = 0 ]
check "revocation authenticated the client too" \
        [ "$(refstat oauth2_basic_ok)" -ge $(($(refstat oauth2_token) + 1)) ]

check "no password, secret or token in the logs" logs_clean olga-pw-7Qx otto-pw-7Qx "$SECRET" "$first"
check "no client secret under /run or /var/lib" no_file_holds "$SECRET"

# ---- a client_secret_file others may read is refused at start -------------------------------
daemon_stop
chmod 644 "$T/client_secret"
: > "$T/daemon.log"
if daemon_start; then not_ok "the daemon refused to start"; daemon_stop; else ok "the daemon refused to start"; fi
check "the refusal names file, line, key and the secret file" \
        grep -q "apilogin.conf:[0-9]*: client_secret_file: refusing $T/client_secret: readable by others" \
        "$T/daemon.log"
e2e_done

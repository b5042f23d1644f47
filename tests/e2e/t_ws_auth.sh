#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_ws_auth.sh: the ws_auth API (TrueConf Room `auth` over a WebSocket) end to end through
# pam_apilogin.so, apilogind and refapi's WebSocket endpoint: the users map deciding the
# role (user PIN, admin password), token and tokenForHttpServer in token.json, a wrong PIN,
# privileges that differ from the role, a name not in the map (nothing sent; with more
# providers, the next one decides), refapi's
# unsolicited event frame skipped, the WebSocket faults (stall, garbage, 500, close,
# oversized) and an API that is down, all answered UNAVAIL within the timeout; wss:// through
# a TLS proxy, verified against the provider's ca_file and refused without it; no log holds
# the PIN, the password or a token.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v openssl >/dev/null || e2e_skip "no openssl"

# tls_proxy_start BACKEND_PORT: a TLS front (tls_front.py, cert for 127.0.0.1 in $T) passing
# bytes to 127.0.0.1:BACKEND_PORT; sets TLS_PORT. Stopped at exit by this script's trap.
tls_proxy_start() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
                -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
                -keyout "$T/tls.key" -out "$T/tls.pem" 2>/dev/null
        python3 "$E2E_DIR/tls_front.py" "$T/tls.pem" "$T/tls.key" 127.0.0.1 0 "$1" "$T/tls.port" \
                2>"$T/tls.log" &
        TLS_PID=$!
        for _ in $(seq 100); do [ -s "$T/tls.port" ] && break; sleep 0.05; done
        TLS_PORT=$(cat "$T/tls.port")
}
trap '[ -n "${TLS_PID:-}" ] && kill "$TLS_PID" 2>/dev/null; e2e_cleanup' EXIT
USER_PIN=4711-user-PIN
ADMIN_PW=9931-admin-PW-x
cat > "$T/ws_accounts.json" <<EOF
{ "token_ttl": 86400, "ws_auth": { "user_password": "$USER_PIN", "admin_password": "$ADMIN_PW" },
  "login_check": [ { "username": "alice", "password": "alice-pw-7Qx" } ] }
EOF
STALL_SECONDS=20 refapi_start "$T/ws_accounts.json"
tls_proxy_start "$REFAPI_PORT"
# config_write turns @URL@ into http://..., so the ws:// URL is written out here.
config_write <<CONF
[global]
providers = room fleet
timeout = 2s
lockout = off

# keep_warm = no: one connection per login, so the counts below are the login's own.
[provider room]
type = ws_auth
url = ws://127.0.0.1:$REFAPI_PORT
users = kiosk:user, kioskadmin:admin
keep_warm = no

# keep_warm as shipped (yes): a spare connection waits for the next login.
[provider roomwarm]
type = ws_auth
url = ws://127.0.0.1:$REFAPI_PORT/
users = kiosk:user

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider roomtls]
type = ws_auth
url = wss://127.0.0.1:$TLS_PORT/ws
ca_file = $T/tls.pem
users = kiosk:user

[provider roomuntrusted]
type = ws_auth
url = wss://127.0.0.1:$TLS_PORT/ws
users = kiosk:user
CONF
daemon_start || exit 1
pam_service provider=room > /etc/pam.d/apilogin-room
pam_service provider=roomwarm > /etc/pam.d/apilogin-roomwarm
pam_service provider=roomtls > /etc/pam.d/apilogin-roomtls
pam_service provider=roomuntrusted > /etc/pam.d/apilogin-roomuntrusted
UNAVAIL="auth: Authentication service cannot retrieve authentication info"
SHOW='run:printf "%s\n" "$(cat "$APILOGIN_TOKEN_FILE")" > '"$T/token.txt"'; cp "$(dirname "$APILOGIN_TOKEN_FILE")/token.json" '"$T/token.json"

# token.json field NAME
tj() { python3 -c "import json,sys; print(json.load(open('$T/token.json')).get('$1', ''))"; }

# --- success: the user PIN for a name mapped to "user" -------------------------------------
login apilogin-room kiosk "$USER_PIN" auth acct open "$SHOW" close
expect_pam "kiosk with the user PIN opens and closes a session" "close: Success"
tok=$(cat "$T/token.txt" 2>/dev/null)
htok=$(tj tokenForHttpServer)
check "the token file holds refapi's 1* token" grep -qE '^1\*[0-9a-f]{32}$' <<<"$tok"
check "token.json has the same token, provider room and role user" \
        test "$(tj token)|$(tj provider)|$(tj role)" = "$tok|room|user"
check "token.json has tokenForHttpServer (4*)" grep -qE '^4\*[0-9a-f]{32}$' <<<"$htok"
check "token.json expires about 30 days from now" \
        python3 -c "import time,sys; e=float('$(tj expires_at)'); sys.exit(not abs(e-time.time()-30*86400) < 120)"
check "refapi counted one auth, ok" test "$(refstat ws_auth)|$(refstat ws_auth_ok)" = "1|1"
check "one WebSocket session, one message: the event frame was skipped, no stray request" \
        test "$(refstat ws_connect)|$(refstat ws_messages)|$(refstat ws_other)" = "1|1|0"
check "our frames were well-formed (masked, no protocol error)" [ "$(refstat ws_bad_frame)" = 0 ]
check "the daemon logged outcome=ok for kiosk at the ws endpoint" \
        grep -q "auth user=kiosk .*endpoint=ws://127.0.0.1:$REFAPI_PORT outcome=ok" "$T/daemon.log"

login apilogin-room kioskadmin "$ADMIN_PW" auth open "$SHOW" close
expect_pam "kioskadmin with the admin password opens a session" "close: Success"
check "kioskadmin's token.json says role admin" [ "$(tj role)" = admin ]
atok=$(tj token)
ahtok=$(tj tokenForHttpServer)

# --- definite failures ------------------------------------------------------------------------
login apilogin-room kiosk 0000-wrong
expect_pam "a wrong PIN is refused with PAM_AUTH_ERR" "auth: Authentication failure"
login apilogin-room kioskadmin "$USER_PIN"
expect_pam "kioskadmin with the user PIN: privileges differ, PAM_PERM_DENIED" "auth: Permission denied"
check "the API's code is in the log (resultCode 5)" grep -q 'api_code="resultCode 5"' "$T/daemon.log"
login apilogin-room kiosk "$ADMIN_PW"
expect_pam "kiosk with the admin password: privileges differ, PAM_PERM_DENIED" "auth: Permission denied"
n_auth=$(refstat ws_auth) n_conn=$(refstat ws_connect)
login apilogin-room stranger "$USER_PIN"
expect_pam "a name not in the users map is not apilogin's" \
        "auth: User not known to the underlying authentication module"
check "nothing was sent for it (no connection, no auth)" \
        test "$(refstat ws_auth)|$(refstat ws_connect)" = "$n_auth|$n_conn"

# A name the room does not know goes on to the next provider (default service: room, fleet).
n_conn=$(refstat ws_connect)
login apilogin-test alice alice-pw-7Qx
expect_pam "alice (not in the room's map) is passed on to the next provider" "auth: Success"
check "fleet answered, the room was not contacted" \
        test "$(refstat login_check_ok)|$(refstat ws_connect)" = "1|$n_conn"
login apilogin-test kiosk "$USER_PIN"
expect_pam "kiosk through the default provider list logs in at the room" "auth: Success"
login apilogin-test stranger "$USER_PIN"
expect_pam "a name the room does not know gets the next provider's verdict" \
        "auth: Authentication failure"

# --- wss:// -----------------------------------------------------------------------------------
n_ok=$(refstat ws_auth_ok)
login apilogin-roomtls kiosk "$USER_PIN" auth open "$SHOW" close
expect_pam "wss:// with the provider's ca_file: kiosk logs in" "close: Success"
check "the auth went through the TLS front to /ws" [ "$(refstat ws_auth_ok)" = $((n_ok + 1)) ]
check "token.json names provider roomtls" [ "$(tj provider)" = roomtls ]
stok=$(tj token)
shtok=$(tj tokenForHttpServer)
n_conn=$(refstat ws_connect)
login apilogin-roomuntrusted kiosk "$USER_PIN"
expect_pam "wss:// to a certificate the system does not trust is UNAVAIL" "$UNAVAIL"
check "nothing reached the API through the untrusted TLS" [ "$(refstat ws_connect)" = "$n_conn" ]

# --- the API misbehaves: UNAVAIL, within timeout (2 s) + 1 s ----------------------------------
for mode in stall garbage 500 close oversized; do
        refapi_fault / $mode
        start=$(date +%s%N)
        login apilogin-room kiosk "$USER_PIN"
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        expect_pam "refapi fault '$mode' on / maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
        check "fault '$mode' answered within 3 s (${ms} ms)" [ "$ms" -lt 3000 ]
done
check "the stalled auth was really sent, and swallowed" [ "$(refstat fault_stall)" -ge 1 ]
refapi_fault / none
login apilogin-room kiosk "$USER_PIN"
expect_pam "once the fault is gone, kiosk logs in again" "auth: Success"
n_conn=$(refstat ws_connect)
sleep 1
check "keep_warm = no: no connection is opened between logins" [ "$(refstat ws_connect)" = "$n_conn" ]

# --- keep_warm: the next login goes out on a connection opened ahead (one round trip) -------
# ws_connect_wait N: until refapi has counted N WebSocket connections (5 s at most).
ws_connect_wait() {
        for _ in $(seq 50); do [ "$(refstat ws_connect)" -ge "$1" ] && return 0; sleep 0.1; done
        return 1
}
n_conn=$(refstat ws_connect)
login apilogin-roomwarm kiosk "$USER_PIN"
expect_pam "keep_warm: kiosk logs in at the room" "auth: Success"
check "a spare WebSocket is opened beside the login's own" ws_connect_wait $((n_conn + 2))
sleep 0.5   # the daemon reads the 101 a moment after refapi counts the connection
n_ok=$(refstat ws_auth_ok)
refapi_fault / 500   # from now on every new WebSocket handshake is refused
login apilogin-roomwarm kiosk "$USER_PIN"
expect_pam "the next login needs no handshake: it goes out on the spare" "auth: Success"
check "...and reached the API" [ "$(refstat ws_auth_ok)" = $((n_ok + 1)) ]
login apilogin-roomwarm kiosk "$USER_PIN"
expect_pam "with the spare used (its replacement refused), a login meets the 500" "$UNAVAIL"
refapi_fault / none

kill "$REFAPI_PID" 2>/dev/null
wait "$REFAPI_PID" 2>/dev/null
REFAPI_PID=
login apilogin-room kiosk "$USER_PIN"
expect_pam "the API down maps to PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"

check "no log holds the PIN, the password or a token" \
        logs_clean "$USER_PIN" "$ADMIN_PW" "$tok" "$htok" "$atok" "$ahtok" "$stok" "$shtok"
e2e_done

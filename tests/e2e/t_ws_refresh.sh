#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_ws_refresh.sh: ws_auth's tokenForHttpServer kept fresh for an open session without the
# PIN. refapi is told that a tokenForHttpServer lives 5 s (ws_http_token_ttl) and checks
# one at GET /frames/?token= as the Room's HTTP server does; the daemon is told the same
# lifetime (APILOGIND_EXTRA_TOKEN_S). While a session is open, token.json's
# tokenForHttpServer is replaced before each one dies, again and again, each time through a
# token authorization with the 30-day token on a new connection (refapi counts them), and
# the value a kiosk app reads there is accepted by the HTTP server at every poll; the
# 30-day token and its expiry stay as they were. The PIN is in no keyring, file or log.
# When the session ends the renewals stop; when the device forgets the token
# (clearTokens) the next renewal is refused and token.json says "expired".
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
PIN=4711-user-PIN
ADMIN_PW=9931-admin-PW-x
LIFE=5
printf '{ "token_ttl": 86400, "ws_http_token_ttl": %d,\n  "ws_auth": { "user_password": "%s", "admin_password": "%s" } }\n' \
        "$LIFE" "$PIN" "$ADMIN_PW" > "$T/ws_accounts.json"
refapi_start "$T/ws_accounts.json"
config_write <<CONF
[global]
providers = room
timeout = 2s
lockout = off

[provider room]
type = ws_auth
url = ws://127.0.0.1:$REFAPI_PORT
users = kiosk:user, kioskadmin:admin
CONF
export APILOGIND_EXTRA_TOKEN_S=$LIFE
daemon_start || exit 1
trap 'keyring_cleanup; e2e_cleanup' EXIT
add_service apilogin-room provider=room

tj() { token_json_get "$1" "$2"; }
live() { curl -sf -o /dev/null "$REFAPI_URL/frames/?token=$1"; }
watch_field() { awk -v k="$1" '$1==k{$1=""; sub(/^ /, ""); print}' "$T/watch.txt"; }

# --- one open session, watched for three lifetimes ------------------------------------------
session_bg A apilogin-room kiosk "$PIN" 60
wait_until 10 token_ready kiosk
check "kiosk's session is open with a token and a tokenForHttpServer" \
        test -n "$(tj kiosk tokenForHttpServer)"
tok0=$(tj kiosk token) exp0=$(tj kiosk expires_at) h0=$(tj kiosk tokenForHttpServer)
check "the first tokenForHttpServer works at the Room's HTTP server" live "$h0"
check "the daemon said how the session is kept fresh (token authorization, no PIN)" \
        grep -q "Token of kiosk at provider room will be kept fresh by token authorization" \
        "$T/daemon.log"
check "... and not that nothing keeps it fresh" \
        bash -c "! grep -q 'kept fresh by nothing' '$T/daemon.log'"

# Poll token.json every 0.2 s for 3 lifetimes: every value seen must be live at refapi (a
# kiosk app never holds a dead one), and each must be replaced before it dies.
python3 - "$(dirname "$(token_path kiosk)")/token.json" "$REFAPI_URL" "$LIFE" \
        > "$T/watch.txt" <<'PY'
import json, sys, time, urllib.request, urllib.error
path, url, life = sys.argv[1], sys.argv[2], float(sys.argv[3])
seen, dead, first = [], 0, {}
end = time.time() + 3 * life + 1
while time.time() < end:
    try:
        v = json.load(open(path)).get("tokenForHttpServer")
    except Exception:
        v = None
    if v and v not in first:
        first[v] = time.time()
        seen.append(v)
    if v:
        try:
            urllib.request.urlopen(url + "/frames/?token=" + v, timeout=2).read()
        except urllib.error.HTTPError:
            dead += 1
    time.sleep(0.2)
gaps = [first[seen[i + 1]] - first[seen[i]] for i in range(len(seen) - 1)]
print("values", len(seen))
print("dead", dead)
print("maxgap %.2f" % max(gaps or [99]))
print("all", " ".join(seen))
PY
values=$(watch_field values)
check "tokenForHttpServer changed again and again (${values:-0} values in $((3 * LIFE + 1)) s)" \
        [ "${values:-0}" -ge 4 ]
check "each one was replaced before its $LIFE s ran out (longest: $(watch_field maxgap) s)" \
        awk -v l="$LIFE" '$1=="maxgap"{exit !($2 < l)}' "$T/watch.txt"
check "the value in token.json was accepted by the HTTP server at every poll" \
        [ "$(watch_field dead)" = 0 ]
check "every value was new (distinct)" \
        [ "$(watch_field all | tr ' ' '\n' | sort -u | wc -l)" = "${values:-x}" ]
check "the first tokenForHttpServer has died at the server since (the lifetime is real)" \
        bash -c "! curl -sf -o /dev/null '$REFAPI_URL/frames/?token=$h0'"
n=$(refstat ws_auth_token_ok)
check "refapi counted the renewals: $n token authorizations, no failed auth" \
        test "$n" -ge 3 -a "$(refstat ws_auth_fail)" = 0
check "the 30-day token and its expiry are unchanged" \
        test "$(tj kiosk token)|$(tj kiosk expires_at)|$(cat "$(token_path kiosk)")" = "$tok0|$exp0|$tok0"
check "token.json still says valid" token_state_is kiosk valid
check "the PIN is not in the kernel keyring" key_absent kiosk
check "the PIN is in no file under /run or /var/lib" no_file_holds "$PIN"
# shellcheck disable=SC2046
check "no log holds the PIN or a token" logs_clean "$PIN" "$tok0" $(watch_field all)

# --- refapi's getTokenForHttpServer: a token-authorized connection gets a new, live value --
python3 "$SRC/tests/refapi/ws_probe.py" "$REFAPI_PORT" \
        "{\"method\":\"auth\",\"requestId\":\"a\",\"type\":\"secured\",\"credentials\":\"$tok0\"}" \
        '{"method":"getTokenForHttpServer","requestId":"g"}' > "$T/probe.txt" 2>&1
hg=$(grep getTokenForHttpServer "$T/probe.txt" | grep -o '4\*[0-9a-f]*' | tail -1)
check "getTokenForHttpServer after a token authorization gives a new live value" \
        bash -c "[ -n '$hg' ] && [ '$hg' != '$(tj kiosk tokenForHttpServer)' ] && curl -sf -o /dev/null '$REFAPI_URL/frames/?token=$hg'"

# --- the session ends: the renewals stop --------------------------------------------------
session_end A
wait_until 10 test ! -e "$(token_path kiosk)"
check "the session's end removed the token file" test ! -e "$(token_path kiosk)"
n=$(refstat ws_auth)
sleep $((LIFE + 1))
check "no renewal after the last session ended" [ "$(refstat ws_auth)" = "$n" ]

# --- the device forgets its tokens: the next renewal is refused, token.json says so ---------
session_bg B apilogin-room kioskadmin "$ADMIN_PW" 60
wait_until 10 token_ready kioskadmin
check "kioskadmin's session is open, role admin" [ "$(tj kioskadmin role)" = admin ]
python3 "$SRC/tests/refapi/ws_probe.py" "$REFAPI_PORT" '{"method":"clearTokens"}' \
        > /dev/null 2>&1
check "after clearTokens the renewal is refused and token.json says expired" \
        wait_until $((LIFE + 5)) token_state_is kioskadmin expired
sleep 2
check "refused once (resultCode 8), no retry loop" [ "$(refstat ws_auth_fail)" = 1 ]
check "the refusal is logged with the API's code" grep -q "resultCode 8" "$T/daemon.log"
check "the admin password is in no keyring, file or log" \
        bash -c "! grep -rqsF -- '$ADMIN_PW' /run /var/lib '$T/daemon.log' '$T/syslog.txt'"
session_end B
e2e_done

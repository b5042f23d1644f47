#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_tls.sh: TLS tested like the real thing, for the four HTTP providers (login_check,
# token_login, jsonrpc, rest_login) and ws_auth over wss://. refapi itself serves https/wss
# (--tls-cert/--tls-key) with certificates this test makes (mkcerts.sh):
#   good      a certificate from the test's CA, provider has ca_file: the login succeeds
#   self      a self-signed certificate, no ca_file: PAM_AUTHINFO_UNAVAIL
#   other     from the CA, but for another host name: PAM_AUTHINFO_UNAVAIL
#   expired   from the CA, expired ten days ago: PAM_AUTHINFO_UNAVAIL
#   redir-http  a 307 to http:// (a plain refapi): PAM_AUTHINFO_UNAVAIL, not followed
#   redir-host  a 307 to https://127.0.0.1 (another host name, a server the CA vouches
#             for): PAM_AUTHINFO_UNAVAIL, not followed
# In every failing case the secret reaches no server it was not meant for: for the
# certificate cases the server counts no request at all (TLS failed before any byte of
# HTTP); for the redirects the target counts none (and over wss the 307 comes before the
# auth message, so even the redirecting server gets no credentials). The daemon's log line
# names the reason in detail="...": libcurl's words for the certificate ("SSL certificate
# problem: self-signed certificate", "... certificate has expired", "no alternative
# certificate subject name matches ..."), "redirect to SCHEME://HOST:PORT not followed"
# for the HTTP redirects, "WebSocket handshake redirected, not followed" over wss. The matrix (case, provider, PAM code, time, logged detail) is printed at the end.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v openssl >/dev/null || e2e_skip "no openssl"
command -v faketime >/dev/null || e2e_skip "no faketime"
trap 'extra_pids_stop; e2e_cleanup' EXIT
bash "$E2E_DIR/mkcerts.sh" "$T/certs" 2> "$T/mkcerts.log" ||
        { echo "Bail out! mkcerts.sh failed"; sed 's/^/#   /' "$T/mkcerts.log"; exit 99; }

PIN=4711-room-PIN-tls
cat > "$T/tls_accounts.json" <<EOF2
{ "login_check": [ { "username": "alice", "password": "alice-pw-7Qx" } ],
  "token_login": [ { "token": "$BOB_TOKEN", "user": "bob" } ],
  "jsonrpc": [ { "login": "erin", "password": "erin-pw-7Qx" } ],
  "rest_login": [ { "username": "frank", "password": "frank-pw-7Qx",
                    "domain": "tenant.example.com" } ],
  "ws_auth": { "user_password": "$PIN", "admin_password": "9999-not-used-x" } }
EOF2
for inst in good:good self:self other:other expired:expired redir:good plain:-; do
        refapi_tls_start "${inst%%:*}" "$T/tls_accounts.json" "${inst#*:}" || exit 1
done
# A refapi instance for reading counters; the api and refapi never trust anything else.
REFAPI_URL="http://127.0.0.1:$PORT_plain"

APIS="lc tl rpc rest ws"
CASES="good self other expired redir-http redir-host"
declare -A USER=([lc]=alice [tl]=bob [rpc]=erin [rest]=frank [ws]=kiosk)
declare -A SECRET=([lc]=alice-pw-7Qx [tl]=$BOB_TOKEN [rpc]=erin-pw-7Qx [rest]=frank-pw-7Qx [ws]=$PIN)
declare -A RPATH=([lc]=/v1/login_check [tl]=/wialon/ajax.html [rpc]=/v4.0 [rest]=/api/login [ws]=/ws)

# provider_lines API PORT: the type-specific lines of a provider at https://localhost:PORT.
provider_lines() {
        case $1 in
        lc) printf 'type = login_check\nurl = https://localhost:%s/v1/login_check\n' "$2" ;;
        tl) printf 'type = token_login\nurl = https://localhost:%s/wialon/ajax.html\n' "$2" ;;
        rpc) printf 'type = jsonrpc\nurl = https://localhost:%s/v4.0\n' "$2" ;;
        rest) printf 'type = rest_login\nurl = https://localhost:%s/api\ndomain = tenant.example.com\n' "$2" ;;
        # keep_warm = no: each case's login makes its own handshake (a spare opened while
        # the redirect was off would skip it; t_ws_auth tests the spare).
        ws) printf 'type = ws_auth\nurl = wss://localhost:%s/ws\nusers = kiosk:user\nkeep_warm = no\n' "$2" ;;
        esac
}

# instance_of CASE: the refapi instance a case's providers point at.
instance_of() {
        case $1 in redir-*) echo redir ;; *) echo "$1" ;; esac
}

{
        printf '[global]\nproviders = lc_good\ntimeout = 3s\nlockout = off\n'
        for c in $CASES; do
                inst=$(instance_of "$c")
                port=$(eval echo "\$PORT_$inst")
                for a in $APIS; do
                        printf '\n[provider %s_%s]\n' "$a" "${c//-/_}"
                        provider_lines "$a" "$port"
                        [ "$c" = self ] || echo "ca_file = $T/certs/ca.pem"
                done
        done
} | config_write
daemon_start || exit 1
for c in $CASES; do
        for a in $APIS; do add_service "apilogin-${a}_${c//-/_}" "provider=${a}_${c//-/_}"; done
done

# tstat INSTANCE COUNTER: a counter of one refapi instance, read over a verified connection
# (the self-signed one is its own CA; the expired one is read at a time it was valid).
tstat() {
        local port url
        port=$(eval echo "\$PORT_$1")
        case $1 in
        plain) url=(curl -s "http://127.0.0.1:$port/_stats") ;;
        self) url=(curl -s --cacert "$T/certs/self.pem" "https://localhost:$port/_stats") ;;
        other) url=(curl -s --cacert "$T/certs/ca.pem" --resolve "other.example:$port:127.0.0.1"
                    "https://other.example:$port/_stats") ;;
        expired) url=(faketime -f -15d curl -s --cacert "$T/certs/ca.pem"
                      "https://localhost:$port/_stats") ;;
        *) url=(curl -s --cacert "$T/certs/ca.pem" "https://localhost:$port/_stats") ;;
        esac
        "${url[@]}" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2', 0))"
}

# set_redirect API CASE: point the redir instance's API path at the case's target.
set_redirect() {
        local to mode=none
        case $2 in
        redir-http) to="http://127.0.0.1:$PORT_plain${RPATH[$1]}" ;;
        redir-host) to="https://127.0.0.1:$PORT_good${RPATH[$1]}" ;;
        *) to= ;;
        esac
        [ -n "$to" ] && mode="redirect:$to"
        curl -s --cacert "$T/certs/ca.pem" -X POST -G "https://localhost:$PORT_redir/_fault" \
                --data-urlencode "path=${RPATH[$1]}" --data-urlencode "mode=$mode" > /dev/null
}

# The instance whose counters must not move: the server itself for the certificate cases,
# the redirect's target for the redirects.
watched_of() {
        case $1 in redir-http) echo plain ;; redir-host) echo good ;; *) echo "$1" ;; esac
}

# reason_of CASE API: the reason (an extended regex) the log line must name: libcurl's
# own words for the certificate problems, ours for a redirect that was not followed.
reason_of() {
        case $1 in
        self) echo 'SSL certificate problem: self[- ]signed certificate' ;;
        other) echo 'no alternative certificate subject name matches' ;;
        expired) echo 'SSL certificate problem: certificate has expired' ;;
        redir-http) [ "$2" = ws ] && echo 'WebSocket handshake redirected, not followed \(HTTP 307\)' ||
                echo "redirect to http://127\\.0\\.0\\.1:$PORT_plain not followed \\(HTTP 307\\)" ;;
        redir-host) [ "$2" = ws ] && echo 'WebSocket handshake redirected, not followed \(HTTP 307\)' ||
                echo "redirect to https://127\\.0\\.0\\.1:$PORT_good not followed \\(HTTP 307\\)" ;;
        esac
}

# The reason the daemon logged for the last login through provider P.
detail_of() {
        grep "provider=$1 " "$T/daemon.log" | tail -n 1 | sed -n 's/.* detail="\([^"]*\)".*/\1/p'
}

# Sanity first: the test's own CA really verifies the good server, the others do not.
check "sanity: curl trusts the good server through the test CA" \
        curl -sf --cacert "$T/certs/ca.pem" -o /dev/null "https://localhost:$PORT_good/_stats"
check "sanity: curl refuses the expired server" \
        bash -c "! curl -sf --cacert '$T/certs/ca.pem' -o /dev/null https://localhost:$PORT_expired/_stats"

MATRIX=
for c in $CASES; do
        for a in $APIS; do
                p=${a}_${c//-/_}
                w=$(watched_of "$c")
                set_redirect "$a" "$c"
                n0=$(tstat "$w" total)
                a0=$(tstat redir ws_auth)
                start=$(date +%s%N)
                login "apilogin-$p" "${USER[$a]}" "${SECRET[$a]}"
                ms=$(( ($(date +%s%N) - start) / 1000000 ))
                code=$(pam_code_of "$OUT")
                n1=$(tstat "$w" total)
                if [ "$c" = good ]; then
                        check "$c/$a: login over TLS with ca_file succeeds ($code, ${ms} ms)" \
                                [ "$code" = PAM_SUCCESS ]
                        check "$c/$a: ... and the server saw the request" [ "$n1" -gt "$n0" ]
                else
                        check "$c/$a: refused with PAM_AUTHINFO_UNAVAIL ($code, ${ms} ms)" \
                                [ "$code" = PAM_AUTHINFO_UNAVAIL ]
                        check "$c/$a: the secret never reached instance '$w' (total $n0 -> $n1)" \
                                [ "$n1" = "$n0" ]
                        check "$c/$a: the daemon logged it as unavail with a reason" \
                                grep -q "provider=$p .*outcome=unavailable .*detail=\"[^\"-][^\"]*\"" \
                                "$T/daemon.log"
                        check "$c/$a: ... and the logged reason names the problem" \
                                grep -qE "$(reason_of "$c" "$a")" <<< "$(detail_of "$p")"
                fi
                if [ "$a" = ws ] && [ "${c#redir-}" != "$c" ]; then
                        check "$c/$a: the 307 came before any auth message" \
                                [ "$(tstat redir ws_auth)" = "$a0" ]
                fi
                set_redirect "$a" none
                MATRIX="$MATRIX| $c | $p | $code | $ms | $(detail_of "$p") |"$'\n'
        done
done
check "the redirecting server answered a 307 for every redirect case (10)" \
        [ "$(tstat redir fault_redirect)" = 10 ]
check "no log holds a secret" logs_clean "${SECRET[@]}"

echo "# TLS matrix (case, provider, PAM code, ms, detail logged by apilogind):"
echo "# | case | provider | PAM code | ms | detail |"
echo "# |---|---|---|---|---|"
printf '%s' "$MATRIX" | sed 's/^/# /'
e2e_done

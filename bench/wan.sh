#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wan.sh: what a login costs when the login API is a real network away, behind TLS 1.3.
# The daemon (and the PAM module, pam_exec+curl, a fresh-handle libcurl client) run in
# one network namespace, refapi (https/wss) in another, joined by a link that delays every
# packet by half the RTT each way (tc netem on a veth pair; where the kernel has no netem,
# bench/wan_delay, a delay line between two tun devices: same effect on TCP and TLS).
# WAN_LOSS=1 drops 1 % of the packets. refapi closes connections idle for 1 s, as real
# servers do (--idle-timeout 1). For each API type, in one run, the p50/p99 of a whole
# login (pam_start..pam_authenticate..pam_end) in ms and in RTTs:
#   apilogin warm    through apilogind, back to back (keep_warm = yes, the default)
#   apilogin cold    the same, each login 2 s after the last (the server has closed the
#                    idle connection meanwhile; the daemon re-opened it in the background)
#   cold, no warm    the same with keep_warm = no (another refapi instance, so that no
#                    connection is shared): the login itself reconnects
#   pam_exec+curl    pam_exec running curl (a process, a new TCP + TLS connection per login)
#   libcurl fresh    in-process libcurl with a fresh handle per login (pam_url style)
# ws_auth has no curl baseline (Debian's curl has no WebSocket): its "cold, no warm" row
# (keep_warm = no, a connection of its own per login: TCP, TLS, upgrade, auth) is the
# baseline. With keep_warm the daemon keeps a spare WebSocket open through its handshake
# (daemon/ws_warm.c) and a login sends its auth on it. Its refapi instance keeps idle
# connections (so its cold rows differ by the pause only).
# RTT 0 (the link without delay) gives each row's own cost: "net_rtt" is (p50 - that) / RTT,
# the round trips a login pays. Target (issue 12): apilogin p50 <= 1.2 RTT + server time,
# warm or cold; the baselines pay >= 3 RTT (TCP, TLS 1.3, request).
# Runs inside a private mount + network namespace like the e2e tests; the API's namespace
# is a child of it (nothing on the host changes; all addresses are on the private link).
# Usage: bench/wan.sh [LOGINS]   (env: WAN_RTTS="0 20 100", WAN_LOSS=0|1, WAN_COLD=5,
#                                 WAN_LINK=netem|tun to force the link,
#                                 WAN_TYPES="ws_auth ..." to measure some types only)
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
export E2E_TIMEOUT=${E2E_TIMEOUT:-7200} # a whole run takes longer than a test may
. tests/e2e/lib.sh
e2e_init "$@"
N=${1:-20}
COLD=${WAN_COLD:-5}
LOSS=${WAN_LOSS:-0}
CLIENT=$BUILD/bench/pam_auth_client
CURLC=$BUILD/bench/wan_curl
DELAY=$BUILD/bench/wan_delay
API=198.18.0.2   # RFC 2544 benchmarking range, only on this private link
for f in "$CLIENT" "$CURLC" "$DELAY"; do [ -x "$f" ] || { echo "wan.sh: build first ($f)"; exit 77; }; done
command -v tc >/dev/null || { echo "wan.sh: needs tc (iproute2)"; exit 77; }

# The API host: a child network namespace and a delaying link to it.
unshare -n sleep 100000 &
APINS=$!
DELAY_PID=
API_PIDS=
trap 'kill $DELAY_PID $API_PIDS $APINS 2>/dev/null; e2e_cleanup' EXIT
sleep 0.2
ip link set lo up
nsenter -t "$APINS" -n ip link set lo up
LINK=${WAN_LINK:-}
if [ -z "$LINK" ]; then
        LINK=tun
        tc qdisc add dev lo root netem delay 0ms 2>/dev/null && LINK=netem
        tc qdisc del dev lo root 2>/dev/null
fi
if [ "$LINK" = netem ]; then
        ip link add wan0 type veth peer name wan1 netns "$APINS"
        ip addr add 198.18.0.1/30 dev wan0
        ip link set wan0 up
        nsenter -t "$APINS" -n sh -c "ip addr add $API/30 dev wan1; ip link set wan1 up"
else
        # e2e_init's private /dev has no tun node: make one (tmpfs, this namespace only).
        [ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod -m 600 /dev/net/tun c 10 200; }
        ip tuntap add dev wan0 mode tun
        ip addr add 198.18.0.1 peer "$API" dev wan0
        ip link set wan0 up
        nsenter -t "$APINS" -n sh -c "ip tuntap add dev wan1 mode tun;
                ip addr add $API peer 198.18.0.1 dev wan1; ip link set wan1 up"
fi
# link RTT_MS: half the delay on each direction, $LOSS % loss.
link() {
        local half=$(($1 / 2)) loss=""
        if [ "$LINK" = netem ]; then
                [ "$LOSS" != 0 ] && loss="loss $LOSS%"
                tc qdisc replace dev wan0 root netem delay "${half}ms" $loss
                nsenter -t "$APINS" -n tc qdisc replace dev wan1 root netem delay "${half}ms" $loss
        else
                [ -n "$DELAY_PID" ] && { kill "$DELAY_PID"; wait "$DELAY_PID" 2>/dev/null; }
                "$DELAY" wan0 "/proc/$APINS/ns/net" wan1 "$half" "$LOSS" &
                DELAY_PID=$!
                sleep 0.2
        fi
}
link 0

# A CA and a certificate for the API's address.
C=$T/certs
mkdir -p "$C"
(cd "$C" &&
 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -subj "/CN=wan bench CA" -days 2 -out ca.pem 2>/dev/null &&
 openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout api.key \
        -subj "/CN=$API" -out api.csr 2>/dev/null &&
 printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$API" > api.ext &&
 openssl x509 -req -in api.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile api.ext -out api.pem 2>/dev/null) || { echo "wan.sh: openssl failed"; exit 1; }

# refapi instances: 8443 for the providers kept warm, 8444 for keep_warm = no, both
# dropping idle connections after 1 s; 8445 for ws_auth: refapi in plain ws on 127.0.0.1
# behind a TLS front (as a WebSocket service is usually deployed), because libmicrohttpd's
# own TLS relay for upgraded connections moves data 4 bytes per TLS record here (its
# buffer is what the connection's memory pool has left): a 200-byte reply became 53
# segments, more than TCP's initial window, and took a second round trip.
# The shared accounts plus an OAuth 2.0 client and user for oauth2_password.
O2_SECRET=wan-client-secret
O2_BASIC="Authorization: Basic $(printf 'wan:%s' "$O2_SECRET" | base64 -w0)"
sed '$d' "$DATA/e2e_accounts.json" > "$T/accounts.json"
cat >> "$T/accounts.json" <<EOF
 ,"oauth2_client": {"client_id": "wan", "client_secret": "$O2_SECRET"},
 "oauth2_password": [{"username": "olga", "password": "olga-pw-7Qx"}]
}
EOF
(umask 077; printf '%s\n' "$O2_SECRET" > "$T/client_secret")
for port in 8443 8444; do
        nsenter -t "$APINS" -n "$REFAPI" --accounts "$T/accounts.json" --listen "$API" \
                --port "$port" --tls-cert "$C/api.pem" --tls-key "$C/api.key" --idle-timeout 1 \
                >> "$T/refapi.log" 2>&1 &
        API_PIDS="$API_PIDS $!"
done
nsenter -t "$APINS" -n "$REFAPI" --accounts "$T/accounts.json" --listen 127.0.0.1 \
        --port 8446 >> "$T/refapi.log" 2>&1 &
API_PIDS="$API_PIDS $!"
# The TLS front of 8445 (tests/e2e/tls_front.py): TLS 1.3 with the API's certificate.
nsenter -t "$APINS" -n python3 "$E2E_DIR/tls_front.py" "$C/api.pem" "$C/api.key" "$API" 8445 8446 \
        >> "$T/refapi.log" 2>&1 &
API_PIDS="$API_PIDS $!"
for port in 8443 8444 8445; do
        wait_until 5 curl -sf --cacert "$C/ca.pem" "https://$API:$port/_stats" -o /dev/null ||
                { echo "wan.sh: refapi did not start"; cat "$T/refapi.log"; exit 1; }
done
URL=https://$API:8443
REFAPI_URL=$URL

# type provider user secret path content-type body (path - : no curl baseline)
TYPES=(
"login_check fleet alice alice-pw-7Qx /v1/login_check application/json {\"username\":\"alice\",\"password\":\"alice-pw-7Qx\"}"
"token_login gps bob $BOB_TOKEN /wialon/ajax.html application/x-www-form-urlencoded svc=token/login&params=%7B%22token%22%3A%22$BOB_TOKEN%22%7D"
"jsonrpc calls erin erin-pw-7Qx /v4.0 application/json {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"login.user\",\"params\":{\"login\":\"erin\",\"password\":\"erin-pw-7Qx\"}}"
"rest_login pbx frank frank-pw-7Qx /api/login application/json {\"username\":\"frank\",\"password\":\"frank-pw-7Qx\",\"domain\":\"tenant.example.com\"}"
"oauth2_password idp olga olga-pw-7Qx /oauth2/token application/x-www-form-urlencoded grant_type=password&username=olga&password=olga-pw-7Qx"
"ws_auth room kiosk 1234 - - -"
)
if [ -n "${WAN_TYPES:-}" ]; then
        keep=()
        for t in "${TYPES[@]}"; do
                if [[ " $WAN_TYPES " == *" ${t%% *} "* ]]; then keep+=("$t"); fi
        done
        TYPES=("${keep[@]}")
fi
# Extra request header of the curl baselines, per type (the OAuth client's credentials).
declare -A XHDR=([oauth2_password]="$O2_BASIC")
# provider NAME PORT KEEP_WARM TYPE: one provider section.
provider() {
        local base="https://$API:$2" url
        case $4 in
        login_check) url="$base/v1/login_check" ;;
        token_login) url="$base/wialon/ajax.html" ;;
        jsonrpc) url="$base/v4.0" ;;
        rest_login) url="$base/api
domain = tenant.example.com" ;;
        oauth2_password) url="$base/oauth2/token
client_id = wan
client_secret_file = $T/client_secret" ;;
        ws_auth) url="wss://$API:8445/
users = kiosk:user" ;;
        esac
        printf '\n[provider %s]\ntype = %s\nurl = %s\nca_file = %s\nkeep_warm = %s\n' \
                "$1" "$4" "$url" "$C/ca.pem" "$3"
}
{
        read -r _ first _ <<<"${TYPES[0]}"
        printf '[global]\nproviders = %s\nlockout = off\ntimeout = 10s\n' "$first"
        for t in "${TYPES[@]}"; do
                read -r type prov _ <<<"$t"
                provider "$prov" 8443 yes "$type"
                provider "$prov-nw" 8444 no "$type"
        done
} > "$T/apilogin.conf"
DAEMON_FLAGS=--foreground daemon_start >/dev/null || exit 1

for t in "${TYPES[@]}"; do
        read -r type prov _ _ path ctype body <<<"$t"
        for p in "$prov" "$prov-nw"; do
                echo "auth required $PAM_SO provider=$p" > "/etc/pam.d/wan-$p"
        done
        [ "$path" = - ] && continue
        cat > "$T/curl-$prov.sh" <<CURL
#!/bin/sh
code=\$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.pem" \\
        -H 'Content-Type: $ctype' -H '${XHDR[$type]:-X-Bench: 1}' \\
        --data-binary '$body' "$URL$path")
[ "\$code" = 200 ]
CURL
        chmod 755 "$T/curl-$prov.sh"
        echo "auth required pam_exec.so quiet $T/curl-$prov.sh" > "/etc/pam.d/wan-exec-$prov"
done

# ms KEY OUTPUT-OF-A-CLIENT: p50 or p99 in ms (pam_auth_client prints us, wan_curl ms).
ms() {
        local v
        v=$(sed -n "s/.*$1 *\([0-9.]*\) us.*/\1/p" <<<"$2" | head -1)
        [ -n "$v" ] && { awk -v u="$v" 'BEGIN{printf "%.1f", u/1000}'; return; }
        sed -n "s/.*${1}_ms=\([0-9.]*\).*/\1/p" <<<"$2" | head -1
}

declare -A BASE # p50 at RTT 0 per "type how"
# row RTT TYPE HOW OUTPUT: one line of the table.
row() {
        local p50 p99 fail="" key="$2 $3"
        p50=$(ms p50 "$4")
        p99=$(ms p99 "$4")
        grep -q "FAILURES\|fails=[1-9]" <<<"$4" && fail="  (FAILURES)"
        [ -z "$p50" ] && { printf '%4s  %-15s %-15s failed: %s\n' "$1" "$2" "$3" "$4"; return; }
        [ "$1" = 0 ] && BASE[$key]=$p50
        awk -v r="$1" -v t="$2" -v h="$3" -v a="$p50" -v b="$p99" -v z="${BASE[$key]:-}" -v f="$fail" \
                'BEGIN{ if (r == 0) { printf "%4d  %-15s %-15s %9.1f %9.1f %8s %8s %8s%s\n", r, t, h, a, b, "-", "-", "-", f; exit }
                        net = z == "" ? "?" : sprintf("%.2f", (a - z) / r)
                        printf "%4d  %-15s %-15s %9.1f %9.1f %8.2f %8.2f %8s%s\n", r, t, h, a, b, a/r, b/r, net, f}'
}

echo "# wan: $N logins per row (cold: $COLD, 2 s apart), TLS 1.3 to refapi at $URL, link: $LINK,"
echo "#      refapi --idle-timeout 1, $(nproc) cores, $(date -u '+%F %H:%M UTC'), loss ${LOSS}%"
for rtt in ${WAN_RTTS:-0 20 100}; do
        link "$rtt"
        echo "# RTT $rtt ms"
        printf '%4s  %-15s %-15s %9s %9s %8s %8s %8s\n' rtt type how p50_ms p99_ms p50_rtt p99_rtt net_rtt
        for t in "${TYPES[@]}"; do
                read -r type prov user secret path ctype body <<<"$t"
                "$CLIENT" "wan-$prov" "$user" "$secret" 2 1 >/dev/null 2>&1 # connect, warm up
                row "$rtt" "$type" "apilogin warm" "$("$CLIENT" "wan-$prov" "$user" "$secret" "$N" 1 2>&1)"
                row "$rtt" "$type" "apilogin cold" \
                        "$(PAUSE_MS=2000 "$CLIENT" "wan-$prov" "$user" "$secret" "$COLD" 1 2>&1)"
                row "$rtt" "$type" "cold, no warm" \
                        "$(PAUSE_MS=2000 "$CLIENT" "wan-$prov-nw" "$user" "$secret" "$COLD" 1 2>&1)"
                [ "$path" = - ] && continue
                row "$rtt" "$type" "pam_exec+curl" "$("$CLIENT" "wan-exec-$prov" "$user" x "$N" 1 2>&1)"
                row "$rtt" "$type" "libcurl fresh" \
                        "$(WAN_HEADER=${XHDR[$type]:-} "$CURLC" "$URL$path" "$ctype" "$body" "$C/ca.pem" "$N" 2>&1)"
        done
done
echo "# net_rtt: (p50 - the same row's p50 at RTT 0) / RTT = the round trips a login pays."
echo "# target: apilogin p50 <= 1.2 RTT + server time (warm and cold); baselines pay >= 3 RTT"
echo "#         (TCP handshake + TLS 1.3 handshake + the request)"

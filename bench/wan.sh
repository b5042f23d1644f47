#!/bin/bash
# wan.sh: what a login costs when the login API is a real network away, behind TLS 1.3.
# The daemon (and the PAM module, pam_exec+curl, a fresh-handle libcurl client) run in
# one network namespace, refapi (https/wss) in another, joined by a veth pair with
# `tc netem` delay on both ends (RTT 20 ms and 100 ms; WAN_LOSS=1 adds 1 % loss). For
# each API type, in one run, the p50/p99 of a whole login in ms and in RTTs:
#   apilogin warm   pam_start..pam_authenticate..pam_end through apilogind, back to back
#   apilogin cold   the same, each login after the API closed the daemon's idle connection
#                   (refapi --idle-timeout 1, a 2 s pause before each login, not timed)
#   pam_exec+curl   pam_exec running curl (a process, a new TCP + TLS connection per login)
#   libcurl fresh   in-process libcurl with a fresh handle per login (pam_url style)
# ws_auth has no curl baseline (Debian's curl has no WebSocket). Target (issue 12):
# apilogin p50 <= 1.2 RTT + server time warm or cold, baselines >= 3 RTT.
# Runs inside a private mount + network namespace like the e2e tests; the API's namespace
# is a child of it (nothing on the host changes; all addresses are on the veth pair).
# Usage: bench/wan.sh [LOGINS]   (env: WAN_RTTS="20 100", WAN_LOSS=0|1, WAN_COLD=8)
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
. tests/e2e/lib.sh
e2e_init "$@"
N=${1:-20}
COLD=${WAN_COLD:-8}
CLIENT=$BUILD/bench/pam_auth_client
CURLC=$BUILD/bench/wan_curl
API=198.18.0.2   # RFC 2544 benchmarking range, only on this veth pair
for f in "$CLIENT" "$CURLC"; do [ -x "$f" ] || { echo "wan.sh: build first ($f)"; exit 77; }; done
command -v tc >/dev/null || { echo "wan.sh: needs tc (iproute2)"; exit 77; }

# The API host: a child network namespace, a veth pair, netem on both ends.
unshare -n sleep 100000 &
APINS=$!
sleep 0.2
ip link add wan0 type veth peer name wan1 netns "$APINS"
ip addr add 198.18.0.1/30 dev wan0
ip link set wan0 up
nsenter -t "$APINS" -n sh -c "ip link set lo up; ip addr add $API/30 dev wan1; ip link set wan1 up"
netem() { # netem RTT_MS LOSS_PCT: half the delay on each direction
        local half=$(($1 / 2)) loss=""
        [ "$2" != 0 ] && loss="loss $2%"
        tc qdisc replace dev wan0 root netem delay "${half}ms" $loss
        nsenter -t "$APINS" -n tc qdisc replace dev wan1 root netem delay "${half}ms" $loss
}

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

nsenter -t "$APINS" -n "$REFAPI" --accounts "$DATA/e2e_accounts.json" --listen "$API" \
        --port 8443 --tls-cert "$C/api.pem" --tls-key "$C/api.key" --idle-timeout 1 \
        > "$T/refapi.log" 2>&1 &
REFAPI_PID=$!
URL=https://$API:8443
wait_until 5 curl -sf --cacert "$C/ca.pem" "$URL/_stats" -o /dev/null ||
        { echo "wan.sh: refapi did not start"; cat "$T/refapi.log"; exit 1; }
REFAPI_URL=$URL
config_write <<CONF
[global]
providers = fleet
lockout = off
timeout = 10s

[provider fleet]
type = login_check
url = $URL/v1/login_check
ca_file = $C/ca.pem

[provider gps]
type = token_login
url = $URL/wialon/ajax.html
ca_file = $C/ca.pem

[provider calls]
type = jsonrpc
url = $URL/v4.0
ca_file = $C/ca.pem

[provider pbx]
type = rest_login
url = $URL/api
domain = tenant.example.com
ca_file = $C/ca.pem

[provider room]
type = ws_auth
url = wss://$API:8443/
users = kiosk:user
ca_file = $C/ca.pem
CONF
DAEMON_FLAGS=--foreground daemon_start >/dev/null || exit 1

# type provider user secret path content-type body (for the curl baselines)
TYPES=(
"login_check fleet alice alice-pw-7Qx /v1/login_check application/json {\"username\":\"alice\",\"password\":\"alice-pw-7Qx\"}"
"token_login gps bob $BOB_TOKEN /wialon/ajax.html application/x-www-form-urlencoded svc=token/login&params=%7B%22token%22%3A%22$BOB_TOKEN%22%7D"
"jsonrpc calls erin erin-pw-7Qx /v4.0 application/json {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"login.user\",\"params\":{\"login\":\"erin\",\"password\":\"erin-pw-7Qx\"}}"
"rest_login pbx frank frank-pw-7Qx /api/login application/json {\"username\":\"frank\",\"password\":\"frank-pw-7Qx\",\"domain\":\"tenant.example.com\"}"
"ws_auth room kiosk 1234 - - -"
)
for t in "${TYPES[@]}"; do
        read -r _ prov _ _ path ctype body <<<"$t"
        echo "auth required $PAM_SO config=$T/apilogin.conf provider=$prov" > "/etc/pam.d/wan-$prov"
        [ "$path" = - ] && continue
        cat > "$T/curl-$prov.sh" <<CURL
#!/bin/sh
code=\$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.pem" \\
        -H 'Content-Type: $ctype' --data-binary '$body' "$URL$path")
[ "\$code" = 200 ]
CURL
        chmod 755 "$T/curl-$prov.sh"
        echo "auth required pam_exec.so quiet $T/curl-$prov.sh" > "/etc/pam.d/wan-exec-$prov"
done

# row RTT TYPE HOW OUTPUT-OF-A-CLIENT: p50/p99 in ms and in RTTs
row() {
        local p50 p99
        p50=$(sed -n 's/.*p50 *\([0-9.]*\) us.*/\1/p; s/.*p50_ms=\([0-9.]*\).*/\1 ms/p' <<<"$4" | head -1)
        p99=$(sed -n 's/.*p99 *\([0-9.]*\) us.*/\1/p; s/.*p99_ms=\([0-9.]*\).*/\1 ms/p' <<<"$4" | head -1)
        case $p50 in *ms) p50=${p50% ms} ;; *) p50=$(awk -v u="$p50" 'BEGIN{printf "%.1f", u/1000}') ;; esac
        case $p99 in *ms) p99=${p99% ms} ;; *) p99=$(awk -v u="$p99" 'BEGIN{printf "%.1f", u/1000}') ;; esac
        local fail=""
        grep -q "FAILURES\|fails=[1-9]" <<<"$4" && fail="  (FAILURES)"
        [ -z "$p50" ] && { printf '%4s  %-12s %-15s %s\n' "$1" "$2" "$3" "failed: $4"; return; }
        awk -v r="$1" -v t="$2" -v h="$3" -v a="$p50" -v b="$p99" -v f="$fail" \
                'BEGIN{printf "%4d  %-12s %-15s %9.1f %9.1f %8.2f %8.2f%s\n", r, t, h, a, b, a/r, b/r, f}'
}

echo "# wan: $N logins per row (cold: $COLD), TLS 1.3 to refapi at $URL through netem, $(nproc) cores, $(date -u +%F)"
for rtt in ${WAN_RTTS:-20 100}; do
        netem "$rtt" "${WAN_LOSS:-0}"
        echo "# RTT $rtt ms${WAN_LOSS:+ loss ${WAN_LOSS}%}"
        printf '%4s  %-12s %-15s %9s %9s %8s %8s\n' rtt type how p50_ms p99_ms p50_rtt p99_rtt
        for t in "${TYPES[@]}"; do
                read -r type prov user secret path ctype body <<<"$t"
                "$CLIENT" "wan-$prov" "$user" "$secret" 2 1 >/dev/null 2>&1 # warm up
                row "$rtt" "$type" "apilogin warm" "$("$CLIENT" "wan-$prov" "$user" "$secret" "$N" 1 2>&1)"
                row "$rtt" "$type" "apilogin cold" \
                        "$(PAUSE_MS=2000 "$CLIENT" "wan-$prov" "$user" "$secret" "$COLD" 1 2>&1)"
                [ "$path" = - ] && continue
                row "$rtt" "$type" "pam_exec+curl" "$("$CLIENT" "wan-exec-$prov" "$user" x "$N" 1 2>&1)"
                row "$rtt" "$type" "libcurl fresh" \
                        "$("$CURLC" "$URL$path" "$ctype" "$body" "$C/ca.pem" "$N" 2>&1)"
        done
done
echo "# target: apilogin p50 <= 1.2 RTT + server time (warm and cold); baselines pay >= 3 RTT"
echo "#         (TCP handshake + TLS 1.3 handshake + the request)"
kill "$APINS" 2>/dev/null

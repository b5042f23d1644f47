#!/bin/bash
# pam_auth.sh: logins per second and p50/p99 latency of one whole PAM login
# (pam_start..pam_authenticate..pam_end) against refapi on loopback, in one run:
#   pam_apilogin.so (through apilogind, warm connections)  vs
#   pam_exec running curl to the same endpoint              vs
#   pam_permit (the floor: PAM's own cost).
# Runs inside a private namespace like the e2e tests. Build first (./scripts/build.sh).
# Usage: bench/pam_auth.sh [ITERATIONS]
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
. tests/e2e/lib.sh
e2e_init "$@"
N=${1:-2000}
CLIENT=$BUILD/bench/pam_auth_client
refapi_start "$DATA/e2e_accounts.json"
config_write <<'CONF'
[global]
providers = fleet
lockout = off

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
DAEMON_FLAGS=--foreground daemon_start >/dev/null || exit 1
cat > "$T/curl-login.sh" <<CURL
#!/bin/sh
# pam_exec expose_authtok: the password arrives on stdin (NUL-terminated).
pw=\$(tr -d '\\000')
code=\$(printf '{"username":"%s","password":"%s"}' "\$PAM_USER" "\$pw" |
        curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \\
        --data-binary @- "$REFAPI_URL/v1/login_check")
[ "\$code" = 200 ]
CURL
chmod 755 "$T/curl-login.sh"
echo "auth required pam_exec.so quiet expose_authtok $T/curl-login.sh" > /etc/pam.d/bench-exec
echo "auth required pam_permit.so" > /etc/pam.d/bench-permit
echo "auth required $PAM_SO config=$T/apilogin.conf" > /etc/pam.d/bench-apilogin

echo "# pam_auth: $N logins per process against refapi at $REFAPI_URL ($(nproc) cores)"
"$CLIENT" bench-apilogin alice alice-pw-7Qx 50 1 >/dev/null   # warm up
for p in 1 2; do
        "$CLIENT" bench-permit alice x "$N" "$p"
        "$CLIENT" bench-apilogin alice alice-pw-7Qx "$N" "$p"
        "$CLIENT" bench-exec alice alice-pw-7Qx $((N / 10)) "$p"
done
echo "# per login API type, 1 process, same refapi (pam_start..pam_authenticate..pam_end):"
for spec in "fleet alice alice-pw-7Qx" "gps bob $BOB_TOKEN" "calls erin erin-pw-7Qx" \
            "pbx frank frank-pw-7Qx" "room kiosk 1234"; do
        set -- $spec
        echo "auth required $PAM_SO config=$T/apilogin.conf provider=$1" > "/etc/pam.d/bench-$1"
        "$CLIENT" "bench-$1" "$2" "$3" "$N" 1
done
echo "# target: apilogin >= 20x the logins/s of pam_exec+curl, within 0.2 ms of pam_permit per login"

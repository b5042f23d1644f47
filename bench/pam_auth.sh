#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_auth.sh: logins per second and p50/p99 latency of one whole PAM login
# (pam_start..pam_authenticate..pam_end) against refapi on loopback, in one run:
#   pam_apilogin.so (through apilogind, warm connections)  vs
#   pam_exec running curl to the same endpoint              vs
#   pam_permit (the floor: PAM's own cost).
# Beside the times: the per-login overhead over pam_permit (ms, from logins/s), and the
# system calls of a login for each module: `strace -c -f` of one pamtester login (process
# start included), and per login in a loop of 100 logins in one process (pam_auth_client,
# start-up spread over them). Without strace the syscall columns say "-".
# Runs inside a private namespace like the e2e tests. Build first (./scripts/build.sh).
# Usage: bench/pam_auth.sh [ITERATIONS]
set -u
cd "$(dirname "$0")/.."
export top_builddir=${top_builddir:-$PWD}
export E2E_TIMEOUT=${E2E_TIMEOUT:-7200} # a whole run takes longer than a test may
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
# As README.md installs it: no config= (the module would read the file for a socket key).
echo "auth required $PAM_SO" > /etc/pam.d/bench-apilogin

# rate OUTPUT: logins/s from a pam_auth_client line.
rate() { sed -n 's/.* \([0-9.]*\) logins\/s.*/\1/p' <<<"$1"; }
# sys_one SERVICE USER SECRET: system calls of one pamtester login (all processes).
sys_one() {
        command -v strace >/dev/null || { echo -; return; }
        printf '%s\n' "$3" | strace -f -c -o "$T/strace.one" pamtester "$1" "$2" authenticate \
                >/dev/null 2>&1
        awk '$NF == "total" {print $4}' "$T/strace.one"
}
# sys_loop SERVICE USER SECRET [N]: system calls per login over N (100) logins in one
# process.
sys_loop() {
        local n=${4:-100}
        command -v strace >/dev/null || { echo -; return; }
        strace -f -c -o "$T/strace.loop" "$CLIENT" "$1" "$2" "$3" "$n" 1 >/dev/null 2>&1
        awk -v n="$n" '$NF == "total" {printf "%.1f", $4 / n}' "$T/strace.loop"
}

echo "# pam_auth: $N logins per process against refapi at $REFAPI_URL ($(nproc) cores, $(date -u '+%F %H:%M UTC'))"
"$CLIENT" bench-apilogin alice alice-pw-7Qx 50 1 >/dev/null   # warm up
for p in 1 2; do
        permit=$("$CLIENT" bench-permit alice x "$N" "$p")
        apil=$("$CLIENT" bench-apilogin alice alice-pw-7Qx "$N" "$p")
        exec_=$("$CLIENT" bench-exec alice alice-pw-7Qx $((N / 10)) "$p")
        printf '%s\n%s\n%s\n' "$permit" "$apil" "$exec_"
        awk -v a="$(rate "$permit")" -v b="$(rate "$apil")" -v c="$(rate "$exec_")" -v p="$p" \
                'BEGIN{ if (a > 0 && b > 0 && c > 0)
                        printf "#   %d proc: apilogin +%.3f ms per login over pam_permit (%.0f%% of its rate); %.1fx pam_exec+curl\n",
                               p, (p * 1000 / b - p * 1000 / a), 100 * b / a, b / c }'
done
# Where apilogin's overhead over pam_permit goes, step by step (1 process): pam_permit's
# service with the module on its account line, loaded by pam_start but never called (the
# cost of one more .so); a local name, answered by the daemon's QUERY alone (one round trip
# to apilogind, no prompt); the whole login (QUERY, then AUTH, which waits for the API).
printf 'auth required pam_permit.so\naccount required %s\n' "$PAM_SO" > /etc/pam.d/bench-loaded
echo "# where the overhead goes (1 process, $N logins each; + ms per login over pam_permit):"
permit=$("$CLIENT" bench-permit alice x "$N" 1)
nod=$("$CLIENT" bench-loaded alice x "$N" 1)
loc=$("$CLIENT" bench-apilogin root x "$N" 1)
apil=$("$CLIENT" bench-apilogin alice alice-pw-7Qx "$N" 1)
for r in "pam_permit|$permit" "module loaded, not called|$nod" "local name (QUERY only)|$loc" \
         "whole login (QUERY + AUTH)|$apil"; do
        awk -v what="${r%%|*}" -v a="$(rate "$permit")" -v b="$(rate "${r#*|}")" \
                'BEGIN{ if (b > 0) printf "#   %-28s %6.0f logins/s  %+.3f ms\n", what, b, 1000 / b - 1000 / a }'
done
echo "# system calls per login (strace -c -f):   one pamtester login   per login in a loop of 100"
printf '#   %-16s %20s %22s\n' pam_permit "$(sys_one bench-permit alice x)" "$(sys_loop bench-permit alice x)"
printf '#   %-16s %20s %22s\n' pam_apilogin "$(sys_one bench-apilogin alice alice-pw-7Qx)" \
        "$(sys_loop bench-apilogin alice alice-pw-7Qx)"
printf '#   %-16s %20s %22s\n' pam_exec+curl "$(sys_one bench-exec alice alice-pw-7Qx)" \
        "$(sys_loop bench-exec alice alice-pw-7Qx 10)"
if command -v strace >/dev/null; then
        # per_call SERVICE USER SECRET FILE: "name calls-per-login" lines, loop of 100.
        per_call() {
                strace -f -c -o "$T/strace.tmp" "$CLIENT" "$1" "$2" "$3" 100 1 >/dev/null 2>&1
                awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 / 100 }' \
                        "$T/strace.tmp" | sort > "$4"
        }
        per_call bench-permit alice x "$T/sc.permit"
        per_call bench-apilogin alice alice-pw-7Qx "$T/sc.apilogin"
        echo "# system calls per login where pam_apilogin differs from pam_permit (loop of 100):"
        echo "#   (the module's own: socket, connect, getsockopt, 2 x sendto/poll/recvfrom, close;"
        echo "#   the rest is dlopen of a .so that the stack does not load anyway, as it does"
        echo "#   pam_permit.so through common-*)"
        printf '#   %-16s %10s %10s %8s\n' syscall pam_permit apilogin extra
        join -a1 -a2 -e 0 -o 0,1.2,2.2 "$T/sc.permit" "$T/sc.apilogin" |
                awk '{ d = $3 - $2; if (d > 0.05 || d < -0.05) printf "#   %-16s %10.1f %10.1f %+8.1f\n", $1, $2, $3, d }' |
                sort -t+ -k2 -rn
fi
echo "# per login API type, 1 process, same refapi (pam_start..pam_authenticate..pam_end):"
for spec in "fleet alice alice-pw-7Qx" "gps bob $BOB_TOKEN" "calls erin erin-pw-7Qx" \
            "pbx frank frank-pw-7Qx" "room kiosk 1234"; do
        set -- $spec
        echo "auth required $PAM_SO provider=$1" > "/etc/pam.d/bench-$1"
        "$CLIENT" "bench-$1" "$2" "$3" "$N" 1
done
echo "# target: apilogin >= 20x the logins/s of pam_exec+curl, within 0.2 ms of pam_permit per login"

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_trust.sh: trust nothing that was not checked (issue 8, points 3 and 7, daemon side).
# The daemon and apiloginctl refuse a config, or a file it names, that is not root's or is
# writable by group or others, naming the file and the reason: at start (it does not run)
# and on SIGHUP (it keeps the running config). A pending login is bound to the PAM
# transaction that authenticated: another process's OPEN does not get its token, an OPEN
# carrying the AUTH reply's handle does. Values from outside (rhost, an API's message) are
# escaped in the log lines, and the endpoint logged has no query string.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v setpriv >/dev/null || e2e_skip "no setpriv"
refapi_start "$DATA/e2e_accounts.json"
CONF=$T/apilogin.conf
CTL=$BUILD/cli/apiloginctl
EVIL_PORT=18765
write_conf() {
        config_write <<CONF
[global]
providers = fleet
timeout = 3s
${1:-}

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider q]
type = login_check
url = @URL@/v1/login_check?api_key=KEY-in-the-query-9Zt

[provider evil]
type = login_check
url = http://127.0.0.1:$EVIL_PORT/v1/login_check
${2:-}
CONF
        chmod 644 "$CONF"
}

# start_refused WHAT: apilogind must exit at once (not run) with a message in $OUT.
start_refused() {
        OUT=$(timeout 5 "$APILOGIND" --config "$CONF" --foreground 2>&1)
        [ $? = 1 ]
}

# --- the config file itself ---
write_conf
chmod 664 "$CONF"
check "apilogind does not start with a group-writable config" start_refused
check "...and says which file and why" \
        grep -qF "$CONF: refusing the config: writable by its group (mode 0664)" <<<"$OUT"
OUT=$("$CTL" --config "$CONF" check-config 2>&1)
check "apiloginctl check-config refuses it too" \
        grep -qF "$CONF: refusing the config: writable by its group" <<<"$OUT"
chmod 646 "$CONF"
check "apilogind does not start with a world-writable config" start_refused
check "...naming others" grep -qF "writable by others (mode 0646)" <<<"$OUT"
chmod 644 "$CONF"
chown nobody "$CONF"
check "apilogind does not start with a config owned by another user" start_refused
check "...naming the owner" grep -qF "$CONF: refusing the config: owned by uid 65534, not by root" <<<"$OUT"
chown root "$CONF"

# --- a file it names ---
echo "not a real CA" > "$T/ca.pem"
chmod 666 "$T/ca.pem"
write_conf "" "ca_file = $T/ca.pem"
check "apilogind does not start when a named ca_file is world-writable" start_refused
check "...naming the key and the file" grep -qF "ca_file: refusing $T/ca.pem: writable by others" <<<"$OUT"
chmod 644 "$T/ca.pem"
chown nobody "$T/ca.pem"
check "...or owned by another user" start_refused
echo "# $OUT"
: > "$T/users"
chmod 620 "$T/users"
write_conf "users_file = $T/users"
check "apilogind does not start when users_file is group-writable" start_refused
check "...naming users_file" grep -qF "users_file: refusing $T/users: writable by its group" <<<"$OUT"
chmod 600 "$T/users"

# --- SIGHUP with an untrusted config keeps the running one ---
write_conf
daemon_start || exit 1
write_conf "deny_users = alice"
chmod 666 "$CONF"
kill -HUP "$DAEMON_PID"
check "the daemon keeps running" kill -0 "$DAEMON_PID"
check "a reload with a world-writable config is refused and logged" wait_until 5 grep -qF \
        "Failed to reload the config, keeping the running one: $CONF: refusing the config: writable by others" \
        "$T/daemon.log"
# The PAM module reads the file too (and would refuse it): let it see the trusted one.
write_conf
login apilogin-test alice alice-pw-7Qx
expect_pam "the daemon is still running and answering" "auth: Success"

# --- a pending login is bound to its PAM transaction ---
login apilogin-test alice alice-pw-7Qx auth open close
check "the PAM module's OPEN carries its AUTH's handle" \
        grep -q "Pending login of alice: OPEN matched by the AUTH handle" "$T/daemon.log"
login apilogin-test alice alice-pw-7Qx auth
login apilogin-test alice x open
check "another process's open_session does not take the token of a login it did not make" \
        [ ! -e "$(token_path alice)" ]
check "...and says so in the log" grep -q "session of alice opened by pid .* without the token" \
        "$T/daemon.log"
OUT=$(sockpeer req 1 user=alice secret=alice-pw-7Qx service=apilogin-test)
h=$(sed -n 's/^session=//p' <<<"$OUT")
check "the AUTH reply carries a random handle" grep -Eq '^[0-9a-f]{32}$' <<<"$h"
OUT=$(sockpeer req 3 user=alice service=apilogin-test pid=$$ session=0123456789abcdef0123456789abcdef)
check "an OPEN with another handle does not take the token" [ ! -e "$(token_path alice)" ]
OUT=$(sockpeer req 3 user=alice service=apilogin-test pid=$$ session="$h")
sid=$(sed -n 's/^session=//p' <<<"$OUT")
check "an OPEN from another process with the handle takes it" [ -s "$(token_path alice)" ]
sockpeer req 4 user=alice session="$sid" >/dev/null

# --- log hygiene ---
printf 'wrong-pw\n' | pamtester -I "rhost=x rhost=evil"$'\n'"user=root" apilogin-test alice \
        authenticate >/dev/null 2>&1
check "an rhost with blanks, = and a newline is logged quoted and escaped" \
        grep -qF 'rhost="x rhost=evil\nuser=root"' "$T/daemon.log"
check "...in syslog too" grep -qF 'rhost="x rhost=evil\nuser=root"' "$T/syslog.txt"
check "...and never as a forged field or line" \
        bash -c "! grep -qE 'rhost=x rhost=evil|^user=root' '$T/daemon.log' '$T/syslog.txt'"

add_service apilogin-q provider=q
login apilogin-q alice alice-pw-7Qx
expect_pam "a provider whose url has a query string works" "auth: Success"
check "the endpoint it logs has no query string" \
        grep -qE "auth user=alice .*provider=q endpoint=http://127.0.0.1:$REFAPI_PORT/v1/login_check outcome" \
        "$T/daemon.log"
check "...and its key appears in no log" logs_clean KEY-in-the-query-9Zt

# A fake API (run as nobody) whose error message tries to forge fields and a line.
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- /usr/bin/python3 - "$EVIL_PORT" <<'PY' &
import http.server, json, sys
MSG = 'nope" user=root outcome=ok x="y\nforged=1'
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"errors": [{"error": 1006, "message": MSG}]}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
EVIL_PID=$!
wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$EVIL_PORT" 2>/dev/null
add_service apilogin-evil provider=evil
login apilogin-evil alice alice-pw-7Qx
expect_pam "the fake API's refusal is a wrong password" "auth: Authentication failure"
check "its message is logged quoted, its quotes escaped" \
        grep -qF 'api_message="nope\" user=root outcome=ok x=\"y?forged=1"' "$T/daemon.log"
check "...so no forged outcome field" \
        bash -c "! grep -qF 'api_message=\"nope\" user=root' '$T/daemon.log' '$T/syslog.txt'"
kill "$EVIL_PID" 2>/dev/null
check "no log holds a password" logs_clean alice-pw-7Qx
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_thinpam.sh: the daemon is the one reader of the config. pam_apilogin.so and apiloginctl
# know only the socket (socket=, or the socket key of config=, or the default) and ask the
# daemon (QUERY) whether a name is ours and with which prompt; a typo saved in the file
# changes nothing until a reload, and a failed reload keeps serving. Both clients refuse a
# socket not served by root before sending anything (a fake apilogind run as nobody gets no
# password), and sshd's invalid-user stand-in is refused no faster than the floor the
# module mimics a real refusal with (STANDIN_DELAY_MIN_MS, 500 ms).
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
PW=alice-pw-7Qx
SOCK=/run/apilogin-alt/socket
CTL="$BUILD/cli/apiloginctl"
UNKNOWN="auth: User not known to the underlying authentication module"
UNAVAIL="auth: Authentication service cannot retrieve authentication info"

# [global] with a socket that is not the default, so every client must find it.
write_config() {
        config_write <<CONF
[global]
socket = $SOCK
providers = fleet
timeout = 3s
lockout = off
deny_users = mallory
services = apilogin-test apilogin-gps apilogin-sock apilogin-room apilogin-nodef

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider gps]
type = token_login
url = @URL@/wialon/ajax.html

[provider room]
type = ws_auth
url = ws://127.0.0.1:@PORT@
users = kiosk:user
CONF
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# --- the module links no config parser -----------------------------------------------------
check "pam_apilogin.so links neither libinih, libcurl nor cJSON" \
        bash -c "! ldd '$PAM_SO' | grep -qiE 'inih|curl|cjson'"
check "pam_apilogin.so holds no config parser (no ini_parse, no apilogin_config_load)" \
        bash -c "! nm '$PAM_SO' | grep -qE 'ini_parse|apilogin_config_load|conf_'"

write_config
SOCKET=$SOCK daemon_start || exit 1
add_service apilogin-sock "socket=$SOCK"
add_service apilogin-room "config=$T/apilogin.conf provider=room"
# No argument at all: the module must not find the daemon through any file.
for ph in auth account session password; do echo "$ph required $PAM_SO"; done \
        > /etc/pam.d/apilogin-nodef
add_service apilogin-other "debug"

# --- finding the daemon: config= (socket key only), socket=, the default -------------------
login apilogin-test alice "$PW" auth acct open close
expect_pam "config=: the module reads the socket key and alice logs in" "close: Success"
login apilogin-sock alice "$PW" auth acct
expect_pam "socket=: the same without any config file" "acct: Success"
t0=$(ms_now)
login apilogin-nodef alice "$PW"
t1=$(ms_now)
expect_pam "no argument: the compiled-in default socket, where no daemon is: unavailable" "$UNAVAIL"
check "no daemon is answered at once (<2 s, took $((t1 - t0)) ms)" [ $((t1 - t0)) -lt 2000 ]

# --- QUERY: the daemon decides, and says what to prompt for ---------------------------------
n=$(refstat total)
export PAM_SESSION_SHOW_PROMPT=1
login apilogin-test mallory mallory-pw-7Qx
expect_pam "a deny_users name is refused by the daemon" "$UNKNOWN"
check "and never prompted for" bash -c "! grep -q '^prompt:' <<<'$OUT'"
login apilogin-test nobody nobody-pw-7Qx
expect_pam "a local account is refused" "$UNKNOWN"
check "and never prompted for" bash -c "! grep -q '^prompt:' <<<'$OUT'"
login apilogin-other alice "$PW"
expect_pam "a service not in services is refused" "$UNKNOWN"
check "and never prompted for" bash -c "! grep -q '^prompt:' <<<'$OUT'"
: > "$T/syslog.txt"
login apilogin-other alice "$PW" acct
check "its account phase is PAM_IGNORE (the daemon said: not ours)" \
        grep -q "user alice is not handled by apilogin for this service" "$T/syslog.txt"
check "refapi saw none of them" [ "$(refstat total)" = "$n" ]
login apilogin-test alice "$PW"
check "login_check prompts 'Password: '" grep -qx "prompt: Password: " <<<"$OUT"
login apilogin-gps bob "$BOB_TOKEN"
check "token_login prompts 'Access token: '" grep -qx "prompt: Access token: " <<<"$OUT"
login apilogin-room kiosk 0000
check "ws_auth prompts 'PIN: '" grep -qx "prompt: PIN: " <<<"$OUT"
unset PAM_SESSION_SHOW_PROMPT

# --- the typo test: an unknown key saved into the running daemon's file ---------------------
sed -i "s#^providers = fleet#&\ntimeout_typo = 5s#" "$T/apilogin.conf"
line=$(grep -n '^timeout_typo' "$T/apilogin.conf" | cut -d: -f1)
login apilogin-test alice "$PW" auth acct open close
expect_pam "with a typo in the file, logins still succeed (config=)" "close: Success"
out=$($CTL --config "$T/apilogin.conf" status 2>&1)
check "apiloginctl --config status still works" grep -q "^apilogind " <<<"$out"
out=$($CTL --socket "$SOCK" status 2>&1)
check "apiloginctl --socket status works" grep -q "^apilogind " <<<"$out"
out=$($CTL check-config "$T/apilogin.conf" 2>&1)
rc=$?
check "apiloginctl check-config FILE finds the typo (exit 1)" [ "$rc" = 1 ]
check "and names file:line: key" grep -qF "$T/apilogin.conf:$line: timeout_typo" <<<"$out"
out=$($CTL --socket /nonexistent/sock check-config "$T/apilogin.conf" 2>&1)
check "check-config never asks the daemon" grep -qF "timeout_typo" <<<"$out"
kill -HUP "$DAEMON_PID"
wait_until 5 grep -q "Failed to reload the config, keeping the running one" "$T/daemon.log"
check "SIGHUP: the reload fails and is logged with file:line: key" \
        grep -qF "$T/apilogin.conf:$line: timeout_typo" "$T/daemon.log"
login apilogin-test alice "$PW" auth acct open close
expect_pam "after the failed reload the daemon still serves" "close: Success"
sed -i '/^timeout_typo/d' "$T/apilogin.conf"

# --- sshd's invalid-user stand-in: never sent, and not answered at once ---------------------
n=$(refstat total)
t0=$(ms_now)
login apilogin-test alice wrong-pw
t1=$(ms_now)
wrong_ms=$((t1 - t0))
t0=$(ms_now)
OUT=$(PAM_SESSION_SECRET=$'\b\n\r\177INCORRECT' "$PAM_SESSION" apilogin-test alice auth 2>&1)
t1=$(ms_now)
standin_ms=$((t1 - t0))
echo "# wrong password refused in $wrong_ms ms, stand-in in $standin_ms ms"
expect_pam "the stand-in is refused with PAM_AUTH_ERR" "auth: Authentication failure"
check "it was not sent (only the wrong password reached refapi)" [ "$(refstat total)" = $((n + 1)) ]
check "it took at least the 500 ms floor (took $standin_ms ms)" [ "$standin_ms" -ge 500 ]
check "and not more than a generous bound (5 s)" [ "$standin_ms" -lt 5000 ]

# --- a socket served by another uid: nothing is sent, not even a QUERY ----------------------
daemon_stop
mkdir -p "$T/fake" && chown nobody "$T/fake"
cat > "$T/fake.py" <<'EOF'
# A fake apilogind: answers every request with OK, prompt "Password: ", so a client that
# trusted it would go on and send the secret; records every byte it receives.
import os, socket, struct, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o666)
s.listen(16)
def field(tag, data):
    return struct.pack(">BH", tag, len(data)) + data
body = field(9, struct.pack(">I", 0)) + field(13, b"Password: ") + field(14, struct.pack(">I", 3000))
reply = struct.pack(">HBBI", 0x414C, 1, 128, len(body)) + body
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        while True:
            hdr = c.recv(8, socket.MSG_WAITALL)
            if len(hdr) < 8:
                break
            n = struct.unpack(">I", hdr[4:])[0]
            data = hdr + c.recv(n, socket.MSG_WAITALL)
            with open(log, "ab") as f:
                f.write(data)
            c.sendall(reply)
    except OSError:
        pass
    c.close()
EOF
: > "$T/fake/received" && chown nobody "$T/fake/received"
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$T/fake.py" "$T/fake/sock" \
        "$T/fake/received" &
FAKE_PID=$!
wait_until 5 test -S "$T/fake/sock" || echo "# the fake server did not start"
add_service apilogin-fake "socket=$T/fake/sock"
login apilogin-fake alice "$PW"
expect_pam "a socket served by nobody: PAM_AUTHINFO_UNAVAIL" "$UNAVAIL"
check "the fake server received no password" bash -c "! grep -qF '$PW' '$T/fake/received'"
check "it received nothing at all (the peer is checked before any request)" \
        [ ! -s "$T/fake/received" ]
check "the refusal is logged, naming the socket" \
        grep -qF "Refusing to talk to $T/fake/sock: it is not served by root" "$T/syslog.txt"
login apilogin-fake alice "$PW" acct
check "the account phase refuses it too (not a local user: unavailable)" \
        grep -q "^acct: Authentication service cannot retrieve" <<<"$OUT"
out=$(printf '%s\n' "$PW" | $CTL --socket "$T/fake/sock" test-login alice 2>&1)
rc=$?
check "apiloginctl test-login refuses it (exit 1)" [ "$rc" = 1 ]
check "saying why" grep -q "not served by root" <<<"$out"
out=$($CTL --socket "$T/fake/sock" status 2>&1)
check "apiloginctl status refuses it too" grep -q "not served by root" <<<"$out"
check "the fake server still received nothing" [ ! -s "$T/fake/received" ]
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null

check "no log holds a password or a token" logs_clean "$PW" "$BOB_TOKEN" mallory-pw-7Qx nobody-pw-7Qx
e2e_done

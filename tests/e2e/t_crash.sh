#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_crash.sh: apilogind killed with SIGKILL over and over while 20 sessions' 3-second
# tokens are being refreshed loses nothing: readers never see a partial token file, and
# after the restarts every session is still served, every token file is whole, valid and
# refreshed again. (A kill can fall between the API consuming a single-use refresh token
# and the daemon saving the new one; renew = relogin is what recovers such a session.)
# Also: SIGHUP with a broken config keeps the running one and keeps serving; SIGTERM
# stops within a few seconds, and the next start picks the sessions up again.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
N=20
python3 - "$N" > "$T/accounts.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"token_ttl": 3, "login_check": [
    {"username": "u%02d" % i, "password": "pw-%02d-7Qx" % i} for i in range(n)]}))
PY
refapi_start "$T/accounts.json"
config_write <<'CONF'
[global]
providers = fleet
timeout = 2s
lockout = off

[provider fleet]
type = login_check
url = @URL@/v1/login_check
refresh_url = @URL@/v1/token/refresh
renew = relogin
CONF
cp "$T/apilogin.conf" "$T/good.conf"
daemon_start || exit 1
for i in $(seq -w 0 $((N - 1))); do
        session_bg "u$i" apilogin-test "u$i" "pw-$i-7Qx" 150
done
ready=0
for i in $(seq -w 0 $((N - 1))); do wait_until 5 token_ready "u$i" && ready=$((ready + 1)); done
check "$N sessions opened" [ "$ready" = "$N" ]
files=()
for i in $(seq -w 0 $((N - 1))); do files+=("$(token_path "u$i")"); done

# A reader that checks every read of every token file while the daemon is killed.
( bad=0
  while [ ! -e "$T/stop-reader" ]; do
          for f in "${files[@]}"; do
                  t=
                  { IFS= read -r t < "$f"; } 2>/dev/null
                  [[ $t =~ ^[0-9a-f]{32}$ ]] || bad=$((bad + 1))
          done
          sleep 0.01
  done
  echo "$bad" > "$T/reader.txt" ) &
reader=$!

for k in 1 2 3 4 5 6; do
        sleep "0.$((RANDOM % 9 + 1))"
        { kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
        rm -f $RUNDIR/socket
        daemon_start || break
        sleep 1
done
check "the daemon was killed 6 times and restarted" [ "$(grep -c "ready (config" "$T/daemon.log")" = 7 ]
check "it always found all $N sessions again" \
        [ "$(grep -c "Loaded $N session(s) of $N user(s)" "$T/daemon.log")" = 6 ]
sleep 4
touch "$T/stop-reader"
wait "$reader"
check "no read of a token file was ever partial or missing" [ "$(cat "$T/reader.txt")" = 0 ]

# Every session still served: whole token, valid at the API, and renewed again.
valid=0 state=0
for i in $(seq -w 0 $((N - 1))); do
        tok=$(cat "$(token_path "u$i")")
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
                "$REFAPI_URL/v1/whoami")
        [ "$code" = 200 ] && valid=$((valid + 1))
        wait_until 2 token_json_matches "u$i" valid && state=$((state + 1))
        echo "$tok" > "$T/tok.u$i"
done
check "after the kills all $N token files hold a token the API accepts: $valid" [ "$valid" = "$N" ]
check "all $N token.json files match their token and say valid: $state" [ "$state" = "$N" ]
sleep 4
renewed=0
for i in $(seq -w 0 $((N - 1))); do
        token_differs "u$i" "$(cat "$T/tok.u$i")" && renewed=$((renewed + 1))
done
check "all $N tokens were renewed again after the last restart: $renewed" [ "$renewed" = "$N" ]
check "no temp file of a killed write is left in the session records" \
        [ -z "$(find $RUNDIR/sessions -name '.*.json.*' -mmin +0.05)" ]

# SIGHUP with a broken config: the old one stays, the daemon keeps serving.
n=$(refstat refresh_ok)
printf '[global]\nproviders = fleet\nno_such_key = 1\n' > "$T/apilogin.conf"
kill -HUP "$DAEMON_PID"
check "a broken config is refused on SIGHUP, and the log says why" \
        wait_until 3 grep -q "Failed to reload the config, keeping the running one:.*no_such_key" "$T/daemon.log"
check "the daemon still runs" kill -0 "$DAEMON_PID"
# (The PAM module reads the config file too: this service points at a good copy.)
echo "auth required $PAM_SO config=$T/good.conf" > /etc/pam.d/apilogin-good
login apilogin-good u00 pw-00-7Qx auth
expect_pam "a login still works after the bad reload" "auth: Success"
check "refreshes go on after the bad reload" wait_until 5 refstat_ge refresh_ok $((n + N))
cp "$T/good.conf" "$T/apilogin.conf"
kill -HUP "$DAEMON_PID"
check "a good config is taken on SIGHUP" wait_until 3 grep -q "Reloaded $T/apilogin.conf" "$T/daemon.log"

# SIGTERM: a prompt, clean stop; the sessions are there at the next start.
start=$(date +%s%N)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
DAEMON_PID=
check "SIGTERM stops the daemon with status 0 in ${ms} ms (< 4 s)" [ "$rc" = 0 -a "$ms" -lt 4000 ]
# This start as systemd would run it (Type=notify, WatchdogSec=): READY=1, then
# WATCHDOG=1 from the loop at half the interval.
python3 - "$T/notify.sock" "$T/notify.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(4096) + b"\n")
PY
notify_pid=$!
wait_until 3 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 daemon_start || exit 1
check "sd_notify READY=1 once the sessions are loaded" wait_until 3 grep -q "READY=1" "$T/notify.txt"
sleep 1
check "WATCHDOG=1 every 200 ms with WATCHDOG_USEC=400000: $(grep -c WATCHDOG=1 "$T/notify.txt") in ~1 s" \
        [ "$(grep -c WATCHDOG=1 "$T/notify.txt")" -ge 4 ]
kill "$notify_pid"
check "the next start loads all $N sessions" \
        [ "$(grep -c "Loaded $N session(s) of $N user(s)" "$T/daemon.log")" = 7 ]
for i in $(seq -w 0 $((N - 1))); do session_end "u$i"; done
check "when the leaders are gone every token file is gone" \
        wait_until 5 test -z "$(ls $RUNDIR/users)"
check "no log holds a password" logs_clean pw-00-7Qx pw-07-7Qx pw-19-7Qx
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_revoke.sh: a session whose leader process dies without closing it is ended as a close
# would end it: pamtester exiting after open_session, a session leader killed with
# SIGKILL while its command runs, and a leader that died while apilogind was down (found
# at the restart). The last session's end logs the token out (token_login: core/logout)
# and deletes the token files and the record; a live session survives all this.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1
PW=alice-pw-7Qx

# 1. pamtester opens a session and exits without closing it.
out=$(echo "$BOB_TOKEN" | pamtester apilogin-gps bob authenticate open_session 2>&1)
check "pamtester opened a session" grep -q "successfully opened" <<<"$out"
tf=$(token_path bob)
check "bob's session ended when pamtester exited: core/logout called" \
        wait_until 5 refstat_ge logout_token_login_ok 1
check "its token files are gone" wait_until 2 test ! -e "$tf"
check "its record is gone" [ ! -e $RUNDIR/sessions/bob.json ]
check "the end was logged with the reason" grep -q "session ended: user=bob.*leader died" "$T/syslog.txt"

# 2. A session leader killed with SIGKILL while its command still runs.
session_bg a apilogin-test alice "$PW" 60
check "alice's session opened" wait_until 5 token_ready alice
session_bg b apilogin-gps bob "$BOB_TOKEN" 60
check "bob's session opened" wait_until 5 token_ready bob
child=$(descendants "$SESS_b")
{ kill -KILL "$SESS_b"; wait "$SESS_b"; } 2>/dev/null
check "bob's session ended when its leader was killed: core/logout called" \
        wait_until 5 refstat_ge logout_token_login_ok 2
check "its token files are gone" wait_until 2 test ! -e "$tf"
[ -n "$child" ] && kill $child 2>/dev/null
check "alice's session (leader alive) is untouched" test -s "$(token_path alice)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
c0=$(cpu_ticks)
sleep 3
check "0 % CPU while nothing is due (a watched leader, a 24 h token): $(($(cpu_ticks) - c0)) ticks in 3 s" \
        [ "$(($(cpu_ticks) - c0))" = 0 ]

# 3. A leader that dies while the daemon is down is found at the restart.
session_bg c apilogin-gps bob "$BOB_TOKEN" 60
check "bob's new session opened" wait_until 5 token_ready bob
child=$(descendants "$SESS_c")
{ kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID"; } 2>/dev/null
DAEMON_PID=
{ kill -KILL "$SESS_c"; wait "$SESS_c"; } 2>/dev/null
[ -n "$child" ] && kill $child 2>/dev/null
sleep 0.2
check "the files of both users survive the daemon's death" \
        test -s "$(token_path alice)" -a -s "$tf"
n=$(refstat logout_token_login_ok)
daemon_start || exit 1
check "at the restart bob's session is ended: core/logout called" \
        wait_until 5 refstat_ge logout_token_login_ok $((n + 1))
check "bob's token files are gone" wait_until 2 test ! -e "$tf"
check "the restart logged why" grep -q "session ended: user=bob.*while apilogind was not running" "$T/syslog.txt"
check "alice's session survived the restart" test -s "$(token_path alice)"
out=$("$BUILD/cli/apiloginctl" --config "$T/apilogin.conf" sessions 2>&1)
check "the daemon still lists alice's session" grep -q "^alice " <<<"$out"

# alice's leader ends normally at last.
child=$(descendants "$SESS_a")
[ -n "$child" ] && kill $child 2>/dev/null
wait "$SESS_a" 2>/dev/null
check "alice's files are gone once her leader is gone" wait_until 5 test ! -e "$(token_path alice)"
check "no log holds a secret" logs_clean "$PW" "$BOB_TOKEN"
e2e_done

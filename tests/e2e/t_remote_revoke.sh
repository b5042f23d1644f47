#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_remote_revoke.sh: on_remote_revoke. A session's 3-second login_check token is
# refreshed in the background; refapi restarts and forgets every token, so the next
# refresh gets a definite "token invalid". With on_remote_revoke = end_session the
# session's leader is signalled and the session ends within a refresh interval (logged
# at warning level); with the default (log) it is only logged and the session goes on.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
cat > "$T/accounts.json" <<'EOF2'
{"token_ttl": 3,
 "login_check": [{"username": "alice", "password": "alice-pw-7Qx"}]}
EOF2
refapi_start "$T/accounts.json"
conf() {
        config_write <<CONF
[global]
providers = fleet
timeout = 3s
$1

[provider fleet]
type = login_check
url = @URL@/v1/login_check
refresh_url = @URL@/v1/token/refresh
CONF
}
leader_gone() { ! kill -0 "$1" 2>/dev/null; }

conf "on_remote_revoke = end_session"
daemon_start || exit 1
session_bg a apilogin-test alice alice-pw-7Qx 30
check "alice's session opened" wait_until 5 token_ready alice
refapi_stop
refapi_start_again "$T/accounts.json"
check "end_session: the leader was ended within a refresh interval" wait_until 8 leader_gone "$SESS_a"
check "logged at warning level" grep -q 'Remote revoke of alice.*ending its sessions' "$T/daemon.log"
check "the session ended: token files gone" wait_until 3 bash -c "[ ! -e '$(token_path alice)' ]"
session_end a

daemon_stop
conf ""
daemon_start || exit 1
session_bg b apilogin-test alice alice-pw-7Qx 30
check "alice's second session opened" wait_until 5 token_ready alice
refapi_stop
refapi_start_again "$T/accounts.json"
check "log (default): the revoke is logged" wait_until 8 grep -q 'Remote revoke of alice.*go on' "$T/daemon.log"
check "and the session goes on" kill -0 "$SESS_b"
session_end b
e2e_done

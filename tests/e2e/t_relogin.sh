#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_relogin.sh: renew = relogin (jsonrpc, 3-second tokens): the daemon logs in again with
# the password it keeps in the kernel keyring (and nowhere on disk), also after a
# restart; a user's second session ending leaves the token alive; the last one ending
# logs the token out, and removes the token files, the keyring key and the record.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
cat > "$T/accounts.json" <<'EOF'
{"token_ttl": 3,
 "jsonrpc": [{"login": "erin", "password": "erin-pw-7Qx"}]}
EOF
refapi_start "$T/accounts.json"
config_write <<'CONF'
[global]
providers = calls
timeout = 3s

[provider calls]
type = jsonrpc
url = @URL@/v4.0
renew = relogin
CONF
daemon_start || exit 1
PW=erin-pw-7Qx

session_bg a apilogin-test erin "$PW" 22
check "erin's first session opened" wait_until 5 token_ready erin
tf=$(token_path erin)
t0=$(cat "$tf")
check "the password is in the daemon's keyring (apilogin:erin)" key_present erin
check "the token was renewed by logging in again" wait_until 5 refstat_ge jsonrpc_login_ok 2
check "the token file changed" wait_until 2 token_differs erin "$t0"
check "no file under /run or /var/lib holds the password" no_file_holds "$PW"
check "token.json says valid" token_state_is erin valid

# A second session of the same user, closed while the first one goes on.
session_bg b apilogin-test erin "$PW" 4
check "erin's second session opened" wait_until 5 grep -q "open: Success" "$T/sess_b.out"
wait "$SESS_b"
check "the second session closed" grep -q "close: Success" "$T/sess_b.out"
lo=$(refstat jsonrpc_logout_ok)
t1=$(cat "$tf")
check "the first session keeps the token alive: renewed again" wait_until 5 token_differs erin "$t1"
check "its token file is still there" test -s "$tf"
check "no logout when a session that is not the last closed" [ "$(refstat jsonrpc_logout_ok)" = "$lo" ]
check "no file under /run or /var/lib holds the password" no_file_holds "$PW"

# A restart: the keyring outlives the daemon, so re-login goes on.
daemon_stop
n=$(refstat jsonrpc_login_ok)
daemon_start || exit 1
check "after a restart the token is renewed by re-login again" \
        wait_until 6 refstat_ge jsonrpc_login_ok $((n + 1))
check "the session survived the restart" grep -q "Loaded 1 session(s) of 1 user(s)" "$T/daemon.log"

wait "$SESS_a"
check "the last session closed" grep -q "close: Success" "$T/sess_a.out"
check "the last close logged the token out" wait_until 3 refstat_ge jsonrpc_logout_ok $((lo + 1))
check "the token files are gone" [ ! -e "$tf" ]
check "the keyring key is gone" key_absent erin
check "the session record is gone" [ ! -e $RUNDIR/sessions/erin.json ]
n=$(refstat jsonrpc_login_ok)
sleep 3
check "no re-login after the end" [ "$(refstat jsonrpc_login_ok)" = "$n" ]
check "no file under /run or /var/lib holds the password" no_file_holds "$PW"
check "no log holds the password" logs_clean "$PW"
e2e_done

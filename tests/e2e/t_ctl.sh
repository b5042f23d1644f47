#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_ctl.sh: every apiloginctl verb against a running apilogind: output, exit code (0 ok,
# 1 failure, 2 usage), --help per verb, --json parsed by python3; status with providers
# online/offline and the logins by outcome; users and sessions as tables with headers;
# test-login printing endpoint, outcome, PAM code and time, storing nothing, and waiting
# for the daemon's own timeout (15 s) when the API stalls, not a fixed 10 s; flush and user
# del expiring cached users without touching a live session; non-root callers told what
# they may do instead.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
trap 'keyring_cleanup; e2e_cleanup' EXIT
STALL_SECONDS=40 refapi_start "$DATA/e2e_accounts.json"
SOCK=${SOCKET:-$RUNDIR/socket}
CTLBIN=$BUILD/cli/apiloginctl
CTL="$CTLBIN --socket $SOCK"
TIMEOUT=15s standard_config
daemon_start || exit 1

# run VERB...: output (stdout and stderr) in $OUT, exit code in $RC.
run() { OUT=$($CTL "$@" 2>&1); RC=$?; }
# not_in_out STRING: $OUT does not hold STRING.
not_in_out() { ! grep -qF -- "$1" <<<"$OUT"; }
# rc_out WANT-RC REGEX...: $RC is WANT-RC and $OUT matches every extended regex.
rc_out() {
        local want=$1 p
        shift
        [ "$RC" = "$want" ] || return 1
        for p in "$@"; do grep -qE -- "$p" <<<"$OUT" || return 1; done
}
# json_ok VERB: the verb's --json output parses as one JSON object; it is kept in $T/VERB.json.
json_ok() { $CTL "$1" --json > "$T/$1.json" && python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert isinstance(o, dict)' "$T/$1.json"; }
# jq_py FILE EXPR: evaluate a python expression on the JSON object "o" in FILE.
jq_py() { python3 -c "import json,sys; o=json.load(open(sys.argv[1])); print($2)" "$1"; }
# as_user UID GID CMD...: run CMD with that uid and gid and no supplementary groups.
as_user() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups "$@"; }

# --- usage and help -----------------------------------------------------------------------
for v in status users sessions flush user test-login check-config help; do
        run "$v" --help
        check "$v --help: exit 0 and its own usage line" \
                rc_out 0 "^Usage: apiloginctl .*$v"
done
run bogus
check "an unknown verb: exit 2" [ "$RC" = 2 ]
run status extra
check "status with an argument: exit 2" [ "$RC" = 2 ]
run status --bogus
check "an unknown option: exit 2" [ "$RC" = 2 ]
run flush --json
check "flush has no --json: exit 2" [ "$RC" = 2 ]
run user frob alice
check "user frob: exit 2" [ "$RC" = 2 ]
run test-login
check "test-login without a name: exit 2" [ "$RC" = 2 ]
OUT=$($CTLBIN --socket /nonexistent/sock status 2>&1); RC=$?
check "no daemon: exit 1 and says so" \
        rc_out 1 'apilogind is not running'

# --- a fresh daemon ------------------------------------------------------------------------
run status
check "status: exit 0" [ "$RC" = 0 ]
check "status: first line names apilogind and its uptime" grep -qE "^apilogind .*\(pid [0-9]+\), up " <<<"$OUT"
check "status: the config file in use" grep -qF "config: $T/apilogin.conf" <<<"$OUT"
check "status: a provider table with a header" grep -qE "^  NAME +TYPE +STATE +LAST SUCCESS +LAST ERROR" <<<"$OUT"
check "status: fleet not asked yet is unknown" grep -qE "^  fleet +login_check +unknown " <<<"$OUT"
check "status --json parses" json_ok status
check "status --json: the config path" [ "$(jq_py "$T/status.json" 'o["config"]')" = "$T/apilogin.conf" ]

# --- logins: ok, wrong password, unavailable ------------------------------------------------
login apilogin-test alice alice-pw-7Qx auth
expect_pam "alice logs in" "auth: Success"
login apilogin-test alice wrong-pw auth
expect_pam "a wrong password is refused" "auth: Authentication failure"
json_ok status
check "status --json: fleet online after an answer" [ "$(jq_py "$T/status.json" '[p["state"] for p in o["providers"] if p["name"]=="fleet"][0]')" = online ]
v=$(jq_py "$T/status.json" 'o["logins"]["ok"], o["logins"]["auth_err"]')
check "status --json: logins by outcome (1 ok, 1 auth_err): $v" [ "$v" = "1 1" ]
refapi_fault /v1/login_check 500
login apilogin-test alice alice-pw-7Qx auth
refapi_fault /v1/login_check none
json_ok status
check "status --json: fleet offline after a 500, with the reason" \
        [ "$(jq_py "$T/status.json" '[(p["state"], p["last_error_reason"]) for p in o["providers"] if p["name"]=="fleet"][0]')" = "('offline', 'HTTP 500')" ]
check "status --json: the unavailable login counted" [ "$(jq_py "$T/status.json" 'o["logins"]["unavailable"]')" = 1 ]
run status
check "status (text): fleet offline" grep -qE "^  fleet +login_check +offline " <<<"$OUT"
check "status (text): logins by outcome" grep -qE "^logins since start:.* ok 1, auth_err 1,.* unavailable 1" <<<"$OUT"
check "status (text): offline sessions and offline logins" grep -qE "^offline sessions: 0 user\(s\); offline logins since start: 0" <<<"$OUT"

# --- users and sessions ------------------------------------------------------------------------
session_bg a apilogin-test alice alice-pw-7Qx 120
check "alice's session opened" wait_until 5 token_ready alice
auid=$(id -u alice)
agid=$(id -g alice)
run users
check "users: exit 0, a header, alice's row with uid and display name" \
        rc_out 0 '^NAME +UID +GECOS +PROVIDER +LAST LOGIN +SESSIONS +DISABLED$' "^alice +$auid +Alice Example +fleet +20[0-9-]+T[0-9:]+Z +1 +no$"
check "users --json parses, alice with her uid" json_ok users
check "users --json: alice's uid and 1 session" [ "$(jq_py "$T/users.json" '[(u["uid"], u["sessions"]) for u in o["users"] if u["name"]=="alice"][0]')" = "($auid, 1)" ]
run sessions
check "sessions: exit 0, a header, alice's session online" \
        rc_out 0 '^USER +UID +SESSION +SERVICE +TTY +RHOST +PID +OPENED +PROVIDER +STATE$' "^alice +$auid +[0-9a-f]+ +apilogin-test .* $SESS_a +20.*Z +fleet +online$"
check "sessions --json parses" json_ok sessions
check "sessions --json: alice's leader pid" [ "$(jq_py "$T/sessions.json" '[s["pid"] for s in o["sessions"] if s["user"]=="alice"][0]')" = "$SESS_a" ]
check "no listing holds alice's token" bash -c "! grep -qF \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"token\"])' $(dirname "$(token_path alice)")/token.json)\" $T/users.json $T/sessions.json $T/status.json"

# --- test-login: prints endpoint, outcome, PAM code, time; stores nothing ---------------------
n_out=$(refstat logout_token_login_ok)
OUT=$(printf '%s\n' "$BOB_TOKEN" | $CTL test-login --provider gps bob 2>&1); RC=$?
check "test-login bob (gps): exit 0, ok" rc_out 0 '^ok'
check "test-login: the endpoint that answered" grep -qF "endpoint:  $REFAPI_URL/wialon/ajax.html (answered)" <<<"$OUT"
check "test-login: the PAM code" grep -qE "PAM code: +PAM_SUCCESS \(0\)" <<<"$OUT"
check "test-login: the time" grep -qE "time: +[0-9]+\.[0-9]{3} s" <<<"$OUT"
check "test-login stored no users-table entry: getent passwd bob finds nothing" bash -c '! getent passwd bob'
json_ok users
check "... nor does users --json list bob" [ "$(jq_py "$T/users.json" '[u["name"] for u in o["users"]].count("bob")')" = 0 ]
json_ok status
check "... and no pending login is left" [ "$(jq_py "$T/status.json" 'o["pending_logins"]')" = 0 ]
check "... and the token it got was logged out at the API" wait_until 5 refstat_ge logout_token_login_ok $((n_out + 1))
OUT=$(printf 'wrong\n' | $CTL test-login alice 2>&1); RC=$?
check "test-login with a wrong password: exit 1, auth_err, PAM_AUTH_ERR (7)" \
        rc_out 1 '^auth_err' 'PAM code: +PAM_AUTH_ERR \(7\)'
OUT=$(printf 'x\n' | $CTL test-login root 2>&1); RC=$?
check "test-login root: user_unknown without asking for a password (exit 1)" \
        rc_out 1 '^user_unknown'

# The API stalls: the daemon's timeout is 15 s, and test-login waits for its answer.
refapi_fault /v1/login_check stall
t0=$(date +%s%N)
OUT=$(printf '%s\n' alice-pw-7Qx | $CTL test-login alice 2>&1); RC=$?
el=$((($(date +%s%N) - t0) / 1000000))
refapi_fault /v1/login_check none
check "a stalling API: test-login waits past 10 s for the daemon's answer (${el} ms)" \
        rc_out 1 '^unavailable'
check "... it took the daemon's 15 s timeout, not the old fixed 10 s (${el} ms)" \
        [ "$el" -gt 14000 -a "$el" -lt 25000 ]
check "... which names the endpoint asked last and PAM_AUTHINFO_UNAVAIL" \
        rc_out 1 "endpoint: +$REFAPI_URL/v1/login_check \(asked last\)" 'PAM code: +PAM_AUTHINFO_UNAVAIL \(9\)'
check "... and no 'did not answer' from the CLI" not_in_out 'did not answer'

# --- non-root callers ---------------------------------------------------------------------------
OUT=$(as_user 65534 65534 $CTL status 2>&1); RC=$?
check "status as nobody: exit 1, says only root may, suggests test-login and check-config" \
        rc_out 1 'Only root may see' 'apiloginctl test-login' 'check-config'
OUT=$(as_user 65534 65534 $CTL sessions 2>&1); RC=$?
check "sessions as nobody: exit 1, points at loginctl and the token file" \
        rc_out 1 'loginctl list-sessions' 'APILOGIN_TOKEN_FILE'
OUT=$(as_user 65534 65534 $CTL users 2>&1); RC=$?
check "users as nobody: exit 1, points at getent passwd" \
        rc_out 1 'getent passwd NAME'
OUT=$(as_user 65534 65534 $CTL flush 2>&1); RC=$?
check "flush as nobody: exit 1, says to ask an administrator" \
        rc_out 1 'sudo apiloginctl flush'
sleep 2 # the per-uid AUTH rate limit of the daemon (one per 2 s)
OUT=$(printf '%s\n' alice-pw-7Qx | as_user "$auid" "$agid" $CTL test-login alice 2>&1); RC=$?
check "alice (non-root) may test her own password: exit 0, ok" \
        rc_out 0 '^ok'
OUT=$(printf 'x\n' | as_user "$auid" "$agid" $CTL test-login dave 2>&1); RC=$?
check "alice may not test dave's: exit 1, told she may test only her own" \
        rc_out 1 'only test your own'

# --- flush and user del --------------------------------------------------------------------------
run user add frank
check "user add frank: exit 0" rc_out 0 'added frank with uid'
fuid=$(id -u frank)
check "frank resolves" [ -n "$fuid" ]
run user del alice
check "user del alice while she is logged in: refused (exit 1), says why" \
        rc_out 1 'alice is logged in \(1 live session'
run flush
check "flush: exit 0, one user expired, one kept" \
        rc_out 0 'expired 1 cached user\(s\); kept 1'
check "flush: frank no longer resolves" bash -c '! getent passwd frank'
check "flush: alice (live session) still resolves" [ "$(id -u alice)" = "$auid" ]
check "flush: alice's session is still listed and her token file is there" \
        bash -c "$CTL sessions | grep -q '^alice ' && test -s '$(token_path alice)'"
run user add frank
check "frank added again gets his uid back" grep -q "added frank with uid $fuid" <<<"$OUT"
run user del frank
check "user del frank: exit 0" rc_out 0 'removed frank'
run user del frank
check "user del frank again: exit 1, no such user" rc_out 1 'no such user'
# --- a listing longer than one answer (8 KiB) comes in pages -------------------------------------
n=0 # a hashed uid may collide with another's (refused, logged): count what was added
for i in $(seq 150); do $CTL user add "pageuser$i" >/dev/null 2>&1 && n=$((n + 1)); done
check "150 user adds (${n} added)" [ "$n" -ge 140 ]
check "users --json: $((n + 1)) users, all of them in the list" \
        [ "$($CTL users --json | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["total"], len(o["users"]), o["more"], len(set(u["name"] for u in o["users"])))')" = "$((n + 1)) $((n + 1)) 0 $((n + 1))" ]
run users
check "users: a header and $((n + 1)) rows" [ "$(grep -c . <<<"$OUT")" = $((n + 2)) ]
run flush
check "flush expires the $n, keeps alice" rc_out 0 "expired $n cached user\\(s\\); kept 1"
session_end a
check "no log holds a secret" logs_clean alice-pw-7Qx "$BOB_TOKEN"
e2e_done

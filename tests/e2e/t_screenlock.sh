#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_screenlock.sh: screen lockers work (issue 8, point 4). A non-root process (the uid of
# a remote user apilogin has cached, through setpriv) may run the account phase and
# authenticate for its own user through the real PAM module, as xscreensaver, i3lock and
# swaylock do; it may not ask about anyone else, and it may not send admin requests.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v setpriv >/dev/null || e2e_skip "no setpriv"
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1
PERM="Permission denied"

login apilogin-test alice alice-pw-7Qx auth open close
expect_pam "alice logs in once (root), so she is a cached remote user" "close: Success"
U=$(id -u alice)
G=$(id -g alice)
check "alice has a uid from the NSS cache" [ "${U:-0}" -ge 200000 ]
# locker USER STEPS...: pam_session as alice's uid, the secret on stdin.
locker() {
        local user=$1
        shift
        OUT=$(printf 'alice-pw-7Qx\n' | setpriv --reuid="$U" --regid="$G" --clear-groups -- \
                "$PAM_SESSION" apilogin-test "$user" "$@" 2>&1)
}

locker alice acct
expect_pam "alice's uid may run the account phase for alice" "acct: Success"
locker alice auth
expect_pam "alice's uid may authenticate alice (unlock)" "auth: Success"
OUT=$(printf 'alice-pw-7Qx\n' | setpriv --reuid="$U" --regid="$G" --clear-groups -- \
        pamtester apilogin-test alice acct_mgmt 2>&1)
check "...pamtester's acct_mgmt too" grep -q "account management done" <<<"$OUT"

n=$(refstat total)
locker bob acct
expect_pam "alice's uid may not run the account phase for bob" "acct: $PERM"
sleep 2.2 # one AUTH per 2 s per non-root uid
locker bob auth
expect_pam "alice's uid may not authenticate bob" "auth: $PERM"
check "nothing about bob reached the API" [ "$(refstat total)" = "$n" ]
check "the refusal is logged" grep -q "Refused a query about another user from uid $U" \
        "$T/daemon.log"
OUT=$(sockpeer --as alice req 16)
check "alice's uid may not ask for the status (admin)" grep -q 'outcome=4' <<<"$OUT"
OUT=$(sockpeer --as alice req 2 user=bob service=apilogin-test)
check "...nor send ACCT about bob directly" grep -q 'outcome=4' <<<"$OUT"
OUT=$(sockpeer --as nobody req 2 user=alice service=apilogin-test)
check "nobody may not ask about alice" grep -q 'outcome=4' <<<"$OUT"
OUT=$(sockpeer req 2 user=bob service=apilogin-test)
check "root may ask about anyone" grep -q 'outcome=[09]' <<<"$OUT"
check "no log holds a password" logs_clean alice-pw-7Qx
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_lockout.sh: the local lockout protects accounts without being a weapon (issue 8.2).
# With lockout = 3/15m (per name and PAM_RHOST) and lockout_user = 6/15m (per name):
# local refusals (empty secret, sshd's invalid-user stand-in) never count; Alice, ALICE
# and alice share one budget; wrong passwords from one rhost lock (alice, that rhost) with
# PAM_MAXTRIES and no request to the API while alice still logs in from another rhost;
# after the per-name threshold she is locked everywhere; a restart keeps the counters.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
standard_config "lockout_user = 6/15m"
sed -i 's#^lockout = 5/15m#lockout = 3/15m#' "$T/apilogin.conf"
daemon_start || exit 1
PW=alice-pw-7Qx
STANDIN=$'\b\r\177INCORRECT'
MAXTRIES="Have exhausted maximum number of retries"
AUTHERR="Authentication failure"

# plogin USER SECRET RHOST: pamtester with PAM_RHOST set (none when RHOST is empty).
plogin() {
        local item=()

        [ -n "${3:-}" ] && item=(-I "rhost=$3")
        OUT=$(printf '%s\n' "$2" | pamtester "${item[@]}" apilogin-test "$1" authenticate 2>&1)
}

n=$(refstat login_check)
for i in $(seq 10); do plogin alice "" 203.0.113.1; done
expect_pam "an empty password is refused" "$AUTHERR"
for i in $(seq 10); do plogin alice "$STANDIN" 203.0.113.1; done
expect_pam "sshd's invalid-user stand-in is refused" "$AUTHERR"
for i in $(seq 5); do plogin alice ""; done
check "none of the 25 local refusals reached the API" [ "$(refstat login_check)" = "$n" ]
plogin alice "$PW" 203.0.113.1
expect_pam "after 25 empty/stand-in tries alice still logs in (they never count)" \
        "successfully authenticated"

# One budget for every spelling of the name (login_check folds case).
plogin Alice wrong-1 203.0.113.1
plogin ALICE wrong-2 203.0.113.1
plogin alice wrong-3 203.0.113.1
expect_pam "the 3rd wrong password is still checked remotely" "$AUTHERR"
n=$(refstat login_check)
plogin aLiCe "$PW" 203.0.113.1
expect_pam "Alice, ALICE and alice share one budget: locked from 203.0.113.1" "$MAXTRIES"
plogin alice "$PW" 203.0.113.1
expect_pam "alice from 203.0.113.1 is refused with PAM_MAXTRIES" "$MAXTRIES"
check "the locked-out attempts sent nothing" [ "$(refstat login_check)" = "$n" ]
plogin alice "$PW" 198.51.100.2
expect_pam "alice from another rhost still logs in" "successfully authenticated"
plogin alice "$PW"
expect_pam "alice from the console (no rhost) still logs in" "successfully authenticated"
plogin bob-other wrong 203.0.113.1
check "another name from the locked rhost still reaches the API" \
        [ "$(refstat login_check)" = $((n + 3)) ]

# Per source first: a guesser at one rhost locks only itself out, even across a success.
for i in 1 2 3; do plogin alice "wrong-a-$i" 192.0.2.11; done
plogin alice "$PW" 192.0.2.11
expect_pam "3 wrong passwords from 192.0.2.11 lock (alice, 192.0.2.11)" "$MAXTRIES"
plogin alice "$PW" 198.51.100.2
expect_pam "meanwhile alice logs in from her own rhost" "successfully authenticated"
plogin alice "$PW" 192.0.2.11
expect_pam "her success does not unlock the guesser's rhost" "$MAXTRIES"
# Then per name: her success reset the name's counter; two more rhosts, three wrong
# passwords each, reach lockout_user = 6 and lock alice everywhere.
for h in 192.0.2.12 192.0.2.13; do
        for i in 1 2 3; do plogin alice "wrong-$h-$i" "$h"; done
done
expect_pam "the 6th wrong password was still checked remotely" "$AUTHERR"
n=$(refstat login_check)
plogin alice "$PW" 198.51.100.2
expect_pam "after 6 wrong passwords (lockout_user) alice is locked from every rhost" \
        "$MAXTRIES"
plogin alice "$PW"
expect_pam "and from the console" "$MAXTRIES"
check "nothing was sent for the locked name" [ "$(refstat login_check)" = "$n" ]

# The counters survive a restart (journal in state_dir/private, root 0600 in 0700).
J=$STATEDIR/private/lockout
check "the journal is 0600 root" [ "$(stat -c '%a %u' "$J")" = "600 0" ]
check "its directory is 0700" [ "$(stat -c '%a' "$(dirname "$J")")" = "700" ]
daemon_stop
daemon_start || exit 1
plogin alice "$PW" 198.51.100.2
expect_pam "the per-name lockout survives a daemon restart" "$MAXTRIES"
check "still nothing sent" [ "$(refstat login_check)" = "$n" ]
plogin bob-other wrong 192.0.2.13
check "other names are not locked after the restart" [ "$(refstat login_check)" = $((n + 1)) ]
check "no log holds a password" logs_clean "$PW"
e2e_done

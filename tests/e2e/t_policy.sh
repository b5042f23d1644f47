#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_policy.sh: names apilogin never sends anywhere (root, deny_users, local accounts) and
# the local lockout: after 5 wrong passwords in the window the 6th attempt is refused with
# PAM_MAXTRIES without a request, kept across a daemon restart, reset by a success.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
standard_config "deny_users = mallory"
daemon_start || exit 1
UNKNOWN="auth: User not known to the underlying authentication module"

n=$(refstat total)
login apilogin-test root root-pw-7Qx
expect_pam "root is refused with PAM_USER_UNKNOWN" "$UNKNOWN"
login apilogin-test nobody nobody-pw-7Qx
expect_pam "a local /etc/passwd account is refused" "$UNKNOWN"
login apilogin-test mallory mallory-pw-7Qx
expect_pam "a deny_users name is refused" "$UNKNOWN"
login apilogin-test 'bad:name' x
expect_pam "an invalid name is refused" "$UNKNOWN"
check "refapi saw no request for any of them" [ "$(refstat total)" = "$n" ]

# An account added to /etc/passwd while the daemon runs is local at once (the daemon's
# reader notices the file changed): dave (disabled at the API) is asked about remotely,
# then becomes local.
n=$(refstat total)
login apilogin-test dave dave-pw-7Qx
check "dave is asked about remotely while /etc/passwd lacks him" [ "$(refstat total)" -gt "$n" ]
cp /etc/passwd "$T/passwd"
echo "dave:x:4242:4242::/home/dave:/bin/sh" >> "$T/passwd"
mount --bind "$T/passwd" /etc/passwd
n=$(refstat total)
login apilogin-test dave dave-pw-7Qx
expect_pam "once /etc/passwd has dave, his login is refused as a local account's" "$UNKNOWN"
check "and his password was not sent" [ "$(refstat total)" = "$n" ]
umount /etc/passwd

for i in 1 2 3 4 5; do login apilogin-test alice "wrong-$i"; done
expect_pam "the 5th wrong password is still checked remotely" "auth: Authentication failure"
n=$(refstat login_check)
login apilogin-test alice alice-pw-7Qx
expect_pam "the 6th attempt is refused by the local lockout" "auth: Have exhausted maximum number of retries"
check "the locked-out attempt sent nothing" [ "$(refstat login_check)" = "$n" ]
daemon_stop
daemon_start || exit 1
login apilogin-test alice alice-pw-7Qx
expect_pam "the lockout survives a daemon restart" "auth: Have exhausted maximum number of retries"
check "still nothing sent" [ "$(refstat login_check)" = "$n" ]
login apilogin-test bob-other x
check "the lockout is per name" [ "$(refstat login_check)" = $((n + 1)) ]

# A success resets the count: 4 wrong, 1 right, 4 wrong, and the right token still works.
for i in 1 2 3 4; do login apilogin-gps bob "${BOB_TOKEN%????}bad$i"; done
login apilogin-gps bob "$BOB_TOKEN"
for i in 1 2 3 4; do login apilogin-gps bob "${BOB_TOKEN%????}bad$i"; done
login apilogin-gps bob "$BOB_TOKEN"
expect_pam "a success resets the failure count" "auth: Success"
check "no log holds a password" logs_clean alice-pw-7Qx root-pw-7Qx nobody-pw-7Qx mallory-pw-7Qx
e2e_done

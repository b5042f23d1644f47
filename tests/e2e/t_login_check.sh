#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_login_check.sh: the login_check API end to end through pam_apilogin.so and apilogind:
# right and wrong password, disabled account, rate limit, the token file handed to the
# session (owner, mode, content), account phase, close, and getent/id through the NSS module.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1

PW=alice-pw-7Qx
login apilogin-test alice "$PW" auth acct
expect_pam "right password authenticates" "auth: Success"
expect_pam "account phase accepts the remote user" "acct: Success"
check "refapi counted one login_check" [ "$(refstat login_check_ok)" = 1 ]

out=$(echo "$PW" | pamtester apilogin-test alice authenticate acct_mgmt open_session close_session 2>&1)
check "pamtester authenticate/acct_mgmt/open_session/close_session" \
        grep -q "session has successfully been closed" <<<"$out"

login apilogin-test alice "wrong-password"
expect_pam "wrong password is refused with PAM_AUTH_ERR" "auth: Authentication failure"
out=$(echo wrong | pamtester apilogin-test alice authenticate 2>&1)
check "pamtester sees the wrong password refused" grep -q "Authentication failure" <<<"$out"

login apilogin-test dave dave-pw-7Qx
expect_pam "disabled account is refused as expired" "auth: User account has expired"
login apilogin-test rita rita-pw-7Qx
expect_pam "remote rate limit maps to PAM_MAXTRIES" "auth: Have exhausted maximum number of retries"

# The session: token file owned by the user, 0600, holding the token refapi issued.
login apilogin-test alice "$PW" auth acct open \
        'run:printf "%s|%s|%s\n" "$APILOGIN_TOKEN_FILE" "$(stat -c "%u %a" "$APILOGIN_TOKEN_FILE")" "$(cat "$APILOGIN_TOKEN_FILE")" > '"$T/session.txt"'; cp "$(dirname "$APILOGIN_TOKEN_FILE")/token.json" '"$T/token.json" \
        close
expect_pam "session opened and closed" "close: Success"
uid=$(id -u alice)
IFS='|' read -r tf st tok < "$T/session.txt"
check "APILOGIN_TOKEN_FILE points at $RUNDIR/users/UID/token" [ "$tf" = "$RUNDIR/users/$uid/token" ]
check "token file is owned by the user and mode 0600" [ "$st" = "$uid 600" ]
check "token file holds the bare token refapi issued" grep -qE '^[0-9a-f]{32}$' <<<"$tok"
check "token.json carries the same token and the provider" \
        python3 -c "import json,sys; d=json.load(open('$T/token.json')); sys.exit(not (d['token']=='$tok' and d['provider']=='fleet'))"
check "the last close removed the token files" [ ! -e "$tf" ]

# NSS: the user exists for getent and id through libnss_apilogin.
check "getent passwd alice" grep -qE "^alice:\*:$uid:[0-9]+:Alice Example:/home/alice:/bin/bash$" <<<"$(getent passwd alice)"
check "getent passwd by uid" grep -q "^alice:" <<<"$(getent passwd "$uid")"
check "getent group apilogin-users lists alice" grep -qE "^apilogin-users:x:[0-9]+:(.*,)?alice(,.*)?$" <<<"$(getent group apilogin-users)"
check "id alice shows the primary group" grep -q "gid=.*(apilogin-users)" <<<"$(id alice)"
check "an unknown name stays unknown" bash -c '! getent passwd nosuchremoteuser'

check "no log holds the password or the token" logs_clean "$PW" "$tok"
e2e_done

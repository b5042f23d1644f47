#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_valgrind.sh: the two modules under valgrind memcheck, in the programs that load them.
#   pamtester + pam_apilogin.so: authenticate, acct_mgmt, open_session, close_session (and
#     a refused password) with no memory error and no definitely or indirectly lost block;
#   tests/e2e/pam_cycles: pam_start..auth..acct..open..close..pam_end repeated in one
#     process, as sshd does once per connection: after 50 cycles nothing more is lost (or
#     still held) than after 1;
#   getent/id + libnss_apilogin.so.2: getpwnam, getpwuid, getgrnam, initgroups and the
#     enumeration, with no memory error and no lost block.
# valgrind: --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,
# so a memory error or a leak of ours makes the program exit 99. The daemon is the normal
# build (scripts/sanitize.sh runs it under ASan+LeakSanitizer).
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v valgrind >/dev/null || e2e_skip "no valgrind"
command -v pamtester >/dev/null || e2e_skip "no pamtester"
CYCLES=$BUILD/tests/e2e/pam_cycles
[ -x "$CYCLES" ] || { echo "Bail out! not built: $CYCLES"; exit 99; }
refapi_start "$DATA/e2e_accounts.json"
standard_config "enumerate = yes"
daemon_start || exit 1
PW=alice-pw-7Qx
N=0

# vg NAME COMMAND...: run COMMAND under memcheck (stdin passed on); its output in $OUT,
# exit status in $RC, valgrind's report in $T/vg_NAME.log.
vg() {
        local name=$1
        shift
        OUT=$(valgrind --error-exitcode=99 --leak-check=full \
                --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
                --num-callers=30 --log-file="$T/vg_$name.log" "$@" 2>&1)
        RC=$?
        [ "$RC" = 99 ] && sed 's/^/#   /' "$T/vg_$name.log" | head -n 80
        return 0
}

# lost NAME KIND: bytes valgrind counted as KIND ("definitely lost", "indirectly lost",
# "in use at exit") at the exit of run NAME (0 when it printed no such line).
lost() {
        local b
        b=$(sed -n "s/.*$2: \([0-9,]*\) bytes.*/\1/p" "$T/vg_$1.log" | tail -n 1 | tr -d ,)
        echo "${b:-0}"
}

# clean NAME: run NAME had no memory error and no lost block, and valgrind did watch the
# program itself (its "Command:" line).
clean() {
        [ "$RC" != 99 ] && grep -q "ERROR SUMMARY: 0 errors" "$T/vg_$1.log" &&
                grep -q "Command: " "$T/vg_$1.log"
}

# --- PAM ------------------------------------------------------------------------------------
vg pamtester pamtester apilogin-test alice authenticate acct_mgmt open_session close_session \
        <<<"$PW"
check "pamtester auth/acct/open/close succeeds under memcheck" \
        grep -q "session has successfully been closed" <<<"$OUT"
check "... with no memory error and no lost block (valgrind exit $RC)" clean pamtester
vg pamtester_wrong pamtester apilogin-test alice authenticate <<<"wrong-pw"
check "a refused password: pamtester says Authentication failure" \
        grep -q "Authentication failure" <<<"$OUT"
check "... with no memory error and no lost block (valgrind exit $RC)" clean pamtester_wrong

vg cycles1 "$CYCLES" apilogin-test alice 1 <<<"$PW"
check "pam_cycles: one whole conversation succeeds under memcheck ($OUT)" \
        grep -q "^cycles=1 ok=1 failed=0" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean cycles1
vg cycles50 "$CYCLES" apilogin-test alice 50 <<<"$PW"
check "pam_cycles: 50 conversations in one process succeed ($OUT)" \
        grep -q "^cycles=50 ok=50 failed=0" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean cycles50
for kind in "definitely lost" "indirectly lost" "in use at exit"; do
        a=$(lost cycles1 "$kind")
        b=$(lost cycles50 "$kind")
        check "$kind after 1 and after 50 cycles: $a and $b bytes (no growth)" [ "$b" -le "$a" ]
done
vg cycles_wrong "$CYCLES" apilogin-test alice 20 <<<"wrong-pw"
check "pam_cycles: 20 refused conversations ($OUT)" grep -q "^cycles=20 ok=0 failed=20" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean cycles_wrong

# --- NSS (alice is known now: she logged in) ------------------------------------------------
uid=$(id -u alice)
check "alice is resolved through the NSS module (uid $uid)" [ -n "$uid" ]
vg getpwnam getent passwd alice
check "getent passwd alice under memcheck" grep -q "^alice:[^:]*:$uid:" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean getpwnam
vg getpwuid getent passwd "$uid"
check "getent passwd $uid under memcheck" grep -q "^alice:" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean getpwuid
vg getgrnam getent group apilogin-users
check "getent group apilogin-users under memcheck" grep -q "^apilogin-users:" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean getgrnam
vg id id alice
check "id alice (getpwnam + initgroups + getgrgid) under memcheck" grep -q "uid=$uid(alice)" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean id
vg enum getent passwd
check "getent passwd (enumeration) lists alice under memcheck" grep -q "^alice:" <<<"$OUT"
check "... clean (valgrind exit $RC)" clean enum
vg unknown getent passwd nosuchuser-x
check "getent passwd of an unknown name: not found (exit $RC)" [ "$RC" = 2 ]
check "... clean" clean unknown
e2e_done

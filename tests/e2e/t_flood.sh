#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_flood.sh: no local user can keep root's logins from being served (issue 8, point 1).
# An unprivileged uid (nobody, through setpriv) holding 1,000 connections to the 0666
# socket, reconnecting as soon as one is closed and sending a byte on each every 2 s, does
# not stop five consecutive root logins through the real PAM module, each answered within
# 3 s; its refused connections are logged at warning level, rate-limited; its PINGs are
# rate-limited while root's are not; a request that does not arrive whole in time, or
# that is malformed, is dropped without disturbing anyone else.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v setpriv >/dev/null || e2e_skip "no setpriv"
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1

# --- rate limit on every verb, PING included ---
out=$(sockpeer --as nobody ping 60)
OUT=$out
check "a PING flood from uid nobody is rate-limited ($out)" grep -q 'limited=[1-9]' <<<"$out"
check "nobody's first PINGs were answered" grep -q 'ok=[1-9]' <<<"$out"
out=$(sockpeer ping 60)
OUT=$out
check "root's PINGs all answered meanwhile ($out)" [ "$out" = "ok=60 limited=0 other=0" ]

# --- slow and malformed requests ---
out=$(sockpeer --as daemon slow)
OUT=$out
check "a request that does not arrive whole within 3 s is dropped (after ${out} s)" \
        awk -v t="$out" 'BEGIN { exit !(t != "open" && t != "data" && t + 0 >= 2 && t + 0 < 8) }'
check "the slow request was logged at warning level" \
        grep -q 'warning: Refused a slow request .* from uid 1 ' "$T/daemon.log"
out=$(sockpeer --as daemon req 1 user=alice 2>&1)
OUT=$out
check "an AUTH without its required fields is answered with an error, not a crash" \
        grep -q 'outcome=7' <<<"$out"
check "the daemon is still there" kill -0 "$DAEMON_PID"

# --- the flood ---
: > "$T/flood.stat"
chown nobody "$T/flood.stat"
sockpeer --as nobody flood 1000 60 "$T/flood.stat" &
FLOOD_PID=$!
wait_until 20 grep -q 'reconnects=[1-9][0-9][0-9]' "$T/flood.stat"
sleep 3
# The flooder rewrites its stat file in place: a read can meet it empty, so read again.
for _ in 1 2 3 4 5; do
        OUT=$(cat "$T/flood.stat" 2>&1)
        [ -n "$OUT" ] && break
        sleep 0.1
done
check "the flooder keeps trying for its 1,000 connections ($OUT)" \
        grep -Eq 'reconnects=[0-9]{4,}' <<<"$OUT"
worst=0
for i in 1 2 3 4 5; do
        t0=$(date +%s%N)
        login apilogin-test alice alice-pw-7Qx auth acct open close
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ "$ms" -gt "$worst" ] && worst=$ms
        echo "# root login $i under the flood: ${ms} ms"
        check "root login $i under the flood succeeds" [ "$RC" = 0 ]
        check "root login $i under the flood is answered within 3 s (${ms} ms)" [ "$ms" -lt 3000 ]
done
OUT=$(cat "$T/flood.stat")
echo "# flooder at the end: $OUT; slowest root login: ${worst} ms"
check "the flooder was still at it during the logins" kill -0 "$FLOOD_PID"
kill $(pgrep -P "$FLOOD_PID") "$FLOOD_PID" 2>/dev/null
wait "$FLOOD_PID" 2>/dev/null
wait_until 12 grep -q "Refused a connection over its uid's cap from uid 65534" "$T/daemon.log"
n=$(grep -c "warning: Refused a connection over its uid's cap from uid 65534" "$T/daemon.log")
check "the refused connections are logged at warning level" [ "$n" -ge 1 ]
check "...at most one line per 10 s ($n lines)" [ "$n" -le 8 ]
check "...with the count of those not logged" \
        grep -Eq "from uid 65534 .*; [1-9][0-9]* more refusal" "$T/daemon.log"
check "no log holds a password" logs_clean alice-pw-7Qx
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# refresh.sh: apilogind keeping N sessions' tokens fresh against refapi on loopback, for
# 10,000 and 100,000 sessions in one run (each size in its own namespace, daemon and
# refapi), printed side by side with the figures before issue 12 at the end. N users with
# 60-second login_check tokens, refreshed through refresh_url, measured for a while
# (default 120 s, about two and a half refresh periods) once every session is open:
#   - refreshes per second sustained (refapi's refresh_ok counter, sampled every second:
#     mean, min and max of the per-second counts),
#   - the spread of refresh times: how old each token was when it was replaced (from the
#     session records' issued_ms of up to 10,000 of the users, snapshotted every 10 s),
#     which the jitter spreads over 75-85 % of the lifetime (45-51 s here),
#   - daemon CPU per refresh and in % of one core (utime + stime from /proc/PID/stat),
#   - daemon RSS (VmRSS and its peak VmHWM) once the sessions are open and at the end,
#   - and, at the end, how many of the N tokens are fresh (state valid, expiry ahead).
# SPREAD 0 (the default) opens every session as fast as possible, like a fleet booted at
# once: the refreshes then come in waves; SPREAD 60 opens them evenly over a token's
# lifetime, the steady state of a fleet that has run a while.
# PERF=FILE records the daemon with perf during the window (the profile in FILE, the
# data in FILE.data); STRACE=FILE counts its system calls (slow).
# Runs inside private namespaces like the e2e tests. Build first (./scripts/build.sh).
# Usage: bench/refresh.sh [USERS[,USERS...]] [SECONDS] [SPREAD]   (USERS 10000,100000)
set -u
cd "$(dirname "$0")/.."
SIZES=${1:-10000,100000}
DUR=${2:-120}
SPREAD=${3:-0}
# Before issue 12 (one run, loopback, 2 cores): 10,000 sessions, 60-second tokens.
BASE_N=10000 BASE_CPU=4.9 BASE_RSS=20

# The outer run: one inner run per size, then the table.
if [ -z "${REFRESH_RESULT:-}" ]; then
        res=$(mktemp -d /tmp/refresh-bench.XXXXXX)
        load0=$(cut -d' ' -f1-3 /proc/loadavg)
        for n in ${SIZES//,/ }; do
                REFRESH_RESULT=$res/$n bash "$0" "$n" "$DUR" "$SPREAD" ||
                        echo "# the run with $n sessions failed"
                echo
        done
        echo "# summary: ${DUR}-second windows, 60-second tokens, SPREAD $SPREAD, $(nproc) cores," \
             "load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
        printf "%-22s %12s %14s %12s %16s %14s\n" "sessions" "refreshes/s" "CPU % of core" \
               "us/refresh" "RSS MB (peak)" "fresh"
        printf "%-22s %12s %14s %12s %16s %14s\n" "$BASE_N (before)" "-" "$BASE_CPU" "-" \
               "$BASE_RSS" "-"
        for n in ${SIZES//,/ }; do
                [ -s "$res/$n" ] || continue
                read -r _ rate cpu us rss hwm fresh < "$res/$n"
                printf "%-22s %12s %14s %12s %16s %14s\n" "$n" "$rate" "$cpu" "$us" \
                       "$rss ($hwm)" "$fresh/$n"
                if [ "$n" = "$BASE_N" ]; then
                        echo "# $n sessions: $(echo "scale=2; $BASE_CPU / $cpu" | bc)x less CPU than before" \
                             "(target < 3 % of one core)"
                fi
        done
        rm -rf "$res"
        exit 0
fi

export top_builddir=${top_builddir:-$PWD}
. tests/e2e/lib.sh
e2e_init "$@"
N=$1
TTL=60
CLIENTS=4
SAMPLE=$((N < 10000 ? N : 10000)) # users whose refresh times are followed
CLIENT=$BUILD/bench/refresh_client
[ -x "$CLIENT" ] || { echo "Bail out! not built: $CLIENT"; exit 99; }

python3 - "$N" "$TTL" "$T" <<'PY'
import json, sys
n, ttl, t = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = ["b%05d" % i for i in range(n)]
json.dump({"token_ttl": ttl, "login_check": [
    {"username": u, "password": "pw-" + u} for u in names]}, open(t + "/accounts.json", "w"))
with open(t + "/users.txt", "w") as f:
    for i, u in enumerate(names):
        f.write("%s %d\n" % (u, 1000000 + i))
PY
refapi_start "$T/accounts.json"
wait_until 120 test -s "$T/refapi.port" || { echo "Bail out! refapi did not start"; exit 1; }
REFAPI_PORT=$(cat "$T/refapi.port")
REFAPI_URL="http://127.0.0.1:$REFAPI_PORT"
config_write <<'CONF'
[global]
providers = fleet
lockout = off
timeout = 10s
uid_range = 1000000-1999999
users_file = @T@/users.txt

[provider fleet]
type = login_check
url = @URL@/v1/login_check
refresh_url = @URL@/v1/token/refresh
CONF
# Not daemon_start: reading a users_file of 100,000 names takes the daemon a while.
t_start=$(date +%s.%N)
"$APILOGIND" --config "$T/apilogin.conf" --foreground >> "$T/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_until 600 test -S /run/apilogin/socket ||
        { echo "Bail out! apilogind did not start"; sed 's/^/#   /' "$T/daemon.log"; exit 1; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
stat_of() { curl -s "$REFAPI_URL/_stats" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
now() { date +%s.%N; }
rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK)

echo "# refresh: $N sessions (opened over ${SPREAD} s), ${TTL}-second tokens, refapi at $REFAPI_URL ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "daemon ready in $(echo "$(date +%s.%N) - $t_start" | bc) s (users_file of $N names)"
per=$(((N + CLIENTS - 1) / CLIENTS))
start=$(date +%s.%N)
pids=()
for c in $(seq 0 $((CLIENTS - 1))); do
        first=$((c * per))
        cnt=$((N - first < per ? N - first : per))
        "$CLIENT" /run/apilogin/socket b "$first" "$cnt" "$SPREAD" > "$T/client$c.out" 2>&1 &
        pids+=($!)
done
for c in $(seq 0 $((CLIENTS - 1))); do
        wait_until 600 grep -q opened "$T/client$c.out" || { echo "Bail out! client $c"; exit 1; }
done
opened=$(cat "$T"/client*.out | awk '{s += $2; f += $4} END {print s " opened, " f " failed"}')
echo "sessions: $opened in $(echo "$(date +%s.%N) - $start" | bc) s;" \
     "daemon RSS $(($(rss "$DAEMON_PID" VmRSS) / 1024)) MB"

# The measurement window.
snap() {
        python3 - "$1" "$SAMPLE" <<'PY'
import json, os, sys
d = "/run/apilogin/sessions"
out = {}
for i in range(int(sys.argv[2])):
    u = "b%05d" % i
    try:
        out[u] = json.load(open(os.path.join(d, u + ".json")))["token"]["issued_ms"]
    except Exception:
        pass
json.dump(out, open(sys.argv[1], "w"))
PY
}
k=0
snap "$T/snap$k.json"
[ -n "${STRACE:-}" ] && { strace -c -f -p "$DAEMON_PID" -o "$STRACE" & strace_pid=$!; }
[ -n "${PERF:-}" ] && { perf record -F 2999 -g -p "$DAEMON_PID" -o "$T/perf.data" >/dev/null 2>&1 & perf_pid=$!; }
t0=$(now)
c0=$(cpu "$DAEMON_PID")
r0=$(stat_of refresh_ok)
f0=$(stat_of refresh_fail)
: > "$T/rate.txt"
prev=$r0
for s in $(seq 1 "$DUR"); do
        # sleep to the next whole second of the window, whatever the sampling took
        sleep "$(echo "$t0 + $s - $(now)" | bc | sed 's/^-.*/0/')"
        cur=$(stat_of refresh_ok)
        echo $((cur - prev)) >> "$T/rate.txt"
        prev=$cur
        if [ $((s % 10)) = 0 ]; then k=$((k + 1)); snap "$T/snap$k.json"; fi
        # a loaded machine may fall behind the seconds: the window still ends on time
        [ "$(echo "$(now) >= $t0 + $DUR" | bc)" = 1 ] && break
done
c1=$(cpu "$DAEMON_PID")
r1=$(stat_of refresh_ok)
f1=$(stat_of refresh_fail)
t1=$(now)
el=$(echo "$t1 - $t0" | bc)
[ -n "${STRACE:-}" ] && { kill -INT "$strace_pid"; wait "$strace_pid"; echo "refreshes under strace: $((r1 - r0))" >> "$STRACE"; }
[ -n "${PERF:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; cp "$T/perf.data" "$PERF.data"; perf report -i "$T/perf.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -v "^$" | head -30 > "${PERF}"; perf report -i "$T/perf.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | grep -v "^$" | grep -v kernel.kallsyms | head -60 >> "${PERF}"; echo "# system calls (children included)" >> "$PERF"; perf report -i "$T/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -E "__x64_sys_|do_syscall_64|exit_to_user|asm_sysvec" | head -30 >> "${PERF}"; }
fresh=$(python3 - "$N" <<'PY'
import json, os, sys, time
now, ok = time.time(), 0
for i in range(int(sys.argv[1])):
    p = "/run/apilogin/users/%d/token.json" % (1000000 + i)
    try:
        j = json.load(open(p))
        tok = open(os.path.dirname(p) + "/token").read()
        ok += j["state"] == "valid" and j["expires_at"] > now and j["token"] == tok
    except Exception:
        pass
print(ok)
PY
)

n=$((r1 - r0))
echo "refreshes in $el s: $n ($(echo "scale=1; $n / $el" | bc)/s), failed: $((f1 - f0))"
python3 - "$T/rate.txt" <<'PY'
import statistics, sys
r = [int(x) for x in open(sys.argv[1])]
print("per-second refreshes: mean %.1f, stdev %.1f, min %d, max %d" %
      (statistics.mean(r), statistics.pstdev(r), min(r), max(r)))
PY
python3 - "$T" "$k" "$TTL" <<'PY'
import json, statistics, sys
t, k, ttl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
snaps = [json.load(open("%s/snap%d.json" % (t, i))) for i in range(k + 1)]
ages = []
for u in snaps[0]:
    seen = []
    for s in snaps:
        v = s.get(u)
        if v and (not seen or v != seen[-1]):
            seen.append(v)
    ages += [(b - a) / 1000 for a, b in zip(seen, seen[1:])]
if ages:
    q = statistics.quantiles(ages, n=20)
    print("token age at refresh (%d refreshes): min %.1f s, p5 %.1f, median %.1f, p95 %.1f, "
          "max %.1f s (%.0f-%.0f %% of the %d s lifetime)" %
          (len(ages), min(ages), q[0], statistics.median(ages), q[-1], max(ages),
           100 * min(ages) / ttl, 100 * max(ages) / ttl, ttl))
PY
ticks=$((c1 - c0))
echo "daemon CPU: $(echo "scale=3; $ticks * 100 / $TCK / $el" | bc) % of one core;" \
     "$(echo "scale=1; $ticks * 1000000 / $TCK / ($n + 1)" | bc) us per refresh"
rss_mb=$(($(rss "$DAEMON_PID" VmRSS) / 1024)) hwm_mb=$(($(rss "$DAEMON_PID" VmHWM) / 1024))
echo "daemon RSS: $rss_mb MB (peak $hwm_mb MB)"
echo "fresh at the end: $fresh of $N tokens (state valid, expiry ahead, token.json = token)"
echo "# before issue 12: $BASE_N sessions with $BASE_CPU % of one core, $BASE_RSS MB; target < 3 %"
echo "$N $(echo "scale=1; $n / $el" | bc) $(echo "scale=2; $ticks * 100 / $TCK / $el" | bc)" \
     "$(echo "scale=1; $ticks * 1000000 / $TCK / ($n + 1)" | bc) $rss_mb $hwm_mb $fresh" > "$REFRESH_RESULT"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_concurrency.sh: 200 logins at once, through pam_session and the real module, over all
# five API types (one provider each, chosen by PAM service): 12 users per API, each
# logging in twice with the right secret, plus wrong secrets and unknown names. Every
# login must get its own right answer, and the NSS cache must stay whole: while the 200
# run, a loop of getent passwd/group lookups never fails (no torn cache file), and
# afterwards every user that logged in is there (no lost entry), exactly once.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
N_USERS=12   # per API; 24 right + 8 wrong + 8 unknown = 40 logins per API, 200 in all
PIN=5150-conc-PIN

# The accounts: users cNN_<api> with secrets pw-<api>-NN; token_login tokens are 72 chars.
python3 - "$T/conc_accounts.json" "$N_USERS" "$PIN" <<'PY'
import hashlib, json, sys
path, n, pin = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tok = lambda i: hashlib.sha256(b"tok%d" % i).hexdigest() + "%08d" % i
acc = {"token_ttl": 86400,
       "login_check": [{"username": "seed", "password": "pw-seed"}] +
                      [{"username": "c%02d_lc" % i, "password": "pw-lc-%02d" % i} for i in range(1, n + 1)],
       "token_login": [{"token": tok(i), "user": "c%02d_tl" % i} for i in range(1, n + 1)],
       "jsonrpc": [{"login": "c%02d_rpc" % i, "password": "pw-rpc-%02d" % i} for i in range(1, n + 1)],
       "rest_login": [{"username": "c%02d_rest" % i, "password": "pw-rest-%02d" % i,
                       "domain": "tenant.example.com"} for i in range(1, n + 1)],
       "ws_auth": {"user_password": pin, "admin_password": "admin-not-used-9"}}
json.dump(acc, open(path, "w"))
PY
tl_token() { python3 -c "import hashlib; print(hashlib.sha256(b'tok$1').hexdigest() + '%08d' % $1)"; }
refapi_start "$T/conc_accounts.json"
WSUSERS=$(for i in $(seq -w 1 $N_USERS); do printf 'c%s_ws:user, ' "$i"; done)
config_write <<CONF
[global]
providers = lc
timeout = 20s
lockout = off
enumerate = yes

[provider lc]
type = login_check
url = @URL@/v1/login_check

[provider tl]
type = token_login
url = @URL@/wialon/ajax.html

[provider rpc]
type = jsonrpc
url = @URL@/v4.0

[provider rest]
type = rest_login
url = @URL@/api
domain = tenant.example.com

[provider ws]
type = ws_auth
url = ws://127.0.0.1:@PORT@/ws
users = ${WSUSERS%, }
CONF
daemon_start || exit 1
for a in lc tl rpc rest ws; do add_service "apilogin-c-$a" "provider=$a"; done
OK_MSG="auth: Success"
ERR_MSG="auth: Authentication failure"
UNKNOWN_MSG="auth: User not known to the underlying authentication module"

login apilogin-c-lc seed pw-seed
expect_pam "the seed user logs in before the run" "$OK_MSG"
check "the seed user is known to NSS" bash -c "getent passwd seed > /dev/null"

# The job list: one line per login, "NUM API USER SECRET EXPECTED" (secrets have no blanks).
: > "$T/jobs"
n=0
for a in lc tl rpc rest ws; do
        for k in $(seq 1 40); do
                n=$((n + 1))
                i=$(( (k - 1) % N_USERS + 1 ))
                ii=$(printf '%02d' "$i")
                user="c${ii}_$a"
                case $a in
                tl) right=$(tl_token "$i"); wrong=$(tl_token $((i + 500))) ;;
                ws) right=$PIN; wrong="0000-wrong-$i" ;;
                *) right="pw-$a-$ii"; wrong="pw-$a-$ii-wrong" ;;
                esac
                if [ "$k" -le 24 ]; then
                        echo "$n $a $user $right ok"
                elif [ "$k" -le 32 ]; then
                        echo "$n $a $user $wrong wrong"
                else
                        echo "$n $a nobody${k}_$a $right unknown"
                fi >> "$T/jobs"
        done
done
check "200 logins planned" [ "$(wc -l < "$T/jobs")" = 200 ]

# The getent loop: lookups by name and the group, plus a full enumeration whose every line
# must have 7 fields; it counts rounds and failures until $T/stop appears.
getent_loop() {
        local rounds=0 fails=0
        while [ ! -e "$T/stop" ]; do
                rounds=$((rounds + 1))
                getent passwd seed > /dev/null || { fails=$((fails + 1)); echo "passwd seed" >> "$T/loop_fail"; }
                getent group apilogin-users > /dev/null || { fails=$((fails + 1)); echo "group" >> "$T/loop_fail"; }
                getent passwd | awk -F: 'NF != 7 { bad = 1 } END { exit bad }' ||
                        { fails=$((fails + 1)); echo "torn enumeration" >> "$T/loop_fail"; }
                id seed > /dev/null 2>&1 || { fails=$((fails + 1)); echo "id seed" >> "$T/loop_fail"; }
        done
        echo "$rounds $fails" > "$T/loop_result"
}
getent_loop &
LOOP_PID=$!
trap 'touch "$T/stop"; kill "$LOOP_PID" 2>/dev/null; e2e_cleanup' EXIT

# Start the 200 at once: each job blocks opening a FIFO until the writer opens it.
mkfifo "$T/go"
mkdir -p "$T/out"
PIDS=()
while read -r num api user secret want; do
        ( cat "$T/go" > /dev/null
          s=$(date +%s%N)
          printf '%s\n' "$secret" | "$PAM_SESSION" "apilogin-c-$api" "$user" auth > "$T/out/$num" 2>&1
          echo "rc=$? ms=$(( ($(date +%s%N) - s) / 1000000 ))" >> "$T/out/$num" ) &
        PIDS+=($!)
done < "$T/jobs"
sleep 1
t0=$(date +%s%N)
exec 9> "$T/go"
exec 9>&-
wait "${PIDS[@]}" 2>/dev/null
run_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
touch "$T/stop"
wait "$LOOP_PID"

# Tally: per API and expected outcome, how many got exactly the expected PAM answer.
declare -A GOT WANT
bad=0
max_ms=0
while read -r num api user secret want; do
        case "$api/$want" in
        */ok) msg=$OK_MSG ;;
        ws/unknown) msg=$UNKNOWN_MSG ;;
        *) msg=$ERR_MSG ;;
        esac
        WANT[$want]=$(( ${WANT[$want]:-0} + 1 ))
        if grep -qxF -- "$msg" "$T/out/$num"; then
                GOT[$want]=$(( ${GOT[$want]:-0} + 1 ))
        else
                bad=$((bad + 1))
                [ "$bad" -le 5 ] && echo "# job $num ($api $user, want $want): $(tr '\n' ' ' < "$T/out/$num")"
        fi
        ms=$(sed -n 's/.*ms=\([0-9]*\).*/\1/p' "$T/out/$num")
        [ "${ms:-0}" -gt "$max_ms" ] && max_ms=$ms
done < "$T/jobs"
for w in ok wrong unknown; do
        echo "# outcome $w: ${GOT[$w]:-0} of ${WANT[$w]} got the expected PAM answer"
done
echo "# all 200 done in $run_ms ms (slowest login $max_ms ms)"
check "every one of the 200 logins got its expected answer ($bad wrong)" [ "$bad" = 0 ]
check "120 successes, 40 wrong secrets refused, 40 unknown names refused" \
        [ "${GOT[ok]:-0}|${GOT[wrong]:-0}|${GOT[unknown]:-0}" = "120|40|40" ]
check "refapi saw the logins of the four HTTP APIs (4 x 40) and 32 ws auths" \
        [ "$(( $(refstat login_check) + $(refstat token_login) + $(refstat jsonrpc_login) + $(refstat rest_login) ))|$(refstat ws_auth)" = "161|32" ]

read -r rounds fails < "$T/loop_result"
echo "# getent loop: $rounds rounds during the run, $fails failures"
[ -s "$T/loop_fail" ] && sort "$T/loop_fail" | uniq -c | sed 's/^/#   /'
check "the getent loop ran during the run ($rounds rounds)" [ "$rounds" -ge 2 ]
check "the getent loop never failed" [ "$fails" = 0 ]

# No lost entry: the 60 users who logged in, and the seed, are each in passwd and in the
# group; nothing else and nothing twice.
awk '$5 == "ok" { print $3 }' "$T/jobs" | sort -u > "$T/want_users"
echo seed >> "$T/want_users"
sort -o "$T/want_users" "$T/want_users"
missing=0
while read -r u; do getent passwd "$u" > /dev/null || missing=$((missing + 1)); done < "$T/want_users"
check "every user who logged in is in getent passwd ($(wc -l < "$T/want_users") users, $missing missing)" \
        [ "$missing" = 0 ]
getent group apilogin-users | cut -d: -f4 | tr , '\n' | sort > "$T/group_users"
check "getent group apilogin-users lists exactly those users" cmp -s "$T/want_users" "$T/group_users"
getent passwd | awk -F: '$3 >= 200000 && $3 <= 299999' > "$T/enum"
check "enumeration: each of them once, no one else, uids unique" \
        [ "$(cut -d: -f1 "$T/enum" | sort | tr '\n' ' ')|$(cut -d: -f3 "$T/enum" | sort -u | wc -l)" = \
          "$(tr '\n' ' ' < "$T/want_users")|$(wc -l < "$T/want_users")" ]
check "no unknown name made it into the cache" bash -c "! getent passwd | grep -q '^nobody[0-9]'"
check "the daemon is still up" kill -0 "$DAEMON_PID"
e2e_done

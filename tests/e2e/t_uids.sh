#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_uids.sh: pre-provisioning, the per-service policy and the uid rule: users_file names
# (one optionally pinned to a uid) resolve before any login; services = ... keeps a sudo or
# cron stack from sending anything; a pin on a taken uid and two names colliding in a tiny
# uid_range are refused with a log line naming both and nothing sent; a removed user's uid
# goes to no other name, only back to the same one.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
python3 - "$T/accounts.json" <<'EOF'
import json, sys
names = ["alice", "kim", "lee", "moe"] + ["user%d" % i for i in range(16)]
json.dump({"token_ttl": 86400,
           "login_check": [{"username": n, "password": n + "-pw-7Qx"} for n in names]},
          open(sys.argv[1], "w"))
EOF
refapi_start "$T/accounts.json"
CTL="$BUILD/cli/apiloginctl --config $T/apilogin.conf"
uids_config() {
        config_write <<CONF
[global]
providers = fleet
timeout = 3s
services = sshd login su apilogin-test
users_file = @T@/users
$1

[provider fleet]
type = login_check
url = @URL@/v1/login_check
CONF
}
reload() {
        local n
        n=$(grep -c "Reloaded" "$T/daemon.log")
        kill -HUP "$DAEMON_PID"
        for _ in $(seq 50); do [ "$(grep -c "Reloaded" "$T/daemon.log")" -gt "$n" ] && return; sleep 0.1; done
}
printf '# kiosk users\nkim\nlee 200777   # pinned\nbad:name\n' > "$T/users"
uids_config ""
daemon_start || exit 1

# --- users_file ---
kim_hash=$(python3 -c '
h = 14695981039346656037
for c in b"kim": h = ((h ^ c) * 1099511628211) % 2**64
print(h % 100000 + 200000)')
check "a provisioned name resolves before any login (uid from the stable hash)" \
        grep -qE "^kim:\*:$kim_hash:[0-9]+::/home/kim:/bin/bash$" <<<"$(getent passwd kim)"
check "a pinned name has its pinned uid" [ "$(id -u lee)" = 200777 ]
check "getent passwd 200777 names lee" grep -q "^lee:" <<<"$(getent passwd 200777)"
check "a bad line is logged with file and line" grep -q "users:4: expected NAME \[UID\]\|users:4: (invalid) is not a valid user name" "$T/daemon.log"
check "nothing was sent to the API for them" [ "$(refstat total)" = 0 ]
login apilogin-test lee lee-pw-7Qx auth
expect_pam "lee's first login works" "auth: Success"
check "and keeps the pinned uid" [ "$(id -u lee)" = 200777 ]

# --- services ---
add_service sudo
add_service cron
n=$(refstat total)
# The daemon decides services (QUERY, type 6, no secret); nothing else may reach it.
reqs=$(grep "Request type" "$T/daemon.log" | grep -vc "Request type 6 ")
login sudo alice alice-pw-7Qx auth
expect_pam "sudo is not in services: PAM_USER_UNKNOWN" "auth: User not known to the underlying authentication module"
login cron alice alice-pw-7Qx auth
expect_pam "cron neither" "auth: User not known to the underlying authentication module"
for phase in acct open close; do login sudo alice alice-pw-7Qx $phase; done
check "nothing was sent to the API for sudo or cron" [ "$(refstat total)" = "$n" ]
check "nor to the daemon, in any phase, beyond the QUERY that refused them" \
        [ "$(grep "Request type" "$T/daemon.log" | grep -vc "Request type 6 ")" = "$reqs" ]
login apilogin-test alice alice-pw-7Qx auth
expect_pam "a listed service still works" "auth: Success"
check "and it did ask the API" [ "$(refstat total)" = $((n + 1)) ]

# --- a pin on a taken uid ---
printf 'kim\nlee 200777\nmoe 200777\n' > "$T/users"
reload
check "the colliding pin is refused with a line naming both" \
        grep -q "Refusing user moe: uid 200777 is already held by remote user lee" "$T/daemon.log"
check "moe does not exist" bash -c '! getent passwd moe'
n=$(refstat total)
login apilogin-test moe moe-pw-7Qx auth
check "moe's login is refused" bash -c "! grep -q 'auth: Success' <<<'$OUT'"
check "without sending anything" [ "$(refstat total)" = "$n" ]

# --- two names colliding in a two-uid range ---
uids_config "uid_range = 300000-300001"
reload
first=; collider=
for i in $(seq 0 15); do
        out=$($CTL user add "user$i" 2>&1)
        if grep -q "added" <<<"$out"; then
                first=${first:-user$i}
        elif grep -q "held by another name" <<<"$out"; then
                collider=user$i
                break
        fi
done
check "a name whose uid is taken is refused (apiloginctl user add)" [ -n "$collider" ]
line=$(grep "Refusing user $collider: uid" "$T/daemon.log" | tail -1)
holder=$(sed -n 's/.*already held by remote user \([^;]*\);.*/\1/p' <<<"$line")
check "the log line names both users: $line" [ -n "$holder" ]
held=$(sed -n 's/.*: uid \([0-9]*\) is already.*/\1/p' <<<"$line")
check "the named holder has that uid" [ "$(id -u "$holder")" = "$held" ]
n=$(refstat total)
login apilogin-test "$collider" "$collider-pw-7Qx" auth
check "the colliding name cannot log in" bash -c "! grep -q 'auth: Success' <<<'$OUT'"
check "and nothing was sent for it" [ "$(refstat total)" = "$n" ]

# --- a removed user's uid stays his ---
$CTL user del "$holder" >/dev/null
out=$($CTL user add "$collider" 2>&1)
check "after the holder is removed, his uid still goes to nobody else" \
        grep -q "held by another name" <<<"$out"
check "the log says by whom" grep -q "Refusing user $collider: uid $held is already held by removed user $holder" "$T/daemon.log"
daemon_stop
daemon_start || exit 1
out=$($CTL user add "$collider" 2>&1)
check "also after a daemon restart" grep -q "held by another name" <<<"$out"
out=$($CTL user add "$holder" 2>&1)
check "the removed user comes back with his own uid" grep -q "added $holder with uid $held" <<<"$out"
e2e_done

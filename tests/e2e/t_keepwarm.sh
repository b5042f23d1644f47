#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_keepwarm.sh: keep_warm. Two refapi instances over TLS that close idle connections after
# 1 s (--idle-timeout 1), as real servers do. Against "warm" (keep_warm = yes, the default)
# the daemon re-opens the connection in the background when the server drops it, with an
# "OPTIONS *" that no API endpoint counts, so a login after >2 s idle opens no connection
# of its own: it goes out on the one the daemon re-opened. Both a login_check login and a
# rest_login one (its cookie jar on another curl share) take that connection. Against
# "cold" (keep_warm = no) nothing reconnects in the background and the next login opens
# its own connection. Re-opening is bounded: only while an endpoint had a login in the last
# APILOGIND_WARM_FOR_S seconds (10 minutes unless a test shortens it; 6 s here), after that
# nothing reconnects. Connections are counted by refapi (/_stats "connections", every
# accepted connection: each stats read below is one of them).
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
command -v openssl >/dev/null || e2e_skip "no openssl"
trap 'extra_pids_stop; e2e_cleanup' EXIT
bash "$E2E_DIR/mkcerts.sh" "$T/certs" 2> "$T/mkcerts.log" ||
        { echo "Bail out! mkcerts.sh failed"; sed 's/^/#   /' "$T/mkcerts.log"; exit 99; }

# start_idle NAME: a TLS refapi that drops connections idle for 1 s; sets PORT_<NAME>.
start_idle() {
        local pf="$T/refapi_$1.port"
        "$REFAPI" --accounts "$DATA/e2e_accounts.json" --port 0 --port-file "$pf" --threads 2 \
                --tls-cert "$T/certs/good.pem" --tls-key "$T/certs/good.key" --idle-timeout 1 \
                >> "$T/refapi_$1.log" 2>&1 &
        EXTRA_PIDS="${EXTRA_PIDS:-} $!"
        for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
        [ -s "$pf" ] || { echo "# refapi $1 did not start"; return 1; }
        printf -v "PORT_$1" '%s' "$(cat "$pf")"
}
start_idle warm || exit 1
start_idle cold || exit 1

config_write <<CONF
[global]
providers = lc_warm
timeout = 5s
lockout = off

[provider lc_warm]
type = login_check
url = https://localhost:$PORT_warm/v1/login_check
ca_file = $T/certs/ca.pem

[provider rest_warm]
type = rest_login
url = https://localhost:$PORT_warm/api
domain = tenant.example.com
ca_file = $T/certs/ca.pem

[provider lc_cold]
type = login_check
url = https://localhost:$PORT_cold/v1/login_check
ca_file = $T/certs/ca.pem
keep_warm = no
CONF
APILOGIND_WARM_FOR_S=6 daemon_start || exit 1
for p in lc_warm rest_warm lc_cold; do add_service "apilogin-$p" "provider=$p"; done

# stats NAME: "connections keepwarm login_check_ok rest_login_ok total" of an instance
# (the read itself is one more connection).
stats() {
        curl -s --cacert "$T/certs/ca.pem" "https://localhost:$(eval echo "\$PORT_$1")/_stats" |
                python3 -c 'import json,sys; s=json.load(sys.stdin)
print(*(s.get(k, 0) for k in ("connections","keepwarm","login_check_ok","rest_login_ok","total")))'
}

# keepwarm_ge NAME N: the instance answered at least N "OPTIONS *".
keepwarm_ge() {
        local kw
        read -r _ kw _ < <(stats "$1")
        [ "$kw" -ge "$2" ]
}

# login_opens NAME SERVICE USER SECRET: log in; prints how many connections the login
# itself opened to instance NAME: the connections accepted meanwhile, less the stats read
# and the daemon's background re-opens (one "OPTIONS *" each). Status of the login.
login_opens() {
        local c0 k0 c1 k1 rest
        read -r c0 k0 rest < <(stats "$1")
        login "$2" "$3" "$4"
        read -r c1 k1 rest < <(stats "$1")
        echo $((c1 - c0 - 1 - (k1 - k0)))
        [ "$RC" = 0 ]
}

# reused_after_idle NAME SERVICE USER SECRET: after >2 s idle (the server dropped the
# connection at least once), a login opens no connection. Up to 3 tries: a login can land
# in the instant between the server's close and the daemon's re-open.
reused_after_idle() {
        local n
        for _ in 1 2 3; do
                sleep 2.2
                n=$(login_opens "$@") || return 1
                echo "# $2: the login opened $n connection(s)"
                [ "$n" = 0 ] && return 0
        done
        return 1
}

# ---- keep_warm = yes -----------------------------------------------------------------------
login apilogin-lc_warm alice alice-pw-7Qx
last_warm=$SECONDS
expect_pam "login_check over TLS authenticates" "auth: Success"
check "the server dropped the idle connection and the daemon re-opened it (OPTIONS *)" \
        wait_until 5 keepwarm_ge warm 1
check "after 2 s idle, a login_check login goes out on the re-opened connection" \
        reused_after_idle warm apilogin-lc_warm alice alice-pw-7Qx
check "a rest_login login (cookie jar) takes the same warm connection" \
        reused_after_idle warm apilogin-rest_warm frank frank-pw-7Qx
last_warm=$SECONDS
read -r _ k0 _ _ t0 < <(stats warm)
sleep 2.2
read -r _ k1 _ _ t1 < <(stats warm)
check "idle 2 s: the daemon re-opened (keepwarm $k0 -> $k1)" [ "$k1" -gt "$k0" ]
check "idle 2 s: the re-opens reached no API endpoint (total $t0 -> $t1)" [ "$t1" = "$t0" ]

# ---- keep_warm = no ------------------------------------------------------------------------
n=$(login_opens cold apilogin-lc_cold alice alice-pw-7Qx)
check "keep_warm = no: the first login authenticates on a connection of its own" [ "$n" = 1 ]
read -r c0 _ < <(stats cold)
sleep 2.5
read -r c1 kw _ < <(stats cold)
check "keep_warm = no: nothing reconnected in the background (only the stats read)" \
        [ $((c1 - c0)) = 1 ]
check "keep_warm = no: no OPTIONS * was sent" [ "$kw" = 0 ]
n=$(login_opens cold apilogin-lc_cold alice alice-pw-7Qx)
check "keep_warm = no: after idle, the login opens a new connection" [ "$n" = 1 ]
# ---- bounded: 6 s after the last login to "warm", nothing re-opens any more -------------------
sleep $((last_warm + 8 - SECONDS > 0 ? last_warm + 8 - SECONDS : 0))
read -r _ k0 _ < <(stats warm)
sleep 2.5
read -r _ k1 _ < <(stats warm)
check "no re-open once the endpoint had no login for APILOGIND_WARM_FOR_S (keepwarm $k0 -> $k1)" \
        [ "$k1" = "$k0" ]
check "no warnings or errors from the daemon" bash -c "! grep -E 'warn|err' '$T/daemon.log' | grep -v 'debug' | grep -q ."
e2e_done

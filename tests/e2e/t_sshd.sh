#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_sshd.sh: a real OpenSSH server (its own sshd_config, host key, /etc/pam.d/sshd = the
# example stack with pam_mkhomedir, nsswitch with apilogin after files) logging remote
# users in through pam_apilogin.so with sshpass/ssh, password and keyboard-interactive:
# the first login of a never-seen name with first_login_from = sshd (provisional entry only
# inside sshd, decided by the real executable; nothing stored after a failed login),
# id/groups/$HOME/$APILOGIN_TOKEN_FILE in the session, the token revoked at exit, wrong
# password and root refused (root with nothing sent), login_check, token_login and
# rest_login (role_groups); without first_login_from a never-seen name is an invalid user
# to sshd and its stand-in password is not sent.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_mount_home
refapi_start "$DATA/e2e_accounts.json"
config_write <<'CONF'
[global]
providers = fleet
timeout = 3s
lockout = off
first_login_from = sshd
role_groups = admin:sudo, standarduser:adm

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider gps]
type = token_login
url = @URL@/wialon/ajax.html

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com
CONF
daemon_start || exit 1
sshd_start || exit 1
PW=alice-pw-7Qx
HASH_UID=$(python3 -c '
h = 14695981039346656037
for c in b"alice": h = ((h ^ c) * 1099511628211) % 2**64
print(h % 100000 + 200000)')
SHOW='echo "ID=$(id)"; echo "TF=$APILOGIN_TOKEN_FILE"; stat -c "ST=%u %a" "$APILOGIN_TOKEN_FILE"; echo "TOK=$(cat "$APILOGIN_TOKEN_FILE")"; stat -c "HOME=%n %u %a" "$HOME"'

# --- first login of a name the cache has never seen ---
check "alice is unknown to getent before her first login" bash -c '! getent passwd alice'
check "argv[0] = sshd does not make a provisional entry" bash -c '! (exec -a sshd getent passwd alice)'
mkdir -p "$T/bin" && cp "$(command -v getent)" "$T/bin/sshd"
out=$("$T/bin/sshd" passwd alice)
check "an executable named sshd gets the provisional entry (uid from the stable hash)" \
        grep -qE "^alice:\*:$HASH_UID:[0-9]+::/home/alice:/bin/bash$" <<<"$out"
n=$(refstat login_check)
ssh_as alice wrong-password password 'true'
check "wrong password over ssh is refused" [ "$RC" = 255 ]
check "it was checked by the API" [ "$(refstat login_check)" = $((n + 1)) ]
check "after the failed first login nothing is stored" bash -c '! getent passwd alice'
check "sshd logged a failed password, not an invalid user" \
        grep -q "Failed password for alice from" "$T/sshd.log"

ssh_as alice "$PW" password "$SHOW"
check "first ssh login of never-seen alice (password) succeeds" [ "$RC" = 0 ]
check "id in the session shows the uid from the stable hash and the apilogin group" \
        grep -qE "^ID=uid=$HASH_UID\(alice\) gid=[0-9]+\(apilogin-users\) groups=[0-9]+\(apilogin-users\)$" <<<"$OUT"
check "APILOGIN_TOKEN_FILE is set in the ssh session" grep -qx "TF=$RUNDIR/users/$HASH_UID/token" <<<"$OUT"
check "the token file is alice's, mode 0600" grep -qx "ST=$HASH_UID 600" <<<"$OUT"
check "alice can read her token" grep -qE '^TOK=[0-9a-f]{32}$' <<<"$OUT"
check "pam_mkhomedir made \$HOME, owned by alice, 0700" grep -qx "HOME=/home/alice $HASH_UID 700" <<<"$OUT"
check "after the login alice is permanent (getent, not sshd)" \
        grep -q "^alice:\*:$HASH_UID:" <<<"$(getent passwd alice)"
check "the token files are gone after exit (login_check has no logout)" \
        [ ! -e "$RUNDIR/users/$HASH_UID/token" ]

ssh_as alice "$PW" keyboard-interactive "$SHOW"
check "keyboard-interactive login succeeds" [ "$RC" = 0 ]
check "keyboard-interactive session has the token file" grep -qx "ST=$HASH_UID 600" <<<"$OUT"
ssh_as alice wrong-password keyboard-interactive 'true'
check "keyboard-interactive with a wrong password is refused" [ "$RC" = 255 ]

# The token is readable by alice only, while her session is open.
(SSHPASS=$PW sshpass -e ssh -F /dev/null -p "$SSHD_PORT" -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o PubkeyAuthentication=no \
        alice@127.0.0.1 'sleep 4' >/dev/null 2>&1 &)
tf=$RUNDIR/users/$HASH_UID/token
for _ in $(seq 50); do [ -e "$tf" ] && break; sleep 0.1; done
check "alice's uid can read the token file" \
        setpriv --reuid="$HASH_UID" --regid=65534 --clear-groups dd if="$tf" of=/dev/null status=none
check "another uid cannot" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat '$tf' 2>/dev/null"
for _ in $(seq 80); do [ -e "$tf" ] || break; sleep 0.1; done

# --- root: refused, and its password never leaves the host ---
n=$(refstat total)
ssh_as root root-pw-7Qx password 'true'
check "root with the API's password is refused over ssh" [ "$RC" = 255 ]
ssh_as root root-pw-7Qx keyboard-interactive 'true'
check "also with keyboard-interactive" [ "$RC" = 255 ]
check "nothing was sent to the API for root" [ "$(refstat total)" = "$n" ]

# --- token_login over ssh: the session id is logged out at exit ---
example_stack provider=gps > /etc/pam.d/sshd
n=$(refstat logout_token_login)
SSH_PROMPT="token:" ssh_as bob "$BOB_TOKEN" keyboard-interactive "$SHOW"
check "token_login: bob logs in over ssh with his token" [ "$RC" = 0 ]
bob_uid=$(id -u bob)
check "token_login: the session has bob's token file" grep -qx "ST=$bob_uid 600" <<<"$OUT"
for _ in $(seq 50); do [ "$(refstat logout_token_login)" -gt "$n" ] && break; sleep 0.1; done
check "token_login: exit revoked the token (core/logout)" [ "$(refstat logout_token_login)" = $((n + 1)) ]
check "token_login: the token files are gone" [ ! -e "$RUNDIR/users/$bob_uid/token" ]
ssh_as bob "${BOB_TOKEN%?}x" password 'true'
check "token_login: a wrong token is refused" [ "$RC" = 255 ]

# --- rest_login: role StandardUser -> role_groups standarduser:adm -> group in the session ---
example_stack provider=pbx > /etc/pam.d/sshd
ssh_as gina gina-pw-7Qx password 'id'
check "rest_login: gina logs in over ssh" [ "$RC" = 0 ]
check "rest_login: id in the session shows the role group adm (initgroups through NSS)" \
        grep -qE "groups=[0-9]+\(apilogin-users\),4\(adm\)$" <<<"$OUT"
check "rest_login: but not sudo, which is for another role" bash -c "! grep -q sudo <<<'$OUT'"

# --- without first_login_from: a never-seen name is an invalid user to sshd, nothing sent ---
sed -i '/^first_login_from/d' "$T/apilogin.conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q "Reloaded" "$T/daemon.log" && break; sleep 0.1; done
example_stack > /etc/pam.d/sshd
check "no provisional entry any more, even for a program named sshd" \
        bash -c "! '$T/bin/sshd' passwd rita"
n=$(refstat total)
ssh_as rita rita-pw-7Qx password 'true'
check "the first ssh login of never-seen rita fails" [ "$RC" = 255 ]
check "sshd calls her an invalid user" grep -q "Invalid user rita from" "$T/sshd.log"
check "sshd's stand-in password for an invalid user was not sent to the API" \
        [ "$(refstat total)" = "$n" ]
check "rita stays unknown" bash -c '! getent passwd rita'

check "no log holds a password or a token" logs_clean "$PW" "$BOB_TOKEN" gina-pw-7Qx root-pw-7Qx rita-pw-7Qx
check "neither does sshd's log" bash -c "! grep -qF -e '$PW' -e '$BOB_TOKEN' '$T/sshd.log'"
e2e_done

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_su_login.sh: su and the console login program, each on a real pty under tmux (send-keys,
# capture-pane), with the example stack as /etc/pam.d/su, su-l and login: `su - alice` from
# an unprivileged user with alice's remote password, `login` as alice (login_check) and as
# a never-seen bob (token_login). Each ends in the user's shell with $APILOGIN_TOKEN_FILE
# in place; `exit` closes the session: the token files go, token_login's session id is
# logged out.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_mount_home
refapi_start "$DATA/e2e_accounts.json"
standard_config
daemon_start || exit 1
for s in su su-l login; do example_stack > "/etc/pam.d/$s"; done
PW=alice-pw-7Qx
# One line the shell prints about itself: uid, token file, its owner and mode, home.
SHOW='echo "ID=$(id -u)/$(id -un) TF=$APILOGIN_TOKEN_FILE ST=$(stat -c %u.%a "$APILOGIN_TOKEN_FILE") H=$PWD"'

# su needs alice to exist before it asks for a password: one login makes her known.
login apilogin-test alice "$PW" auth
uid=$(id -u alice)
check "alice is known before su" [ -n "$uid" ]

# --- su - alice, typed by nobody ---
tmux_start su "setpriv --reuid=65534 --regid=65534 --clear-groups su - alice"
tmux_wait su "Password:" && tmux_type su "wrong-password"
check "su with a wrong password fails" tmux_wait su "Authentication failure" 15
tmux -S "$T/tmux.sock" kill-session -t su
tmux_start su "setpriv --reuid=65534 --regid=65534 --clear-groups su - alice"
tmux_wait su "Password:" && tmux_type su "$PW"
tmux_type su "$SHOW"
check "su - alice: alice's shell with the token file (owner alice, 0600), in her home" \
        tmux_wait su "^ID=$uid/alice TF=$RUNDIR/users/$uid/token ST=$uid.600 H=/home/alice$"
check "su - alice: the session is registered with the daemon" \
        grep -q "session opened: user=alice uid=$uid service=su-l" "$T/daemon.log"
tmux_type su "exit"
check "su - alice: exit ends su" tmux_wait su '^\[exited 0\]'
for _ in $(seq 30); do [ -e "$RUNDIR/users/$uid/token" ] || break; sleep 0.1; done
check "su - alice: the session closed and the token files are gone" \
        [ ! -e "$RUNDIR/users/$uid/token" ]
check "su - alice: the daemon saw the close" grep -q "session closed: user=alice uid=$uid service=su-l" "$T/daemon.log"

# --- the console login program as alice ---
tmux_start login "/bin/login"
tmux_wait login "login: " && tmux_type login alice
tmux_wait login "Password: " && tmux_type login "$PW"
tmux_type login "$SHOW"
check "login alice: her shell with the token file, in her home" \
        tmux_wait login "^ID=$uid/alice TF=$RUNDIR/users/$uid/token ST=$uid.600 H=/home/alice$" 15
tmux_type login "exit"
check "login alice: exit ends login" tmux_wait login '^\[exited 0\]'
for _ in $(seq 30); do [ -e "$RUNDIR/users/$uid/token" ] || break; sleep 0.1; done
check "login alice: the token files are gone" [ ! -e "$RUNDIR/users/$uid/token" ]

# --- login as bob, never seen before, with a token_login token: logout at exit ---
example_stack provider=gps > /etc/pam.d/login
check "bob is unknown before his first login" bash -c '! getent passwd bob'
n=$(refstat logout_token_login)
tmux_start login2 "/bin/login"
tmux_wait login2 "login: " && tmux_type login2 bob
tmux_wait login2 "Access token: " && tmux_type login2 "$BOB_TOKEN"
tmux_type login2 'echo "BOB=$(id -un) $(stat -c %a "$APILOGIN_TOKEN_FILE")"'
check "login bob: first login of a never-seen name through login (no first_login_from)" \
        tmux_wait login2 "^BOB=bob 600$" 15
tmux_type login2 "exit"
check "login bob: exit ends login" tmux_wait login2 '^\[exited 0\]'
for _ in $(seq 50); do [ "$(refstat logout_token_login)" -gt "$n" ] && break; sleep 0.1; done
check "login bob: the last close logged the session id out (core/logout)" \
        [ "$(refstat logout_token_login)" = $((n + 1)) ]

check "no log holds a password or a token" logs_clean "$PW" "$BOB_TOKEN"
e2e_done

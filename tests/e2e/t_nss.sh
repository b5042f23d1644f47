#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_nss.sh: the NSS side as every tool sees it: initgroups with the local groups role_groups
# maps a remote role to (kept across a daemon restart), getgrnam of the apilogin group
# listing every cached user, getpwent/getgrent enumeration off by default and on with
# enumerate = yes, `ls -l` naming a remote uid, and a user removed with `apiloginctl user
# del` vanishing from a running process at its very next lookup (and getting the same uid
# back when added again).
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
refapi_start "$DATA/e2e_accounts.json"
CTL="$BUILD/cli/apiloginctl --config $T/apilogin.conf"
nss_config() {
        config_write <<CONF
[global]
providers = fleet
timeout = 3s
role_groups = standarduser:adm, StandardUser:video, admin:sudo
$1

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider pbx]
type = rest_login
url = @URL@/api
domain = tenant.example.com
CONF
}
nss_config ""
daemon_start || exit 1
add_service apilogin-pbx provider=pbx

login apilogin-test alice alice-pw-7Qx auth
login apilogin-pbx gina gina-pw-7Qx auth
expect_pam "gina (rest_login, role StandardUser) logs in" "auth: Success"
auid=$(id -u alice)
guid=$(id -u gina)

# --- groups ---
check "id gina: the role groups adm and video (role matched without case)" \
        grep -qE "groups=[0-9]+\(apilogin-users\),4\(adm\),44\(video\)$" <<<"$(id gina)"
check "id gina: not sudo (another role)" bash -c '! id -Gn gina | grep -qw sudo'
check "id alice: no role, only the apilogin group" \
        grep -qE "groups=[0-9]+\(apilogin-users\)$" <<<"$(id alice)"
check "getent initgroups gina lists the role groups" \
        grep -qE "^gina +[0-9]+ 4 44$" <<<"$(getent initgroups gina)"
check "getent group apilogin-users lists every cached user" \
        grep -qE "^apilogin-users:x:[0-9]+:(alice,gina|gina,alice)$" <<<"$(getent group apilogin-users)"
daemon_stop
daemon_start || exit 1
check "the role survives a daemon restart (id gina still has adm)" \
        grep -q "4(adm)" <<<"$(id gina)"

# --- enumeration: off by default ---
check "getent passwd (enumeration) lists no remote user by default" \
        bash -c '! getent passwd | grep -qE "^(alice|gina):"'
check "getent group (enumeration) does not list the apilogin group by default" \
        bash -c '! getent group | grep -q "^apilogin-users:"'
check "lookups by name still work" bash -c 'getent passwd gina >/dev/null'
nss_config "enumerate = yes"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q "Reloaded" "$T/daemon.log" && break; sleep 0.1; done
check "enumerate = yes: getent passwd lists both remote users" \
        [ "$(getent passwd | grep -cE '^(alice|gina):')" = 2 ]
check "enumerate = yes: getent group lists the apilogin group" \
        grep -q "^apilogin-users:" <<<"$(getent group)"

# --- ls -l names a remote uid ---
touch "$T/owned"
chown "$auid:apilogin-users" "$T/owned"
check "ls -l shows the remote user's name and group" \
        grep -qE "^-[rwx-]{9} 1 alice apilogin-users " <<<"$(ls -l "$T/owned")"

# --- user del: gone from a running process at its next lookup ---
coproc PY { python3 -u -c '
import pwd, sys
for line in sys.stdin:
    name, uid = line.split()
    try:
        pwd.getpwnam(name); a = "yes"
    except KeyError:
        a = "no"
    try:
        b = pwd.getpwuid(int(uid)).pw_name
    except KeyError:
        b = "-"
    print(a, b, flush=True)
'; }
ask() { echo "alice $auid" >&"${PY[1]}"; read -r -t 5 ANS <&"${PY[0]}"; }
ask
check "a long-running process resolves alice (by name and uid)" [ "$ANS" = "yes alice" ]
ask # maps and checks again right before the removal: the 1 s re-stat cannot help below
out=$($CTL user del alice)
check "apiloginctl user del alice" grep -q "removed alice" <<<"$out"
ask
check "the same process does not find alice at its next lookup" [ "$ANS" = "no -" ]
check "nor does ls -l name the uid any more" grep -qE "^-[rwx-]{9} 1 $auid " <<<"$(ls -l "$T/owned")"
eval "exec ${PY[1]}>&-"
wait "$PY_PID" 2>/dev/null
out=$($CTL user add alice)
check "alice added again gets her old uid back" grep -q "added alice with uid $auid" <<<"$out"
e2e_done

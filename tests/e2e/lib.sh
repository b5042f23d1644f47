# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh: shared set-up for apilogin's end-to-end tests. Sourced by tests/e2e/t_*.sh.
#
# Each test re-executes itself inside a private mount + network + PID namespace
# (unshare -m -n -p, loopback up), so the host's /etc, /run, /var and network are never
# touched and nothing it started outlives it. Inside, it mounts:
#   tmpfs on /run and /var/lib          (the daemon's run_dir and state_dir, fresh)
#   tmpfs on /dev with the host's device nodes bound in, plus /dev/log served by a
#                                       small syslog catcher writing $T/syslog.txt
#   a copy of /etc/pam.d with our test services, bound over /etc/pam.d
#   an nsswitch.conf with "apilogin" after "files", bound over /etc/nsswitch.conf
#   an ld.so.cache that also lists the build tree's NSS module, bound over /etc/ld.so.cache
# and runs the real pieces: refapi on 127.0.0.1, apilogind, pamtester/getent/id.
#
# Output is TAP-like ("ok N - ..." / "not ok N - ..."), closing with "N passed, N failed".

set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${top_builddir:-$SRC}
BUILD=$(cd "$BUILD" && pwd)
DATA=$SRC/tests/data
PAM_SO=$BUILD/pam_module/.libs/pam_apilogin.so
# APILOGIN_E2E_NSS_SO: another build of the NSS module (scripts/sanitize.sh: one that
# needs no sanitizer runtime, since every program of a test may load it).
NSS_SO=${APILOGIN_E2E_NSS_SO:-$BUILD/nss_module/.libs/libnss_apilogin.so.2}
APILOGIND=$BUILD/daemon/apilogind
REFAPI=$BUILD/tests/refapi/refapi
PAM_SESSION=$BUILD/tests/e2e/pam_session
# The compiled-in run and state directories (configure's runstatedir and localstatedir;
# make check exports them): where the daemon puts its socket and token files by default.
RUNDIR=${APILOGIN_RUNDIR:-/run/apilogin}
STATEDIR=${APILOGIN_STATEDIR:-/var/lib/apilogin}
export RUNDIR STATEDIR
BOB_TOKEN=e0f36a30bbfb6299571c8694047fe5dd81228b7d75679a8cca68e551fb7e9a2f4edc5d20
EVE_TOKEN=77aa24070ae45cf4ba8299f43dc4d15dfc9dab5a81216dfeaf864e14b0f2b726fd746777
N_PASS=0
N_FAIL=0
N_T=0

e2e_skip() {
        echo "1..0 # SKIP $*"
        exit 77
}

# Re-exec inside the namespaces, then set up the mounts.
e2e_init() {
        if [ -z "${APILOGIN_E2E_NS:-}" ]; then
                [ "$(id -u)" = 0 ] || e2e_skip "needs root for unshare"
                command -v unshare >/dev/null || e2e_skip "no unshare"
                for f in "$PAM_SO" "$NSS_SO" "$APILOGIND" "$REFAPI" "$PAM_SESSION"; do
                        [ -e "$f" ] || { echo "Bail out! not built: $f"; exit 99; }
                done
                # A PID namespace of its own as well: when the test ends, however it ends,
                # everything it started (daemons, refapis, sshd, tmux) ends with it; and a
                # test that hangs is killed after E2E_TIMEOUT seconds.
                exec timeout -k 10 "${E2E_TIMEOUT:-900}" \
                        unshare -m -n -p --fork --kill-child --mount-proc --propagation private -- \
                        env APILOGIN_E2E_NS=1 bash "$0" "$@"
        fi
        T=$(mktemp -d /tmp/apilogin-e2e.XXXXXX)
        chmod 755 "$T"
        trap e2e_cleanup EXIT
        ip link set lo up
        e2e_mount_dev
        mount -t tmpfs -o mode=755 tmpfs /run
        mkdir -p /var/lib && mount -t tmpfs -o mode=755 tmpfs /var/lib
        e2e_mount_private_parent "$RUNDIR"
        e2e_mount_private_parent "$STATEDIR"
        e2e_mount_etc
        e2e_syslog_start
        e2e_preload_shims
}

# APILOGIN_E2E_PRELOAD (scripts/sanitize.sh: the ASan runtime): preloaded into pamtester,
# and into nothing else, through a wrapper first in PATH. pamtester is not instrumented
# but loads the ASan-built PAM module; the runtime must come first in such a process. Its
# own leaks are not ours: LeakSanitizer is off there.
e2e_preload_shims() {
        local c
        [ -n "${APILOGIN_E2E_PRELOAD:-}" ] || return 0
        mkdir -p "$T/bin"
        for c in pamtester; do
                printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" exec %s "$@"\n' \
                        "$APILOGIN_E2E_PRELOAD" "$(command -v "$c")" > "$T/bin/$c"
                chmod 755 "$T/bin/$c"
        done
        PATH=$T/bin:$PATH
}

# A fresh tmpfs on the parent of DIR, unless /run or /var/lib (just mounted) holds it:
# a build configured with another prefix (make distcheck) has its directories elsewhere.
e2e_mount_private_parent() {
        local p
        p=$(dirname "$1")
        case "$p/" in /run/*|/var/lib/*) return 0 ;; esac
        mkdir -p "$p" && mount -t tmpfs -o mode=755 tmpfs "$p"
}

# Build a fresh /dev in $T/newdev (the host's nodes bound in one by one, a private devpts
# and /dev/shm) and move it over /dev. Nothing of the host's /dev is ever mounted under $T,
# so removing $T can never reach the host's device nodes.
e2e_mount_dev() {
        local d=$T/newdev n
        mkdir -p "$d"
        mount -t tmpfs -o mode=755 tmpfs "$d"
        for n in null zero full random urandom tty; do
                [ -c "/dev/$n" ] || continue
                touch "$d/$n" && mount --bind "/dev/$n" "$d/$n"
        done
        mkdir -p "$d/pts" "$d/shm"
        mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$d/pts"
        ln -s pts/ptmx "$d/ptmx"
        mount -t tmpfs -o mode=1777 tmpfs "$d/shm"
        ln -s /proc/self/fd "$d/fd"
        ln -s /proc/self/fd/0 "$d/stdin"
        ln -s /proc/self/fd/1 "$d/stdout"
        ln -s /proc/self/fd/2 "$d/stderr"
        mount --move "$d" /dev
}

e2e_mount_etc() {
        mkdir -p "$T/pam.d" "$T/lib"
        cp -a /etc/pam.d/. "$T/pam.d/"
        pam_service > "$T/pam.d/apilogin-test"
        pam_service provider=gps > "$T/pam.d/apilogin-gps"
        pam_stack apilogin-stack > "$T/pam.d/apilogin-stack"
        mount --bind "$T/pam.d" /etc/pam.d
        printf 'passwd: files apilogin\ngroup: files apilogin\nshadow: files\nhosts: files\n' \
                > "$T/nsswitch.conf"
        mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf
        ln -s "$NSS_SO" "$T/lib/libnss_apilogin.so.2"
        { echo "$T/lib"; echo "include /etc/ld.so.conf.d/*.conf"; } > "$T/ld.so.conf"
        ldconfig -C "$T/ld.so.cache" -f "$T/ld.so.conf"
        mount --bind "$T/ld.so.cache" /etc/ld.so.cache
}

# A service with apilogin alone, so the test sees the module's own codes.
pam_service() {
        local args="config=$T/apilogin.conf $*"
        echo "auth     required $PAM_SO $args"
        echo "account  required $PAM_SO $args"
        echo "session  required $PAM_SO $args"
        echo "password required $PAM_SO $args"
}

# The stack README.md documents, with pam_unix behind apilogin.
pam_stack() {
        local args="config=$T/apilogin.conf"
        cat <<EOF
auth     [success=done authinfo_unavail=ignore user_unknown=ignore default=die] $PAM_SO $args
auth     [success=1 default=ignore] pam_unix.so nullok try_first_pass
auth     requisite pam_deny.so
auth     required pam_permit.so
account  [success=ok ignore=ignore default=bad] $PAM_SO $args
account  required pam_unix.so
session  optional $PAM_SO $args
EOF
}

e2e_syslog_start() {
        : > "$T/syslog.txt"
        python3 - "$T/syslog.txt" <<'EOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
EOF
        SYSLOG_PID=$!
        for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.05; done
}

e2e_cleanup() {
        [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
        [ -n "${REFAPI_PID:-}" ] && kill "$REFAPI_PID" 2>/dev/null
        [ -n "${SYSLOG_PID:-}" ] && kill "$SYSLOG_PID" 2>/dev/null
        wait 2>/dev/null
        # Unmount whatever is still mounted below $T before removing it, and never cross
        # into another file system while removing.
        grep -o " $T/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        if [ -n "${E2E_KEEP:-}" ]; then echo "# kept $T"; else rm -rf --one-file-system "$T" 2>/dev/null; fi
}

# refapi_start ACCOUNTS.json: start the reference API server; sets REFAPI_PORT, REFAPI_URL.
refapi_start() {
        rm -f "$T/refapi.port"
        "$REFAPI" --accounts "$1" --port 0 --port-file "$T/refapi.port" \
                --stall-seconds "${STALL_SECONDS:-30}" > "$T/refapi.log" 2>&1 &
        REFAPI_PID=$!
        for _ in $(seq 100); do [ -s "$T/refapi.port" ] && break; sleep 0.05; done
        REFAPI_PORT=$(cat "$T/refapi.port")
        REFAPI_URL="http://127.0.0.1:$REFAPI_PORT"
}

# Write $T/apilogin.conf from stdin, replacing @URL@ with the refapi base URL.
config_write() {
        sed -e "s#@URL@#${REFAPI_URL:-http://127.0.0.1:9}#g" -e "s#@PORT@#${REFAPI_PORT:-9}#g" \
                -e "s#@T@#$T#g" > "$T/apilogin.conf"
}

daemon_start() {
        "$APILOGIND" --config "$T/apilogin.conf" ${DAEMON_FLAGS:---foreground --debug} "$@" \
                >> "$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        for _ in $(seq 100); do
                [ -S "${SOCKET:-$RUNDIR/socket}" ] && return 0
                kill -0 "$DAEMON_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "# apilogind did not start:"; sed 's/^/#   /' "$T/daemon.log"
        return 1
}

daemon_stop() {
        [ -n "${DAEMON_PID:-}" ] || return 0
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
}

# refstat NAME: one counter from refapi's /_stats.
refstat() {
        curl -s "$REFAPI_URL/_stats" |
                python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

refapi_fault() { curl -s -X POST "$REFAPI_URL/_fault?path=$1&mode=$2" >/dev/null; }

# login SERVICE USER SECRET [STEPS...]: run pam_session, output in $OUT, status in $RC.
login() {
        local svc=$1 user=$2 secret=$3
        shift 3
        OUT=$(printf '%s\n' "$secret" | "$PAM_SESSION" "$svc" "$user" "${@:-auth}" 2>&1)
        RC=$?
}

ok() {
        N_T=$((N_T + 1)); N_PASS=$((N_PASS + 1)); echo "ok $N_T - $*"
}

not_ok() {
        N_T=$((N_T + 1)); N_FAIL=$((N_FAIL + 1)); echo "not ok $N_T - $*"
        [ -n "${OUT:-}" ] && printf '%s\n' "$OUT" | sed 's/^/#   /'
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
        local d=$1
        shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# expect_pam DESCRIPTION "PAM message" : checks the last step printed that message.
expect_pam() {
        if printf '%s\n' "$OUT" | grep -qF -- "$2"; then ok "$1"; else not_ok "$1 (wanted: $2)"; fi
}

e2e_done() {
        echo "1..$N_T"
        echo "$N_PASS passed, $N_FAIL failed"
        [ "$N_FAIL" = 0 ]
}

# logs_clean SECRET...: ok when no captured log (daemon, syslog, refapi aside) holds any.
logs_clean() {
        local s f bad=
        for s in "$@"; do
                [ -n "$s" ] || continue
                for f in "$T/daemon.log" "$T/syslog.txt"; do
                        [ -f "$f" ] && grep -qF -- "$s" "$f" && bad="$bad $(basename "$f")"
                done
        done
        [ -z "$bad" ] || { echo "# secret found in:$bad"; return 1; }
}

# standard_config [EXTRA-GLOBAL-LINES]: login_check "fleet" and token_login "gps" on refapi.
standard_config() {
        config_write <<CONF
[global]
providers = fleet
timeout = ${TIMEOUT:-3s}
lockout = 5/15m
${1:-}

[provider fleet]
type = login_check
url = @URL@/v1/login_check

[provider gps]
type = token_login
url = @URL@/wialon/ajax.html
CONF
}

# Add a PAM service NAME using the given module arguments (inside the namespace only).
add_service() {
        local name=$1
        shift
        pam_service "$@" > "/etc/pam.d/$name"
}

# ---- the real login programs: sshd, su, login (t_sshd.sh, t_su_login.sh) ----------------

# e2e_mount_home: fresh tmpfs on /home (homes made by pam_mkhomedir) and /var/log (wtmp,
# btmp, lastlog written by sshd and login), so the host's are never touched. Also stops
# sshd and tmux at exit (before e2e_cleanup).
e2e_mount_home() {
        mount -t tmpfs -o mode=755 tmpfs /home
        mount -t tmpfs -o mode=755 tmpfs /var/log
        trap e2e_cleanup_logins EXIT
}

e2e_cleanup_logins() {
        [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null
        [ -S "$T/tmux.sock" ] && tmux -S "$T/tmux.sock" kill-server 2>/dev/null
        e2e_cleanup
}

# example_stack [MODULE-ARGS]: etc/pam.d/apilogin-example as shipped (pam_mkhomedir line
# included) with our module and config, then the pam_unix lines a distribution's stack has
# behind it for local users.
example_stack() {
        sed -e '/^#/d' -e '/^$/d' \
            -e "s#pam_apilogin.so#$PAM_SO config=$T/apilogin.conf $*#" \
            "$SRC/etc/pam.d/apilogin-example"
        cat <<EOF
auth     [success=1 default=ignore] pam_unix.so nullok try_first_pass
auth     requisite pam_deny.so
auth     required pam_permit.so
account  required pam_unix.so
session  required pam_unix.so
EOF
}

# sshd_start [EXTRA-CONFIG-LINES]: a real OpenSSH server on 127.0.0.1:$SSHD_PORT with its
# own config and host key under $T/sshd, the example stack as /etc/pam.d/sshd, log in
# $T/sshd.log. Password and keyboard-interactive authentication, root allowed, so that
# only apilogin and pam_unix decide.
SSHD_PORT=2222
sshd_start() {
        mkdir -p "$T/sshd" /run/sshd
        chmod 755 /run/sshd
        [ -e "$T/sshd/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$T/sshd/host_key"
        cat > "$T/sshd/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $SSHD_PORT
HostKey $T/sshd/host_key
PidFile $T/sshd/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication no
PermitRootLogin yes
PrintMotd no
PrintLastLog no
UseDNS no
MaxAuthTries 3
LogLevel VERBOSE
${1:-}
EOF
        example_stack > /etc/pam.d/sshd
        /usr/sbin/sshd -D -f "$T/sshd/sshd_config" -E "$T/sshd.log" &
        SSHD_PID=$!
        for _ in $(seq 100); do
                ss -ltn 2>/dev/null | grep -q "127.0.0.1:$SSHD_PORT " && return 0
                kill -0 "$SSHD_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "# sshd did not start:"; sed 's/^/#   /' "$T/sshd.log"
        return 1
}

# ssh_as USER SECRET METHOD COMMAND: one ssh login (METHOD password or keyboard-interactive)
# with sshpass running COMMAND; output in $OUT, exit status in $RC (255: refused).
# (SSH_PROMPT: the prompt sshpass answers, default "assword"; the daemon's prompt for
# token_login is "Access token: ", for ws_auth "PIN: ".)
ssh_as() {
        OUT=$(SSHPASS=$2 timeout 30 sshpass -e -P "${SSH_PROMPT:-assword}" ssh -F /dev/null -p "$SSHD_PORT" \
                -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o LogLevel=ERROR -o PreferredAuthentications="$3" \
                -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
                -o ConnectTimeout=5 "$1@127.0.0.1" "$4" 2>&1)
        RC=$?
}

# tmux_start NAME COMMAND: run the shell COMMAND on a fresh pty in a detached tmux session
# (server socket in $T); when it ends the pane shows "[exited N]" and stays.
tmux_start() {
        tmux -S "$T/tmux.sock" new-session -d -s "$1" -x 160 -y 50 \
                "$2; echo \"[exited \$?]\"; sleep 300"
}

# tmux_type NAME TEXT: type TEXT and Enter into the pane.
tmux_type() {
        tmux -S "$T/tmux.sock" send-keys -t "$1" -l -- "$2"
        tmux -S "$T/tmux.sock" send-keys -t "$1" Enter
}

tmux_screen() {
        tmux -S "$T/tmux.sock" capture-pane -p -J -t "$1" -S -200
}

# tmux_wait NAME REGEX [SECONDS]: until the pane shows REGEX (default 10 s); on a timeout
# prints the pane and fails.
tmux_wait() {
        local i
        for i in $(seq $((${3:-10} * 10))); do
                tmux_screen "$1" | grep -qE -- "$2" && return 0
                sleep 0.1
        done
        echo "# pane $1 never showed /$2/:"
        tmux_screen "$1" | sed 's/^/#   /'
        return 1
}

# ---- background sessions and token renewal (t_refresh.sh and friends) -------------------

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds (0) or
# SECONDS have passed (1).
wait_until() {
        local i n=$(($1 * 10))
        shift
        for i in $(seq "$n"); do
                "$@" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# session_bg NAME SERVICE USER SECRET SECONDS: a PAM session (auth, open, run "sleep
# SECONDS", close) in the background; its pam_session pid (the session leader) in
# $SESS_<NAME>, its output in $T/sess_NAME.out.
session_bg() {
        printf '%s\n' "$4" | "$PAM_SESSION" "$2" "$3" auth open "run:sleep $5" close \
                > "$T/sess_$1.out" 2>&1 &
        printf -v "SESS_$1" '%s' "$!"
}

# token_path USER: the user's token file.
token_path() { echo "$RUNDIR/users/$(id -u "$1" 2>/dev/null || echo none)/token"; }

# token_json_get USER KEY: one field of the user's token.json ("" if missing).
token_json_get() {
        python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" \
                "$(dirname "$(token_path "$1")")/token.json" "$2" 2>/dev/null
}

# key_present USER: whether the daemon's keyring (the instance named in
# $RUNDIR/sessions/.keyring, inside root's user keyring) holds apilogin:USER.
key_present() {
        python3 - "$1" <<'PY'
import ctypes, os, sys
k = ctypes.CDLL("libkeyutils.so.1", use_errno=True)
k.keyctl_search.restype = ctypes.c_long
try:
    ring = open(os.environ["RUNDIR"] + "/sessions/.keyring").read().strip()
except OSError:
    sys.exit(1)
r = k.keyctl_search(-4, b"keyring", ring.encode(), 0)   # -4: KEY_SPEC_USER_KEYRING
if r < 0:
    sys.exit(1)
sys.exit(0 if k.keyctl_search(r, b"user", ("apilogin:" + sys.argv[1]).encode(), 0) >= 0 else 1)
PY
}

# no_file_holds SECRET: ok when no file under /run or /var/lib contains SECRET.
no_file_holds() {
        ! grep -rqsF -- "$1" /run /var/lib
}

# refapi_restart: stop refapi and start it again on the same port (its tokens are lost).
refapi_stop() {
        kill "$REFAPI_PID" 2>/dev/null
        wait "$REFAPI_PID" 2>/dev/null
        REFAPI_PID=
}
refapi_start_again() {
        "$REFAPI" --accounts "$1" --port "$REFAPI_PORT" \
                --stall-seconds "${STALL_SECONDS:-30}" >> "$T/refapi.log" 2>&1 &
        REFAPI_PID=$!
        wait_until 5 curl -sf "$REFAPI_URL/_stats" -o /dev/null
}

key_absent() { ! key_present "$1"; }

# token_ready USER: the user is known and has a non-empty token file.
token_ready() { id -u "$1" >/dev/null 2>&1 && test -s "$(token_path "$1")"; }

# refstat_ge NAME N: refapi's counter NAME is at least N.
refstat_ge() { [ "$(refstat "$1")" -ge "$2" ]; }

# token_state_is USER STATE: token.json of USER says "state": STATE.
token_state_is() { [ "$(token_json_get "$1" state)" = "$2" ]; }

# token_json_matches USER STATE: token.json holds the token file's token and the state.
# (Both files are replaced one after the other: poll it with wait_until.)
token_json_matches() {
        [ "$(token_json_get "$1" token)" = "$(cat "$(token_path "$1")")" ] &&
                token_state_is "$1" "$2"
}

# token_differs USER TOKEN: the user's token file holds another (whole) token than TOKEN.
token_differs() {
        local t
        t=$(cat "$(token_path "$1")" 2>/dev/null) && [ -n "$t" ] && [ "$t" != "$2" ]
}

# keyring_cleanup: unlink the keyring of the test's daemon from root's user keyring (the
# kernel keyring is not namespaced, so it would outlive the test). For EXIT traps.
keyring_cleanup() {
        python3 - <<'PY' 2>/dev/null
import ctypes, os
k = ctypes.CDLL("libkeyutils.so.1")
k.keyctl_search.restype = ctypes.c_long
try:
    ring = open(os.environ["RUNDIR"] + "/sessions/.keyring").read().strip()
except OSError:
    raise SystemExit(0)
r = k.keyctl_search(-4, b"keyring", ring.encode(), 0)
if r > 0:
    k.keyctl_unlink(ctypes.c_int(r), ctypes.c_int(-4))
PY
}

# session_end NAME: end a session_bg session early by killing its command (sh and the
# sleep it runs): pam_session then exits without closing, and its leader's death ends the
# session.
session_end() {
        local leader c
        leader=$(eval echo "\${SESS_$1:-}")
        [ -n "$leader" ] || return 0
        for c in $(pgrep -P "$leader"); do
                kill $(pgrep -P "$c") "$c" 2>/dev/null
        done
        wait "$leader" 2>/dev/null
        return 0
}

# descendants PID: the children and grandchildren of PID (a session's sh and its command).
descendants() {
        local c
        for c in $(pgrep -P "$1"); do
                echo "$c"
                pgrep -P "$c"
        done
}

# ---- raw socket peers (t_flood.sh, t_screenlock.sh) ---------------------------------------

# sockpeer [--as USER] MODE ARGS...: talk proto.h to the daemon's socket directly
# (python3), as root or, with --as, as USER (setpriv: its uid and group, no other groups).
# Modes:
#   req TYPE [KEY=VALUE...]  one request (keys user, secret, service, rhost, tty, session,
#                            pid); prints "outcome=N", and "text=...", "session=..." when
#                            the reply has them
#   ping N                   N PINGs, one connection each; prints "ok=A limited=B other=C"
#   slow                     sends 3 bytes of a header and waits; prints the seconds until
#                            the daemon closed the connection (or "open" after 15 s)
#   flood N SECONDS FILE     holds N connections, reconnecting as soon as one is closed,
#                            a byte on each every 2 s; keeps "open=A reconnects=B" in FILE
#                            (which USER must be able to write)
sockpeer() {
        local pre=()
        if [ "$1" = --as ]; then
                pre=(setpriv --reuid="$2" --regid="$(id -g "$2")" --clear-groups --)
                shift 2
        fi
        [ -f "$T/sockpeer.py" ] || sockpeer_write "$T/sockpeer.py"
        # The system's python: a per-user shim (pyenv) in root's PATH is not for others.
        "${pre[@]}" /usr/bin/python3 "$T/sockpeer.py" "${SOCKET:-$RUNDIR/socket}" "$@"
}

sockpeer_write() {
        cat > "$1" <<'EOF'
import resource, select, socket, struct, sys, time
path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
TAGS = {"user": 1, "secret": 2, "service": 3, "tty": 4, "rhost": 5, "pid": 7, "session": 8}

def frame(typ, fields=()):
    body = b""
    for tag, val in fields:
        v = struct.pack(">I", int(val)) if tag == 7 else val.encode()
        body += struct.pack(">BH", tag, len(v)) + v
    return struct.pack(">HBBI", 0x414C, 1, typ, len(body)) + body

def recv_n(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def call(typ, fields=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(frame(typ, fields))
    n = struct.unpack(">HBBI", recv_n(s, 8))[3]
    body, out, i = recv_n(s, n), {}, 0
    while i + 3 <= len(body):
        tag, ln = struct.unpack(">BH", body[i:i + 3])
        out[tag] = body[i + 3:i + 3 + ln]
        i += 3 + ln
    s.close()
    text = out.get(13, b"").decode(errors="replace")
    return struct.unpack(">I", out[9])[0], text, out.get(8, b"").decode()

def flood(n, seconds, statf):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks, poll, reconnects, tick = {}, select.poll(), 0, 0.0
    until = time.monotonic() + seconds
    def drop(fd):
        poll.unregister(fd)
        socks.pop(fd).close()
    while time.monotonic() < until:
        while len(socks) < n:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            if s.connect_ex(path) != 0:
                s.close()
                break
            socks[s.fileno()] = s
            poll.register(s, select.POLLIN)
        for fd, _ in poll.poll(200):
            try:
                if socks[fd].recv(4096):
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            drop(fd)
            reconnects += 1
        if time.monotonic() - tick >= 2:
            tick = time.monotonic()
            for fd in list(socks):
                try:
                    socks[fd].send(b"A")
                except BlockingIOError:
                    pass
                except OSError:
                    drop(fd)
                    reconnects += 1
        with open(statf, "w") as f:
            f.write("open=%d reconnects=%d\n" % (len(socks), reconnects))

if mode == "req":
    fields = [(TAGS[a.split("=", 1)[0]], a.split("=", 1)[1]) for a in args[1:]]
    o, text, session = call(int(args[0]), fields)
    print("outcome=%d" % o)
    if text:
        print("text=" + text)
    if session:
        print("session=" + session)
elif mode == "ping":
    ok = limited = other = 0
    for _ in range(int(args[0])):
        try:
            o = call(5)[0]
        except (OSError, EOFError):
            o = -1
        ok, limited, other = ok + (o == 0), limited + (o == 5), other + (o not in (0, 5))
    print("ok=%d limited=%d other=%d" % (ok, limited, other))
elif mode == "slow":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(frame(5)[:3])
    t0 = time.monotonic()
    s.settimeout(15)
    try:
        print("%.1f" % (time.monotonic() - t0) if s.recv(1) == b"" else "data")
    except socket.timeout:
        print("open")
elif mode == "flood":
    flood(int(args[0]), float(args[1]), args[2])
EOF
}

# ---- TLS: refapi behind https/wss with the test's own certificates (t_tls.sh) -------------

# refapi_tls_start NAME ACCOUNTS CERT-BASENAME: another refapi serving https and wss with
# $T/certs/CERT-BASENAME.pem/.key (tests/e2e/mkcerts.sh made them); sets PORT_<NAME>, adds
# its pid to EXTRA_PIDS (stopped by extra_pids_stop). With CERT-BASENAME "-", plain http.
refapi_tls_start() {
        local name=$1 pf="$T/refapi_$1.port" tls=()
        [ "$3" = - ] || tls=(--tls-cert "$T/certs/$3.pem" --tls-key "$T/certs/$3.key")
        rm -f "$pf"
        "$REFAPI" --accounts "$2" --port 0 --port-file "$pf" --threads 2 "${tls[@]}" \
                >> "$T/refapi_$name.log" 2>&1 &
        EXTRA_PIDS="${EXTRA_PIDS:-} $!"
        for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
        [ -s "$pf" ] || { echo "# refapi $name did not start:"; sed 's/^/#   /' "$T/refapi_$name.log"; return 1; }
        printf -v "PORT_$name" '%s' "$(cat "$pf")"
}

extra_pids_stop() {
        local p
        for p in ${EXTRA_PIDS:-}; do kill "$p" 2>/dev/null; done
        EXTRA_PIDS=
}

# pam_code_of OUTPUT: the PAM code name for the last "auth: <message>" line pam_session
# printed (PAM_SUCCESS, PAM_AUTH_ERR, PAM_AUTHINFO_UNAVAIL, ...; "?" if unknown).
pam_code_of() {
        case "$(printf '%s\n' "$1" | grep '^auth: ' | tail -n 1)" in
        "auth: Success") echo PAM_SUCCESS ;;
        "auth: Authentication failure") echo PAM_AUTH_ERR ;;
        "auth: Authentication service cannot retrieve authentication info") echo PAM_AUTHINFO_UNAVAIL ;;
        "auth: User not known to the underlying authentication module") echo PAM_USER_UNKNOWN ;;
        "auth: Permission denied") echo PAM_PERM_DENIED ;;
        "auth: Have exhausted maximum number of retries") echo PAM_MAXTRIES ;;
        "auth: User account has expired") echo PAM_ACCT_EXPIRED ;;
        *) echo "?" ;;
        esac
}

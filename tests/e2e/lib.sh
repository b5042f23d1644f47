# lib.sh: shared set-up for apilogin's end-to-end tests. Sourced by tests/e2e/t_*.sh.
#
# Each test re-executes itself inside a private mount + network namespace
# (unshare -m -n, loopback up), so the host's /etc, /run, /var and network are never
# touched. Inside, it mounts:
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
NSS_SO=$BUILD/nss_module/.libs/libnss_apilogin.so.2
APILOGIND=$BUILD/daemon/apilogind
REFAPI=$BUILD/tests/refapi/refapi
PAM_SESSION=$BUILD/tests/e2e/pam_session
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
                exec unshare -m -n --propagation private -- \
                        env APILOGIN_E2E_NS=1 bash "$0" "$@"
        fi
        T=$(mktemp -d /tmp/apilogin-e2e.XXXXXX)
        chmod 755 "$T"
        trap e2e_cleanup EXIT
        ip link set lo up
        e2e_mount_dev
        mount -t tmpfs -o mode=755 tmpfs /run
        mkdir -p /var/lib && mount -t tmpfs -o mode=755 tmpfs /var/lib
        e2e_mount_etc
        e2e_syslog_start
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
        sed -e "s#@URL@#${REFAPI_URL:-http://127.0.0.1:9}#g" -e "s#@T@#$T#g" > "$T/apilogin.conf"
}

daemon_start() {
        "$APILOGIND" --config "$T/apilogin.conf" ${DAEMON_FLAGS:---foreground --debug} "$@" \
                >> "$T/daemon.log" 2>&1 &
        DAEMON_PID=$!
        for _ in $(seq 100); do
                [ -S "${SOCKET:-/run/apilogin/socket}" ] && return 0
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

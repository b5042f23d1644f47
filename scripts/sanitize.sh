#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sanitize.sh: build everything (daemon, PAM module, CLI, refapi, the test programs) with
# clang's AddressSanitizer + UndefinedBehaviorSanitizer in a separate tree, build-asan/src
# (a copy of this tree's sources: an out-of-tree build is impossible while the source tree
# is configured in-tree), then run the unit tests and end-to-end tests there.
#
#   scripts/sanitize.sh                  unit tests, then the e2e subset below (CI)
#   scripts/sanitize.sh --unit           unit tests only
#   scripts/sanitize.sh --e2e            unit tests, then every e2e test that can run here
#   scripts/sanitize.sh tests/e2e/t_x.sh ...   unit tests, then only these e2e tests
#
# Who is instrumented in the end-to-end tests, and how:
#   - apilogind, apiloginctl, refapi, tests/e2e/pam_session and nss_stress are ASan+UBSan
#     executables: the runtime is theirs, nothing is preloaded. LeakSanitizer is on for
#     all of them (a daemon stopped by SIGTERM exits through main: its leaks are reported).
#   - pam_apilogin.so (ASan+UBSan) is loaded by pam_session, which is instrumented. The one
#     uninstrumented host the subset uses, pamtester, gets the ASan runtime LD_PRELOADed
#     by a wrapper (tests/e2e/lib.sh, APILOGIN_E2E_PRELOAD), and nothing else does: the
#     runtime preloaded into every process hung curl | python3 for an hour before.
#   - libnss_apilogin.so.2 is loaded by every program that resolves a user (getent, id,
#     bash, setpriv, python3, ...): it cannot carry the ASan runtime. It is built in a
#     second small tree, build-asan/nss, with UBSan in trap mode (no runtime at all: a
#     finding kills the process with SIGILL, so the test fails), and used through
#     APILOGIN_E2E_NSS_SO. Its memory errors and leaks are valgrind's job
#     (tests/e2e/t_valgrind.sh), its cache reader is fuzzed (scripts/fuzz.sh), and
#     nss_stress (ASan) still checks every malloc/free/memcpy it makes.
#   - Left out: t_valgrind.sh (valgrind cannot run ASan code), t_sshd.sh, t_su_login.sh
#     (sshd, su, login are uninstrumented hosts of the PAM module). The normal suite runs
#     them.
#
# The CI subset (E2E_SUBSET): every login API (login_check, token_login, jsonrpc,
# rest_login, ws_auth), the TLS matrix, cookies, NSS with the CLI, sessions and
# revocation, the offline verifiers, the socket limits, the lockout and the peer checks:
# the daemon's main paths. Measured on a busy 2-core host: ~15 min for the subset (t_tls
# alone ~6), plus ~5 min of build and ~2 of unit tests; the whole .ci/run has 60. Left
# out of the subset for time: t_refresh.sh (~7 min under ASan, and its short windows
# on 3 s tokens miss under load), t_failures, t_policy, t_failover, t_uids, t_keepalive,
# t_relogin, t_backoff, t_crash, t_screenlock, t_thinpam, t_concurrency, t_ws_refresh,
# t_remote_revoke: `scripts/sanitize.sh --e2e` runs them all.
#
# How a report fails the run:
#   - every instrumented program aborts at its first report (halt_on_error, no UBSan
#     recovery, abort_on_error), so the test that ran it fails;
#   - reports also go to build-asan/sanlogs/ (log_path): after the tests, any file there
#     fails the run and is printed. That is how a report of the daemon, which runs in the
#     background and whose exit status no test sees, fails the run (leaks at its exit too).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/build-asan
src=$out/src
nss=$out/nss
logs=$out/sanlogs

E2E_SUBSET="t_login_check t_token_login t_more_apis t_ws_auth t_tls t_cookies t_nss
        t_nss_threads t_revoke t_offline t_flood t_lockout t_trust"
E2E_NEVER="t_valgrind t_sshd t_su_login"

mode=subset
e2e_sel=()
for a in "$@"; do
        case $a in
        --unit) mode=unit ;;
        --e2e) mode=all ;;
        *) mode=list e2e_sel+=("$a") ;;
        esac
done

command -v clang >/dev/null || { echo "sanitize: clang not found" >&2; exit 1; }
rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$rt" ] || { echo "sanitize: no ASan runtime ($rt): install libclang-rt-dev" >&2; exit 1; }

# copy_sources DIR: what git tracks plus new files not ignored (work in progress
# included). tar keeps the mtimes, so make rebuilds only what changed since the last run.
copy_sources() {
        mkdir -p "$1"
        (cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
                tar -C "$1" -xf -
}

# configure_once DIR CC CFLAGS [LDFLAGS]: as scripts/build.sh does, with the sanitizers in
# CC so that libtool keeps them when it links the shared modules.
configure_once() {
        [ -f "$1/Makefile" ] && return 0
        echo "== sanitize: configuring ${1#"$top"/} ($2)"
        (cd "$1" && ./autogen.sh && ./configure --prefix=/usr --sysconfdir=/etc \
                --localstatedir=/var --runstatedir=/run \
                --libdir="/usr/lib/$(gcc -print-multiarch)" \
                CC="$2" CFLAGS="$3" LDFLAGS="${4:-}") > "$1.configure.log" 2>&1 ||
                { tail -n 30 "$1.configure.log"; exit 1; }
}

# 1. Everything with ASan+UBSan, in build-asan/src.
copy_sources "$src"
configure_once "$src" "clang -fsanitize=address,undefined -fno-sanitize-recover=undefined -shared-libasan" \
        "-g -O1 -fno-omit-frame-pointer" "-Wl,-rpath,$(dirname "$rt")"
echo "== sanitize: building in build-asan/src"
cd "$src"
make -s -j2 >/dev/null 2> "$out/build.log" || { tail -n 40 "$out/build.log"; exit 1; }
make -s -j2 check TESTS= >/dev/null 2>> "$out/build.log" || { tail -n 40 "$out/build.log"; exit 1; }

# Refuse to report success on a build that is not instrumented.
for f in daemon/apilogind pam_module/.libs/pam_apilogin.so nss_module/.libs/libnss_apilogin.so.2 \
        cli/apiloginctl tests/refapi/refapi tests/e2e/pam_session tests/e2e/nss_stress; do
        [ "$(nm -D "$f" 2>/dev/null | grep -c __asan_)" -gt 0 ] || { echo "sanitize: $f not instrumented" >&2; exit 1; }
done

# 2. The NSS module for the end-to-end tests: UBSan in trap mode, no runtime to load.
if [ "$mode" != unit ]; then
        copy_sources "$nss"
        configure_once "$nss" "clang -fsanitize=undefined -fsanitize-trap=undefined" \
                "-g -O1 -fno-omit-frame-pointer"
        make -C "$nss" -s -j2 nss_module/libnss_apilogin.la >/dev/null 2>> "$out/build.log" ||
                { tail -n 40 "$out/build.log"; exit 1; }
        nss_so=$nss/nss_module/.libs/libnss_apilogin.so.2
        if nm -D "$nss_so" | grep -q '__ubsan\|__asan'; then
                echo "sanitize: $nss_so needs a sanitizer runtime" >&2
                exit 1
        fi
fi

# The test lists, as the Makefile has them.
make_var() {
        printf 'print-var:\n\t@echo $(%s)\n' "$1" | make -s -f Makefile -f - print-var
}
unit=$(make_var TESTS | tr ' ' '\n' | grep '^tests/unit/' | tr '\n' ' ' || true)
case $mode in
unit) e2e= ;;
subset) e2e=$(for t in $E2E_SUBSET; do printf 'tests/e2e/%s.sh ' "$t"; done) ;;
all) e2e=$(make_var E2E_TESTS | tr ' ' '\n' |
                grep -vE "/($(echo $E2E_NEVER | tr ' ' '|'))\.sh$" | tr '\n' ' ') ;;
list) e2e="${e2e_sel[*]}" ;;
esac

rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs" # pam_session also runs as test users (t_trust.sh)
find . -name '*.trs' -delete
common="halt_on_error=1:abort_on_error=1:log_path=$logs/asan:detect_stack_use_after_return=1:detect_leaks=1"
ubsan="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
rc=0

echo "== sanitize: unit tests (ASan+UBSan, leak checks on)"
ASAN_OPTIONS=$common UBSAN_OPTIONS=$ubsan make -s check TESTS="$unit" VERBOSE=1 || rc=1

if [ -n "$e2e" ]; then
        echo "== sanitize: end-to-end tests ($mode):$(for t in $e2e; do printf ' %s' "$(basename "$t" .sh)"; done)"
        ASAN_OPTIONS=$common UBSAN_OPTIONS=$ubsan APILOGIN_E2E_PRELOAD=$rt \
                APILOGIN_E2E_NSS_SO=$nss_so make -s check TESTS="$e2e" VERBOSE=1 || rc=1
fi

if [ -n "$(ls -A "$logs")" ]; then
        echo "sanitize: sanitizer reports (build-asan/sanlogs):"
        for f in "$logs"/*; do
                echo "--- $f"
                head -n 40 "$f"
        done
        rc=1
fi
pass=$(cat $(find . -name '*.trs') /dev/null | grep -c '^:test-result: PASS' || true)
fail=$(cat $(find . -name '*.trs') /dev/null | grep -cE '^:test-result: (FAIL|XPASS|ERROR)' || true)
echo "sanitize: $pass passed, $fail failed under ASan+UBSan$([ $rc = 0 ] && echo ", no report" || echo ": FAILED")"
exit $rc

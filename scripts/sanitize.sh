#!/bin/bash
# sanitize.sh: build everything (daemon, both modules, CLI, refapi, tests) with clang's
# AddressSanitizer + UndefinedBehaviorSanitizer in a separate tree, build-asan/src (a copy
# of this tree's sources: an out-of-tree build is impossible while the source tree is
# configured in-tree), then run the unit tests and the end-to-end tests there.
#
#   scripts/sanitize.sh                  unit tests (what test.sh runs)
#   scripts/sanitize.sh --e2e            unit tests, then every end-to-end test
#   scripts/sanitize.sh tests/e2e/t_x.sh ...   unit tests, then only these e2e tests
#
# KNOWN PROBLEM (why --e2e is not the default): with the ASan runtime LD_PRELOADed into
# every process of an e2e test, t_login_check.sh hung for an hour in
# `curl -s .../_stats | python3 -c ...` (lib.sh refstat). Preloading only into the
# programs that load our modules (pamtester, pam_session, getent, id, sshd, su) needs a
# hook in tests/e2e/lib.sh; not done yet.
#
# How a report fails the run:
#   - every instrumented program aborts at its first report (halt_on_error, no UBSan
#     recovery), so the test that ran it fails;
#   - reports also go to build-asan/sanlogs/; after the tests, any file there fails the
#     run and is printed (a daemon that dies in the background is caught this way too).
# The unit tests run with LeakSanitizer on. The end-to-end tests load the ASan-built
# pam_apilogin.so into pamtester/sshd/su and the NSS module into getent/id, programs that
# are not instrumented: the ASan runtime must come first in those processes, so it is
# LD_PRELOADed for the whole e2e run (every program is linked with the shared runtime,
# -shared-libasan, so they all agree on one copy), and leak checking is off there since
# those host programs do not free everything at exit (valgrind covers the modules' leaks:
# tests/e2e/t_valgrind.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/build-asan
src=$out/src
logs=$out/sanlogs

unit_only=1
all_e2e=0
e2e_sel=()
for a in "$@"; do
        case $a in
        --unit) unit_only=1 ;;
        --e2e) unit_only=0 all_e2e=1 ;;
        *) unit_only=0 e2e_sel+=("$a") ;;
        esac
done

command -v clang >/dev/null || { echo "sanitize: clang not found" >&2; exit 1; }
rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$rt" ] || { echo "sanitize: no ASan runtime ($rt): install libclang-rt-dev" >&2; exit 1; }

# 1. The sources: what git tracks plus new files not ignored (work in progress included).
#    tar keeps the mtimes, so make rebuilds only what changed since the last run.
mkdir -p "$src"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -C "$src" -xf -

# 2. Configure once, as scripts/build.sh does, with the sanitizers in CC so that libtool
#    keeps them when it links the shared modules.
cd "$src"
if [ ! -f Makefile ]; then
        echo "== sanitize: configuring build-asan/src (clang, ASan+UBSan)"
        ./autogen.sh > "$out/configure.log" 2>&1
        ./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
                --libdir="/usr/lib/$(gcc -print-multiarch)" \
                CC="clang -fsanitize=address,undefined -fno-sanitize-recover=undefined -shared-libasan" \
                CFLAGS="-g -O1 -fno-omit-frame-pointer" \
                LDFLAGS="-Wl,-rpath,$(dirname "$rt")" > "$out/configure.log" 2>&1 ||
                { tail -n 30 "$out/configure.log"; exit 1; }
fi
echo "== sanitize: building in build-asan/src"
make -s -j2 >/dev/null 2> "$out/build.log" || { tail -n 40 "$out/build.log"; exit 1; }
make -s -j2 check TESTS= >/dev/null 2>> "$out/build.log" || { tail -n 40 "$out/build.log"; exit 1; }

# Refuse to report success on a build that is not instrumented.
for f in daemon/apilogind pam_module/.libs/pam_apilogin.so nss_module/.libs/libnss_apilogin.so.2 \
        cli/apiloginctl; do
        [ "$(nm -D "$f" 2>/dev/null | grep -c __asan_)" -gt 0 ] || { echo "sanitize: $f not instrumented" >&2; exit 1; }
done

# The test lists, as the Makefile has them.
make_var() {
        printf 'print-var:\n\t@echo $(%s)\n' "$1" | make -s -f Makefile -f - print-var
}
unit=$(make_var TESTS | tr ' ' '\n' | grep '^tests/unit/' | tr '\n' ' ' || true)
e2e=$(make_var E2E_TESTS)
[ ${#e2e_sel[@]} -gt 0 ] && e2e="${e2e_sel[*]}"

rm -rf "$logs"
mkdir -p "$logs"
find . -name '*.trs' -delete
common="halt_on_error=1:abort_on_error=1:log_path=$logs/asan:detect_stack_use_after_return=1"
ubsan="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
rc=0

echo "== sanitize: unit tests (ASan+UBSan, leak checks on)"
ASAN_OPTIONS="$common:detect_leaks=1" UBSAN_OPTIONS=$ubsan \
        make -s check TESTS="$unit" VERBOSE=1 || rc=1

if [ $unit_only = 0 ]; then
        echo "== sanitize: end-to-end tests (ASan runtime preloaded)"
        LD_PRELOAD=$rt ASAN_OPTIONS="$common:detect_leaks=0" UBSAN_OPTIONS=$ubsan \
                make -s check TESTS="$e2e" VERBOSE=1 || rc=1
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

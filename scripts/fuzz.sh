#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fuzz.sh: build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined into build-fuzz/, replay every kept crash input
# (tests/fuzz/regressions/<target>/), then run each target for a fixed budget on a copy of
# its seed corpus (tests/fuzz/corpus/<target>/). Prints, per target, the executions, the
# corpus size and the result; exits non-zero when any target crashes, leaks or times out.
#
#   scripts/fuzz.sh [SECONDS]     budget per target (default 20; FUZZ_SECONDS also works)
#   scripts/fuzz.sh --build-only  only build (what `make fuzz` calls)
#   scripts/fuzz.sh --replay      only build and replay corpus + regressions (no fuzzing)
#   FUZZ_TARGETS="proto ws" scripts/fuzz.sh 60   a subset
#
# The sources are compiled straight from the tree (no configure of its own); it needs the
# config.h of a configured tree (scripts/build.sh makes one). A crash leaves its input in
# build-fuzz/crashes/<target>/: fix the bug, then move the input to
# tests/fuzz/regressions/<target>/ so that it is replayed on every run from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/build-fuzz

mode=fuzz
secs=${FUZZ_SECONDS:-20}
case "${1:-}" in
--build-only) mode=build ;;
--replay) mode=replay ;;
'') ;;
*[!0-9]*) echo "usage: $0 [SECONDS|--build-only|--replay]" >&2; exit 2 ;;
*) secs=$1 ;;
esac

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null; then
        echo "fuzz: $CC not found (scripts/install-deps.sh installs clang)" >&2
        exit 1
fi
if [ ! -f config.h ]; then
        echo "fuzz: no config.h: run scripts/build.sh first" >&2
        exit 1
fi

# Every driver is one target of its own (fuzz_provider.c built with FUZZ_TYPE).
ALL_TARGETS="proto ws http_header conf cache login_check token_login jsonrpc rest_login ws_auth
        oauth2_password"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}

# shellcheck disable=SC2207
CFLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
        -fno-sanitize-recover=undefined -std=gnu11 -I"$top" -I"$top/core" -I"$top/tests/fuzz"
        $(pkg-config --cflags libcurl libcjson)
        '-DAPILOGIN_CONFIG_PATH="/etc/apilogin/apilogin.conf"'
        '-DAPILOGIN_STATEDIR="/var/lib/apilogin"' '-DAPILOGIN_RUNDIR="/run/apilogin"'
        -Wall -Wno-unused-parameter -Wno-unused-function)
# shellcheck disable=SC2207
LIBS=($(pkg-config --libs libcurl libcjson) -lcdb)
# Everything a target may need; ws.c is left out (fuzz_ws.c includes it).
LIB_SRC="core/proto.c core/secure.c core/conf.c core/url.c core/outcome.c core/duration.c
        core/arena.c core/uidhash.c core/names.c core/cache.c core/sockpath.c
        daemon/http.c daemon/loop.c daemon/cache_write.c daemon/fsutil.c
        daemon/providers/driver.c daemon/providers/registry.c
        daemon/providers/login_check.c daemon/providers/token_login.c
        daemon/providers/jsonrpc.c daemon/providers/rest_login.c daemon/providers/ws_auth.c
        daemon/providers/oauth2_password.c"

# Two compilers at a time (the CI machine has two cores); stop at the first failure.
jobs_wait() {
        local pid
        for pid in "$@"; do
                wait "$pid" || { echo "fuzz: build failed" >&2; exit 1; }
        done
}

# Whether object $2 is newer than source $1 and every header of the tree.
fresh() {
        [ -f "$2" ] && [ "$2" -nt "$1" ] && [ "$2" -nt config.h ] &&
                [ -z "$(find core daemon -name '*.h' -newer "$2" | head -n1)" ]
}

build() {
        local objs=() pids=() src o t def
        mkdir -p "$out/obj"
        echo "== fuzz: building targets with $CC into build-fuzz/"
        for src in $LIB_SRC; do
                o=$out/obj/$(echo "${src%.c}" | tr / _).o
                objs+=("$o")
                fresh "$src" "$o" && continue
                "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$o" &
                pids+=($!)
                if [ ${#pids[@]} -ge 2 ]; then jobs_wait "${pids[@]}"; pids=(); fi
        done
        jobs_wait "${pids[@]}"
        pids=()
        for t in $TARGETS; do
                case $t in
                login_check | token_login | jsonrpc | rest_login | ws_auth | oauth2_password)
                        src=tests/fuzz/fuzz_provider.c
                        def=-DFUZZ_DRIVER=apilogin_driver_$t ;;
                *) src=tests/fuzz/fuzz_$t.c def=-DFUZZ_TARGET ;;
                esac
                "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer "$def" "$src" "${objs[@]}" \
                        "${LIBS[@]}" -o "$out/fuzz_$t" &
                pids+=($!)
                if [ ${#pids[@]} -ge 2 ]; then jobs_wait "${pids[@]}"; pids=(); fi
        done
        jobs_wait "${pids[@]}"
}

# Run one input set through a target once (no mutation): the regressions and the corpus.
replay() {
        local t=$1 dir
        mkdir -p "$out/crashes/$t"
        for dir in "tests/fuzz/regressions/$t" "tests/fuzz/corpus/$t"; do
                [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] || continue
                if ! "$out/fuzz_$t" -runs=0 -artifact_prefix="$out/crashes/$t/" "$dir" >"$out/log/$t.replay" 2>&1; then
                        echo "fuzz_$t: FAIL replaying $dir (build-fuzz/log/$t.replay)"
                        tail -n 30 "$out/log/$t.replay"
                        return 1
                fi
        done
}

run() {
        local t=$1 work=$out/run/$t log=$out/log/$t.log execs size seeds rc=0
        rm -rf "$work"
        mkdir -p "$work" "$out/crashes/$t"
        cp -a "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
        seeds=$(find "$work" -type f | wc -l)
        "$out/fuzz_$t" "$work" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
                -max_len=65536 -print_final_stats=1 \
                -artifact_prefix="$out/crashes/$t/" >"$log" 2>&1 || rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
        size=$(find "$work" -type f | wc -l)
        if [ $rc -eq 0 ]; then
                printf '%-22s %10s execs  corpus %4s files (%s seeds)  ok\n' \
                        "fuzz_$t" "${execs:-?}" "$size" "$seeds"
                return 0
        fi
        printf '%-22s %10s execs  corpus %4s files (%s seeds)  CRASH (rc %s)\n' \
                "fuzz_$t" "${execs:-?}" "$size" "$seeds" "$rc"
        grep -m1 -E 'ERROR: |runtime error|Test unit written' "$log" || true
        echo "  input kept in build-fuzz/crashes/$t/; log build-fuzz/log/$t.log"
        return 1
}

build
[ "$mode" = build ] && exit 0
mkdir -p "$out/log" "$out/tmp"
export TMPDIR=$out/tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
fail=0
echo "== fuzz: replaying regressions and seed corpora"
for t in $TARGETS; do
        replay "$t" || fail=1
done
if [ "$mode" = fuzz ]; then
        echo "== fuzz: ${secs}s per target"
        for t in $TARGETS; do
                run "$t" || fail=1
                rm -f "$out/tmp/"apilogin-fuzz-* 2>/dev/null || true
        done
fi
if [ $fail -ne 0 ]; then
        echo "fuzz: FAILED"
        exit 1
fi
echo "fuzz: all targets clean"

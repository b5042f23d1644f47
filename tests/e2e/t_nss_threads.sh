#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# t_nss_threads.sh: lookups without a lock stay right while the daemon replaces the cache:
# 8 threads resolve users through libnss_apilogin.so.2 while the file is rewritten 300
# times (each rewrite marks the old mapping stale and the module remaps); every lookup of a
# user present in every version succeeds with the right uid, and no process crashes.
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
mkdir -p $STATEDIR
out=$("$BUILD/tests/e2e/nss_stress" "$NSS_SO" 8 300 2>&1)
rc=$?
check "8 threads, 300 rewrites: every lookup right ($out)" [ "$rc" = 0 ]
lookups=$(sed -n 's/.*lookups=\([0-9]*\).*/\1/p' <<<"$out")
check "the readers really ran during the rewrites (${lookups:-0} lookups)" [ "${lookups:-0}" -gt 1000 ]
out=$("$BUILD/tests/e2e/nss_stress" "$NSS_SO" 2 2000 2>&1)
check "2 threads, 2000 rewrites: every lookup right ($out)" [ $? = 0 ]
e2e_done

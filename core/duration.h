/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* duration.h: the durations of apilogin.conf ("10s", "15m", "3h", "3d", bare seconds) and
 * its lockout syntax ("5/15m", "off"). Pure functions: no allocation, no logging, no locale. */
#pragma once

#include <stdint.h>

/* Longest duration accepted anywhere: 100 years, in seconds. Keeps any duration, even in
 * milliseconds or added to a unix time, far away from 64-bit overflow. */
#define APILOGIN_DURATION_MAX_S (100ULL * 365 * 24 * 3600)

/* Most failed attempts a lockout rule may count. */
#define APILOGIN_LOCKOUT_MAX_TRIES 1000U

/* Parse a duration: one or more decimal digits, then an optional unit "s", "m", "h" or "d"
 * (bare digits are seconds). No sign, no blanks, no other unit, nothing after the unit.
 * Returns 0 and writes the seconds to *ret_s; -EINVAL for an empty, signed or malformed
 * string or an unknown unit; -ERANGE above APILOGIN_DURATION_MAX_S (overflow included).
 * *ret_s is written only on success. */
int apilogin_duration_parse(const char *s, uint64_t *ret_s);

/* Parse a lockout rule: "N/DURATION" (lock after N failures within DURATION;
 * 0 <= N <= APILOGIN_LOCKOUT_MAX_TRIES; N = 0 turns lockout off) or "off" (0 tries,
 * window 0). When N > 0 the window must be at least one second.
 * Returns 0 and writes both outputs; -EINVAL if malformed; -ERANGE if N or the duration is
 * out of range. Outputs are written only on success. */
int apilogin_lockout_parse(const char *s, unsigned *ret_max, uint64_t *ret_window_s);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* duration.c: parsing of config durations and lockout rules (see duration.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "duration.h"

/* Read the leading decimal digits of s into *ret_v (capped at max: -ERANGE above it) and
 * point *ret_end past them. -EINVAL if s does not start with a digit. */
static int parse_digits(const char *s, uint64_t max, uint64_t *ret_v, const char **ret_end)
{
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned)(*s - '0');

                if (v > (max - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret_v = v;
        *ret_end = s;
        return 0;
}

static int unit_seconds(const char *u, uint64_t *ret_mult)
{
        static const struct {
                char unit;
                uint64_t mult;
        } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };

        if (*u == '\0') {
                *ret_mult = 1;
                return 0;
        }
        if (u[1] != '\0')
                return -EINVAL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (units[i].unit == *u) {
                        *ret_mult = units[i].mult;
                        return 0;
                }
        }
        return -EINVAL;
}

int apilogin_duration_parse(const char *s, uint64_t *ret_s)
{
        const char *end;
        uint64_t v, mult;
        int r;

        if (!s)
                return -EINVAL;
        /* Check the unit before the number so that "99999999999999999999x" reads as
         * malformed rather than out of range. */
        end = s + strspn(s, "0123456789");
        r = unit_seconds(end, &mult);
        if (r < 0)
                return r;
        r = parse_digits(s, APILOGIN_DURATION_MAX_S, &v, &end);
        if (r < 0)
                return r;
        if (v > APILOGIN_DURATION_MAX_S / mult)
                return -ERANGE;
        *ret_s = v * mult;
        return 0;
}

int apilogin_lockout_parse(const char *s, unsigned *ret_max, uint64_t *ret_window_s)
{
        const char *end;
        uint64_t n, window;
        int r;

        if (!s)
                return -EINVAL;
        if (strcmp(s, "off") == 0) {
                *ret_max = 0;
                *ret_window_s = 0;
                return 0;
        }
        end = s + strspn(s, "0123456789");
        if (end == s || *end != '/')
                return -EINVAL;
        r = apilogin_duration_parse(end + 1, &window);
        if (r < 0)
                return r;
        r = parse_digits(s, APILOGIN_LOCKOUT_MAX_TRIES, &n, &end);
        if (r < 0)
                return r;
        if (n > 0 && window == 0)
                return -ERANGE;
        *ret_max = (unsigned)n;
        *ret_window_s = window;
        return 0;
}

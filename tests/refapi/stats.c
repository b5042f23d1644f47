/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats.c: atomic call counters and their JSON dump for GET /_stats. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"

static atomic_ulong counters[ST__COUNT];

static const char *const names[ST__COUNT] = {
#define STAT_NAME(n) #n,
        STATS_COUNTERS(STAT_NAME)
#undef STAT_NAME
};

void stat_inc(enum stat_id id)
{
        atomic_fetch_add_explicit(&counters[id], 1, memory_order_relaxed);
}

unsigned long stat_get(enum stat_id id)
{
        return atomic_load_explicit(&counters[id], memory_order_relaxed);
}

void stats_reset(void)
{
        for (int i = 0; i < ST__COUNT; i++)
                atomic_store_explicit(&counters[i], 0, memory_order_relaxed);
}

char *stats_json(void)
{
        size_t size = 64 * ST__COUNT, len = 0;
        char *buf = malloc(size);

        if (!buf)
                return NULL;
        buf[len++] = '{';
        for (int i = 0; i < ST__COUNT; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s\"%s\":%lu", i ? "," : "",
                                        names[i], stat_get((enum stat_id)i));
        (void)snprintf(buf + len, size - len, "}");
        return buf;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.c: bump allocation inside a caller-supplied buffer (see arena.h). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"

void apilogin_arena_init(struct apilogin_arena *a, char *buf, size_t len)
{
        a->next = buf;
        a->end = buf ? buf + len : buf;
}

void *apilogin_arena_alloc(struct apilogin_arena *a, size_t size, size_t align)
{
        size_t avail = (size_t)(a->end - a->next);
        size_t pad;
        void *p;

        if (!a->next || align == 0 || (align & (align - 1)) || align > 64)
                return NULL;
        pad = (size_t)(-(uintptr_t)a->next) & (align - 1);
        if (pad > avail || size > avail - pad)
                return NULL;
        p = a->next + pad;
        a->next += pad + size;
        return p;
}

char *apilogin_arena_strndup(struct apilogin_arena *a, const char *s, size_t len)
{
        char *p;

        if (len == SIZE_MAX)
                return NULL;
        p = apilogin_arena_alloc(a, len + 1, 1);
        if (!p)
                return NULL;
        memcpy(p, s, len);
        p[len] = 0;
        return p;
}

size_t apilogin_arena_left(const struct apilogin_arena *a)
{
        return (size_t)(a->end - a->next);
}

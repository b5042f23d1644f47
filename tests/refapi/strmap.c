/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strmap.c: open-addressing string -> index map with linear probing (FNV-1a hash). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static uint64_t fnv1a(const char *s)
{
        uint64_t h = 1469598103934665603ULL;

        while (*s) {
                h ^= (unsigned char)*s++;
                h *= 1099511628211ULL;
        }
        return h;
}

int strmap_init(struct strmap *m, size_t n)
{
        size_t size = 16;

        while (size < 2 * n)
                size *= 2;
        m->keys = calloc(size, sizeof(*m->keys));
        m->idx = calloc(size, sizeof(*m->idx));
        if (!m->keys || !m->idx) {
                strmap_free(m);
                return -ENOMEM;
        }
        m->mask = size - 1;
        return 0;
}

int strmap_add(struct strmap *m, const char *key, int idx)
{
        size_t i = (size_t)fnv1a(key) & m->mask;

        while (m->keys[i]) {
                if (strcmp(m->keys[i], key) == 0)
                        return -EEXIST;
                i = (i + 1) & m->mask;
        }
        m->keys[i] = strdup(key);
        if (!m->keys[i])
                return -ENOMEM;
        m->idx[i] = idx;
        return 0;
}

int strmap_find(const struct strmap *m, const char *key)
{
        size_t i;

        if (!m->keys || !key)
                return -1;
        for (i = (size_t)fnv1a(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
                if (strcmp(m->keys[i], key) == 0)
                        return m->idx[i];
        return -1;
}

void strmap_free(struct strmap *m)
{
        if (m->keys)
                for (size_t i = 0; i <= m->mask; i++)
                        free(m->keys[i]);
        free(m->keys);
        free(m->idx);
        m->keys = NULL;
        m->idx = NULL;
        m->mask = 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uidhash.c: the stable name -> uid mapping (see uidhash.h). FNV-1a 64 is tiny, has no
 * seed and no platform dependency, so every host computes the same uid for a name. */
#include "config.h"

#include "uidhash.h"

#define FNV64_OFFSET 14695981039346656037ULL
#define FNV64_PRIME 1099511628211ULL

static uint64_t fnv1a_byte(uint64_t h, unsigned char c)
{
        return (h ^ c) * FNV64_PRIME;
}

uint32_t apilogin_uid_hash(const char *name, uint32_t min, uint32_t max, unsigned attempt)
{
        uint64_t h = FNV64_OFFSET;
        uint64_t span;

        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
                h = fnv1a_byte(h, *p);
        /* attempt 0 hashes the name alone, so the common case needs no extra bytes. */
        if (attempt > 0)
                for (unsigned i = 0; i < 4; i++)
                        h = fnv1a_byte(h, (unsigned char)((uint32_t)attempt >> (8 * i)));
        if (max < min)
                return min;
        span = (uint64_t)max - min + 1;
        return (uint32_t)(h % span + min);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store.c: bounded hash table + eviction ring of issued tokens (see store.h). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refapi.h"
#include "store.h"

#define NBUCKETS (STORE_CAP * 2)
#define NIL UINT32_MAX

struct slot {
        struct store_rec rec;
        uint32_t next;                  /* bucket chain */
        bool used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t *buckets;
static uint32_t ring;                   /* next slot to (re)use */

static uint32_t hash(enum store_kind kind, const char *key)
{
        uint32_t h = 2166136261u ^ (uint32_t)kind;

        while (*key) {
                h ^= (unsigned char)*key++;
                h *= 16777619u;
        }
        return h & (NBUCKETS - 1);
}

int store_init(void)
{
        slots = calloc(STORE_CAP, sizeof(*slots));
        buckets = malloc(NBUCKETS * sizeof(*buckets));
        if (!slots || !buckets) {
                store_free();
                return -ENOMEM;
        }
        memset(buckets, 0xff, NBUCKETS * sizeof(*buckets));
        return 0;
}

void store_free(void)
{
        free(slots);
        free(buckets);
        slots = NULL;
        buckets = NULL;
}

/* Returns a pointer to the link that points at (kind, key), or at the chain's NIL end. */
static uint32_t *find_link(enum store_kind kind, const char *key)
{
        uint32_t *link = &buckets[hash(kind, key)];

        while (*link != NIL) {
                struct store_rec *r = &slots[*link].rec;

                if (r->kind == kind && strcmp(r->key, key) == 0)
                        break;
                link = &slots[*link].next;
        }
        return link;
}

static void unlink_slot(uint32_t i)
{
        uint32_t *link = find_link(slots[i].rec.kind, slots[i].rec.key);

        if (*link == i)
                *link = slots[i].next;
        slots[i].used = false;
}

void store_put(const struct store_rec *rec)
{
        uint32_t *link, i;

        pthread_mutex_lock(&lock);
        link = find_link(rec->kind, rec->key);
        if (*link != NIL)
                unlink_slot(*link);
        i = ring;
        ring = (ring + 1) & (STORE_CAP - 1);
        if (slots[i].used)
                unlink_slot(i);
        slots[i].rec = *rec;
        slots[i].used = true;
        link = &buckets[hash(rec->kind, rec->key)];
        slots[i].next = *link;
        *link = i;
        pthread_mutex_unlock(&lock);
}

static enum store_status lookup(enum store_kind kind, const char *key, struct store_rec *ret,
                                bool take)
{
        enum store_status st = STORE_MISSING;
        long long now = now_ms();
        uint32_t *link;

        if (!key || strlen(key) >= STORE_KEY_MAX)
                return STORE_MISSING;
        pthread_mutex_lock(&lock);
        link = find_link(kind, key);
        if (*link != NIL) {
                struct slot *s = &slots[*link];

                st = s->rec.expires > now ? STORE_LIVE : STORE_EXPIRED;
                if (st == STORE_LIVE && s->rec.idle > 0 && !take)
                        s->rec.expires = now + s->rec.idle;
                if (ret)
                        *ret = s->rec;
                if (take)
                        unlink_slot(*link);
        }
        pthread_mutex_unlock(&lock);
        return st;
}

enum store_status store_get(enum store_kind kind, const char *key, struct store_rec *ret)
{
        return lookup(kind, key, ret, false);
}

enum store_status store_take(enum store_kind kind, const char *key, struct store_rec *ret)
{
        return lookup(kind, key, ret, true);
}

int store_drop_kind(enum store_kind kind)
{
        int n = 0;

        pthread_mutex_lock(&lock);
        for (uint32_t i = 0; i < STORE_CAP; i++)
                if (slots[i].used && slots[i].rec.kind == kind) {
                        unlink_slot(i);
                        n++;
                }
        pthread_mutex_unlock(&lock);
        return n;
}

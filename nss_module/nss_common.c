/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_common.c: the global state of libnss_apilogin.so.2 (one mapping, one mutex), the
 * errno -> nss_status conversion and the enumeration helpers shared by nss_passwd.c and
 * nss_group.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "nss_common.h"

struct apilogin_nss apilogin_nss = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .current = -1,
        .locked = APILOGIN_CACHE_INIT,
        .pwent = { .cache = APILOGIN_CACHE_INIT },
        .grent = { .cache = APILOGIN_CACHE_INIT },
};

static pthread_once_t debug_once = PTHREAD_ONCE_INIT;
static bool debug_on;
static pthread_once_t program_once = PTHREAD_ONCE_INIT;
static char program[256];

static void program_init(void)
{
        static const char deleted[] = " (deleted)";
        char path[4096];
        const char *base;
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        size_t len;

        if (n <= 0)
                return; /* no /proc: no program, so no provisional entries */
        path[n] = 0;
        len = (size_t)n;
        /* the binary was replaced (a package upgrade) since this process started */
        if (len > sizeof(deleted) - 1 && strcmp(path + len - (sizeof(deleted) - 1), deleted) == 0)
                path[len - (sizeof(deleted) - 1)] = 0;
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strlen(base) < sizeof(program))
                strcpy(program, base);
}

const char *apilogin_nss_program(void)
{
        int saved = errno;

        (void)pthread_once(&program_once, program_init);
        errno = saved;
        return program;
}

static void debug_init(void)
{
        /* secure_getenv: a setuid program never takes this from its caller. */
        debug_on = secure_getenv("APILOGIN_NSS_DEBUG") != NULL;
}

void apilogin_nss_debug(const char *fmt, ...)
{
        int saved = errno;
        va_list ap;

        (void)pthread_once(&debug_once, debug_init);
        if (debug_on) {
                va_start(ap, fmt);
                (void)fputs("nss_apilogin: ", stderr);
                (void)vfprintf(stderr, fmt, ap);
                (void)fputc('\n', stderr);
                va_end(ap);
        }
        errno = saved;
}

/* ---- lookups without a lock (nss_common.h) ------------------------------------------ */

static __thread int thread_shard = -1;
static unsigned next_shard;

static unsigned shard_of_thread(void)
{
        if (thread_shard < 0)
                thread_shard = (int)(__atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED) %
                                     APILOGIN_NSS_SHARDS);
        return (unsigned)thread_shard;
}

static unsigned *readers(int slot, unsigned shard)
{
        return &apilogin_nss.readers[slot][shard].readers;
}

/* Count this thread in slot i, if i is still the published slot. Sequentially consistent
 * on both sides: a reader that still sees i published is seen by a writer's slot_idle. */
static bool enter(int i, unsigned shard)
{
        __atomic_fetch_add(readers(i, shard), 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&apilogin_nss.current, __ATOMIC_SEQ_CST) == i)
                return true;
        __atomic_fetch_sub(readers(i, shard), 1, __ATOMIC_RELEASE);
        return false;
}

static void leave(int i, unsigned shard)
{
        __atomic_fetch_sub(readers(i, shard), 1, __ATOMIC_RELEASE);
}

static bool slot_idle(int i)
{
        for (unsigned k = 0; k < APILOGIN_NSS_SHARDS; k++)
                if (__atomic_load_n(readers(i, k), __ATOMIC_SEQ_CST) != 0)
                        return false;
        return true;
}

/* Unmap every retired slot nobody reads any more, and return a free one (or -1).
 * Caller holds the mutex. */
static int reap_and_pick(int current)
{
        int free_slot = -1;

        for (int i = 0; i < APILOGIN_NSS_SLOTS; i++) {
                if (i == current || !slot_idle(i))
                        continue;
                apilogin_cache_close(&apilogin_nss.slot[i]);
                if (free_slot < 0)
                        free_slot = i;
        }
        return free_slot;
}

/* Map the cache into slot j and publish it; -1 is published when the cache is
 * unavailable, as a lookup on a missing file answers UNAVAIL. Caller holds the mutex. */
static int publish(int j)
{
        struct apilogin_cache *c = &apilogin_nss.slot[j];
        int r = 0;

        /* A file we open may be marked stale a moment later if the daemon renames a newer
         * one over it meanwhile; then the path already names the newer file. */
        for (int k = 0; k < 3; k++) {
                r = apilogin_cache_open(c, APILOGIN_CACHE_PATH);
                if (r < 0 || !apilogin_cache_is_stale(c))
                        break;
        }
        __atomic_store_n(&apilogin_nss.current, r < 0 ? -1 : j, __ATOMIC_SEQ_CST);
        return r;
}

/* The slow path of apilogin_nss_acquire, under the mutex: remap if the published mapping
 * is not current, then hold it; the mutex-held fallback when no slot is free. */
static int acquire_locked(unsigned shard, struct apilogin_nss_ref *ret)
{
        int i, r = 0;

        (void)pthread_mutex_lock(&apilogin_nss.lock);
        i = __atomic_load_n(&apilogin_nss.current, __ATOMIC_SEQ_CST);
        if (i < 0 || !apilogin_cache_current(&apilogin_nss.slot[i], APILOGIN_CACHE_PATH)) {
                int j = reap_and_pick(i);

                if (j < 0) {
                        r = apilogin_cache_refresh(&apilogin_nss.locked, APILOGIN_CACHE_PATH);
                        if (r < 0)
                                goto fail;
                        *ret = (struct apilogin_nss_ref){ .cache = &apilogin_nss.locked,
                                                          .slot = -1, .held = true };
                        return 0; /* the mutex stays held until apilogin_nss_release */
                }
                r = publish(j);
                if (r < 0)
                        goto fail;
                i = j;
                (void)reap_and_pick(i);
        }
        /* Only writers, under this mutex, change the published slot: entering cannot fail. */
        (void)enter(i, shard);
        (void)pthread_mutex_unlock(&apilogin_nss.lock);
        *ret = (struct apilogin_nss_ref){ .cache = &apilogin_nss.slot[i], .slot = i,
                                          .shard = shard, .held = true };
        return 0;
fail:
        (void)pthread_mutex_unlock(&apilogin_nss.lock);
        apilogin_nss_debug("cannot map %s: %s", APILOGIN_CACHE_PATH, strerror(-r));
        return r;
}

int apilogin_nss_acquire(struct apilogin_nss_ref *ret)
{
        unsigned shard = shard_of_thread();
        int i = __atomic_load_n(&apilogin_nss.current, __ATOMIC_ACQUIRE);

        if (i >= 0 && enter(i, shard)) {
                struct apilogin_cache *c = &apilogin_nss.slot[i];

                if (!apilogin_cache_is_stale(c) && !apilogin_cache_check_due(c)) {
                        *ret = (struct apilogin_nss_ref){ .cache = c, .slot = i, .shard = shard,
                                                          .held = true };
                        return 0;
                }
                leave(i, shard);
        }
        return acquire_locked(shard, ret);
}

void apilogin_nss_release(struct apilogin_nss_ref *ref)
{
        if (ref->slot >= 0)
                leave(ref->slot, ref->shard);
        else
                (void)pthread_mutex_unlock(&apilogin_nss.lock);
        ref->held = false;
}

enum nss_status apilogin_errno_to_nss(int r, int *errnop)
{
        if (r > 0)
                return NSS_STATUS_SUCCESS;
        if (r == 0)
                return NSS_STATUS_NOTFOUND;
        if (r == -ERANGE) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        *errnop = ENOENT;
        return NSS_STATUS_UNAVAIL;
}

static void ent_end(struct apilogin_nss_ent *e)
{
        apilogin_cache_close(&e->cache);
        e->cursor = APILOGIN_CACHE_CURSOR_START;
        e->active = false;
}

/* Map the cache afresh for an enumeration. Caller holds the mutex. */
static int ent_start(struct apilogin_nss_ent *e)
{
        int r;

        ent_end(e);
        r = apilogin_cache_open(&e->cache, APILOGIN_CACHE_PATH);
        if (r < 0)
                return r;
        /* Enumeration is off unless the administrator enabled it: then the enumeration
         * is active but has no mapping, and yields nothing. */
        if (!(e->cache.meta.flags & APILOGIN_CACHE_F_ENUMERATE))
                apilogin_cache_close(&e->cache);
        e->cursor = APILOGIN_CACHE_CURSOR_START;
        e->active = true;
        return 0;
}

enum nss_status apilogin_nss_setent(struct apilogin_nss_ent *e)
{
        int r;

        PROTECT_ERRNO;
        (void)pthread_mutex_lock(&apilogin_nss.lock);
        r = ent_start(e);
        (void)pthread_mutex_unlock(&apilogin_nss.lock);
        return r < 0 ? NSS_STATUS_UNAVAIL : NSS_STATUS_SUCCESS;
}

enum nss_status apilogin_nss_endent(struct apilogin_nss_ent *e)
{
        PROTECT_ERRNO;
        (void)pthread_mutex_lock(&apilogin_nss.lock);
        ent_end(e);
        (void)pthread_mutex_unlock(&apilogin_nss.lock);
        return NSS_STATUS_SUCCESS;
}

/* Caller holds the mutex. */
static int ent_next(struct apilogin_nss_ent *e, apilogin_nss_step_fn step, void *result,
                    char *buf, size_t buflen)
{
        unsigned at;
        int r;

        if (!e->active && (r = ent_start(e)) < 0)
                return r;
        if (!e->cache.mapped)
                return 0; /* enumeration disabled */
        at = e->cursor;
        r = step(&e->cache, &e->cursor, result, buf, buflen);
        if (r < 0)
                e->cursor = at;
        return r;
}

enum nss_status apilogin_nss_getent(struct apilogin_nss_ent *e, apilogin_nss_step_fn step,
                                    void *result, char *buf, size_t buflen, int *errnop)
{
        int r;

        {
                PROTECT_ERRNO;
                (void)pthread_mutex_lock(&apilogin_nss.lock);
                r = ent_next(e, step, result, buf, buflen);
                (void)pthread_mutex_unlock(&apilogin_nss.lock);
        }
        return apilogin_errno_to_nss(r, errnop);
}

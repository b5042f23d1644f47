/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_common.h: state and helpers shared by the NSS entry points of libnss_apilogin.so.2.
 *
 * The module answers only from the daemon's cache file (core/cache.h): no socket, no
 * network, no logging (debug lines to stderr only when APILOGIN_NSS_DEBUG is set), no
 * threads, no allocation in lookups. Its global state is one struct apilogin_nss: the
 * mappings used by lookups (read without a lock, below), and under its mutex a separate
 * mapping plus cursor for each enumeration (getpwent, getgrent), so an enumeration walks
 * one consistent file even if the daemon replaces the cache meanwhile. */
#pragma once

#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>

#include "cache.h"

/* One enumeration: its own mapping and the position of the next record. */
struct apilogin_nss_ent {
        struct apilogin_cache cache;
        unsigned cursor;
        bool active;
};

/* Lookups run without a lock (bench/nss_lookup measures them with 1 to 8 threads):
 * the current mapping is one of APILOGIN_NSS_SLOTS, published by index with an atomic
 * store. A reader announces itself in a per-thread shard of that slot's reader count
 * (a cache line of its own, so threads on different cores do not share a line), checks
 * the index again, and looks up. A remap (the daemon's stale byte, or once a second the
 * file's inode) happens under the mutex: the new file is mapped into a slot no reader
 * holds, published, and a retired slot is unmapped only when its readers are gone.
 * When every other slot is still held (a forked child can inherit a count from a thread
 * that no longer exists), lookups fall back to `locked`, under the mutex. */
#define APILOGIN_NSS_SLOTS 4
#define APILOGIN_NSS_SHARDS 16

struct apilogin_nss_shard {
        unsigned readers;
        char pad[64 - sizeof(unsigned)];
};

struct apilogin_nss {
        pthread_mutex_t lock;
        int current;                    /* index of the published slot, -1 none (atomic) */
        struct apilogin_cache slot[APILOGIN_NSS_SLOTS];
        struct apilogin_nss_shard readers[APILOGIN_NSS_SLOTS][APILOGIN_NSS_SHARDS];
        struct apilogin_cache locked;   /* fallback mapping, used under the mutex only */
        struct apilogin_nss_ent pwent, grent;
};

extern struct apilogin_nss apilogin_nss;

/* A lookup's hold on a mapping, from apilogin_nss_acquire to apilogin_nss_release. */
struct apilogin_nss_ref {
        struct apilogin_cache *cache;  /* the mapping to look up in */
        int slot;                      /* its slot, or -1 for the locked fallback */
        unsigned shard;
        bool held;
};

/* Hold a current mapping for a lookup: ret->cache is valid until apilogin_nss_release.
 * Returns 0, or -errno when the cache is unavailable (nothing is held then). Takes the
 * mutex only to remap, or in the fallback. */
int apilogin_nss_acquire(struct apilogin_nss_ref *ret);
void apilogin_nss_release(struct apilogin_nss_ref *ref);

static inline void apilogin_nss_releasep(struct apilogin_nss_ref *ref)
{
        if (ref->held)
                apilogin_nss_release(ref);
}
/* Declare a reference released on every return path of its scope. */
#define _cleanup_nss_release_ _cleanup_(apilogin_nss_releasep)

/* The one conversion of an internal result into an NSS status (STYLE 3.7): r > 0 found,
 * 0 not found, -ERANGE buffer too small (TRYAGAIN, *errnop = ERANGE), any other negative
 * value means the cache is missing or unreadable (UNAVAIL, *errnop = ENOENT). */
enum nss_status apilogin_errno_to_nss(int r, int *errnop);

/* setpwent/setgrent on e: map the cache afresh, under the mutex; the enumeration yields
 * nothing unless the cache's meta flags enable it. */
enum nss_status apilogin_nss_setent(struct apilogin_nss_ent *e);

/* endpwent/endgrent on e: end the enumeration and drop its mapping, under the mutex. */
enum nss_status apilogin_nss_endent(struct apilogin_nss_ent *e);

/* One step of an enumeration: the entry at *cursor, packed into result and buf; moves
 * *cursor. 1, 0 at the end, -ERANGE, -errno. */
typedef int (*apilogin_nss_step_fn)(struct apilogin_cache *c, unsigned *cursor, void *result,
                                    char *buf, size_t buflen);

/* getpwent_r/getgrent_r on e, under the mutex (started if it was not); after -ERANGE the
 * cursor stays, so the caller's retry with a bigger buffer gets the same entry. */
enum nss_status apilogin_nss_getent(struct apilogin_nss_ent *e, apilogin_nss_step_fn step,
                                    void *result, char *buf, size_t buflen, int *errnop);

/* The base name of this process's executable, read once from /proc/self/exe (the kernel's
 * record of what was executed: neither argv[0] nor the environment can change it), without
 * a " (deleted)" suffix; "" when it cannot be read. Decides first_login_from. */
const char *apilogin_nss_program(void);

/* Debug line to stderr when APILOGIN_NSS_DEBUG is set in a non-setuid process. */
void apilogin_nss_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The entry points glibc looks up (declared here for -Wmissing-prototypes). */
enum nss_status _nss_apilogin_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_apilogin_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_apilogin_setpwent(int stayopen);
enum nss_status _nss_apilogin_getpwent_r(struct passwd *pwd, char *buf, size_t buflen,
                                         int *errnop);
enum nss_status _nss_apilogin_endpwent(void);
enum nss_status _nss_apilogin_getgrnam_r(const char *name, struct group *grp, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_apilogin_getgrgid_r(gid_t gid, struct group *grp, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_apilogin_setgrent(int stayopen);
enum nss_status _nss_apilogin_getgrent_r(struct group *grp, char *buf, size_t buflen,
                                         int *errnop);
enum nss_status _nss_apilogin_endgrent(void);
enum nss_status _nss_apilogin_initgroups_dyn(const char *user, gid_t group, long int *start,
                                             long int *size, gid_t **groupsp, long int limit,
                                             int *errnop);

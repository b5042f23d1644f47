/* nss_common.h: state and helpers shared by the NSS entry points of libnss_apilogin.so.2.
 *
 * The module answers only from the daemon's cache file (core/cache.h): no socket, no
 * network, no logging (debug lines to stderr only when APILOGIN_NSS_DEBUG is set), no
 * threads, no allocation in lookups. Its global state is one struct apilogin_nss behind
 * one mutex: the mapping used by lookups, and a separate mapping plus cursor for each
 * enumeration (getpwent, getgrent), so an enumeration walks one consistent file even if
 * the daemon replaces the cache meanwhile. */
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

struct apilogin_nss {
        pthread_mutex_t lock;
        struct apilogin_cache cache; /* lookups */
        struct apilogin_nss_ent pwent, grent;
};

extern struct apilogin_nss apilogin_nss;

/* Lock the global state and make its lookup mapping current (apilogin_cache_refresh).
 * Always returns with the mutex held; the caller unlocks with apilogin_nss_unlock (or the
 * _cleanup_nss_unlock_ guard). Returns 0, or -errno when the cache is unavailable. */
int apilogin_nss_lock(void);
void apilogin_nss_unlock(void);

static inline void apilogin_nss_unlockp(bool *locked)
{
        if (*locked)
                apilogin_nss_unlock();
}
/* Declare a guard that releases the mutex on every return path of its scope. */
#define _cleanup_nss_unlock_ _cleanup_(apilogin_nss_unlockp)

/* The one conversion of an internal result into an NSS status (STYLE 3.7): r > 0 found,
 * 0 not found, -ERANGE buffer too small (TRYAGAIN, *errnop = ERANGE), any other negative
 * value means the cache is missing or unreadable (UNAVAIL, *errnop = ENOENT). */
enum nss_status apilogin_errno_to_nss(int r, int *errnop);

/* Start an enumeration on e: map the cache afresh; the enumeration yields nothing unless
 * the cache's meta flags enable it. Caller holds the mutex. Returns 0 or -errno. */
int apilogin_nss_ent_start(struct apilogin_nss_ent *e);

/* End an enumeration and drop its mapping. Caller holds the mutex. */
void apilogin_nss_ent_end(struct apilogin_nss_ent *e);

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

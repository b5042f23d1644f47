/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_group.c: the group database of libnss_apilogin.so.2: getgrnam_r, getgrgid_r, the
 * getgrent family and initgroups_dyn. The cache holds one group, the apilogin group
 * ([global] group), the primary group of every cached user, listing all of them; the
 * local groups role_groups gives a user come from its 'S' record in initgroups_dyn. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "macro.h"
#include "names.h"
#include "nss_common.h"

/* 1 found and packed, 0 not found, -ERANGE, or -errno (cache unavailable). */
static int gr_lookup(const char *name, gid_t gid, struct group *grp, char *buf, size_t buflen)
{
        struct apilogin_grrec rec;
        _cleanup_nss_release_ struct apilogin_nss_ref ref = { .held = false };
        int r = apilogin_nss_acquire(&ref);

        if (r < 0)
                return r;
        if (name)
                r = apilogin_cache_find_gr_name(ref.cache, name, &rec);
        else
                r = apilogin_cache_find_gr_gid(ref.cache, (uint32_t)gid, &rec);
        if (r <= 0)
                return r;
        r = apilogin_cache_pack_group(&rec, grp, buf, buflen);
        return r < 0 ? r : 1;
}

_public_ enum nss_status _nss_apilogin_getgrnam_r(const char *name, struct group *grp, char *buf,
                                                  size_t buflen, int *errnop)
{
        int r;

        if (!apilogin_name_valid(name))
                return NSS_STATUS_NOTFOUND;
        {
                PROTECT_ERRNO;
                r = gr_lookup(name, 0, grp, buf, buflen);
        }
        return apilogin_errno_to_nss(r, errnop);
}

_public_ enum nss_status _nss_apilogin_getgrgid_r(gid_t gid, struct group *grp, char *buf,
                                                  size_t buflen, int *errnop)
{
        int r;

        if (gid == (gid_t)-1)
                return NSS_STATUS_NOTFOUND;
        {
                PROTECT_ERRNO;
                r = gr_lookup(NULL, gid, grp, buf, buflen);
        }
        return apilogin_errno_to_nss(r, errnop);
}

_public_ enum nss_status _nss_apilogin_setgrent(int stayopen)
{
        return apilogin_nss_setent(&apilogin_nss.grent);
}

_public_ enum nss_status _nss_apilogin_endgrent(void)
{
        return apilogin_nss_endent(&apilogin_nss.grent);
}

static int gr_step(struct apilogin_cache *c, unsigned *cursor, void *result, char *buf,
                   size_t buflen)
{
        struct apilogin_grrec rec;
        int r = apilogin_cache_next_gr(c, cursor, &rec);

        if (r <= 0)
                return r;
        r = apilogin_cache_pack_group(&rec, result, buf, buflen);
        return r < 0 ? r : 1;
}

_public_ enum nss_status _nss_apilogin_getgrent_r(struct group *result, char *buf, size_t buflen,
                                                  int *errnop)
{
        return apilogin_nss_getent(&apilogin_nss.grent, gr_step, result, buf, buflen, errnop);
}

/* The groups of a cached user: its primary gid, then the supplementary gids role_groups
 * gave it. 1 with *ret_n gids in ret (room for 1 + APILOGIN_CACHE_EXTRA_GIDS_MAX), 0 if the
 * user is unknown, -errno. Copied out so that no lock is held while the list grows. */
static int user_gids(const char *user, gid_t *ret, size_t *ret_n)
{
        struct apilogin_pwrec rec;
        struct apilogin_extrec x;
        size_t n = 0;
        _cleanup_nss_release_ struct apilogin_nss_ref ref = { .held = false };
        int r = apilogin_nss_acquire(&ref);

        if (r < 0)
                return r;
        r = apilogin_cache_find_pw_name(ref.cache, user, &rec);
        if (r <= 0)
                return r;
        ret[n++] = rec.gid;
        r = apilogin_cache_find_extra(ref.cache, user, &x);
        if (r < 0)
                return r;
        for (uint32_t i = 0; r > 0 && i < x.n_gids; i++)
                ret[n++] = apilogin_extrec_gid(&x, i);
        *ret_n = n;
        return 1;
}

/* Append gid to the caller's list unless present, growing it up to limit (glibc's
 * contract: *groupsp is malloc'd and ours to realloc). 0 or -ENOMEM. */
static int add_gid(gid_t gid, long int *start, long int *size, gid_t **groupsp, long int limit)
{
        for (long int i = 0; i < *start; i++)
                if ((*groupsp)[i] == gid)
                        return 0;
        if (*start >= *size) {
                long int n = *size > 0 ? *size * 2 : 8;
                gid_t *g;

                if (limit > 0 && n > limit)
                        n = limit;
                if (n <= *start)
                        return 0; /* the list is full at the limit */
                g = realloc(*groupsp, (size_t)n * sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                *groupsp = g;
                *size = n;
        }
        (*groupsp)[(*start)++] = gid;
        return 0;
}

_public_ enum nss_status _nss_apilogin_initgroups_dyn(const char *user, gid_t group,
                                                      long int *start, long int *size,
                                                      gid_t **groupsp, long int limit,
                                                      int *errnop)
{
        gid_t gids[1 + APILOGIN_CACHE_EXTRA_GIDS_MAX];
        size_t n = 0;
        int r, k = 0;

        if (!apilogin_name_valid(user))
                return NSS_STATUS_NOTFOUND;
        {
                PROTECT_ERRNO;
                r = user_gids(user, gids, &n);
                /* group is the primary gid, which the caller adds itself */
                for (size_t i = 0; r > 0 && k == 0 && i < n; i++)
                        if (gids[i] != group)
                                k = add_gid(gids[i], start, size, groupsp, limit);
        }
        /* errnop is usually &errno: set it only after PROTECT_ERRNO has restored errno. */
        if (k < 0) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        return apilogin_errno_to_nss(r, errnop);
}

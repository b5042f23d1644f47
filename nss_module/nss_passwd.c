/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_passwd.c: the passwd database of libnss_apilogin.so.2: getpwnam_r, getpwuid_r and
 * the getpwent family. Each lookup validates its input, finds the record in the mapped
 * cache without a lock (O(1), no allocation), then packs it into the caller's buffer.
 * getpwnam_r may answer a provisional entry for a name never seen (first_login_from). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cache.h"
#include "macro.h"
#include "names.h"
#include "nss_common.h"

/* Longest home directory of a provisional entry. */
#define HOME_MAX 4096

/* 1 found and packed, 0 not found, -ERANGE, or -errno (cache unavailable). */
static int pw_lookup(const char *name, uid_t uid, struct passwd *pwd, char *buf, size_t buflen)
{
        struct apilogin_pwrec rec;
        char home[HOME_MAX + 1];
        _cleanup_nss_release_ struct apilogin_nss_ref ref = { .held = false };
        int r = apilogin_nss_acquire(&ref);

        if (r < 0)
                return r;
        if (name)
                r = apilogin_cache_find_pw_name(ref.cache, name, &rec);
        else
                r = apilogin_cache_find_pw_uid(ref.cache, (uint32_t)uid, &rec);
        /* A name never seen: a provisional entry, but only inside the programs the
         * administrator named in first_login_from (cache.h), so that sshd lets the very
         * first login of a remote user reach PAM. Everywhere else the name is unknown. */
        if (r == 0 && name &&
            apilogin_cache_first_login_allowed(ref.cache, apilogin_nss_program())) {
                r = apilogin_cache_provisional(ref.cache, name, home, sizeof(home),
                                               &rec);
                if (r > 0)
                        apilogin_nss_debug("provisional entry for %s (uid %u) in %s", name,
                                           rec.uid, apilogin_nss_program());
        }
        if (r <= 0)
                return r;
        r = apilogin_cache_pack_passwd(&rec, pwd, buf, buflen);
        return r < 0 ? r : 1;
}

_public_ enum nss_status _nss_apilogin_getpwnam_r(const char *name, struct passwd *pwd, char *buf,
                                                  size_t buflen, int *errnop)
{
        int r;

        if (!apilogin_name_valid(name))
                return NSS_STATUS_NOTFOUND;
        {
                PROTECT_ERRNO;
                r = pw_lookup(name, 0, pwd, buf, buflen);
        }
        return apilogin_errno_to_nss(r, errnop);
}

_public_ enum nss_status _nss_apilogin_getpwuid_r(uid_t uid, struct passwd *pwd, char *buf,
                                                  size_t buflen, int *errnop)
{
        int r;

        if (uid == (uid_t)-1)
                return NSS_STATUS_NOTFOUND;
        {
                PROTECT_ERRNO;
                r = pw_lookup(NULL, uid, pwd, buf, buflen);
        }
        return apilogin_errno_to_nss(r, errnop);
}

_public_ enum nss_status _nss_apilogin_setpwent(int stayopen)
{
        return apilogin_nss_setent(&apilogin_nss.pwent);
}

_public_ enum nss_status _nss_apilogin_endpwent(void)
{
        return apilogin_nss_endent(&apilogin_nss.pwent);
}

static int pw_step(struct apilogin_cache *c, unsigned *cursor, void *result, char *buf,
                   size_t buflen)
{
        struct apilogin_pwrec rec;
        int r = apilogin_cache_next_pw(c, cursor, &rec);

        if (r <= 0)
                return r;
        r = apilogin_cache_pack_passwd(&rec, result, buf, buflen);
        return r < 0 ? r : 1;
}

_public_ enum nss_status _nss_apilogin_getpwent_r(struct passwd *result, char *buf, size_t buflen,
                                                  int *errnop)
{
        return apilogin_nss_getent(&apilogin_nss.pwent, pw_step, result, buf, buflen, errnop);
}

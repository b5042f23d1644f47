/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache_write.c: building the NSS cache file and putting it in place atomically, then
 * marking the replaced file stale for readers that still map it (format in core/cache.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>

#include "cache.h"
#include "cache_write.h"
#include "fsutil.h"
#include "macro.h"
#include "names.h"

#define FIELD_MAX 4096

/* A growable byte buffer for one record value. */
struct rec {
        uint8_t *p;
        size_t len, cap;
};

static void rec_freep(struct rec *r)
{
        free(r->p);
}

static int rec_reserve(struct rec *r, size_t more)
{
        size_t cap = r->cap ? r->cap : 256;
        uint8_t *p;

        if (more > SIZE_MAX / 2 - r->len)
                return -ENOMEM;
        if (r->len + more <= r->cap)
                return 0;
        while (cap < r->len + more)
                cap *= 2;
        p = realloc(r->p, cap);
        if (!p)
                return -ENOMEM;
        r->p = p;
        r->cap = cap;
        return 0;
}

static int rec_u32(struct rec *r, uint32_t v)
{
        int k = rec_reserve(r, 4);

        if (k < 0)
                return k;
        apilogin_cache_put_u32(r->p + r->len, v);
        r->len += 4;
        return 0;
}

/* Append s with its NUL. */
static int rec_str(struct rec *r, const char *s)
{
        size_t n = strlen(s) + 1;
        int k = rec_reserve(r, n);

        if (k < 0)
                return k;
        memcpy(r->p + r->len, s, n);
        r->len += n;
        return 0;
}

static bool field_ok(const char *s)
{
        return strnlen(s, FIELD_MAX + 1) <= FIELD_MAX && !strpbrk(s, ":\n");
}

static int add(struct cdb_make *mk, char prefix, const void *key, size_t klen, const void *val,
               size_t vlen)
{
        uint8_t k[1 + 256];

        if (klen > sizeof(k) - 1)
                return -EINVAL;
        k[0] = (uint8_t)prefix;
        memcpy(k + 1, key, klen);
        if (cdb_make_add(mk, k, (unsigned)klen + 1, val, (unsigned)vlen) < 0)
                return negative_errno();
        return 0;
}

static int add_id(struct cdb_make *mk, char prefix, uint32_t id, const char *name)
{
        uint8_t k[4];

        apilogin_cache_put_u32(k, id);
        return add(mk, prefix, k, sizeof(k), name, strlen(name));
}

static int put_meta(struct cdb_make *mk, const struct apilogin_cache_content *c, struct rec *r)
{
        int k;

        r->len = 0;
        k = rec_reserve(r, APILOGIN_META_FIXED);
        if (k < 0)
                return k;
        memset(r->p, 0, APILOGIN_META_FIXED);
        apilogin_cache_put_u32(r->p + APILOGIN_META_VERSION, APILOGIN_CACHE_VERSION);
        apilogin_cache_put_u32(r->p + APILOGIN_META_UID_MIN, c->uid_min);
        apilogin_cache_put_u32(r->p + APILOGIN_META_UID_MAX, c->uid_max);
        apilogin_cache_put_u32(r->p + APILOGIN_META_FLAGS, c->flags);
        apilogin_cache_put_u32(r->p + APILOGIN_META_GID, c->gid);
        apilogin_cache_put_u32(r->p + APILOGIN_META_USERS, (uint32_t)c->n_users);
        r->len = APILOGIN_META_FIXED;
        for (size_t i = 0; i < c->n_first_login_from; i++) {
                const char *s = c->first_login_from[i];

                if (!*s || !field_ok(s))
                        return -EINVAL;
                k = rec_str(r, s);
                if (k < 0)
                        return k;
        }
        return add(mk, APILOGIN_CACHE_KEY_META, "", 0, r->p, r->len);
}

/* The 'S' record of user name, when x has supplementary gids or a role. */
static int put_extra(struct cdb_make *mk, const char *name, const struct apilogin_cache_extra *x,
                     struct rec *r)
{
        const char *role;
        int k;

        if (!x || (x->n_gids == 0 && !x->role))
                return 0;
        role = x->role ? x->role : "";
        if (x->n_gids > APILOGIN_CACHE_EXTRA_GIDS_MAX || (x->n_gids && !x->gids) ||
            !field_ok(role))
                return -EINVAL;
        r->len = 0;
        if ((k = rec_u32(r, (uint32_t)x->n_gids)) < 0)
                return k;
        for (size_t i = 0; i < x->n_gids; i++)
                if ((k = rec_u32(r, x->gids[i])) < 0)
                        return k;
        if ((k = rec_str(r, role)) < 0)
                return k;
        return add(mk, APILOGIN_CACHE_KEY_EXTRA, name, strlen(name), r->p, r->len);
}

static int put_user(struct cdb_make *mk, const struct apilogin_cache_pw *u,
                    const struct apilogin_cache_extra *x, uint32_t gid, struct rec *r)
{
        const char *gecos = u->gecos ? u->gecos : "";
        int k;

        if (!apilogin_name_valid(u->name) || !field_ok(gecos) || !field_ok(u->home) ||
            !field_ok(u->shell))
                return -EINVAL;
        k = put_extra(mk, u->name, x, r);
        if (k < 0)
                return k;
        r->len = 0;
        if ((k = rec_u32(r, u->uid)) < 0 || (k = rec_u32(r, gid)) < 0 ||
            (k = rec_str(r, u->name)) < 0 || (k = rec_str(r, gecos)) < 0 ||
            (k = rec_str(r, u->home)) < 0 || (k = rec_str(r, u->shell)) < 0)
                return k;
        k = add(mk, APILOGIN_CACHE_KEY_PASSWD, u->name, strlen(u->name), r->p, r->len);
        if (k < 0)
                return k;
        return add_id(mk, APILOGIN_CACHE_KEY_UID, u->uid, u->name);
}

static int put_group(struct cdb_make *mk, const struct apilogin_cache_content *c, struct rec *r)
{
        int k;

        if (!apilogin_name_valid(c->group) || c->n_users > UINT32_MAX)
                return -EINVAL;
        r->len = 0;
        if ((k = rec_u32(r, c->gid)) < 0 || (k = rec_u32(r, (uint32_t)c->n_users)) < 0 ||
            (k = rec_str(r, c->group)) < 0)
                return k;
        for (size_t i = 0; i < c->n_users; i++)
                if ((k = rec_str(r, c->users[i].name)) < 0)
                        return k;
        k = add(mk, APILOGIN_CACHE_KEY_GROUP, c->group, strlen(c->group), r->p, r->len);
        if (k < 0)
                return k;
        return add_id(mk, APILOGIN_CACHE_KEY_GID, c->gid, c->group);
}

/* A removed user: its 'R' record, and an 'r' record that keeps its uid from new names. */
static int put_removed(struct cdb_make *mk, const struct apilogin_cache_removed *d)
{
        uint8_t v[4];
        int k;

        if (!apilogin_name_valid(d->name))
                return -EINVAL;
        apilogin_cache_put_u32(v, d->uid);
        k = add(mk, APILOGIN_CACHE_KEY_REMOVED, d->name, strlen(d->name), v, sizeof(v));
        return k < 0 ? k : add_id(mk, APILOGIN_CACHE_KEY_RESERVED, d->uid, d->name);
}

/* A local account holding a uid of the range. Local names need not follow our rules, but
 * must be non-empty and fit a key. */
static int put_reserved(struct cdb_make *mk, const struct apilogin_cache_removed *d)
{
        size_t n = d->name ? strnlen(d->name, 256) : 0;

        if (n == 0 || n > 255)
                return -EINVAL;
        return add_id(mk, APILOGIN_CACHE_KEY_RESERVED, d->uid, d->name);
}

static int put_template(struct cdb_make *mk, const struct apilogin_cache_content *c,
                        struct rec *r)
{
        int k;

        if (!c->home_template)
                return 0;
        if (!c->shell || !*c->home_template || !*c->shell || !field_ok(c->home_template) ||
            !field_ok(c->shell))
                return -EINVAL;
        r->len = 0;
        if ((k = rec_str(r, c->home_template)) < 0 || (k = rec_str(r, c->shell)) < 0)
                return k;
        return add(mk, APILOGIN_CACHE_KEY_TEMPLATE, "", 0, r->p, r->len);
}

/* Write every record of c into the empty file fd through cdb_make. */
static int build(int fd, const struct apilogin_cache_content *c)
{
        _cleanup_(rec_freep) struct rec r = {};
        struct cdb_make mk;
        int k;

        if (cdb_make_start(&mk, fd) < 0)
                return negative_errno();
        k = put_meta(&mk, c, &r);
        for (size_t i = 0; k == 0 && i < c->n_users; i++)
                k = put_user(&mk, &c->users[i], c->extra ? &c->extra[i] : NULL, c->gid, &r);
        if (k == 0)
                k = put_group(&mk, c, &r);
        for (size_t i = 0; k == 0 && i < c->n_removed; i++)
                k = put_removed(&mk, &c->removed[i]);
        for (size_t i = 0; k == 0 && i < c->n_reserved; i++)
                k = put_reserved(&mk, &c->reserved[i]);
        if (k == 0)
                k = put_template(&mk, c, &r);
        /* cdb_make_finish also frees cdb_make's record lists, so call it on errors too. */
        if (cdb_make_finish(&mk) < 0 && k == 0)
                k = negative_errno();
        return k;
}

/* Open the current cache file for the stale mark, if it is a regular file of ours with a
 * meta record; *ret_off gets the offset of its stale byte. Returns the fd or -errno. */
static int open_old(const char *dir, off_t *ret_off)
{
        _cleanup_close_ int fd = -1;
        struct cdb db;
        struct stat st;
        char path[4096];
        int r = -EBADMSG;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, APILOGIN_CACHE_NAME) >=
            sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid())
                return -EPERM;
        if (cdb_init(&db, fd) < 0)
                return -EBADMSG;
        if (cdb_find(&db, "M", 1) > 0 && cdb_datalen(&db) >= APILOGIN_META_FIXED) {
                const uint8_t *m = cdb_getdata(&db);

                if (m && apilogin_cache_get_u32(m) == APILOGIN_CACHE_VERSION) {
                        *ret_off = (off_t)cdb_datapos(&db) + APILOGIN_META_STALE;
                        r = 0;
                }
        }
        cdb_free(&db);
        return r < 0 ? r : TAKE_FD(fd);
}

/* Copy the built file (fd) into place atomically, then mark the old one stale. */
static int install(const char *dir, int fd)
{
        _cleanup_close_ int old = -1;
        struct stat st;
        off_t off = 0;
        void *map;
        int r;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return negative_errno();
        old = open_old(dir, &off); /* none or not ours: nothing to mark */
        r = apilogin_write_atomic(dir, APILOGIN_CACHE_NAME, map, (size_t)st.st_size, 0644,
                                  (uid_t)-1, (gid_t)-1);
        (void)munmap(map, (size_t)st.st_size);
        if (r < 0)
                return r;
        /* Readers map MAP_SHARED: this byte flips in their mapping of the old inode. A
         * failure here is harmless, readers re-stat the path within a second anyway. */
        if (old >= 0)
                (void)pwrite(old, "\1", 1, off);
        return 0;
}

int apilogin_cache_write(const char *dir, const struct apilogin_cache_content *c)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (!dir || !c || (c->n_users && !c->users) || (c->n_removed && !c->removed) ||
            (c->n_first_login_from && !c->first_login_from) || (c->n_reserved && !c->reserved))
                return -EINVAL;
        fd = memfd_create("apilogin-cache", MFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = build(fd, c);
        if (r < 0)
                return r;
        return install(dir, fd);
}

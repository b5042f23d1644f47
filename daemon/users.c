/* users.c: apilogind's table of remote users (see users.h): an array with two open-addressing
 * indexes (by name, by uid), loaded from the NSS cache at start and written back through
 * cache_write.c after every change NSS can see. O(1) lookups; a cache write is O(users). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "cache.h"
#include "cache_write.h"
#include "macro.h"
#include "names.h"
#include "proto.h"
#include "uidhash.h"
#include "users.h"

#define LOCAL_PASSWD "/etc/passwd"
#define GECOS_MAX 255
/* Collision attempts before giving up with -EEXIST; enough to find the last free uid of a
 * nearly full small range with overwhelming probability. */
#define UID_ATTEMPTS 1024

struct removed {
        char *name;
        uint32_t uid;
};

struct apilogin_users {
        const struct apilogin_config *cfg;
        struct apilogin_user *v;
        size_t n, cap;
        uint32_t *by_name, *by_uid; /* slot = index + 1; 0 = empty */
        size_t mask;                /* slots - 1 (a power of two minus one) */
        uint32_t *local_uids;       /* sorted uids of the local passwd file */
        size_t n_local;
        struct removed *removed;
        size_t n_removed;
        bool dirty; /* the cache on disk lags behind the table (a write failed) */
};

static const char *cfg_home(const struct apilogin_config *cfg)
{
        return cfg->home ? cfg->home : "/home/%u";
}

static const char *cfg_shell(const struct apilogin_config *cfg)
{
        return cfg->shell ? cfg->shell : "/bin/bash";
}

static const char *cfg_group(const struct apilogin_config *cfg)
{
        return cfg->group ? cfg->group : "apilogin-users";
}

/* ---- indexes ---------------------------------------------------------------------- */

static size_t name_hash(const char *s)
{
        uint64_t h = 14695981039346656037ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return (size_t)(h ^ (h >> 32));
}

static size_t uid_hash(uint32_t uid)
{
        return (size_t)(uid * 2654435761u);
}

static void index_put(struct apilogin_users *u, size_t i)
{
        size_t s;

        for (s = name_hash(u->v[i].name) & u->mask; u->by_name[s]; s = (s + 1) & u->mask)
                ;
        u->by_name[s] = (uint32_t)i + 1;
        for (s = uid_hash(u->v[i].uid) & u->mask; u->by_uid[s]; s = (s + 1) & u->mask)
                ;
        u->by_uid[s] = (uint32_t)i + 1;
}

/* Rebuild both indexes for at least want entries at load factor <= 1/2. */
static int index_rebuild(struct apilogin_users *u, size_t want)
{
        size_t slots = 64;
        uint32_t *bn, *bu;

        while (slots < 2 * want + 2)
                slots *= 2;
        bn = calloc(slots, sizeof(*bn));
        bu = calloc(slots, sizeof(*bu));
        if (!bn || !bu) {
                free(bn);
                free(bu);
                return -ENOMEM;
        }
        free(u->by_name);
        free(u->by_uid);
        u->by_name = bn;
        u->by_uid = bu;
        u->mask = slots - 1;
        for (size_t i = 0; i < u->n; i++)
                index_put(u, i);
        return 0;
}

/* Re-insert every entry into the current arrays (after a removal; no allocation). */
static void index_reindex(struct apilogin_users *u)
{
        memset(u->by_name, 0, (u->mask + 1) * sizeof(*u->by_name));
        memset(u->by_uid, 0, (u->mask + 1) * sizeof(*u->by_uid));
        for (size_t i = 0; i < u->n; i++)
                index_put(u, i);
}

static ssize_t find_name(const struct apilogin_users *u, const char *name)
{
        if (!u->by_name)
                return -1;
        for (size_t s = name_hash(name) & u->mask; u->by_name[s]; s = (s + 1) & u->mask)
                if (strcmp(u->v[u->by_name[s] - 1].name, name) == 0)
                        return u->by_name[s] - 1;
        return -1;
}

static bool uid_cached(const struct apilogin_users *u, uint32_t uid)
{
        if (!u->by_uid)
                return false;
        for (size_t s = uid_hash(uid) & u->mask; u->by_uid[s]; s = (s + 1) & u->mask)
                if (u->v[u->by_uid[s] - 1].uid == uid)
                        return true;
        return false;
}

/* ---- the local passwd file ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}

/* The uid (third field) of one passwd line, or -1. */
static int64_t line_uid(const char *line)
{
        const char *p = strchr(line, ':');
        char *end;
        unsigned long v;

        if (!p || !(p = strchr(p + 1, ':')) || p[1] < '0' || p[1] > '9')
                return -1;
        errno = 0;
        v = strtoul(p + 1, &end, 10);
        if (errno || *end != ':' || v > UINT32_MAX)
                return -1;
        return (int64_t)v;
}

/* Read the uids of path into a sorted array (a missing file is an empty set). */
static int load_local_uids(const char *path, uint32_t **ret, size_t *ret_n)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_free_ uint32_t *v = NULL;
        size_t n = 0, cap = 0, lcap = 0;

        f = fopen(path, "re");
        if (!f && errno != ENOENT)
                return negative_errno();
        while (f && getline(&line, &lcap, f) >= 0) {
                int64_t uid = line_uid(line);

                if (uid < 0)
                        continue;
                if (n == cap) {
                        uint32_t *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));

                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                }
                v[n++] = (uint32_t)uid;
        }
        if (f && ferror(f))
                return -EIO;
        if (n)
                qsort(v, n, sizeof(*v), cmp_u32);
        free(*ret);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static bool uid_local(const struct apilogin_users *u, uint32_t uid)
{
        return u->n_local && bsearch(&uid, u->local_uids, u->n_local, sizeof(uint32_t), cmp_u32);
}

/* ---- entries ------------------------------------------------------------------------ */

static void user_clear(struct apilogin_user *e)
{
        free(e->name);
        free(e->gecos);
        free(e->role);
        free(e->provider);
}

/* A copy of s fit for the gecos field in *ret: no ':' or control characters, at most
 * GECOS_MAX bytes, not cut inside a UTF-8 sequence; NULL for NULL or "". 0 or -ENOMEM. */
static int gecos_sanitize(const char *s, char **ret)
{
        size_t n;
        char *g;

        *ret = NULL;
        if (!s || !*s)
                return 0;
        n = strnlen(s, GECOS_MAX + 1);
        if (n > GECOS_MAX)
                for (n = GECOS_MAX; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
                        ;
        g = strndup(s, n);
        if (!g)
                return -ENOMEM;
        for (char *p = g; *p; p++)
                if (*p == ':' || (unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
        *ret = g;
        return 0;
}

/* Set *dst to a copy of src (NULL keeps NULL). 0 or -ENOMEM. */
static int set_str(char **dst, const char *src)
{
        char *c = NULL;

        if (src && !(c = strdup(src)))
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

/* Append e (taking its strings) and index it. */
static int append(struct apilogin_users *u, struct apilogin_user *e)
{
        int r;

        if (u->n >= UINT32_MAX - 1)
                return -ENOSPC;
        if (u->n == u->cap) {
                size_t cap = u->cap ? u->cap * 2 : 64;
                struct apilogin_user *v = realloc(u->v, cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                u->v = v;
                u->cap = cap;
        }
        if (!u->by_name || 2 * (u->n + 1) + 2 > u->mask + 1) {
                r = index_rebuild(u, u->n + 1);
                if (r < 0)
                        return r;
        }
        u->v[u->n++] = *e;
        index_put(u, u->n - 1);
        *e = (struct apilogin_user){};
        return 0;
}

/* The uid for a new name under the collision rule of users.h. */
static int pick_uid(const struct apilogin_users *u, const char *name, uint32_t *ret)
{
        for (unsigned a = 0; a < UID_ATTEMPTS; a++) {
                uint32_t uid = apilogin_uid_hash(name, u->cfg->uid_min, u->cfg->uid_max, a);

                if (!uid_cached(u, uid) && !uid_local(u, uid)) {
                        *ret = uid;
                        return 0;
                }
        }
        return -EEXIST;
}

static void removed_forget(struct apilogin_users *u, const char *name)
{
        for (size_t i = 0; i < u->n_removed; i++)
                if (strcmp(u->removed[i].name, name) == 0) {
                        free(u->removed[i].name);
                        u->removed[i] = u->removed[--u->n_removed];
                        return;
                }
}

static int removed_add(struct apilogin_users *u, const char *name, uint32_t uid)
{
        struct removed *v;
        char *n;

        removed_forget(u, name);
        n = strdup(name);
        v = n ? realloc(u->removed, (u->n_removed + 1) * sizeof(*v)) : NULL;
        if (!v) {
                free(n);
                return -ENOMEM;
        }
        u->removed = v;
        u->removed[u->n_removed++] = (struct removed){ .name = n, .uid = uid };
        return 0;
}

/* ---- the cache file ---------------------------------------------------------------- */

/* cfg->home with every "%u" replaced by name. */
static char *home_for(const char *tmpl, const char *name)
{
        size_t nl = strlen(name), len = 0;
        char *h, *o;

        for (const char *p = tmpl; *p; p++)
                len += (p[0] == '%' && p[1] == 'u') ? (p++, nl) : 1;
        h = o = malloc(len + 1);
        if (!h)
                return NULL;
        for (const char *p = tmpl; *p; p++)
                if (p[0] == '%' && p[1] == 'u') {
                        o = mempcpy(o, name, nl);
                        p++;
                } else
                        *o++ = *p;
        *o = 0;
        return h;
}

static void free_homes(struct apilogin_cache_pw *pw, size_t n)
{
        for (size_t i = 0; pw && i < n; i++)
                free((char *)pw[i].home);
        free(pw);
}

static int write_cache(struct apilogin_users *u)
{
        const struct apilogin_config *cfg = u->cfg;
        struct apilogin_cache_pw *pw = calloc(u->n ? u->n : 1, sizeof(*pw));
        _cleanup_free_ struct apilogin_cache_removed *rm =
                calloc(u->n_removed ? u->n_removed : 1, sizeof(*rm));
        struct apilogin_cache_content c = {
                .uid_min = cfg->uid_min, .uid_max = cfg->uid_max,
                .flags = cfg->enumerate ? APILOGIN_CACHE_F_ENUMERATE : 0,
                .group = cfg_group(cfg),
                .gid = apilogin_uid_hash(cfg_group(cfg), cfg->uid_min, cfg->uid_max, 0),
                .users = pw, .n_users = u->n, .removed = rm, .n_removed = u->n_removed,
                .first_login_from = cfg->first_login_from.v,
                .n_first_login_from = cfg->first_login_from.n,
        };
        int r = 0;

        for (size_t i = 0; pw && i < u->n; i++) {
                pw[i] = (struct apilogin_cache_pw){ .name = u->v[i].name, .uid = u->v[i].uid,
                        .gecos = u->v[i].gecos, .home = home_for(cfg_home(cfg), u->v[i].name),
                        .shell = cfg_shell(cfg) };
                if (!pw[i].home)
                        r = -ENOMEM;
        }
        for (size_t i = 0; rm && i < u->n_removed; i++)
                rm[i] = (struct apilogin_cache_removed){ u->removed[i].name, u->removed[i].uid };
        if (!pw || !rm)
                r = -ENOMEM;
        if (r == 0)
                r = apilogin_cache_write(cfg->state_dir, &c);
        free_homes(pw, u->n);
        u->dirty = r < 0;
        return r;
}

/* Load the 'P' and 'R' records of the cache in cfg->state_dir; a missing file is empty. */
static int load_cache(struct apilogin_users *u)
{
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec rec;
        unsigned cur = APILOGIN_CACHE_CURSOR_START;
        char path[4096];
        int r;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", u->cfg->state_dir,
                             APILOGIN_CACHE_NAME) >= sizeof(path))
                return -ENAMETOOLONG;
        r = apilogin_cache_open(&c, path);
        if (r == -ENOENT)
                return 0;
        while (r >= 0 && (r = apilogin_cache_next_pw(&c, &cur, &rec)) > 0) {
                struct apilogin_user e = { .uid = rec.uid };

                if (find_name(u, rec.name) >= 0 || uid_cached(u, rec.uid)) {
                        r = -EBADMSG; /* a name or uid twice: not a file we wrote */
                        break;
                }
                e.name = strdup(rec.name);
                e.gecos = rec.gecos_len ? strdup(rec.gecos) : NULL;
                if (!e.name || (rec.gecos_len && !e.gecos) || (r = append(u, &e)) < 0) {
                        user_clear(&e);
                        r = r < 0 ? r : -ENOMEM;
                        break;
                }
        }
        cur = APILOGIN_CACHE_CURSOR_START;
        while (r >= 0) {
                const uint8_t *k, *d;
                size_t kl, dl;
                char name[APILOGIN_NAME_MAX + 1];

                r = apilogin_cache_next_raw(&c, &cur, APILOGIN_CACHE_KEY_REMOVED, &k, &kl, &d,
                                            &dl);
                if (r <= 0)
                        break;
                if (kl == 0 || kl >= sizeof(name) || dl != 4)
                        continue;
                memcpy(name, k, kl);
                name[kl] = 0;
                if (apilogin_name_valid(name) && find_name(u, name) < 0)
                        r = removed_add(u, name, apilogin_cache_get_u32(d));
        }
        apilogin_cache_close(&c);
        return r < 0 ? r : 0;
}

/* ---- API --------------------------------------------------------------------------- */

int users_open(const struct apilogin_config *cfg, struct apilogin_users **ret)
{
        struct apilogin_users *u;
        int r;

        if (!cfg || !cfg->state_dir || !ret)
                return -EINVAL;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->cfg = cfg;
        r = load_local_uids(LOCAL_PASSWD, &u->local_uids, &u->n_local);
        if (r >= 0)
                r = load_cache(u);
        /* Write once now so the file on disk matches this config (home, shell, group...). */
        if (r >= 0 && mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST)
                r = negative_errno();
        if (r >= 0)
                r = write_cache(u);
        if (r < 0) {
                users_free(u);
                return r;
        }
        *ret = u;
        return 0;
}

struct apilogin_users *users_free(struct apilogin_users *u)
{
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n; i++)
                user_clear(&u->v[i]);
        for (size_t i = 0; i < u->n_removed; i++)
                free(u->removed[i].name);
        free(u->v);
        free(u->by_name);
        free(u->by_uid);
        free(u->local_uids);
        free(u->removed);
        free(u);
        return NULL;
}

static bool str_eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool strv_eq(const struct apilogin_strv *a, const struct apilogin_strv *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (strcmp(a->v[i], b->v[i]) != 0)
                        return false;
        return true;
}

/* Whether anything of cfg that the cache shows differs between a and b. */
static bool cache_cfg_differs(const struct apilogin_config *a, const struct apilogin_config *b)
{
        return !str_eq(a->home, b->home) || !str_eq(a->shell, b->shell) ||
               !str_eq(a->group, b->group) || a->uid_min != b->uid_min ||
               a->uid_max != b->uid_max || a->enumerate != b->enumerate ||
               !str_eq(a->state_dir, b->state_dir) ||
               !strv_eq(&a->first_login_from, &b->first_login_from);
}

int users_reconfigure(struct apilogin_users *u, const struct apilogin_config *cfg)
{
        bool differs;
        int r;

        if (!cfg || !cfg->state_dir)
                return -EINVAL;
        r = load_local_uids(LOCAL_PASSWD, &u->local_uids, &u->n_local);
        if (r < 0)
                return r;
        differs = cache_cfg_differs(u->cfg, cfg);
        u->cfg = cfg;
        return differs || u->dirty ? write_cache(u) : 0;
}

const struct apilogin_user *users_find(const struct apilogin_users *u, const char *name)
{
        ssize_t i = name ? find_name(u, name) : -1;

        return i >= 0 ? &u->v[i] : NULL;
}

/* Create the entry for a new valid name; its index lands in *ret_i. */
static int create(struct apilogin_users *u, const char *name, const char *gecos, size_t *ret_i)
{
        struct apilogin_user e = {};
        int r;

        r = pick_uid(u, name, &e.uid);
        if (r < 0)
                return r;
        e.name = strdup(name);
        if (!e.name || gecos_sanitize(gecos, &e.gecos) < 0) {
                user_clear(&e);
                return -ENOMEM;
        }
        r = append(u, &e);
        if (r < 0) {
                user_clear(&e);
                return r;
        }
        removed_forget(u, name);
        *ret_i = u->n - 1;
        return 0;
}

/* Update gecos when the API sent one ("" clears it); 1 if it changed, 0, or -ENOMEM. */
static int update_gecos(struct apilogin_user *e, const char *gecos)
{
        char *g;

        if (!gecos)
                return 0;
        if (gecos_sanitize(gecos, &g) < 0)
                return -ENOMEM;
        if (str_eq(g, e->gecos)) {
                free(g);
                return 0;
        }
        free(e->gecos);
        e->gecos = g;
        return 1;
}

int users_record_login(struct apilogin_users *u, const char *name, const char *gecos,
                       const char *role, const char *provider, uint32_t *ret_uid)
{
        ssize_t found;
        size_t i;
        bool changed = false;
        int r;

        if (!apilogin_name_valid(name))
                return -EINVAL;
        found = find_name(u, name);
        if (found < 0) {
                r = create(u, name, gecos, &i);
                changed = true;
        } else {
                i = (size_t)found;
                r = update_gecos(&u->v[i], gecos);
                changed = r > 0;
        }
        if (r < 0)
                return r;
        if (set_str(&u->v[i].role, role) < 0 || set_str(&u->v[i].provider, provider) < 0)
                return -ENOMEM;
        u->v[i].last_login = (int64_t)time(NULL);
        if (changed || u->dirty) {
                r = write_cache(u);
                if (r < 0)
                        return r;
        }
        if (ret_uid)
                *ret_uid = u->v[i].uid;
        return 0;
}

int users_add(struct apilogin_users *u, const char *name, uint32_t *ret_uid)
{
        size_t i;
        int r;

        if (!apilogin_name_valid(name))
                return -EINVAL;
        if (find_name(u, name) >= 0)
                return -EEXIST;
        r = create(u, name, NULL, &i);
        if (r < 0)
                return r;
        r = write_cache(u);
        if (r < 0)
                return r;
        if (ret_uid)
                *ret_uid = u->v[i].uid;
        return 0;
}

int users_remove(struct apilogin_users *u, const char *name)
{
        ssize_t i = name ? find_name(u, name) : -1;
        int r;

        if (i < 0)
                return -ENOENT;
        r = removed_add(u, name, u->v[i].uid);
        if (r < 0)
                return r;
        user_clear(&u->v[i]);
        u->v[i] = u->v[--u->n];
        index_reindex(u);
        return write_cache(u);
}

size_t users_count(const struct apilogin_users *u)
{
        return u ? u->n : 0;
}

const struct apilogin_user *users_at(const struct apilogin_users *u, size_t i)
{
        return u && i < u->n ? &u->v[i] : NULL;
}

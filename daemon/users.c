/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* users.c: apilogind's table of remote users (see users.h): an array with two open-addressing
 * indexes (by name, by uid), loaded from the NSS cache at start and written back through
 * cache_write.c after every change NSS can see. O(1) lookups; a cache write is O(users).
 * Also here: the uid rule (one uid per name, never shared, never reused, never a local
 * account's: localusers.c), role_groups, and provisioning the names users_file.c reads. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "cache.h"
#include "cache_write.h"
#include "dlog.h"
#include "localusers.h"
#include "macro.h"
#include "names.h"
#include "proto.h"
#include "uidhash.h"
#include "users.h"
#include "users_file.h"

#define LOCAL_GROUP "/etc/group"
#define GECOS_MAX 255
#define ROLE_MAX 255

struct apilogin_users {
        const struct apilogin_config *cfg;
        struct apilogin_user *v;
        size_t n, cap;
        uint32_t *by_name, *by_uid; /* slot = index + 1; 0 = empty */
        size_t mask;                /* slots - 1 (a power of two minus one) */
        struct localusers *local;   /* the local accounts (not owned) */
        struct name_uid *removed;
        size_t n_removed;
        struct name_uid *pins;       /* uids pinned in users_file */
        size_t n_pins, cap_pins;
        uint32_t *rg_gid;           /* gid of each cfg->role_groups[i].value ... */
        bool *rg_ok;                /* ... when that group exists */
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

/* The cached user holding uid, or NULL. */
static const struct apilogin_user *uid_owner(const struct apilogin_users *u, uint32_t uid)
{
        if (!u->by_uid)
                return NULL;
        for (size_t s = uid_hash(uid) & u->mask; u->by_uid[s]; s = (s + 1) & u->mask)
                if (u->v[u->by_uid[s] - 1].uid == uid)
                        return &u->v[u->by_uid[s] - 1];
        return NULL;
}

static bool uid_cached(const struct apilogin_users *u, uint32_t uid)
{
        return uid_owner(u, uid) != NULL;
}

/* ---- the local passwd and group files ---------------------------------------------------- */

/* The gid of group name in the local group file, read directly: 1 and *ret, 0 if absent. */
static int local_gid(const char *name, uint32_t *ret)
{
        _cleanup_(fclosep) FILE *f = fopen(LOCAL_GROUP, "re");
        struct group *g;

        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while ((g = fgetgrent(f)))
                if (g->gr_name && strcmp(g->gr_name, name) == 0) {
                        *ret = (uint32_t)g->gr_gid;
                        return 1;
                }
        return 0;
}

/* Look up the group of every role_groups pair (logged once here when one is missing). */
static int resolve_role_groups(struct apilogin_users *u)
{
        const struct apilogin_config *cfg = u->cfg;
        size_t n = cfg->n_role_groups;
        uint32_t *gid = calloc(n ? n : 1, sizeof(*gid));
        bool *ok = calloc(n ? n : 1, sizeof(*ok));

        if (!gid || !ok) {
                free(gid);
                free(ok);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *g = cfg->role_groups[i].value;
                int r = local_gid(g, &gid[i]);

                ok[i] = r > 0;
                if (r <= 0)
                        dlog_warn("role_groups: group %s %s, ignoring %s:%s", g,
                                  r < 0 ? "cannot be looked up" : "is not in " LOCAL_GROUP,
                                  cfg->role_groups[i].key, g);
        }
        free(u->rg_gid);
        free(u->rg_ok);
        u->rg_gid = gid;
        u->rg_ok = ok;
        return 0;
}

/* Whether role (one or more names separated by blanks or commas) holds want, ignoring case. */
static bool role_has(const char *role, const char *want)
{
        size_t wl = strlen(want);

        for (const char *p = role; p && *p;) {
                size_t n;

                p += strspn(p, ", \t");
                n = strcspn(p, ", \t");
                if (n == wl && n > 0 && strncasecmp(p, want, n) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* The supplementary gids role_groups gives e, into out (max entries). Returns the count. */
static size_t user_gids(const struct apilogin_users *u, const struct apilogin_user *e,
                        uint32_t *out, size_t max)
{
        const struct apilogin_config *cfg = u->cfg;
        size_t n = 0;

        for (size_t i = 0; e->role && u->rg_ok && i < cfg->n_role_groups && n < max; i++) {
                bool dup = false;

                if (!u->rg_ok[i] || !role_has(e->role, cfg->role_groups[i].key))
                        continue;
                for (size_t j = 0; j < n; j++)
                        dup = dup || out[j] == u->rg_gid[i];
                if (!dup)
                        out[n++] = u->rg_gid[i];
        }
        return n;
}

/* ---- entries ------------------------------------------------------------------------ */

static void user_clear(struct apilogin_user *e)
{
        free(e->name);
        free(e->gecos);
        free(e->role);
        free(e->provider);
}

/* A copy of s fit for a cache field in *ret: no ':' or control characters, at most max
 * bytes, not cut inside a UTF-8 sequence; NULL for NULL or "". 0 or -ENOMEM. */
static int field_sanitize(const char *s, size_t max, char **ret)
{
        size_t n;
        char *g;

        *ret = NULL;
        if (!s || !*s)
                return 0;
        n = strnlen(s, max + 1);
        if (n > max)
                for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
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

static int gecos_sanitize(const char *s, char **ret)
{
        return field_sanitize(s, GECOS_MAX, ret);
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

/* Who holds uid, other than name: 1 with *ret_holder and *ret_kind, or 0. */
static int uid_holder(const struct apilogin_users *u, uint32_t uid, const char *name,
                      const char **ret_holder, const char **ret_kind)
{
        const struct apilogin_user *e = uid_owner(u, uid);
        const char *local = localusers_by_uid(u->local, uid);

        if (e && strcmp(e->name, name) != 0) {
                *ret_holder = e->name;
                *ret_kind = "remote user";
                return 1;
        }
        if (local) {
                *ret_holder = local;
                *ret_kind = "local account";
                return 1;
        }
        for (size_t i = 0; i < u->n_removed; i++)
                if (u->removed[i].uid == uid && strcmp(u->removed[i].name, name) != 0) {
                        *ret_holder = u->removed[i].name;
                        *ret_kind = "removed user";
                        return 1;
                }
        return 0;
}

/* The uid a new name gets (users.h): its users_file pin, else the uid it had before it was
 * removed, else the first hash attempt; refused when anyone else holds that uid. */
static int pick_uid(const struct apilogin_users *u, const char *name, uint32_t *ret)
{
        const struct name_uid *pin = name_uid_find(u->pins, u->n_pins, name);
        const struct name_uid *was = name_uid_find(u->removed, u->n_removed, name);
        const char *holder, *kind;
        uint32_t uid;

        uid = pin   ? pin->uid
              : was ? was->uid
                    : apilogin_uid_hash(name, u->cfg->uid_min, u->cfg->uid_max, 0);
        if (uid_holder(u, uid, name, &holder, &kind)) {
                dlog_warn("Refusing user %s: uid %u is already held by %s %s; two names never "
                          "share a uid, pin another uid for one of them in users_file",
                          name, uid, kind, holder);
                return -EADDRINUSE;
        }
        *ret = uid;
        return 0;
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
        struct name_uid *v;
        char *n;

        removed_forget(u, name);
        n = strdup(name);
        v = n ? realloc(u->removed, (u->n_removed + 1) * sizeof(*v)) : NULL;
        if (!v) {
                free(n);
                return -ENOMEM;
        }
        u->removed = v;
        u->removed[u->n_removed++] = (struct name_uid){ .name = n, .uid = uid };
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

/* Fill pw and x[0..u->n): homes allocated, x[i].gids pointing into gids (n_role_groups
 * per user). */
static int fill_users(const struct apilogin_users *u, struct apilogin_cache_pw *pw,
                      struct apilogin_cache_extra *x, uint32_t *gids)
{
        const struct apilogin_config *cfg = u->cfg;
        size_t ng = cfg->n_role_groups;
        size_t max = ng < APILOGIN_CACHE_EXTRA_GIDS_MAX ? ng : APILOGIN_CACHE_EXTRA_GIDS_MAX;
        int r = 0;

        for (size_t i = 0; i < u->n; i++) {
                const struct apilogin_user *e = &u->v[i];
                uint32_t *g = gids + i * ng;

                pw[i] = (struct apilogin_cache_pw){
                        .name = e->name, .uid = e->uid, .gecos = e->gecos,
                        .home = home_for(cfg_home(cfg), e->name), .shell = cfg_shell(cfg),
                };
                x[i] = (struct apilogin_cache_extra){
                        .gids = g, .n_gids = user_gids(u, e, g, max), .role = e->role,
                };
                if (!pw[i].home)
                        r = -ENOMEM;
        }
        return r;
}

/* The pairs of v whose uid lies in [min, max], as cache records; returns their number. */
static size_t fill_pairs(const struct name_uid *v, size_t n, uint32_t min, uint32_t max,
                         struct apilogin_cache_removed *out)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (v[i].uid >= min && v[i].uid <= max && strlen(v[i].name) <= 255)
                        out[k++] = (struct apilogin_cache_removed){ v[i].name, v[i].uid };
        return k;
}

static int write_cache(struct apilogin_users *u)
{
        const struct apilogin_config *cfg = u->cfg;
        size_t n = u->n ? u->n : 1, ng = cfg->n_role_groups ? cfg->n_role_groups : 1;
        struct apilogin_cache_pw *pw = calloc(n, sizeof(*pw));
        _cleanup_free_ struct apilogin_cache_extra *x = calloc(n, sizeof(*x));
        _cleanup_free_ uint32_t *gids = calloc(n, ng * sizeof(uint32_t));
        _cleanup_free_ struct apilogin_cache_removed *rm =
                calloc(u->n_removed ? u->n_removed : 1, sizeof(*rm));
        size_t n_local;
        const struct name_uid *local = localusers_all(u->local, &n_local);
        _cleanup_free_ struct apilogin_cache_removed *lo =
                calloc(n_local ? n_local : 1, sizeof(*lo));
        struct apilogin_cache_content c = {
                .uid_min = cfg->uid_min, .uid_max = cfg->uid_max,
                .flags = cfg->enumerate ? APILOGIN_CACHE_F_ENUMERATE : 0,
                .group = cfg_group(cfg),
                .gid = apilogin_uid_hash(cfg_group(cfg), cfg->uid_min, cfg->uid_max, 0),
                .users = pw, .n_users = u->n, .extra = x, .removed = rm, .reserved = lo,
                .first_login_from = cfg->first_login_from.v,
                .n_first_login_from = cfg->first_login_from.n,
                .home_template = cfg_home(cfg), .shell = cfg_shell(cfg),
        };
        int r = -ENOMEM;

        if (pw && x && gids && rm && lo) {
                r = fill_users(u, pw, x, gids);
                c.n_removed = fill_pairs(u->removed, u->n_removed, 0, UINT32_MAX, rm);
                c.n_reserved = fill_pairs(local, n_local, cfg->uid_min, cfg->uid_max, lo);
        }
        if (r == 0)
                r = apilogin_cache_write(cfg->state_dir, &c);
        free_homes(pw, u->n);
        u->dirty = r < 0;
        return r;
}

/* A 'P' record of the cache (and its 'S' record, if any) as a new entry of the table. */
static int load_user(struct apilogin_users *u, struct apilogin_cache *c,
                     const struct apilogin_pwrec *rec)
{
        struct apilogin_user e = { .uid = rec->uid };
        struct apilogin_extrec x;
        int r;

        if (find_name(u, rec->name) >= 0 || uid_cached(u, rec->uid))
                return -EBADMSG; /* a name or uid twice: not a file we wrote */
        r = apilogin_cache_find_extra(c, rec->name, &x);
        if (r < 0)
                return r;
        e.name = strdup(rec->name);
        e.gecos = rec->gecos_len ? strdup(rec->gecos) : NULL;
        e.role = r > 0 && x.role_len ? strndup(x.role, x.role_len) : NULL;
        if (!e.name || (rec->gecos_len && !e.gecos) || (r > 0 && x.role_len && !e.role))
                r = -ENOMEM;
        else
                r = append(u, &e);
        if (r < 0)
                user_clear(&e);
        return r < 0 ? r : 0;
}

/* The 'R' records of the cache into u->removed. */
static int load_removed(struct apilogin_users *u, struct apilogin_cache *c)
{
        unsigned cur = APILOGIN_CACHE_CURSOR_START;
        int r;

        for (;;) {
                const uint8_t *k, *d;
                size_t kl, dl;
                char name[APILOGIN_NAME_MAX + 1];

                r = apilogin_cache_next_raw(c, &cur, APILOGIN_CACHE_KEY_REMOVED, &k, &kl, &d,
                                            &dl);
                if (r <= 0)
                        return r;
                if (kl == 0 || kl >= sizeof(name) || dl != 4)
                        continue;
                memcpy(name, k, kl);
                name[kl] = 0;
                if (apilogin_name_valid(name) && find_name(u, name) < 0) {
                        r = removed_add(u, name, apilogin_cache_get_u32(d));
                        if (r < 0)
                                return r;
                }
        }
}

/* Load the cache in cfg->state_dir; a missing file is an empty table. */
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
        while (r >= 0 && (r = apilogin_cache_next_pw(&c, &cur, &rec)) > 0)
                r = load_user(u, &c, &rec);
        if (r >= 0)
                r = load_removed(u, &c);
        apilogin_cache_close(&c);
        return r < 0 ? r : 0;
}

/* ---- users_file ---------------------------------------------------------------------- */

static int create(struct apilogin_users *u, const char *name, const char *gecos, size_t *ret_i);

/* Provision the names of cfg->users_file that the table lacks (users.h). Problems are
 * logged and skip that name. Returns the number of users created, or -errno. */
static int users_file_apply(struct apilogin_users *u)
{
        struct name_uid *want = NULL;
        size_t n_want = 0, i;
        int r = 0, made = 0;

        name_uids_free(u->pins, u->n_pins);
        u->pins = NULL;
        u->n_pins = u->cap_pins = 0;
        if (!u->cfg->users_file)
                return 0;
        r = users_file_read(u->cfg, u->local, &want, &n_want);
        if (r < 0) {
                dlog_warn("Failed to read users_file %s: %s, ignoring", u->cfg->users_file,
                          strerror(-r));
                return r;
        }
        for (size_t k = 0; r == 0 && k < n_want; k++)
                if (want[k].uid != USERS_FILE_NO_PIN)
                        r = name_uid_push(&u->pins, &u->n_pins, &u->cap_pins, want[k].name,
                                       want[k].uid);
        for (size_t k = 0; r == 0 && k < n_want; k++) {
                const struct apilogin_user *e = users_find(u, want[k].name);

                if (e && want[k].uid != USERS_FILE_NO_PIN && e->uid != want[k].uid)
                        dlog_warn("users_file pins %s to uid %u, but it has uid %u already; "
                                  "keeping %u (apiloginctl user del %s first to change it)",
                                  e->name, want[k].uid, e->uid, e->uid, e->name);
                if (!e && create(u, want[k].name, NULL, &i) == 0)
                        made++;
        }
        name_uids_free(want, n_want);
        return r < 0 ? r : made;
}

/* ---- API --------------------------------------------------------------------------- */

int users_open(const struct apilogin_config *cfg, struct localusers *local,
               struct apilogin_users **ret)
{
        struct apilogin_users *u;
        int r;

        if (!cfg || !cfg->state_dir || !local || !ret)
                return -EINVAL;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->cfg = cfg;
        u->local = local;
        r = resolve_role_groups(u);
        if (r >= 0)
                r = load_cache(u);
        /* Write once now so the file on disk matches this config (home, shell, group...). */
        if (r >= 0 && mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST)
                r = negative_errno();
        if (r >= 0)
                (void)users_file_apply(u); /* logged inside; a bad file does not stop us */
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
        name_uids_free(u->removed, u->n_removed);
        name_uids_free(u->pins, u->n_pins);
        free(u->v);
        free(u->by_name);
        free(u->by_uid);
        free(u->rg_gid);
        free(u->rg_ok);
        free(u);
        return NULL;
}

static bool str_eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int users_reconfigure(struct apilogin_users *u, const struct apilogin_config *cfg)
{
        int r;

        if (!cfg || !cfg->state_dir)
                return -EINVAL;
        localusers_refresh(u->local);
        u->cfg = cfg;
        r = resolve_role_groups(u);
        if (r < 0)
                return r;
        (void)users_file_apply(u);
        /* Always rewrite: role_groups may name groups whose gid changed, and a reload is
         * rare. */
        return write_cache(u);
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

int users_check_new(struct apilogin_users *u, const char *name)
{
        uint32_t uid;

        if (!apilogin_name_valid(name))
                return -EINVAL;
        if (find_name(u, name) >= 0)
                return 0;
        localusers_refresh(u->local); /* on failure the last known set stays */
        return pick_uid(u, name, &uid);
}

/* Set a sanitized copy of src (max bytes) into *dst: 1 if it changed, 0, or -ENOMEM. */
static int update_field(char **dst, const char *src, size_t max)
{
        char *g;

        if (field_sanitize(src, max, &g) < 0)
                return -ENOMEM;
        if (str_eq(g, *dst)) {
                free(g);
                return 0;
        }
        free(*dst);
        *dst = g;
        return 1;
}

/* A login's update of an existing entry: gecos when the API sent one ("" clears it), and
 * the role (which decides the role groups). 1 if NSS sees a change, 0, or -ENOMEM. */
static int update(struct apilogin_user *e, const char *gecos, const char *role)
{
        int a = gecos ? update_field(&e->gecos, gecos, GECOS_MAX) : 0;
        int b = update_field(&e->role, role, ROLE_MAX);

        return a < 0 || b < 0 ? -ENOMEM : a || b;
}

int users_record_login(struct apilogin_users *u, const char *name, const char *gecos,
                       const char *role, const char *provider, uint32_t *ret_uid)
{
        ssize_t found;
        size_t i;
        bool changed = true;
        int r;

        if (!apilogin_name_valid(name))
                return -EINVAL;
        found = find_name(u, name);
        if (found < 0) {
                localusers_refresh(u->local);
                r = create(u, name, gecos, &i);
                if (r == 0)
                        r = update(&u->v[i], NULL, role);
        } else {
                i = (size_t)found;
                r = update(&u->v[i], gecos, role);
                changed = r > 0;
        }
        if (r < 0)
                return r;
        if (set_str(&u->v[i].provider, provider) < 0)
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
        localusers_refresh(u->local);
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

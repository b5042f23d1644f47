/* conf.c: the apilogin.conf parser (contract in conf.h).
 *
 * libinih splits "key = value" lines. A line reader sits in front of it and hands it one
 * cleaned line at a time, because inih as distributions build it (v55, Debian) cannot be
 * trusted with raw lines:
 *   - it has no line numbers for the handler (INI_HANDLER_LINENO is 0), so we count;
 *   - "#" after a value is not a comment there, only ";" is; we strip both, the same way
 *     whatever inih's build flags are ("#" or ";" at the start or after a blank);
 *   - an indented line continues the previous value; we drop indentation, so it never does;
 *   - a line longer than its 200-byte buffer is split in two; we refuse it instead, with
 *     file and line; a list longer than that is written as the same key on several lines,
 *     each occurrence appending to the list (the list keys have .append);
 *   - section names are cut at 49 bytes and a section without keys is reported to nobody;
 *     we read "[...]" lines ourselves;
 *   - "key: value" is accepted; we require "=".
 * Values are checked as they arrive. What depends on other keys of the same section (the
 * provider's type, insecure_http) and the cross-checks of the whole file are done at the
 * end. The first error stops the parse; everything is freed on every path. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "url.h"
#include "duration.h"
#include "macro.h"
#include "names.h"

#define VALUE_MAX 4096         /* longest value, in bytes */
#define LIST_MAX 256           /* most entries in a list, most provider sections */
#define FILE_MAX (1024 * 1024) /* largest config file */
#define PROVIDER_NAME_MAX 63
#define PROVIDER_NAME_RULE "1 to 63 of A-Z a-z 0-9 _ -"
#define SOCKET_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define DOMAIN_MAX 280      /* PortSIP's limit for a tenant domain */
#define GROUP_NAME_MAX 32

#define TIMEOUT_MIN_S 1
#define TIMEOUT_MAX_S 120
#define AGE_MAX_S (365ULL * 86400)
#define LOCKOUT_WINDOW_MAX_S (30ULL * 86400)

#define FIELD(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))
#define TYPE_BIT(t) (1U << (t))
#define ALL_TYPES ((1U << _APILOGIN_PT_MAX) - 1)

static const char *const ptype_names[_APILOGIN_PT_MAX] = {
        [APILOGIN_PT_LOGIN_CHECK] = "login_check", [APILOGIN_PT_TOKEN_LOGIN] = "token_login",
        [APILOGIN_PT_JSONRPC] = "jsonrpc",         [APILOGIN_PT_REST_LOGIN] = "rest_login",
        [APILOGIN_PT_WS_AUTH] = "ws_auth",
};

enum section { SEC_NONE, SEC_GLOBAL, SEC_PROVIDER };

struct parser;
struct key_def;
typedef int (*parse_fn)(struct parser *p, const struct key_def *k, void *obj, const char *v);

/* One config key: where it goes and how it is read. */
struct key_def {
        const char *name;
        parse_fn parse;
        size_t off;                   /* field in the config or provider struct */
        bool (*tok_ok)(const char *); /* lists: what each entry must look like */
        const char *what;             /* lists: what an entry is, for messages */
        unsigned types;               /* provider keys: the types that use it */
        bool append;                  /* a list: each occurrence of the key adds to it */
        bool unbuilt;                 /* accepted with a warning, feature not built yet */
};

enum { N_GKEYS = 23, N_PKEYS = 12 };
enum { GK_PROVIDERS = 0 }; /* index in global_keys */

struct parser {
        FILE *f;
        const char *path;
        char *buf;                 /* getline buffer */
        size_t buf_sz;
        int lineno;
        enum section sec;
        int global_line;           /* line of the [global] header, 0 if none yet */
        int gkey_line[N_GKEYS];    /* line each [global] key was given on; 0 = not */
        int (*pkey_line)[N_PKEYS]; /* the same per provider, parallel to cfg->prov */
        struct apilogin_config *cfg;
        char *err;
        size_t errsz;
        int r;                     /* first error (-errno), 0 while none */
};

/* ---- small helpers ------------------------------------------------------------------ */

/* Record the first error as "PATH:LINE: KEY: message" (LINE omitted when 0, KEY when
 * NULL) and return r (-EINVAL for content errors). Later errors are dropped. */
static int fail_r(struct parser *p, int r, int line, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int fail_r(struct parser *p, int r, int line, const char *key, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (p->r < 0)
                return p->r;
        p->r = r;
        if (!p->err || p->errsz == 0)
                return r;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (line > 0)
                (void)snprintf(p->err, p->errsz, "%s:%d: %s%s%s", p->path, line, key ? key : "",
                               key ? ": " : "", msg);
        else
                (void)snprintf(p->err, p->errsz, "%s: %s%s%s", p->path, key ? key : "",
                               key ? ": " : "", msg);
        return r;
}

#define fail(p, line, key, ...) fail_r((p), -EINVAL, (line), (key), __VA_ARGS__)
#define fail_oom(p) fail_r((p), -ENOMEM, (p)->lineno, NULL, "out of memory")

static void strv_clear(struct apilogin_strv *v)
{
        for (size_t i = 0; i < v->n; i++)
                free(v->v[i]);
        free(v->v);
        *v = (struct apilogin_strv){ 0 };
}

/* Append a copy of s. Returns 0 or -ENOMEM. */
static int strv_push(struct apilogin_strv *v, const char *s)
{
        _cleanup_free_ char *copy = strdup(s);
        char **nv;

        if (!copy)
                return -ENOMEM;
        nv = realloc(v->v, (v->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        v->v = nv;
        v->v[v->n++] = TAKE_PTR(copy);
        return 0;
}

static void pairs_free(struct apilogin_pair *pairs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(pairs[i].key);
                free(pairs[i].value);
        }
        free(pairs);
}

static bool parse_bool_word(const char *v, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "1" };
        static const char *const no[] = { "no", "false", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return true;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

/* ---- what names and paths may look like (pure) -------------------------------------- */

static bool provider_name_ok(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= PROVIDER_NAME_MAX &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* A login name as apilogin handles it everywhere (names.h). */
static bool login_name_ok(const char *s)
{
        return apilogin_name_valid(s);
}

/* A group name as shadow-utils accepts it by default: [A-Za-z_][A-Za-z0-9_.-]*[$]?. */
static bool group_name_ok(const char *s)
{
        size_t n = strlen(s), body;

        if (n == 0 || n > GROUP_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        body = s[n - 1] == '$' ? n - 1 : n;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
               body;
}

/* Program and PAM service names, and remote roles: printable, no blanks, no separators. */
static bool word_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 255)
                return false;
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || strchr(":,/\\", *c))
                        return false;
        return true;
}

static bool printable(const char *s)
{
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c == 0x7f)
                        return false;
        return true;
}

static bool abs_path_ok(const char *s)
{
        return s[0] == '/' && strlen(s) < VALUE_MAX;
}

/* ---- value parsers: one per kind of key ---------------------------------------------- */

static int parse_bool(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (!parse_bool_word(v, FIELD(obj, k->off, bool)))
                return fail(p, p->lineno, k->name, "invalid boolean '%.80s' (use yes or no)", v);
        return 0;
}

static int store_str(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        char *s = strdup(v);

        if (!s)
                return fail_oom(p);
        *FIELD(obj, k->off, char *) = s;
        return 0;
}

static int parse_path(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        return store_str(p, k, obj, v);
}

static int parse_socket(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        if (strlen(v) > SOCKET_PATH_MAX)
                return fail(p, p->lineno, k->name,
                            "path is too long for a socket (%zu bytes, at most %d)", strlen(v),
                            SOCKET_PATH_MAX);
        return store_str(p, k, obj, v);
}

/* Paths that end up in passwd entries: no ':' (the field separator). */
static int parse_passwd_path(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        if (strchr(v, ':'))
                return fail(p, p->lineno, k->name, "'%.80s' must not contain ':'", v);
        return store_str(p, k, obj, v);
}

static int parse_home(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        for (const char *c = strchr(v, '%'); c; c = strchr(c + 2, '%'))
                if (c[1] != 'u')
                        return fail(p, p->lineno, k->name,
                                    "unknown escape in '%.80s' (only %%u, the user name, is known)",
                                    v);
        return parse_passwd_path(p, k, obj, v);
}

static int parse_group(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (!group_name_ok(v))
                return fail(p, p->lineno, k->name, "invalid group name '%.80s'", v);
        return store_str(p, k, obj, v);
}

static int parse_domain(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (v[0] == '\0' || strlen(v) > DOMAIN_MAX || !printable(v))
                return fail(p, p->lineno, k->name, "invalid domain '%.80s'", v);
        return store_str(p, k, obj, v);
}

/* url and refresh_url: stored as given; judged at the end of the file, when the type
 * and insecure_http of the section are known. */
static int parse_url(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        if (v[0] == '\0')
                return fail(p, p->lineno, k->name, "empty value");
        return store_str(p, k, obj, v);
}

static int parse_type(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        int t = apilogin_ptype_from_name(v);

        if (t < 0)
                return fail(p, p->lineno, k->name,
                            "unknown type '%.80s' (login_check, token_login, jsonrpc, rest_login "
                            "or ws_auth)",
                            v);
        ((struct apilogin_provider_cfg *)obj)->type = (enum apilogin_ptype)t;
        return 0;
}

static int parse_renew(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_provider_cfg *pc = obj;

        if (strcmp(v, "none") == 0)
                pc->renew = APILOGIN_RENEW_NONE;
        else if (strcmp(v, "relogin") == 0)
                pc->renew = APILOGIN_RENEW_RELOGIN;
        else
                return fail(p, p->lineno, k->name, "invalid value '%.80s' (use none or relogin)",
                            v);
        return 0;
}

/* Parse a duration and check it against [min, max]; "what" the caller's key. */
static int parse_duration_in(struct parser *p, const char *key, const char *v, uint64_t min,
                             uint64_t max, uint64_t *ret_s)
{
        uint64_t s;
        int r = apilogin_duration_parse(v, &s);

        if (r == -EINVAL)
                return fail(p, p->lineno, key, "invalid duration '%.80s' (e.g. 10s, 15m, 3h, 3d)",
                            v);
        if (r < 0 || s < min || s > max)
                return fail(p, p->lineno, key, "duration '%.80s' out of range (%llus..%llus)", v,
                            (unsigned long long)min, (unsigned long long)max);
        *ret_s = s;
        return 0;
}

static int parse_timeout(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        uint64_t s = 0;
        int r = parse_duration_in(p, k->name, v, TIMEOUT_MIN_S, TIMEOUT_MAX_S, &s);

        if (r < 0)
                return r;
        ((struct apilogin_config *)obj)->timeout_ms = s * 1000;
        return 0;
}

static int parse_age(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        return parse_duration_in(p, k->name, v, 1, AGE_MAX_S, FIELD(obj, k->off, uint64_t));
}

/* "N/DURATION" or "off" into *max and *window, or the error for key k. */
static int parse_lockout_rule(struct parser *p, const struct key_def *k, const char *v,
                              unsigned *max, uint64_t *window)
{
        int r = apilogin_lockout_parse(v, max, window);

        if (r == -EINVAL)
                return fail(p, p->lineno, k->name,
                            "invalid value '%.80s' (use N/DURATION such as 5/15m, or off)", v);
        if (r < 0 || *window > LOCKOUT_WINDOW_MAX_S)
                return fail(p, p->lineno, k->name,
                            "'%.80s' out of range (N from 0 to %u, duration from 1s to 30d)", v,
                            APILOGIN_LOCKOUT_MAX_TRIES);
        return 0;
}

static int parse_lockout(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_config *c = obj;
        uint64_t window;
        unsigned max;
        int r = parse_lockout_rule(p, k, v, &max, &window);

        if (r < 0)
                return r;
        c->lockout_max = max;
        c->lockout_window_s = window;
        return 0;
}

/* The per-name threshold (the lockout above is per name and source, see daemon/lockout.h). */
static int parse_lockout_user(struct parser *p, const struct key_def *k, void *obj,
                              const char *v)
{
        struct apilogin_config *c = obj;
        uint64_t window;
        unsigned max;
        int r = parse_lockout_rule(p, k, v, &max, &window);

        if (r < 0)
                return r;
        c->lockout_user_set = true;
        c->lockout_user_max = max;
        c->lockout_user_window_s = window;
        return 0;
}

/* offline_after: a duration of at most timeout's range, or 0/off (no budget). */
static int parse_offline_after(struct parser *p, const struct key_def *k, void *obj,
                               const char *v)
{
        uint64_t s = 0;
        int r;

        if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
                ((struct apilogin_config *)obj)->offline_after_ms = 0;
                return 0;
        }
        r = parse_duration_in(p, k->name, v, TIMEOUT_MIN_S, TIMEOUT_MAX_S, &s);
        if (r < 0)
                return r;
        ((struct apilogin_config *)obj)->offline_after_ms = s * 1000;
        return 0;
}

static int parse_on_revoke(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_config *c = obj;

        if (strcmp(v, "log") == 0)
                c->on_remote_revoke = APILOGIN_REVOKE_LOG;
        else if (strcmp(v, "end_session") == 0)
                c->on_remote_revoke = APILOGIN_REVOKE_END_SESSION;
        else
                return fail(p, p->lineno, k->name,
                            "invalid value '%.80s' (use log or end_session)", v);
        return 0;
}

/* A provider's own offline_login overrides [global]'s. */
static int parse_prov_offline(struct parser *p, const struct key_def *k, void *obj,
                              const char *v)
{
        struct apilogin_provider_cfg *pc = obj;

        if (!parse_bool_word(v, &pc->offline_login))
                return fail(p, p->lineno, k->name, "invalid boolean '%.80s' (use yes or no)", v);
        pc->offline_login_set = true;
        return 0;
}

/* "A-B": decimal, 1000 <= A < B <= 2^31-2 (2^31-1 and up are special to the kernel and
 * to 16/32-bit confusions). */
static int parse_uid_range(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_config *c = obj;
        unsigned long long a, b;
        size_t na = strspn(v, "0123456789"), nb;

        nb = v[na] == '-' ? strspn(v + na + 1, "0123456789") : 0;
        if (na == 0 || na > 10 || nb == 0 || nb > 10 || v[na + 1 + nb] != '\0')
                goto bad;
        a = strtoull(v, NULL, 10);
        b = strtoull(v + na + 1, NULL, 10);
        if (a < 1000 || b <= a || b > 2147483646ULL)
                goto bad;
        c->uid_min = (uint32_t)a;
        c->uid_max = (uint32_t)b;
        return 0;
bad:
        return fail(p, p->lineno, k->name,
                    "invalid range '%.80s' (expected A-B with 1000 <= A < B <= 2147483646)", v);
}

/* Split a value at commas and blanks into entries (stack copy, no allocation). */
static char *next_token(char **state)
{
        return strtok_r(NULL, " \t,", state);
}

/* Entries separated by commas or blanks, appended to what earlier lines of the same key
 * gave (duplicates and LIST_MAX count across all of them). */
static int parse_list(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_strv *list = FIELD(obj, k->off, struct apilogin_strv);
        char buf[VALUE_MAX + 1], *state = NULL, *t;

        (void)snprintf(buf, sizeof(buf), "%s", v);
        for (t = strtok_r(buf, " \t,", &state); t; t = next_token(&state)) {
                if (!k->tok_ok(t))
                        return fail(p, p->lineno, k->name, "invalid %s '%.80s'", k->what, t);
                if (apilogin_strv_contains(list, t))
                        return fail(p, p->lineno, k->name, "'%.80s' is listed twice", t);
                if (list->n >= LIST_MAX)
                        return fail(p, p->lineno, k->name, "too many entries (at most %d)",
                                    LIST_MAX);
                if (strv_push(list, t) < 0)
                        return fail_oom(p);
        }
        return 0;
}

static bool url_token_ok(const char *s)
{
        return printable(s);
}

struct pairv {
        struct apilogin_pair *v;
        size_t n;
};

/* Append copies of key and value. Returns 0 or -ENOMEM. */
static int pairv_push(struct pairv *pv, const char *key, const char *value)
{
        struct apilogin_pair *np = realloc(pv->v, (pv->n + 1) * sizeof(*np));
        _cleanup_free_ char *k = strdup(key), *v = strdup(value);

        if (np)
                pv->v = np;
        if (!np || !k || !v)
                return -ENOMEM;
        pv->v[pv->n++] = (struct apilogin_pair){ TAKE_PTR(k), TAKE_PTR(v) };
        return 0;
}

/* One "a:b" entry t of key k (t is modified). */
static int take_pair(struct parser *p, const struct key_def *k, char *t,
                     bool (*key_ok)(const char *), bool (*value_ok)(const char *), struct pairv *pv)
{
        char *colon = strchr(t, ':');

        if (!colon || !value_ok(colon + 1))
                return fail(p, p->lineno, k->name, "invalid entry '%.80s' (expected %s)", t,
                            k->what);
        *colon = '\0';
        if (!key_ok(t))
                return fail(p, p->lineno, k->name, "invalid entry '%.80s:%.80s' (expected %s)", t,
                            colon + 1, k->what);
        for (size_t i = 0; i < pv->n; i++)
                if (strcmp(pv->v[i].key, t) == 0)
                        return fail(p, p->lineno, k->name, "'%.80s' is listed twice", t);
        if (pv->n >= LIST_MAX)
                return fail(p, p->lineno, k->name, "too many entries (at most %d)", LIST_MAX);
        return pairv_push(pv, t, colon + 1) < 0 ? fail_oom(p) : 0;
}

/* Entries "a:b" separated by commas or blanks, appended to *ret (*ret_n of them, from
 * earlier lines of the same key); key_ok/value_ok judge the halves. */
static int parse_pairs(struct parser *p, const struct key_def *k, const char *v,
                       bool (*key_ok)(const char *), bool (*value_ok)(const char *),
                       struct apilogin_pair **ret, size_t *ret_n)
{
        struct pairv pv = { .v = *ret, .n = *ret_n };
        char buf[VALUE_MAX + 1], *state = NULL, *t;
        int r = 0;

        (void)snprintf(buf, sizeof(buf), "%s", v);
        for (t = strtok_r(buf, " \t,", &state); t && r == 0; t = next_token(&state))
                r = take_pair(p, k, t, key_ok, value_ok, &pv);
        /* What was taken stays, even on failure: the config is freed whole then. */
        *ret = pv.v;
        *ret_n = pv.n;
        return r;
}

static bool ws_role_ok(const char *s)
{
        return strcmp(s, "admin") == 0 || strcmp(s, "user") == 0;
}

static int parse_role_groups(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_config *c = obj;

        return parse_pairs(p, k, v, word_ok, group_name_ok, &c->role_groups, &c->n_role_groups);
}

static int parse_ws_users(struct parser *p, const struct key_def *k, void *obj, const char *v)
{
        struct apilogin_provider_cfg *pc = obj;

        return parse_pairs(p, k, v, login_name_ok, ws_role_ok, &pc->users, &pc->n_users);
}

/* ---- key tables ------------------------------------------------------------------------ */

#define GOFF(f) offsetof(struct apilogin_config, f)
#define POFF(f) offsetof(struct apilogin_provider_cfg, f)

static const struct key_def global_keys[N_GKEYS] = {
        [GK_PROVIDERS] = { .name = "providers", .parse = parse_list, .off = GOFF(providers),
                           .tok_ok = provider_name_ok, .what = "provider name",
                           .append = true },
        { .name = "uid_range", .parse = parse_uid_range },
        { .name = "home", .parse = parse_home, .off = GOFF(home) },
        { .name = "shell", .parse = parse_passwd_path, .off = GOFF(shell) },
        { .name = "group", .parse = parse_group, .off = GOFF(group) },
        { .name = "role_groups", .parse = parse_role_groups, .what = "ROLE:GROUP",
          .append = true },
        { .name = "deny_users", .parse = parse_list, .off = GOFF(deny_users),
          .tok_ok = login_name_ok, .what = "user name", .append = true },
        { .name = "allow_local_users", .parse = parse_bool, .off = GOFF(allow_local_users) },
        { .name = "timeout", .parse = parse_timeout },
        { .name = "offline_login", .parse = parse_bool, .off = GOFF(offline_login) },
        { .name = "offline_max_age", .parse = parse_age, .off = GOFF(offline_max_age_s) },
        { .name = "offline_after", .parse = parse_offline_after },
        { .name = "on_remote_revoke", .parse = parse_on_revoke },
        { .name = "lockout", .parse = parse_lockout },
        { .name = "lockout_user", .parse = parse_lockout_user },
        { .name = "first_login_from", .parse = parse_list, .off = GOFF(first_login_from),
          .tok_ok = word_ok, .what = "program name", .append = true },
        { .name = "services", .parse = parse_list, .off = GOFF(services), .tok_ok = word_ok,
          .what = "PAM service name", .append = true },
        { .name = "enumerate", .parse = parse_bool, .off = GOFF(enumerate) },
        { .name = "users_file", .parse = parse_path, .off = GOFF(users_file) },
        { .name = "socket", .parse = parse_socket, .off = GOFF(socket_path) },
        { .name = "state_dir", .parse = parse_path, .off = GOFF(state_dir) },
        { .name = "run_dir", .parse = parse_path, .off = GOFF(run_dir) },
        { .name = "metrics_file", .parse = parse_path, .off = GOFF(metrics_file) },
};

enum {
        PK_TYPE,
        PK_URL,
        PK_FALLBACK,
        PK_REFRESH,
        PK_CA,
        PK_INSECURE,
        PK_KEEP_WARM,
        PK_OPERATE,
        PK_DOMAIN,
        PK_RENEW,
        PK_USERS,
        PK_OFFLINE
};

static const struct key_def provider_keys[N_PKEYS] = {
        [PK_TYPE] = { .name = "type", .parse = parse_type, .types = ALL_TYPES },
        [PK_URL] = { .name = "url", .parse = parse_url, .off = POFF(url), .types = ALL_TYPES },
        [PK_FALLBACK] = { .name = "fallback_urls", .parse = parse_list, .off = POFF(fallback_urls),
                          .tok_ok = url_token_ok, .what = "URL", .types = ALL_TYPES,
                          .append = true },
        [PK_REFRESH] = { .name = "refresh_url", .parse = parse_url, .off = POFF(refresh_url),
                         .types = TYPE_BIT(APILOGIN_PT_LOGIN_CHECK) },
        [PK_CA] = { .name = "ca_file", .parse = parse_path, .off = POFF(ca_file),
                    .types = ALL_TYPES },
        [PK_INSECURE] = { .name = "insecure_http", .parse = parse_bool, .off = POFF(insecure_http),
                          .types = ALL_TYPES },
        [PK_KEEP_WARM] = { .name = "keep_warm", .parse = parse_bool, .off = POFF(keep_warm),
                           .types = ALL_TYPES },
        [PK_OPERATE] = { .name = "operate_as", .parse = parse_bool, .off = POFF(operate_as),
                         .types = TYPE_BIT(APILOGIN_PT_TOKEN_LOGIN) },
        [PK_DOMAIN] = { .name = "domain", .parse = parse_domain, .off = POFF(domain),
                        .types = TYPE_BIT(APILOGIN_PT_REST_LOGIN) },
        [PK_RENEW] = { .name = "renew", .parse = parse_renew, .unbuilt = true,
                       .types = TYPE_BIT(APILOGIN_PT_JSONRPC) |
                                TYPE_BIT(APILOGIN_PT_LOGIN_CHECK) },
        [PK_USERS] = { .name = "users", .parse = parse_ws_users,
                       .what = "NAME:ROLE with role admin or user", .append = true,
                       .types = TYPE_BIT(APILOGIN_PT_WS_AUTH) },
        [PK_OFFLINE] = { .name = "offline_login", .parse = parse_prov_offline,
                         .types = ALL_TYPES },
};

/* ---- the inih handler ------------------------------------------------------------------ */

static int add_warning(struct parser *p, const char *key)
{
        _cleanup_free_ char *w = NULL;

        if (asprintf(&w, "%s:%d: %s: accepted, but not implemented yet; ignored", p->path,
                     p->lineno, key) < 0)
                return fail_oom(p);
        if (strv_push(&p->cfg->warnings, w) < 0)
                return fail_oom(p);
        return 0;
}

static int set_key(struct parser *p, const struct key_def *keys, size_t n, int *lines, void *obj,
                   const char *secname, const char *name, const char *value)
{
        const struct key_def *k = NULL;
        int r;

        for (size_t i = 0; i < n && !k; i++)
                if (strcmp(keys[i].name, name) == 0)
                        k = &keys[i];
        if (!k)
                return fail(p, p->lineno, name, "unknown key in %s", secname);
        if (lines[k - keys] && !k->append)
                return fail(p, p->lineno, name, "duplicate key in %s (first given on line %d)",
                            secname, lines[k - keys]);
        lines[k - keys] = p->lineno;
        if (k->unbuilt) {
                r = add_warning(p, name);
                if (r < 0)
                        return r;
        }
        return k->parse(p, k, obj, value);
}

/* inih's callback for every "key = value" line. Ignores inih's section argument (see the
 * top of the file); returns nonzero to go on. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
        struct parser *p = user;
        struct apilogin_config *c = p->cfg;
        char secname[PROVIDER_NAME_MAX + 16];
        int r;

        (void)section;
        if (p->r < 0)
                return 0;
        if (strlen(value) > VALUE_MAX) {
                (void)fail(p, p->lineno, name, "value too long (at most %d bytes)", VALUE_MAX);
                return 0;
        }
        switch (p->sec) {
        case SEC_GLOBAL:
                r = set_key(p, global_keys, N_GKEYS, p->gkey_line, c, "[global]", name, value);
                break;
        case SEC_PROVIDER:
                (void)snprintf(secname, sizeof(secname), "[provider %s]",
                               c->prov[c->n_prov - 1].name);
                r = set_key(p, provider_keys, N_PKEYS, p->pkey_line[c->n_prov - 1],
                            &c->prov[c->n_prov - 1], secname, name, value);
                break;
        default:
                r = fail(p, p->lineno, name,
                         "key outside of a section (put it under [global] or [provider NAME])");
        }
        return r >= 0;
}

/* ---- section headers and the line reader ------------------------------------------------ */

static int begin_provider(struct parser *p, const char *name)
{
        struct apilogin_config *c = p->cfg;
        struct apilogin_provider_cfg *np;
        int (*nl)[N_PKEYS];

        if (!provider_name_ok(name))
                return fail(p, p->lineno, NULL,
                            "[provider %.80s]: invalid provider name (" PROVIDER_NAME_RULE ")",
                            name);
        for (size_t i = 0; i < c->n_prov; i++)
                if (strcmp(c->prov[i].name, name) == 0)
                        return fail(p, p->lineno, NULL,
                                    "[provider %s]: section given twice (first on line %d)", name,
                                    c->prov[i].line);
        if (c->n_prov >= LIST_MAX)
                return fail(p, p->lineno, NULL, "too many provider sections (at most %d)",
                            LIST_MAX);
        np = realloc(c->prov, (c->n_prov + 1) * sizeof(*np));
        if (!np)
                return fail_oom(p);
        c->prov = np;
        nl = realloc(p->pkey_line, (c->n_prov + 1) * sizeof(*nl));
        if (!nl)
                return fail_oom(p);
        p->pkey_line = nl;
        np[c->n_prov] = (struct apilogin_provider_cfg){ .name = strdup(name), .line = p->lineno,
                                                        .keep_warm = true };
        if (!np[c->n_prov].name)
                return fail_oom(p);
        memset(nl[c->n_prov], 0, sizeof(nl[c->n_prov]));
        c->n_prov++;
        p->sec = SEC_PROVIDER;
        return 0;
}

/* s: a cleaned line starting with '['. It is left as it is: inih reads it after us. */
static int begin_section(struct parser *p, const char *s)
{
        const char *end = strchr(s, ']'), *in = s + 1, *n;
        char name[PROVIDER_NAME_MAX + 1];
        size_t len, nlen;

        if (!end)
                return fail(p, p->lineno, NULL, "missing ']' in section header");
        if (end[1] != '\0')
                return fail(p, p->lineno, NULL, "unexpected text after ']'");
        in += strspn(in, " \t");
        while (end > in && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        len = (size_t)(end - in);
        if (len == 6 && memcmp(in, "global", 6) == 0) {
                if (p->global_line)
                        return fail(p, p->lineno, NULL,
                                    "[global]: section given twice (first on line %d)",
                                    p->global_line);
                p->global_line = p->lineno;
                p->sec = SEC_GLOBAL;
                return 0;
        }
        if (len >= 8 && memcmp(in, "provider", 8) == 0 &&
            (len == 8 || in[8] == ' ' || in[8] == '\t')) {
                n = in + 8 + strspn(in + 8, " \t");
                nlen = (size_t)(end - n);
                if (nlen == 0)
                        return fail(p, p->lineno, NULL, "[provider]: missing provider name");
                if (nlen > PROVIDER_NAME_MAX)
                        return fail(p, p->lineno, NULL,
                                    "[provider %.*s]: invalid provider name ("
                                    PROVIDER_NAME_RULE ")", (int)(nlen > 80 ? 80 : nlen), n);
                memcpy(name, n, nlen);
                name[nlen] = '\0';
                return begin_provider(p, name);
        }
        return fail(p, p->lineno, NULL,
                    "[%.*s]: unknown section (expected [global] or [provider NAME])",
                    (int)(len > 80 ? 80 : len), in);
}

/* Drop indentation, a comment ('#' or ';' at the start or after a blank) and trailing
 * blanks. Returns where the rest starts (possibly ""). */
static char *clean_line(char *s)
{
        bool after_blank = true;
        char *end;

        s += strspn(s, " \t\r\n\f\v");
        for (end = s; *end; end++) {
                if ((*end == '#' || *end == ';') && after_blank)
                        break;
                after_blank = isspace((unsigned char)*end);
        }
        *end = '\0';
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

/* Judge one cleaned line; section headers are taken here. */
static int check_line(struct parser *p, const char *s)
{
        size_t eq;

        for (const char *c = s; *c; c++)
                if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                        return fail(p, p->lineno, NULL, "control character in line");
        if (*s == '[')
                return begin_section(p, s);
        if (*s == '\0')
                return 0;
        eq = strcspn(s, "=");
        if (s[eq] != '=' || eq == 0 || memchr(s, ':', eq))
                return fail(p, p->lineno, NULL,
                            "expected 'key = value', '[global]' or '[provider NAME]'");
        return 0;
}

/* The ini_reader: like fgets, but one whole cleaned line per call (see the top). */
static char *read_line(char *str, int num, void *stream)
{
        struct parser *p = stream;
        ssize_t n;
        size_t len;
        char *s;

        if (p->r < 0)
                return NULL;
        errno = 0;
        n = getline(&p->buf, &p->buf_sz, p->f);
        if (n < 0) {
                if (!feof(p->f))
                        (void)fail_r(p, errno == ENOMEM ? -ENOMEM : -EIO, 0, NULL, "read error");
                return NULL;
        }
        p->lineno++;
        s = p->buf;
        if (memchr(s, '\0', (size_t)n)) {
                (void)fail(p, p->lineno, NULL, "NUL byte in line");
                return NULL;
        }
        if (p->lineno == 1 && (size_t)n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
                s += 3; /* UTF-8 byte order mark */
        s = clean_line(s);
        if (check_line(p, s) < 0)
                return NULL;
        len = strlen(s);
        if (num < 2 || len > (size_t)num - 2) {
                (void)fail(p, p->lineno, NULL, "line too long (at most %d bytes without comments)",
                           num > 2 ? num - 2 : 0);
                return NULL;
        }
        memcpy(str, s, len);
        memcpy(str + len, "\n", 2);
        return str;
}

/* ---- end of file: per-provider and whole-file checks, defaults ------------------------- */

static int check_one_url(struct parser *p, int line, const char *key, const char *url, bool ws,
                         bool insecure)
{
        switch (apilogin_url_check(url, ws, insecure)) {
        case APILOGIN_URL_OK:
                return 0;
        case APILOGIN_URL_MALFORMED:
                return fail(p, line, key, "invalid URL '%.120s'", url);
        case APILOGIN_URL_SCHEME:
                return fail(p, line, key, "'%.120s': scheme must be %s", url,
                            ws ? "wss:// (or ws://, type ws_auth)" : "https:// (or http://)");
        default:
                return fail(p, line, key,
                            "'%.120s': plain %s to a host that is not loopback is refused (use %s, "
                            "or insecure_http = yes)",
                            url, ws ? "ws://" : "http://", ws ? "wss://" : "https://");
        }
}

static int check_urls(struct parser *p, const struct apilogin_provider_cfg *pc, const int *lines)
{
        bool ws = pc->type == APILOGIN_PT_WS_AUTH;
        int r;

        r = check_one_url(p, lines[PK_URL], "url", pc->url, ws, pc->insecure_http);
        for (size_t i = 0; i < pc->fallback_urls.n && r == 0; i++)
                r = check_one_url(p, lines[PK_FALLBACK], "fallback_urls", pc->fallback_urls.v[i],
                                  ws, pc->insecure_http);
        if (r == 0 && pc->refresh_url)
                r = check_one_url(p, lines[PK_REFRESH], "refresh_url", pc->refresh_url, false,
                                  pc->insecure_http);
        return r;
}

static int finish_provider(struct parser *p, const struct apilogin_provider_cfg *pc,
                           const int *lines)
{
        if (!lines[PK_TYPE])
                return fail(p, pc->line, "type", "missing in [provider %s]", pc->name);
        for (size_t k = 0; k < N_PKEYS; k++)
                if (lines[k] && !(provider_keys[k].types & TYPE_BIT(pc->type)))
                        return fail(p, lines[k], provider_keys[k].name, "not used by type %s",
                                    ptype_names[pc->type]);
        if (!pc->url)
                return fail(p, pc->line, "url", "missing in [provider %s]", pc->name);
        if (pc->type == APILOGIN_PT_WS_AUTH && pc->n_users == 0)
                return fail(p, pc->line, "users",
                            "missing in [provider %s] (required for type ws_auth)", pc->name);
        return check_urls(p, pc, lines);
}

static int set_default(struct parser *p, char **field, const char *value)
{
        if (*field)
                return 0;
        *field = strdup(value);
        return *field ? 0 : fail_oom(p);
}

static int apply_defaults(struct parser *p)
{
        struct apilogin_config *c = p->cfg;
        int r = 0;

        r = r ?: set_default(p, &c->home, "/home/%u");
        r = r ?: set_default(p, &c->shell, "/bin/bash");
        r = r ?: set_default(p, &c->group, "apilogin-users");
        r = r ?: set_default(p, &c->socket_path, APILOGIN_RUNDIR "/socket");
        r = r ?: set_default(p, &c->state_dir, APILOGIN_STATEDIR);
        r = r ?: set_default(p, &c->run_dir, APILOGIN_RUNDIR);
        if (r == 0 && !apilogin_strv_contains(&c->deny_users, "root") &&
            strv_push(&c->deny_users, "root") < 0)
                r = fail_oom(p);
        return r;
}

static int finish(struct parser *p)
{
        struct apilogin_config *c = p->cfg;
        int r;

        /* No [provider] section is valid: the shipped config is inert, and a daemon
         * running with it answers every name "not ours" (login_name_is_ours). */
        for (size_t i = 0; i < c->n_prov; i++) {
                r = finish_provider(p, &c->prov[i], p->pkey_line[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->providers.n; i++)
                if (!apilogin_config_provider(c, c->providers.v[i]))
                        return fail(p, p->gkey_line[GK_PROVIDERS], "providers",
                                    "no [provider %s] section", c->providers.v[i]);
        if (c->providers.n == 0) /* none named: every section, in file order */
                for (size_t i = 0; i < c->n_prov; i++)
                        if (strv_push(&c->providers, c->prov[i].name) < 0)
                                return fail_oom(p);
        return apply_defaults(p);
}

/* ---- public API ------------------------------------------------------------------------- */

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

/* Why a file with st may not be trusted (into why, n bytes), or NULL. Whoever can write
 * the config (or a file it names) can point url at their own server and collect passwords,
 * so it must belong to root (or to whoever runs this: a user checking a copy of their own)
 * and be writable by its owner alone. */
static const char *untrusted(const struct stat *st, char *why, size_t n)
{
        if (st->st_uid != 0 && st->st_uid != geteuid())
                snprintf(why, n, "owned by uid %u, not by root", (unsigned)st->st_uid);
        else if (st->st_mode & (S_IWGRP | S_IWOTH))
                snprintf(why, n, "writable by %s (mode %04o)",
                         (st->st_mode & S_IWOTH) ? "others" : "its group",
                         (unsigned)(st->st_mode & 07777));
        else
                return NULL;
        return why;
}

/* Refuse a file the config names (key, given on line) that is not trusted. One that does
 * not exist (yet) is left to the code that reads it, which reports it then. */
static int check_named(struct parser *p, int line, const char *key, const char *path)
{
        char why[96];
        struct stat st;

        if (!path || stat(path, &st) < 0)
                return 0;
        if (untrusted(&st, why, sizeof(why)))
                return fail_r(p, -EPERM, line, key, "refusing %s: %s", path, why);
        return 0;
}

/* Every file the config names: users_file, each provider's ca_file (add new ones here). */
static int check_named_files(struct parser *p)
{
        const struct apilogin_config *c = p->cfg;
        int r = check_named(p, 0, "users_file", c->users_file);

        for (size_t i = 0; r == 0 && i < c->n_prov; i++)
                r = check_named(p, p->pkey_line[i][PK_CA], "ca_file", c->prov[i].ca_file);
        return r;
}

/* Open path for reading; refuse what is not a regular file of sane size, or is not
 * trusted (untrusted). */
static int open_config(struct parser *p, FILE **ret)
{
        _cleanup_(fclosep) FILE *f = fopen(p->path, "re");
        struct stat st;
        char why[96];

        if (!f)
                return fail_r(p, negative_errno(), 0, NULL, "cannot open: %m");
        if (fstat(fileno(f), &st) < 0)
                return fail_r(p, negative_errno(), 0, NULL, "cannot stat: %m");
        if (S_ISDIR(st.st_mode))
                return fail_r(p, -EISDIR, 0, NULL, "is a directory");
        if (!S_ISREG(st.st_mode))
                return fail(p, 0, NULL, "not a regular file");
        if (st.st_size > FILE_MAX)
                return fail(p, 0, NULL, "file too large (more than %d bytes)", FILE_MAX);
        if (untrusted(&st, why, sizeof(why)))
                return fail_r(p, -EPERM, 0, NULL, "refusing the config: %s", why);
        *ret = TAKE_PTR(f);
        return 0;
}

static struct apilogin_config *config_new(const char *path)
{
        struct apilogin_config *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        *c = (struct apilogin_config){
                .uid_min = 200000,
                .uid_max = 299999,
                .timeout_ms = 10000,
                .offline_max_age_s = 3 * 86400,
                .lockout_max = 5,
                .lockout_window_s = 15 * 60,
        };
        c->path = strdup(path);
        return c->path ? c : apilogin_config_free(c);
}

static int parse_all(struct parser *p)
{
        int r = open_config(p, &p->f);

        if (r < 0)
                return r;
        r = ini_parse_stream(read_line, p, on_key, p);
        if (p->r < 0)
                return p->r;
        if (r == -2)
                return fail_r(p, -ENOMEM, 0, NULL, "out of memory");
        if (r != 0) /* inih found a line it could not read that we let through */
                return fail(p, r > 0 ? r : 0, NULL, "syntax error");
        r = finish(p);
        return r ?: check_named_files(p);
}

int apilogin_config_load(const char *path, struct apilogin_config **ret, char *err, size_t errsz)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        struct parser p = { .path = path, .err = err, .errsz = errsz };
        int r;

        if (err && errsz > 0)
                err[0] = '\0';
        if (!path || !ret)
                return -EINVAL;
        cfg = config_new(path);
        if (!cfg)
                return fail_r(&p, -ENOMEM, 0, NULL, "out of memory");
        p.cfg = cfg;
        r = parse_all(&p);
        if (p.f)
                (void)fclose(p.f);
        free(p.buf);
        free(p.pkey_line);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cfg);
        return 0;
}

static void provider_clear(struct apilogin_provider_cfg *pc)
{
        free(pc->name);
        free(pc->url);
        strv_clear(&pc->fallback_urls);
        free(pc->refresh_url);
        free(pc->ca_file);
        free(pc->domain);
        pairs_free(pc->users, pc->n_users);
}

struct apilogin_config *apilogin_config_free(struct apilogin_config *cfg)
{
        if (!cfg)
                return NULL;
        free(cfg->path);
        strv_clear(&cfg->providers);
        free(cfg->home);
        free(cfg->shell);
        free(cfg->group);
        pairs_free(cfg->role_groups, cfg->n_role_groups);
        strv_clear(&cfg->deny_users);
        strv_clear(&cfg->first_login_from);
        strv_clear(&cfg->services);
        free(cfg->users_file);
        free(cfg->socket_path);
        free(cfg->state_dir);
        free(cfg->run_dir);
        free(cfg->metrics_file);
        for (size_t i = 0; i < cfg->n_prov; i++)
                provider_clear(&cfg->prov[i]);
        free(cfg->prov);
        strv_clear(&cfg->warnings);
        free(cfg);
        return NULL;
}

const struct apilogin_provider_cfg *apilogin_config_provider(const struct apilogin_config *cfg,
                                                             const char *name)
{
        if (!cfg || !name)
                return NULL;
        for (size_t i = 0; i < cfg->n_prov; i++)
                if (strcmp(cfg->prov[i].name, name) == 0)
                        return &cfg->prov[i];
        return NULL;
}

const char *apilogin_ptype_name(enum apilogin_ptype t)
{
        if ((unsigned)t >= _APILOGIN_PT_MAX)
                return "invalid";
        return ptype_names[t];
}

int apilogin_ptype_from_name(const char *s)
{
        for (int t = 0; s && t < _APILOGIN_PT_MAX; t++)
                if (strcmp(ptype_names[t], s) == 0)
                        return t;
        return -EINVAL;
}

bool apilogin_strv_contains(const struct apilogin_strv *v, const char *name)
{
        if (!v || !name)
                return false;
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i], name) == 0)
                        return true;
        return false;
}

bool apilogin_config_offline(const struct apilogin_config *cfg,
                             const struct apilogin_provider_cfg *p)
{
        return p && p->offline_login_set ? p->offline_login : cfg->offline_login;
}

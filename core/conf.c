/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.c: the apilogin.conf parser (contract in conf.h).
 *
 * The file is read here, line by line, without libinih: inih as distributions build it
 * (v55, Debian) cannot read apilogin.conf as SPEC writes it. "#" after a value is no
 * comment there (only ";" is), its handler gets no line numbers, lines over 200 bytes are
 * split in two, section names are cut at 49 bytes (a provider name may have 63) and an
 * indented line continues the previous value. What a line may be:
 *   - blank, or a comment: "#" or ";" at the start or after a blank, to the end of line;
 *   - "[global]" or "[provider NAME]";
 *   - "key = value" (not "key: value"); the value is everything after the first "=",
 *     blanks trimmed, at most VALUE_MAX bytes. A list key given on several lines appends.
 * Every key is a row of a table (struct apilogin_key): [global]'s and the keys every
 * provider has are here; a provider's other keys are its type's, and wait in the section's
 * "pending" list until the end of the section, when its type (given on any line) is
 * known. Values are checked as they arrive; what depends on other keys of the same
 * section (the type, insecure_http) and the cross-checks of the whole file are done at the
 * end. The first error stops the parse; everything is freed on every path. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
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
#include "sockpath.h"

#define VALUE_MAX 4096         /* longest value, in bytes */
#define LIST_MAX 256           /* most entries in a list, most provider sections */
#define FILE_MAX (1024 * 1024) /* largest config file */
#define TYPE_KEYS_MAX 32       /* most keys of one type's own table */
#define PROVIDER_NAME_MAX 63
#define PROVIDER_NAME_RULE "1 to 63 of A-Z a-z 0-9 _ -"
#define SOCKET_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define GROUP_NAME_MAX 32

#define TIMEOUT_MIN_S 1
#define TIMEOUT_MAX_S 120
#define AGE_MAX_S (365ULL * 86400)
#define LOCKOUT_WINDOW_MAX_S (30ULL * 86400)

#define FIELD(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

enum section { SEC_NONE, SEC_GLOBAL, SEC_PROVIDER };

typedef struct apilogin_conf_ctx parser;

enum { N_GKEYS = 23, N_CKEYS = 9 };
enum { GK_PROVIDERS = 0 }; /* index in global_keys */
enum {
        CK_TYPE, CK_URL, CK_FALLBACK, CK_CA, CK_PROXY, CK_INSECURE, CK_KEEP_WARM, CK_RENEW,
        CK_OFFLINE
};

/* A type's key given in a section, kept until the section's type is known. */
struct pending {
        char *name;
        char *value;
        int line;
};

/* What the parser remembers of one provider section, parallel to cfg->prov. */
struct prov_state {
        int line[N_CKEYS];        /* line each common key was given on; 0 = not */
        int tline[TYPE_KEYS_MAX]; /* the same for the type's own keys */
        struct pending *pend;
        size_t n_pend;
};

struct apilogin_conf_ctx {
        FILE *f;
        const char *path;
        char *buf;                 /* getline buffer */
        size_t buf_sz;
        int lineno;
        enum section sec;
        int global_line;           /* line of the [global] header, 0 if none yet */
        int gkey_line[N_GKEYS];    /* line each [global] key was given on; 0 = not */
        struct prov_state *ps;     /* parallel to cfg->prov */
        apilogin_types_fn types;
        struct apilogin_config *cfg;
        ssize_t fin;               /* provider being finished, -1 while reading lines */
        char *err;
        size_t errsz;
        int r;                     /* first error (-errno), 0 while none */
};

static const struct apilogin_key common_keys[N_CKEYS];

/* ---- errors --------------------------------------------------------------------------- */

/* Record the first error as "PATH:LINE: KEY: message" (LINE omitted when 0, KEY when
 * NULL) and return r (-EINVAL for content errors). Later errors are dropped. */
static int vfail_r(parser *p, int r, int line, const char *key, const char *fmt, va_list ap)
        __attribute__((format(printf, 5, 0)));

static int vfail_r(parser *p, int r, int line, const char *key, const char *fmt, va_list ap)
{
        char msg[512];

        if (p->r < 0)
                return p->r;
        p->r = r;
        if (!p->err || p->errsz == 0)
                return r;
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        if (line > 0)
                (void)snprintf(p->err, p->errsz, "%s:%d: %s%s%s", p->path, line, key ? key : "",
                               key ? ": " : "", msg);
        else
                (void)snprintf(p->err, p->errsz, "%s: %s%s%s", p->path, key ? key : "",
                               key ? ": " : "", msg);
        return r;
}

static int fail_r(parser *p, int r, int line, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int fail_r(parser *p, int r, int line, const char *key, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = vfail_r(p, r, line, key, fmt, ap);
        va_end(ap);
        return r;
}

#define fail(p, line, key, ...) fail_r((p), -EINVAL, (line), (key), __VA_ARGS__)
#define fail_oom(p) fail_r((p), -ENOMEM, (p)->lineno, NULL, "out of memory")

/* While lines are read: the current line. While a section is finished: the line the key
 * was given on, else the section header's. */
static int key_line(const parser *p, const char *key)
{
        const struct apilogin_provider_cfg *pc;
        const struct prov_state *ps;

        if (p->fin < 0)
                return p->lineno;
        pc = &p->cfg->prov[p->fin];
        ps = &p->ps[p->fin];
        for (size_t i = 0; key && pc->type && i < pc->type->n_keys && i < TYPE_KEYS_MAX; i++)
                if (strcmp(pc->type->keys[i].name, key) == 0 && ps->tline[i])
                        return ps->tline[i];
        for (size_t i = 0; key && i < N_CKEYS; i++)
                if (strcmp(common_keys[i].name, key) == 0 && ps->line[i])
                        return ps->line[i];
        return pc->line;
}

int apilogin_conf_fail(struct apilogin_conf_ctx *p, const char *key, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vfail_r(p, -EINVAL, key_line(p, key), key, fmt, ap);
        va_end(ap);
        return r;
}

int apilogin_conf_fail_oom(struct apilogin_conf_ctx *p)
{
        return fail_oom(p);
}

/* ---- small helpers ------------------------------------------------------------------ */

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

void apilogin_pairs_free(struct apilogin_pair *pairs, size_t n)
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

int apilogin_key_bool(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (!parse_bool_word(v, FIELD(obj, k->off, bool)))
                return fail(p, p->lineno, k->name, "invalid boolean '%.80s' (use yes or no)", v);
        return 0;
}

static int store_str(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        char *s = strdup(v);

        if (!s)
                return fail_oom(p);
        *FIELD(obj, k->off, char *) = s;
        return 0;
}

static int parse_path(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        return store_str(p, k, obj, v);
}

static int parse_socket(parser *p, const struct apilogin_key *k, void *obj, const char *v)
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
static int parse_passwd_path(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        if (strchr(v, ':'))
                return fail(p, p->lineno, k->name, "'%.80s' must not contain ':'", v);
        return store_str(p, k, obj, v);
}

static int parse_home(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        for (const char *c = strchr(v, '%'); c; c = strchr(c + 2, '%'))
                if (c[1] != 'u')
                        return fail(p, p->lineno, k->name,
                                    "unknown escape in '%.80s' (only %%u, the user name, is known)",
                                    v);
        return parse_passwd_path(p, k, obj, v);
}

static int parse_group(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (!group_name_ok(v))
                return fail(p, p->lineno, k->name, "invalid group name '%.80s'", v);
        return store_str(p, k, obj, v);
}

/* URLs: stored as given; judged at the end of the section, when the type and insecure_http
 * of the section are known. */
int apilogin_key_url(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (v[0] == '\0')
                return fail(p, p->lineno, k->name, "empty value");
        return store_str(p, k, obj, v);
}

/* The type's name, looked up in the caller's list. */
static int parse_type(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        char names[256] = "";
        size_t len = 0;
        const struct apilogin_type *t;

        for (size_t i = 0; (t = p->types ? p->types(i) : NULL); i++) {
                if (strcmp(t->name, v) == 0) {
                        ((struct apilogin_provider_cfg *)obj)->type = t;
                        return 0;
                }
                if (len < sizeof(names))
                        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                                i ? ", " : "", t->name);
        }
        return fail(p, p->lineno, k->name, "unknown type '%.80s' (%s)", v,
                    names[0] ? names : "this program knows no type");
}

/* v as the index of one of the n words; the error lists them. */
static int parse_word_of(parser *p, const struct apilogin_key *k, const char *v,
                         const char *const *words, size_t n, int *ret)
{
        char use[128];
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                if (strcmp(v, words[i]) == 0) {
                        *ret = (int)i;
                        return 0;
                }
                if (len < sizeof(use))
                        len += (size_t)snprintf(use + len, sizeof(use) - len, "%s%s",
                                                i == 0 ? "" : i + 1 == n ? " or " : ", ",
                                                words[i]);
        }
        return fail(p, p->lineno, k->name, "invalid value '%.80s' (use %s)", v, use);
}

static int parse_renew(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        static const char *const words[] = { "none", "relogin" };
        struct apilogin_provider_cfg *pc = obj;
        int i, r = parse_word_of(p, k, v, words, ELEMENTSOF(words), &i);

        if (r == 0)
                pc->renew = i == 0 ? APILOGIN_RENEW_NONE : APILOGIN_RENEW_RELOGIN;
        return r;
}

static int parse_duration_in(parser *p, const char *key, const char *v, uint64_t min,
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

static int parse_timeout(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        uint64_t s = 0;
        int r = parse_duration_in(p, k->name, v, TIMEOUT_MIN_S, TIMEOUT_MAX_S, &s);

        if (r < 0)
                return r;
        ((struct apilogin_config *)obj)->timeout_ms = s * 1000;
        return 0;
}

static int parse_age(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        return parse_duration_in(p, k->name, v, 1, AGE_MAX_S, FIELD(obj, k->off, uint64_t));
}

/* "N/DURATION" or "off" into *max and *window, or the error for key k. */
static int parse_lockout_rule(parser *p, const struct apilogin_key *k, const char *v,
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

static int parse_lockout(parser *p, const struct apilogin_key *k, void *obj, const char *v)
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
static int parse_lockout_user(parser *p, const struct apilogin_key *k, void *obj,
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
static int parse_offline_after(parser *p, const struct apilogin_key *k, void *obj,
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

static int parse_on_revoke(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        static const char *const words[] = { "log", "end_session" };
        struct apilogin_config *c = obj;
        int i, r = parse_word_of(p, k, v, words, ELEMENTSOF(words), &i);

        if (r == 0)
                c->on_remote_revoke = i == 0 ? APILOGIN_REVOKE_LOG : APILOGIN_REVOKE_END_SESSION;
        return r;
}

/* A provider's own offline_login overrides [global]'s. */
static int parse_prov_offline(parser *p, const struct apilogin_key *k, void *obj,
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
static int parse_uid_range(parser *p, const struct apilogin_key *k, void *obj, const char *v)
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
static int parse_list(parser *p, const struct apilogin_key *k, void *obj, const char *v)
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
static int take_pair(parser *p, const struct apilogin_key *k, char *t,
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
int apilogin_conf_parse_pairs(parser *p, const struct apilogin_key *k, const char *v,
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

static int parse_role_groups(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        struct apilogin_config *c = obj;

        return apilogin_conf_parse_pairs(p, k, v, word_ok, group_name_ok, &c->role_groups,
                                         &c->n_role_groups);
}


int apilogin_key_word(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (v[0] == '\0' || !printable(v))
                return fail(p, p->lineno, k->name, "invalid value '%.80s' (printable, no blanks)",
                            v);
        return store_str(p, k, obj, v);
}

int apilogin_key_text(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        for (const char *c = v; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                        return fail(p, p->lineno, k->name, "control character in value");
        if (v[0] == '\0')
                return fail(p, p->lineno, k->name, "empty value");
        return store_str(p, k, obj, v);
}

void apilogin_key_clear_str(const struct apilogin_key *k, void *obj)
{
        char **f = FIELD(obj, k->off, char *);

        free(*f);
        *f = NULL;
}

/* proxy: an http:// or https:// URL (plain http is fine here: the API's own https goes
 * through it in a CONNECT tunnel, verified end to end). */
static int parse_proxy(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        if (apilogin_url_check(v, false, true) != APILOGIN_URL_OK)
                return fail(p, p->lineno, k->name,
                            "invalid proxy '%.120s' (expected http://HOST:PORT or https://...)", v);
        return store_str(p, k, obj, v);
}

/* Why a file with st may not be trusted (into why, n bytes), or NULL. Whoever can write
 * the config (or a file it names) can point url at their own server and collect passwords,
 * so it must belong to root (or to whoever runs this: a user checking a copy of their own)
 * and be writable by its owner alone; a file holding a secret (secret) must not be
 * readable by anyone else either. */
static const char *untrusted(const struct stat *st, bool secret, char *why, size_t n)
{
        if (st->st_uid != 0 && st->st_uid != geteuid())
                snprintf(why, n, "owned by uid %u, not by root", (unsigned)st->st_uid);
        else if (st->st_mode & (S_IWGRP | S_IWOTH))
                snprintf(why, n, "writable by %s (mode %04o)",
                         (st->st_mode & S_IWOTH) ? "others" : "its group",
                         (unsigned)(st->st_mode & 07777));
        else if (secret && (st->st_mode & (S_IRGRP | S_IROTH | S_IXGRP | S_IXOTH)))
                snprintf(why, n, "readable by %s (mode %04o; use 0600)",
                         (st->st_mode & (S_IROTH | S_IXOTH)) ? "others" : "its group",
                         (unsigned)(st->st_mode & 07777));
        else
                return NULL;
        return why;
}

int apilogin_key_secret_file(parser *p, const struct apilogin_key *k, void *obj, const char *v)
{
        struct stat st;
        char why[96];

        if (!abs_path_ok(v))
                return fail(p, p->lineno, k->name, "'%.80s' is not an absolute path", v);
        if (stat(v, &st) < 0)
                return fail_r(p, negative_errno(), p->lineno, k->name, "cannot use %s: %m", v);
        if (!S_ISREG(st.st_mode))
                return fail(p, p->lineno, k->name, "%s is not a regular file", v);
        if (untrusted(&st, true, why, sizeof(why)))
                return fail_r(p, -EPERM, p->lineno, k->name, "refusing %s: %s", v, why);
        return store_str(p, k, obj, v);
}

/* ---- key tables ------------------------------------------------------------------------ */

#define GOFF(f) offsetof(struct apilogin_config, f)
#define POFF(f) offsetof(struct apilogin_provider_cfg, f)

static const struct apilogin_key global_keys[N_GKEYS] = {
        [GK_PROVIDERS] = { .name = "providers", .parse = parse_list, .off = GOFF(providers),
                           .tok_ok = provider_name_ok, .what = "provider name",
                           .append = true,
                           .doc = "provider sections to try, in order (default: all, in file order)" },
        { .name = "uid_range", .parse = parse_uid_range, .def = "200000-299999",
          .doc = "uids given to remote users, A-B" },
        { .name = "home", .parse = parse_home, .off = GOFF(home), .def = "/home/%u",
          .doc = "home directory of remote users; %u is the name" },
        { .name = "shell", .parse = parse_passwd_path, .off = GOFF(shell), .def = "/bin/bash",
          .doc = "login shell of remote users" },
        { .name = "group", .parse = parse_group, .off = GOFF(group), .def = "apilogin-users",
          .doc = "primary group of remote users" },
        { .name = "role_groups", .parse = parse_role_groups, .what = "ROLE:GROUP",
          .append = true, .doc = "supplementary group for each remote role, ROLE:GROUP, ..." },
        { .name = "deny_users", .parse = parse_list, .off = GOFF(deny_users),
          .tok_ok = login_name_ok, .what = "user name", .append = true, .def = "root",
          .doc = "names never sent to an API (root always is)" },
        { .name = "allow_local_users", .parse = apilogin_key_bool,
          .off = GOFF(allow_local_users), .def = "no",
          .doc = "whether names in /etc/passwd may log in remotely" },
        { .name = "timeout", .parse = parse_timeout, .def = "10s",
          .doc = "deadline of one login over every endpoint" },
        { .name = "offline_login", .parse = apilogin_key_bool, .off = GOFF(offline_login),
          .def = "no", .doc = "log in from a cached verifier when the API is unreachable" },
        { .name = "offline_max_age", .parse = parse_age, .off = GOFF(offline_max_age_s),
          .def = "3d", .doc = "how old a cached verifier may be" },
        { .name = "offline_after", .parse = parse_offline_after, .def = "off",
          .doc = "answer from the cache after this long and finish the login in the background" },
        { .name = "on_remote_revoke", .parse = parse_on_revoke, .def = "log",
          .doc = "what a revoked token found in the background does: log or end_session" },
        { .name = "lockout", .parse = parse_lockout, .def = "5/15m",
          .doc = "failures per name and source before a lockout, N/DURATION or off" },
        { .name = "lockout_user", .parse = parse_lockout_user,
          .doc = "failures per name over every source, N/DURATION or off" },
        { .name = "first_login_from", .parse = parse_list, .off = GOFF(first_login_from),
          .tok_ok = word_ok, .what = "program name", .append = true,
          .doc = "programs through which a new remote user may log in for the first time" },
        { .name = "services", .parse = parse_list, .off = GOFF(services), .tok_ok = word_ok,
          .what = "PAM service name", .append = true,
          .doc = "PAM services that may use apilogin (default: all)" },
        { .name = "enumerate", .parse = apilogin_key_bool, .off = GOFF(enumerate), .def = "no",
          .doc = "whether getent passwd lists remote users" },
        { .name = "users_file", .parse = parse_path, .off = GOFF(users_file),
          .doc = "file of remote users to create ahead of their first login" },
        { .name = "socket", .parse = parse_socket, .off = GOFF(socket_path),
          .def = APILOGIN_RUNDIR "/socket", .doc = "the daemon's Unix socket" },
        { .name = "state_dir", .parse = parse_path, .off = GOFF(state_dir),
          .def = APILOGIN_STATEDIR, .doc = "where the daemon keeps its state" },
        { .name = "run_dir", .parse = parse_path, .off = GOFF(run_dir), .def = APILOGIN_RUNDIR,
          .doc = "where the daemon keeps its runtime files" },
        { .name = "metrics_file", .parse = parse_path, .off = GOFF(metrics_file),
          .doc = "Prometheus text file rewritten every few seconds (default: none)" },
};

static const struct apilogin_key common_keys[N_CKEYS] = {
        [CK_TYPE] = { .name = "type", .parse = parse_type, .required = true,
                      .doc = "the login API: one of the types below" },
        [CK_URL] = { .name = "url", .parse = apilogin_key_url, .off = POFF(url),
                     .required = true, .doc = "the API's endpoint" },
        [CK_FALLBACK] = { .name = "fallback_urls", .parse = parse_list,
                          .off = POFF(fallback_urls), .tok_ok = url_token_ok, .what = "URL",
                          .append = true, .doc = "endpoints tried in turn when url fails" },
        [CK_CA] = { .name = "ca_file", .parse = parse_path, .off = POFF(ca_file),
                    .doc = "PEM file of the CAs to trust instead of the system store" },
        [CK_PROXY] = { .name = "proxy", .parse = parse_proxy, .off = POFF(proxy),
                       .doc = "http(s):// proxy to reach the API through (never the environment's)" },
        [CK_INSECURE] = { .name = "insecure_http", .parse = apilogin_key_bool,
                          .off = POFF(insecure_http), .def = "no",
                          .doc = "allow plain http:// or ws:// to a host that is not loopback" },
        [CK_KEEP_WARM] = { .name = "keep_warm", .parse = apilogin_key_bool,
                           .off = POFF(keep_warm), .def = "yes",
                           .doc = "keep a connection (WebSocket: a spare) to the endpoint open between logins" },
        [CK_RENEW] = { .name = "renew", .parse = parse_renew,
                       .doc = "none, or relogin with the secret kept in the kernel keyring" },
        [CK_OFFLINE] = { .name = "offline_login", .parse = parse_prov_offline,
                         .doc = "this provider's own offline_login" },
};

const struct apilogin_key *apilogin_config_global_keys(size_t *ret_n)
{
        *ret_n = N_GKEYS;
        return global_keys;
}

const struct apilogin_key *apilogin_config_common_keys(size_t *ret_n)
{
        *ret_n = N_CKEYS;
        return common_keys;
}

/* ---- keys ------------------------------------------------------------------------------- */

static const struct apilogin_key *key_find(const struct apilogin_key *keys, size_t n,
                                           const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(keys[i].name, name) == 0)
                        return &keys[i];
        return NULL;
}

/* Key k of table keys, given on this line: refuse a second time unless it appends. */
static int set_key(parser *p, const struct apilogin_key *keys, const struct apilogin_key *k,
                   int *lines, void *obj, const char *secname, const char *value)
{
        if (lines[k - keys] && !k->append)
                return fail(p, p->lineno, k->name, "duplicate key in %s (first given on line %d)",
                            secname, lines[k - keys]);
        lines[k - keys] = p->lineno;
        return k->parse(p, k, obj, value);
}

/* A key that is not common: kept for the type's table, read at the end of the section. */
static int defer_key(parser *p, struct prov_state *ps, const char *name, const char *value)
{
        struct pending *np;

        if (ps->n_pend >= LIST_MAX * 4)
                return fail(p, p->lineno, name, "too many keys in one section");
        np = realloc(ps->pend, (ps->n_pend + 1) * sizeof(*np));
        if (!np)
                return fail_oom(p);
        ps->pend = np;
        np[ps->n_pend] = (struct pending){ .name = strdup(name), .value = strdup(value),
                                           .line = p->lineno };
        ps->n_pend++;
        if (!np[ps->n_pend - 1].name || !np[ps->n_pend - 1].value)
                return fail_oom(p);
        return 0;
}

static int on_provider_key(parser *p, const char *name, const char *value)
{
        struct apilogin_config *c = p->cfg;
        struct prov_state *ps = &p->ps[c->n_prov - 1];
        const struct apilogin_key *k = key_find(common_keys, N_CKEYS, name);
        char secname[PROVIDER_NAME_MAX + 16];

        if (!k)
                return defer_key(p, ps, name, value);
        (void)snprintf(secname, sizeof(secname), "[provider %s]", c->prov[c->n_prov - 1].name);
        return set_key(p, common_keys, k, ps->line, &c->prov[c->n_prov - 1], secname, value);
}

/* One "key = value" line, in the section being read. */
static int on_key(parser *p, const char *name, const char *value)
{
        const struct apilogin_key *k;

        if (strlen(value) > VALUE_MAX)
                return fail(p, p->lineno, name, "value too long (at most %d bytes)", VALUE_MAX);
        switch (p->sec) {
        case SEC_GLOBAL:
                k = key_find(global_keys, N_GKEYS, name);
                return k ? set_key(p, global_keys, k, p->gkey_line, p->cfg, "[global]", value)
                         : fail(p, p->lineno, name, "unknown key in [global]");
        case SEC_PROVIDER:
                return on_provider_key(p, name, value);
        default:
                return fail(p, p->lineno, name,
                            "key outside of a section (put it under [global] or [provider NAME])");
        }
}

/* ---- section headers and the line reader ------------------------------------------------ */

static int begin_provider(parser *p, const char *name)
{
        struct apilogin_config *c = p->cfg;
        struct apilogin_provider_cfg *np;
        struct prov_state *ns;

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
        ns = realloc(p->ps, (c->n_prov + 1) * sizeof(*ns));
        if (!ns)
                return fail_oom(p);
        p->ps = ns;
        ns[c->n_prov] = (struct prov_state){ 0 };
        np[c->n_prov] = (struct apilogin_provider_cfg){ .name = strdup(name), .line = p->lineno };
        c->n_prov++;
        if (!np[c->n_prov - 1].name)
                return fail_oom(p);
        p->sec = SEC_PROVIDER;
        return 0;
}

/* s: a cleaned line starting with '['. */
static int begin_section(parser *p, const char *s)
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

/* s: one cleaned line (no comment, no outer blanks): a section header, a key or nothing. */
static int take_line(parser *p, char *s)
{
        char *eq, *end, *v;

        for (const char *c = s; *c; c++)
                if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                        return fail(p, p->lineno, NULL, "control character in line");
        if (*s == '[')
                return begin_section(p, s);
        if (*s == '\0')
                return 0;
        eq = strchr(s, '=');
        if (!eq || eq == s || memchr(s, ':', (size_t)(eq - s)))
                return fail(p, p->lineno, NULL,
                            "expected 'key = value', '[global]' or '[provider NAME]'");
        for (end = eq; end > s && (end[-1] == ' ' || end[-1] == '\t'); end--)
                ;
        *end = '\0';
        v = eq + 1;
        v += strspn(v, " \t");
        return on_key(p, s, v);
}

/* Read the file to its end or the first error, one line at a time. */
static int read_lines(parser *p)
{
        ssize_t n;
        char *s;

        for (;;) {
                errno = 0;
                n = getline(&p->buf, &p->buf_sz, p->f);
                if (n < 0)
                        return feof(p->f) ? 0
                                          : fail_r(p, errno == ENOMEM ? -ENOMEM : -EIO, 0, NULL,
                                                   "read error");
                p->lineno++;
                s = p->buf;
                if (memchr(s, '\0', (size_t)n))
                        return fail(p, p->lineno, NULL, "NUL byte in line");
                if (p->lineno == 1 && (size_t)n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
                        s += 3; /* UTF-8 byte order mark */
                s = apilogin_config_line_clean(s);
                if (strlen(s) > APILOGIN_CONFIG_LINE_MAX)
                        return fail(p, p->lineno, NULL,
                                    "line too long (at most %d bytes without comments)",
                                    APILOGIN_CONFIG_LINE_MAX);
                if (take_line(p, s) < 0)
                        return p->r;
        }
}

/* ---- end of a section: the type's keys, defaults, checks --------------------------------- */

int apilogin_conf_check_url(parser *p, const struct apilogin_provider_cfg *pc, const char *key,
                            const char *url, bool ws)
{
        switch (apilogin_url_check(url, ws, pc->insecure_http)) {
        case APILOGIN_URL_OK:
                return 0;
        case APILOGIN_URL_MALFORMED:
                return apilogin_conf_fail(p, key, "invalid URL '%.120s'", url);
        case APILOGIN_URL_SCHEME:
                return apilogin_conf_fail(p, key, "'%.120s': scheme must be %s", url,
                                          ws ? "wss:// (or ws://)" : "https:// (or http://)");
        default:
                return apilogin_conf_fail(p, key,
                                          "'%.120s': plain %s to a host that is not loopback is "
                                          "refused (use %s, or insecure_http = yes)",
                                          url, ws ? "ws://" : "http://", ws ? "wss://" : "https://");
        }
}

/* The type whose table has key name, other than t; NULL if none. */
static const struct apilogin_type *owner_type(const parser *p, const struct apilogin_type *t,
                                              const char *name)
{
        const struct apilogin_type *o;

        for (size_t i = 0; p->types && (o = p->types(i)); i++)
                if (o != t && key_find(o->keys, o->n_keys, name))
                        return o;
        return NULL;
}

/* Read the keys that waited for the section's type, each at its own line. */
static int take_pending(parser *p, struct apilogin_provider_cfg *pc, struct prov_state *ps)
{
        const struct apilogin_type *t = pc->type;
        char secname[PROVIDER_NAME_MAX + 16];
        int r = 0;

        (void)snprintf(secname, sizeof(secname), "[provider %s]", pc->name);
        for (size_t i = 0; i < ps->n_pend && r == 0; i++) {
                const struct apilogin_key *k = key_find(t->keys, t->n_keys, ps->pend[i].name);

                p->lineno = ps->pend[i].line;
                if (!k && owner_type(p, t, ps->pend[i].name))
                        r = fail(p, p->lineno, ps->pend[i].name, "not used by type %s", t->name);
                else if (!k)
                        r = fail(p, p->lineno, ps->pend[i].name, "unknown key in %s (type %s)",
                                 secname, t->name);
                else
                        r = set_key(p, t->keys, k, ps->tline, pc->conf, secname, ps->pend[i].value);
        }
        return r;
}

/* The defaults of keys not given, then the keys a section cannot go without. */
static int fill_defaults(parser *p, const struct apilogin_key *keys, size_t n, const int *lines,
                         void *obj, int line, const char *secname)
{
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++) {
                if (lines[i])
                        continue;
                if (keys[i].required)
                        r = fail(p, line, keys[i].name, "missing in %s", secname);
                else if (keys[i].def) {
                        p->lineno = line;
                        r = keys[i].parse(p, &keys[i], obj, keys[i].def);
                }
        }
        return r;
}

static int check_common_urls(parser *p, const struct apilogin_provider_cfg *pc)
{
        bool ws = pc->type->ws;
        int r;

        r = apilogin_conf_check_url(p, pc, "url", pc->url, ws);
        for (size_t i = 0; i < pc->fallback_urls.n && r == 0; i++)
                r = apilogin_conf_check_url(p, pc, "fallback_urls", pc->fallback_urls.v[i], ws);
        return r;
}

static int finish_provider(parser *p, size_t i)
{
        struct apilogin_provider_cfg *pc = &p->cfg->prov[i];
        struct prov_state *ps = &p->ps[i];
        const struct apilogin_type *t;
        char secname[PROVIDER_NAME_MAX + 16];
        int r;

        (void)snprintf(secname, sizeof(secname), "[provider %s]", pc->name);
        r = fill_defaults(p, common_keys, N_CKEYS, ps->line, pc, pc->line, secname);
        if (r < 0)
                return r;
        t = pc->type;
        if (t->n_keys > TYPE_KEYS_MAX)
                return fail(p, pc->line, "type", "type %s has too many keys", t->name);
        if (t->conf_size) {
                pc->conf = calloc(1, t->conf_size);
                if (!pc->conf)
                        return fail_oom(p);
        }
        r = take_pending(p, pc, ps);
        if (r == 0)
                r = fill_defaults(p, t->keys, t->n_keys, ps->tline, pc->conf, pc->line, secname);
        if (r < 0)
                return r;
        p->fin = (ssize_t)i;
        r = check_common_urls(p, pc);
        if (r == 0 && t->check)
                r = t->check(p, pc);
        p->fin = -1;
        return r;
}

static int finish_global(parser *p)
{
        struct apilogin_config *c = p->cfg;
        int r = fill_defaults(p, global_keys, N_GKEYS, p->gkey_line, c, p->global_line,
                              "[global]");

        if (r == 0 && !apilogin_strv_contains(&c->deny_users, "root") &&
            strv_push(&c->deny_users, "root") < 0)
                r = fail_oom(p);
        return r;
}

static int finish(parser *p)
{
        struct apilogin_config *c = p->cfg;
        int r;

        /* No [provider] section is valid: the shipped config is inert, and a daemon
         * running with it answers every name "not ours" (login_name_is_ours). */
        for (size_t i = 0; i < c->n_prov; i++) {
                r = finish_provider(p, i);
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
        return finish_global(p);
}

/* ---- public API ------------------------------------------------------------------------- */

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

/* Refuse a file the config names (key, given on line) that is not trusted. One that does
 * not exist (yet) is left to the code that reads it, which reports it then. */
static int check_named(parser *p, int line, const char *key, const char *path)
{
        char why[96];
        struct stat st;

        if (!path || stat(path, &st) < 0)
                return 0;
        if (untrusted(&st, false, why, sizeof(why)))
                return fail_r(p, -EPERM, line, key, "refusing %s: %s", path, why);
        return 0;
}

/* Every file the config names: users_file, each provider's ca_file (a type's own files are
 * checked by their key's parser, apilogin_key_secret_file). */
static int check_named_files(parser *p)
{
        const struct apilogin_config *c = p->cfg;
        int r = check_named(p, 0, "users_file", c->users_file);

        for (size_t i = 0; r == 0 && i < c->n_prov; i++)
                r = check_named(p, p->ps[i].line[CK_CA], "ca_file", c->prov[i].ca_file);
        return r;
}

/* Open path for reading; refuse what is not a regular file of sane size, or is not
 * trusted (untrusted). */
static int open_config(parser *p, FILE **ret)
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
        if (untrusted(&st, false, why, sizeof(why)))
                return fail_r(p, -EPERM, 0, NULL, "refusing the config: %s", why);
        *ret = TAKE_PTR(f);
        return 0;
}

static struct apilogin_config *config_new(const char *path)
{
        struct apilogin_config *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->path = strdup(path);
        return c->path ? c : apilogin_config_free(c);
}

static int parse_all(parser *p)
{
        int r = open_config(p, &p->f);

        if (r < 0)
                return r;
        r = read_lines(p);
        if (r < 0)
                return r;
        r = finish(p);
        return r ?: check_named_files(p);
}

static void parser_done(parser *p)
{
        if (p->f)
                (void)fclose(p->f);
        free(p->buf);
        for (size_t i = 0; p->cfg && i < p->cfg->n_prov; i++) {
                for (size_t j = 0; j < p->ps[i].n_pend; j++) {
                        free(p->ps[i].pend[j].name);
                        free(p->ps[i].pend[j].value);
                }
                free(p->ps[i].pend);
        }
        free(p->ps);
}

int apilogin_config_load(const char *path, apilogin_types_fn types, struct apilogin_config **ret,
                         char *err, size_t errsz)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        parser p = { .path = path, .types = types, .err = err, .errsz = errsz, .fin = -1 };
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
        parser_done(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cfg);
        return 0;
}

static void type_conf_clear(const struct apilogin_type *t, void *conf)
{
        for (size_t i = 0; conf && i < t->n_keys; i++)
                if (t->keys[i].clear)
                        t->keys[i].clear(&t->keys[i], conf);
}

void *apilogin_type_conf_free(const struct apilogin_type *t, void *conf)
{
        if (t)
                type_conf_clear(t, conf);
        free(conf);
        return NULL;
}

int apilogin_type_conf_new(const struct apilogin_type *t, const char *const *kv, void **ret,
                           char *err, size_t errsz)
{
        parser p = { .path = "(keys)", .err = err, .errsz = errsz, .fin = -1, .lineno = 1 };
        int tline[TYPE_KEYS_MAX] = { 0 };
        void *conf;
        int r = 0;

        if (err && errsz > 0)
                err[0] = '\0';
        if (!t || !ret || t->n_keys > TYPE_KEYS_MAX)
                return -EINVAL;
        conf = calloc(1, t->conf_size ? t->conf_size : 1);
        if (!conf)
                return -ENOMEM;
        for (size_t i = 0; kv && kv[i] && kv[i + 1] && r == 0; i += 2, p.lineno++) {
                const struct apilogin_key *k = key_find(t->keys, t->n_keys, kv[i]);

                r = k ? set_key(&p, t->keys, k, tline, conf, t->name, kv[i + 1])
                      : fail(&p, p.lineno, kv[i], "unknown key in (type %s)", t->name);
        }
        if (r == 0)
                r = fill_defaults(&p, t->keys, t->n_keys, tline, conf, 0, t->name);
        if (r < 0) {
                apilogin_type_conf_free(t, conf);
                return r;
        }
        *ret = conf;
        return 0;
}

static void provider_clear(struct apilogin_provider_cfg *pc)
{
        free(pc->name);
        free(pc->url);
        strv_clear(&pc->fallback_urls);
        free(pc->ca_file);
        free(pc->proxy);
        pc->conf = apilogin_type_conf_free(pc->type, pc->conf);
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
        apilogin_pairs_free(cfg->role_groups, cfg->n_role_groups);
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

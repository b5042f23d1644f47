/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.h: the one parser of apilogin.conf, used by the daemon (the one reader of the config)
 * and by apiloginctl check-config. The PAM module never links it: it needs only the socket
 * path (core/sockpath.h) and asks the daemon for everything else.
 *
 * INI syntax, read by our own line reader: [global], [provider NAME]; "#" and ";" comments (also after
 * a value); durations with s/m/h/d suffixes. Unknown sections or keys, bad values, a
 * provider named in "providers" without a section, or a section whose type misses a
 * required key are errors naming file, line and key. The parser knows [global] and the
 * keys every provider has; a provider's other keys belong to its type, whose table the
 * caller hands in (apilogin_types_fn): core knows no type. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum apilogin_renew {
        APILOGIN_RENEW_DEFAULT, /* what the type does by itself (refresh call, keep-alive) */
        APILOGIN_RENEW_NONE,    /* never renew: the session ends with its token */
        APILOGIN_RENEW_RELOGIN, /* keep the secret in the kernel keyring and log in again
                                   when no refresh call can renew the token */
};

/* What a definite "revoked/disabled/wrong password" from a background check does. */
enum apilogin_on_revoke {
        APILOGIN_REVOKE_LOG,         /* log it at warning level (default) */
        APILOGIN_REVOKE_END_SESSION, /* and end the user's sessions on this host */
};

/* A "name:value" pair from lists such as users = kiosk:user or role_groups = admin:sudo. */
struct apilogin_pair {
        char *key;
        char *value;
};

struct apilogin_strv {
        char **v;
        size_t n;
};

struct apilogin_type;

/* One [provider NAME] section: the keys every provider has, and the rest, read by its
 * type's own key table into conf (the driver's struct, type->conf_size bytes). */
struct apilogin_provider_cfg {
        char *name;
        const struct apilogin_type *type;
        char *url;
        struct apilogin_strv fallback_urls;
        char *ca_file;         /* optional; NULL = system store */
        char *proxy;           /* optional http(s):// proxy; NULL = none (never the
                                  environment's http_proxy & co) */
        bool insecure_http;    /* allow http:// / ws:// to non-loopback hosts */
        bool keep_warm;        /* re-open idle connections in the background (default yes) */
        enum apilogin_renew renew;
        bool offline_login_set; /* offline_login given in this section: it overrides */
        bool offline_login;     /* [global]'s for this provider */
        void *conf;            /* the type's own keys, NULL when it has none */
        int line;              /* line of the [provider] header, for messages */
};

struct apilogin_config {
        char *path;
        struct apilogin_strv providers;   /* names, in order */
        uint32_t uid_min, uid_max;        /* default 200000-299999 */
        char *home;                       /* "/home/%u" */
        char *shell;                      /* "/bin/bash" */
        char *group;                      /* "apilogin-users" */
        struct apilogin_pair *role_groups;
        size_t n_role_groups;
        struct apilogin_strv deny_users;  /* default: root */
        bool allow_local_users;           /* default no */
        uint64_t timeout_ms;              /* default 10s */
        bool offline_login;               /* default no */
        uint64_t offline_max_age_s;       /* default 3d */
        uint64_t offline_after_ms;        /* login-latency budget; default 0 = off */
        enum apilogin_on_revoke on_remote_revoke; /* default log */
        unsigned lockout_max;             /* default 5; 0 = lockout off */
        uint64_t lockout_window_s;        /* default 15m */
        bool lockout_user_set;            /* lockout_user given; else LOCKOUT_USER_FACTOR x */
        unsigned lockout_user_max;        /* per name over every source; 0 = off */
        uint64_t lockout_user_window_s;
        struct apilogin_strv first_login_from;
        struct apilogin_strv services;    /* empty = every service */
        bool enumerate;                   /* default no */
        char *users_file;                 /* optional */
        char *socket_path;                /* default APILOGIN_RUNDIR "/socket" */
        char *state_dir;                  /* default APILOGIN_STATEDIR */
        char *run_dir;                    /* default APILOGIN_RUNDIR */
        char *metrics_file;               /* Prometheus text file; NULL = off (default) */
        struct apilogin_provider_cfg *prov;
        size_t n_prov;
};

/* ---- key tables ------------------------------------------------------------------------
 * Every key the parser knows is a row of a table: [global]'s and the common provider keys
 * here (conf.c), each provider type's own in its driver (daemon/providers/). The parser,
 * `apilogind --list-keys`, check-config and the man page's key test read the same rows. */

struct apilogin_conf_ctx; /* the parser, as a key's parse function and a type's check see it */
struct apilogin_key;

/* Read value into obj (the struct the table describes) at k->off. 0, or the -errno of
 * apilogin_conf_fail (which names file, line and key). */
typedef int (*apilogin_key_parse_fn)(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k,
                                     void *obj, const char *value);

struct apilogin_key {
        const char *name;
        apilogin_key_parse_fn parse;
        void (*clear)(const struct apilogin_key *k, void *obj); /* frees what parse stored */
        size_t off;                   /* field in obj */
        const char *def;              /* default, parsed as if given when the key is not;
                                         NULL: none (the field stays zero) */
        const char *doc;              /* one line of documentation */
        bool required;                /* the section is refused without it */
        bool append;                  /* a list: each occurrence of the key adds to it */
        bool (*tok_ok)(const char *); /* lists: what each entry must look like */
        const char *what;             /* lists: what an entry is, for messages */
};

/* A provider type as the parser sees it: the config half of a driver
 * (daemon/providers/driver.h embeds it). */
struct apilogin_type {
        const char *name;
        const char *doc;                  /* one line: the API it speaks */
        const struct apilogin_key *keys;  /* its own keys, beside the common ones */
        size_t n_keys;
        size_t conf_size;                 /* size of the struct keys[] write into */
        bool ws;                          /* url and fallback_urls are ws:// or wss:// */
        /* Checks across keys, after the section is read (NULL: none). 0 or -errno. */
        int (*check)(struct apilogin_conf_ctx *ctx, const struct apilogin_provider_cfg *pc);
};

/* The i-th type the parser may use (i from 0), NULL past the last: the registry's
 * (daemon/providers/registry.c). */
typedef const struct apilogin_type *(*apilogin_types_fn)(size_t i);

/* [global]'s keys and the keys of every provider section. */
const struct apilogin_key *apilogin_config_global_keys(size_t *ret_n);
const struct apilogin_key *apilogin_config_common_keys(size_t *ret_n);

/* Record an error for key (NULL: none) at the line it was given on, or at the section
 * header when it was not, as "PATH:LINE: KEY: message"; the first one wins. Returns
 * -EINVAL (-EPERM when perm is set in apilogin_conf_fail_r). */
int apilogin_conf_fail(struct apilogin_conf_ctx *ctx, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int apilogin_conf_fail_oom(struct apilogin_conf_ctx *ctx);

/* The parsers drivers' tables use; each stores into k->off of obj. */
int apilogin_key_bool(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k, void *obj,
                      const char *v);
/* A string of printable bytes without blanks, at most 4096 bytes. */
int apilogin_key_word(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k, void *obj,
                      const char *v);
/* A string of printable bytes (blanks allowed inside), at most 4096 bytes. */
int apilogin_key_text(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k, void *obj,
                      const char *v);
/* A URL, judged by apilogin_conf_check_url in the type's check. */
int apilogin_key_url(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k, void *obj,
                     const char *v);
/* An absolute path to a file holding a secret: it must exist, be a regular file owned by
 * root (or whoever runs the check) and be neither readable nor writable by group or
 * others (0600 or stricter). */
int apilogin_key_secret_file(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k,
                             void *obj, const char *v);
/* The clear function of every key whose value is a char * at k->off. */
void apilogin_key_clear_str(const struct apilogin_key *k, void *obj);

/* Entries "a:b" separated by commas or blanks, appended to *pairs (*n_pairs of them);
 * key_ok/value_ok judge the halves, k->what names an entry. */
int apilogin_conf_parse_pairs(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k,
                              const char *v, bool (*key_ok)(const char *),
                              bool (*value_ok)(const char *), struct apilogin_pair **pairs,
                              size_t *n_pairs);
void apilogin_pairs_free(struct apilogin_pair *pairs, size_t n);

/* For a type's check: url (of key) is acceptable for pc (scheme for type->ws, plain
 * http only to loopback or with insecure_http). 0 or the error. */
int apilogin_conf_check_url(struct apilogin_conf_ctx *ctx, const struct apilogin_provider_cfg *pc,
                            const char *key, const char *url, bool ws);

/* A type's own config built from kv, "key", "value" pairs up to a NULL key, with its
 * defaults and required keys, as the parser does for a section (line N of "(keys)" is the
 * N-th pair in errors): for the drivers' unit tests and tools. 0 or -errno. */
int apilogin_type_conf_new(const struct apilogin_type *t, const char *const *kv, void **ret,
                           char *err, size_t errsz);
/* Free such a config (or a provider's conf) of type t; accepts NULL; returns NULL. */
void *apilogin_type_conf_free(const struct apilogin_type *t, void *conf);

/* ---- loading ---------------------------------------------------------------------------- */

/* Parse the file at path with the provider types types() lists. On success returns 0 and a
 * new config in *ret. On failure returns -errno (-ENOENT, -EACCES, -EINVAL for content
 * errors) and writes one line into err (errsz bytes) such as
 * "/etc/apilogin/apilogin.conf:12: timeout: invalid duration 'x'". Never logs. */
int apilogin_config_load(const char *path, apilogin_types_fn types, struct apilogin_config **ret,
                         char *err, size_t errsz);

/* Free a config; accepts NULL; returns NULL. */
struct apilogin_config *apilogin_config_free(struct apilogin_config *cfg);

/* Provider section by name, or NULL. */
const struct apilogin_provider_cfg *apilogin_config_provider(const struct apilogin_config *cfg,
                                                             const char *name);

/* Whether offline login is on for provider p: its own offline_login, else [global]'s. */
bool apilogin_config_offline(const struct apilogin_config *cfg,
                             const struct apilogin_provider_cfg *p);

/* True when name is in v (exact match). */
bool apilogin_strv_contains(const struct apilogin_strv *v, const char *name);

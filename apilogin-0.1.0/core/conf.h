/* conf.h: the one parser of apilogin.conf, shared by the daemon, the PAM module (which
 * reads only its local-policy keys from the result) and apiloginctl, so they never disagree.
 *
 * INI syntax through libinih: [global], [provider NAME]; "#" and ";" comments (also after
 * a value); durations with s/m/h/d suffixes. Unknown sections or keys, bad values, a
 * provider named in "providers" without a section, or a section whose type misses a
 * required key are errors naming file, line and key. Keys whose feature is not built yet
 * are accepted and listed in cfg->warnings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum apilogin_ptype {
        APILOGIN_PT_LOGIN_CHECK,
        APILOGIN_PT_TOKEN_LOGIN,
        APILOGIN_PT_JSONRPC,
        APILOGIN_PT_REST_LOGIN,
        APILOGIN_PT_WS_AUTH,
        _APILOGIN_PT_MAX
};

enum apilogin_renew {
        APILOGIN_RENEW_DEFAULT, /* what the type does by itself (refresh call, keep-alive) */
        APILOGIN_RENEW_NONE,
        APILOGIN_RENEW_RELOGIN,
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

struct apilogin_provider_cfg {
        char *name;
        enum apilogin_ptype type;
        char *url;
        struct apilogin_strv fallback_urls;
        char *refresh_url;     /* login_check, optional */
        char *ca_file;         /* optional; NULL = system store */
        bool insecure_http;    /* allow http:// / ws:// to non-loopback hosts */
        bool operate_as;       /* token_login */
        char *domain;          /* rest_login */
        enum apilogin_renew renew;
        struct apilogin_pair *users; /* ws_auth: local login name -> role */
        size_t n_users;
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
        unsigned lockout_max;             /* default 5; 0 = lockout off */
        uint64_t lockout_window_s;        /* default 15m */
        struct apilogin_strv first_login_from;
        struct apilogin_strv services;    /* empty = every service */
        bool enumerate;                   /* default no */
        char *users_file;                 /* optional */
        char *socket_path;                /* default APILOGIN_RUNDIR "/socket" */
        char *state_dir;                  /* default APILOGIN_STATEDIR */
        char *run_dir;                    /* default APILOGIN_RUNDIR */
        struct apilogin_provider_cfg *prov;
        size_t n_prov;
        struct apilogin_strv warnings;    /* "file:line: key: accepted, not built yet" */
};

/* Parse the file at path. On success returns 0 and a new config in *ret. On failure
 * returns -errno (-ENOENT, -EACCES, -EINVAL for content errors) and writes one line into
 * err (errsz bytes) such as "/etc/apilogin/apilogin.conf:12: timeout: invalid duration 'x'".
 * Never logs. */
int apilogin_config_load(const char *path, struct apilogin_config **ret, char *err, size_t errsz);

/* Free a config; accepts NULL; returns NULL. */
struct apilogin_config *apilogin_config_free(struct apilogin_config *cfg);

/* Provider section by name, or NULL. */
const struct apilogin_provider_cfg *apilogin_config_provider(const struct apilogin_config *cfg,
                                                             const char *name);

/* Name of a provider type ("login_check", ...), and the reverse (-EINVAL if unknown). */
const char *apilogin_ptype_name(enum apilogin_ptype t);
int apilogin_ptype_from_name(const char *s);

/* True when name is in v (exact match). */
bool apilogin_strv_contains(const struct apilogin_strv *v, const char *name);

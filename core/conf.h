/* conf.h: the one parser of apilogin.conf, used by the daemon (the one reader of the config)
 * and by apiloginctl check-config. The PAM module never links it: it needs only the socket
 * path (core/sockpath.h) and asks the daemon for everything else.
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

struct apilogin_provider_cfg {
        char *name;
        enum apilogin_ptype type;
        char *url;
        struct apilogin_strv fallback_urls;
        char *refresh_url;     /* login_check, optional */
        char *ca_file;         /* optional; NULL = system store */
        bool insecure_http;    /* allow http:// / ws:// to non-loopback hosts */
        bool keep_warm;        /* re-open idle connections in the background (default yes) */
        bool operate_as;       /* token_login */
        char *domain;          /* rest_login */
        enum apilogin_renew renew;
        struct apilogin_pair *users; /* ws_auth: local login name -> role */
        size_t n_users;
        bool offline_login_set; /* offline_login given in this section: it overrides */
        bool offline_login;     /* [global]'s for this provider */
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

/* Whether offline login is on for provider p: its own offline_login, else [global]'s. */
bool apilogin_config_offline(const struct apilogin_config *cfg,
                             const struct apilogin_provider_cfg *p);

/* True when name is in v (exact match). */
bool apilogin_strv_contains(const struct apilogin_strv *v, const char *name);

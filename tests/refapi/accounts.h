/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* accounts.h: the accounts file (--accounts FILE), loaded once at start, read-only after.
 *
 * The file format is described in README.md.  Every section is an array of entries;
 * lookups go through a small open-addressing index so a login stays O(1) even with
 * large benchmark account files.  Lookups return the entry's index (>= 0) or -1.
 */
#ifndef REFAPI_ACCOUNTS_H
#define REFAPI_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
        char **v;
        size_t n;
};

struct acct_lc {                        /* "login_check" */
        char *username, *password, *display_name;
        bool disabled, rate_limited;
};

struct acct_tl {                        /* "token_login" (Wialon) */
        char *token, *user, *display_name;
        bool disabled, rate_limited;
        struct strv subusers;
};

struct acct_jr {                        /* "jsonrpc" (UIS/CoMagic) */
        char *login, *password;
        bool disabled, rate_limited, ip_blocked;
};

struct acct_rl {                        /* "rest_login" (PortSIP) */
        char *username, *password, *domain, *role;
        bool disabled, rate_limited, cookie_flow;
};

struct acct_ws {                        /* "ws_auth" (TrueConf) */
        char *user_password, *admin_password;
        bool locked, unsecured;
};

struct acct_o2 {                       /* "oauth2_password" users */
        char *username, *password;
        bool disabled, rate_limited, unavailable;
};

struct o2_client {                      /* "oauth2_client": the one client refapi knows */
        char *client_id, *client_secret;
};

struct strmap {
        size_t mask;                    /* table size - 1 (power of two) */
        char **keys;                    /* owned copies, NULL = empty slot */
        int *idx;
};

struct accounts {
        long token_ttl;                 /* lifetime of every issued token, s */
        long refresh_ttl;               /* lifetime of refresh tokens, s */
        long session_idle;              /* Wialon eid idle lifetime, s */
        long ws_http_token_ttl;         /* TrueConf tokenForHttpServer lifetime, s (300) */
        struct acct_lc *lc;
        int nlc;
        struct acct_tl *tl;
        int ntl;
        struct acct_jr *jr;
        int njr;
        struct acct_rl *rl;
        int nrl;
        struct acct_ws ws;
        struct acct_o2 *o2;
        int no2;
        struct o2_client o2_client;
        long o2_token_ttl;              /* OAuth 2.0 access token lifetime, s (token_ttl) */
        struct strmap lc_map, tl_map, jr_map, rl_map, o2_map;
};

/* The loaded accounts.  Written only by accounts_load(), before any thread starts. */
extern struct accounts accounts;

/* Loads path into `accounts` and the fault table.  Prints the reason to stderr and
 * returns -errno (-EINVAL for content errors) on failure. */
int accounts_load(const char *path);

/* Frees everything accounts_load() allocated. */
void accounts_free(void);

int acct_lc_find(const char *username);
int acct_tl_find(const char *token);
int acct_jr_find(const char *login);
int acct_o2_find(const char *username);
/* domain may be NULL; an account without a domain matches only an empty domain. */
int acct_rl_find(const char *username, const char *domain);

#endif

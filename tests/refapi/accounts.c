/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* accounts.c: loading the accounts file and looking accounts up (see accounts.h). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "acct_parse.h"
#include "faults.h"
#include "strmap.h"

#define ACCOUNTS_FILE_MAX (256L * 1024 * 1024)

struct accounts accounts;

#define F(type, name, kind, req) { #name, kind, offsetof(type, name), req }

static const struct acct_field lc_fields[] = {
        F(struct acct_lc, username, AF_STR, true),
        F(struct acct_lc, password, AF_STR, true),
        F(struct acct_lc, display_name, AF_STR, false),
        F(struct acct_lc, disabled, AF_BOOL, false),
        F(struct acct_lc, rate_limited, AF_BOOL, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field tl_fields[] = {
        F(struct acct_tl, token, AF_STR, true),
        F(struct acct_tl, user, AF_STR, true),
        F(struct acct_tl, display_name, AF_STR, false),
        F(struct acct_tl, disabled, AF_BOOL, false),
        F(struct acct_tl, rate_limited, AF_BOOL, false),
        F(struct acct_tl, subusers, AF_STRV, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field jr_fields[] = {
        F(struct acct_jr, login, AF_STR, true),
        F(struct acct_jr, password, AF_STR, true),
        F(struct acct_jr, disabled, AF_BOOL, false),
        F(struct acct_jr, rate_limited, AF_BOOL, false),
        F(struct acct_jr, ip_blocked, AF_BOOL, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field rl_fields[] = {
        F(struct acct_rl, username, AF_STR, true),
        F(struct acct_rl, password, AF_STR, true),
        F(struct acct_rl, domain, AF_STR, false),
        F(struct acct_rl, role, AF_STR, false),
        F(struct acct_rl, disabled, AF_BOOL, false),
        F(struct acct_rl, rate_limited, AF_BOOL, false),
        F(struct acct_rl, cookie_flow, AF_BOOL, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field ws_fields[] = {
        F(struct acct_ws, user_password, AF_STR, false),
        F(struct acct_ws, admin_password, AF_STR, false),
        F(struct acct_ws, locked, AF_BOOL, false),
        F(struct acct_ws, unsecured, AF_BOOL, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field o2_fields[] = {
        F(struct acct_o2, username, AF_STR, true),
        F(struct acct_o2, password, AF_STR, true),
        F(struct acct_o2, disabled, AF_BOOL, false),
        F(struct acct_o2, rate_limited, AF_BOOL, false),
        F(struct acct_o2, unavailable, AF_BOOL, false),
        { NULL, AF_STR, 0, false },
};

static const struct acct_field o2_client_fields[] = {
        F(struct o2_client, client_id, AF_STR, true),
        F(struct o2_client, client_secret, AF_STR, true),
        { NULL, AF_STR, 0, false },
};

static const char *const top_keys[] = {
        "token_ttl", "refresh_ttl", "session_idle", "ws_http_token_ttl", "login_check",
        "token_login",
        "jsonrpc", "rest_login", "ws_auth", "faults", "oauth2_password", "oauth2_client",
        "oauth2_token_ttl", NULL,
};

/* Reads the whole file into a NUL-terminated buffer (caller frees). */
static char *read_file(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        long len;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= ACCOUNTS_FILE_MAX &&
            fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1))) {
                if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
                        free(buf);
                        buf = NULL;
                } else {
                        buf[len] = '\0';
                        *ret_len = (size_t)len;
                }
        }
        fclose(f);
        return buf;
}

static int check_top_keys(const cJSON *root)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, root) {
                bool known = it->string[0] == '_';

                for (int i = 0; !known && top_keys[i]; i++)
                        known = strcmp(top_keys[i], it->string) == 0;
                if (!known) {
                        fprintf(stderr, "refapi: unknown top-level key \"%s\"\n", it->string);
                        return -EINVAL;
                }
        }
        return 0;
}

/* Reads root[name] as a whole number of seconds in [1, 10 years]; absent = def. */
static int parse_secs(const cJSON *root, const char *name, long def, long *ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);

        if (!v) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 315360000.0 ||
            (double)(long)v->valuedouble != v->valuedouble) {
                fprintf(stderr, "refapi: \"%s\" must be a whole number of seconds >= 1\n", name);
                return -EINVAL;
        }
        *ret = (long)v->valuedouble;
        return 0;
}

static int parse_faults(const cJSON *root)
{
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, "faults"), *it;

        if (sec && !cJSON_IsObject(sec)) {
                fprintf(stderr, "refapi: \"faults\" must be an object\n");
                return -EINVAL;
        }
        cJSON_ArrayForEach(it, sec) {
                if (!cJSON_IsString(it) || it->string[0] != '/' ||
                    faults_set(it->string, it->valuestring) < 0) {
                        fprintf(stderr, "refapi: faults: bad entry \"%s\" (path must start "
                                "with / and mode be none|stall|500|garbage|oversized|close"
                                "|redirect:URL)\n",
                                it->string);
                        return -EINVAL;
                }
        }
        return 0;
}

/* Builds the key of a rest_login account: "<username>\n<lowercase domain>". */
static char *rl_key(const char *username, const char *domain)
{
        size_t ul = strlen(username), dl = domain ? strlen(domain) : 0;
        char *k = malloc(ul + dl + 2);

        if (!k)
                return NULL;
        memcpy(k, username, ul);
        k[ul] = '\n';
        for (size_t i = 0; i < dl; i++)
                k[ul + 1 + i] = (char)tolower((unsigned char)domain[i]);
        k[ul + 1 + dl] = '\0';
        return k;
}

static int index_add(struct strmap *m, const char *key, int idx, const char *what)
{
        int r = strmap_add(m, key, idx);

        if (r == -EEXIST)
                fprintf(stderr, "refapi: %s[%d]: duplicate entry\n", what, idx);
        return r;
}

static int build_indexes(void)
{
        struct accounts *a = &accounts;
        int r = 0, i;

        if (strmap_init(&a->lc_map, (size_t)a->nlc) < 0 ||
            strmap_init(&a->tl_map, (size_t)a->ntl) < 0 ||
            strmap_init(&a->jr_map, (size_t)a->njr) < 0 ||
            strmap_init(&a->rl_map, (size_t)a->nrl) < 0 ||
            strmap_init(&a->o2_map, (size_t)a->no2) < 0)
                return -ENOMEM;
        for (i = 0; r == 0 && i < a->nlc; i++)
                r = index_add(&a->lc_map, a->lc[i].username, i, "login_check");
        for (i = 0; r == 0 && i < a->ntl; i++) {
                if (strlen(a->tl[i].token) != 72) {
                        fprintf(stderr, "refapi: token_login[%d]: token must be 72 chars\n", i);
                        return -EINVAL;
                }
                r = index_add(&a->tl_map, a->tl[i].token, i, "token_login");
        }
        for (i = 0; r == 0 && i < a->no2; i++)
                r = index_add(&a->o2_map, a->o2[i].username, i, "oauth2_password");
        for (i = 0; r == 0 && i < a->njr; i++)
                r = index_add(&a->jr_map, a->jr[i].login, i, "jsonrpc");
        for (i = 0; r == 0 && i < a->nrl; i++) {
                char *k = rl_key(a->rl[i].username, a->rl[i].domain);

                r = k ? index_add(&a->rl_map, k, i, "rest_login") : -ENOMEM;
                free(k);
        }
        return r;
}

static int parse_ws(const cJSON *root)
{
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(root, "ws_auth");

        if (!ws)
                return 0;
        return acct_parse_entry(ws, ws_fields, &accounts.ws, "ws_auth");
}

static int parse_o2_client(const cJSON *root)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "oauth2_client");

        if (!c)
                return 0;
        return acct_parse_entry(c, o2_client_fields, &accounts.o2_client, "oauth2_client");
}

static int parse_root(const cJSON *root)
{
        struct accounts *a = &accounts;
        int r;

        if ((r = check_top_keys(root)) < 0 ||
            (r = parse_secs(root, "token_ttl", 86400, &a->token_ttl)) < 0 ||
            (r = parse_secs(root, "refresh_ttl", 2592000, &a->refresh_ttl)) < 0 ||
            (r = parse_secs(root, "session_idle", 0, &a->session_idle)) < 0 ||
            (r = parse_secs(root, "ws_http_token_ttl", 300, &a->ws_http_token_ttl)) < 0)
                return r;
        if (a->session_idle == 0)       /* unset: follow token_ttl if given, else 300 */
                a->session_idle = cJSON_GetObjectItemCaseSensitive(root, "token_ttl") ?
                                  a->token_ttl : 300;
        if ((r = acct_parse_section(root, "login_check", lc_fields, sizeof(*a->lc),
                                    (void **)&a->lc, &a->nlc)) < 0 ||
            (r = acct_parse_section(root, "token_login", tl_fields, sizeof(*a->tl),
                                    (void **)&a->tl, &a->ntl)) < 0 ||
            (r = acct_parse_section(root, "jsonrpc", jr_fields, sizeof(*a->jr),
                                    (void **)&a->jr, &a->njr)) < 0 ||
            (r = acct_parse_section(root, "rest_login", rl_fields, sizeof(*a->rl),
                                    (void **)&a->rl, &a->nrl)) < 0 ||
            (r = acct_parse_section(root, "oauth2_password", o2_fields, sizeof(*a->o2),
                                    (void **)&a->o2, &a->no2)) < 0 ||
            (r = parse_secs(root, "oauth2_token_ttl", a->token_ttl, &a->o2_token_ttl)) < 0 ||
            (r = parse_o2_client(root)) < 0 ||
            (r = parse_ws(root)) < 0 || (r = parse_faults(root)) < 0)
                return r;
        return build_indexes();
}

int accounts_load(const char *path)
{
        size_t len = 0;
        char *text = read_file(path, &len);
        cJSON *root;
        int r;

        if (!text) {
                r = errno ? -errno : -EIO;
                fprintf(stderr, "refapi: Failed to read accounts file %s: %s\n", path,
                        strerror(-r));
                return r;
        }
        root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true);
        free(text);
        if (!cJSON_IsObject(root)) {
                fprintf(stderr, "refapi: %s: not a JSON object\n", path);
                cJSON_Delete(root);
                return -EINVAL;
        }
        r = parse_root(root);
        cJSON_Delete(root);
        if (r == -ENOMEM)
                fprintf(stderr, "refapi: out of memory loading %s\n", path);
        return r;
}

void accounts_free(void)
{
        struct accounts *a = &accounts;

        acct_free_section(a->lc, a->nlc, lc_fields, sizeof(*a->lc));
        acct_free_section(a->tl, a->ntl, tl_fields, sizeof(*a->tl));
        acct_free_section(a->jr, a->njr, jr_fields, sizeof(*a->jr));
        acct_free_section(a->rl, a->nrl, rl_fields, sizeof(*a->rl));
        acct_free_section(a->o2, a->no2, o2_fields, sizeof(*a->o2));
        free(a->o2_client.client_id);
        free(a->o2_client.client_secret);
        strmap_free(&a->o2_map);
        free(a->ws.user_password);
        free(a->ws.admin_password);
        strmap_free(&a->lc_map);
        strmap_free(&a->tl_map);
        strmap_free(&a->jr_map);
        strmap_free(&a->rl_map);
        memset(a, 0, sizeof(*a));
}

int acct_lc_find(const char *username)
{
        return strmap_find(&accounts.lc_map, username);
}

int acct_tl_find(const char *token)
{
        return strmap_find(&accounts.tl_map, token);
}

int acct_o2_find(const char *username)
{
        return strmap_find(&accounts.o2_map, username);
}

int acct_jr_find(const char *login)
{
        return strmap_find(&accounts.jr_map, login);
}

int acct_rl_find(const char *username, const char *domain)
{
        char *k = rl_key(username, domain);
        int i = k ? strmap_find(&accounts.rl_map, k) : -1;

        free(k);
        return i;
}

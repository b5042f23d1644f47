/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_rest_login.c: PortSIP PBX REST API (protocols.md section 4): POST and GET
 * /api/login, POST /api/auth/refresh_token and POST /api/logout.  Errors are 4xx with
 * {"errors":[{"code":"..","message":"..","detail":{..}}]}. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "stats.h"
#include "store.h"

#define RL_USER_MAX 64
#define RL_DOMAIN_MAX 280

/* Replies {"errors":[{"code":code,"message":msg[,"detail":{"field":field}]}]}. */
static void rl_error(struct rq *rq, unsigned status, const char *code, const char *msg,
                     const char *field)
{
        cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();

        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "errors"), e);
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", msg);
        if (field)
                cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "detail"), "field", field);
        rq_reply_json(rq, status, o);
}

static void rl_invalid(struct rq *rq, const char *field)
{
        rl_error(rq, 400, "VALIDATE_FAILED", "field validation failed", field);
}

static void rl_unauthorized(struct rq *rq)
{
        rl_error(rq, 401, "UNAUTHORIZED", "Login failed, authentication error", NULL);
}

/* Section 4.3: 1-64 chars of letters, digits, _ - ' . ; no leading or trailing dot. */
static bool rl_username_ok(const char *u)
{
        size_t n = strlen(u);

        if (n < 1 || n > RL_USER_MAX || u[0] == '.' || u[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)u[i]) && !strchr("_-'.", u[i]))
                        return false;
        return true;
}

/* Issues access + refresh tokens for acct into ret_access/ret_refresh (41 bytes). */
static void rl_issue(int acct, char *ret_access, char *ret_refresh)
{
        long long now = now_ms();
        struct store_rec a = { .kind = SK_REST_ACCESS, .acct = acct, .created = now,
                               .expires = now + accounts.token_ttl * 1000LL };
        struct store_rec r = { .kind = SK_REST_REFRESH, .acct = acct, .created = now,
                               .expires = now + accounts.refresh_ttl * 1000LL };

        rand_hex(a.key, 20);
        rand_hex(r.key, 20);
        memcpy(a.peer, r.key, sizeof(a.peer));
        memcpy(r.peer, a.key, sizeof(r.peer));
        store_put(&a);
        store_put(&r);
        memcpy(ret_access, a.key, 41);
        memcpy(ret_refresh, r.key, 41);
}

/* Replies 200 {"access_token","refresh_token","expires_in","token_type":"Bearer"}. */
static void rl_token_reply(struct rq *rq, int acct)
{
        char access[41], refresh[41];
        cJSON *o = cJSON_CreateObject();

        rl_issue(acct, access, refresh);
        cJSON_AddStringToObject(o, "access_token", access);
        cJSON_AddStringToObject(o, "refresh_token", refresh);
        cJSON_AddNumberToObject(o, "expires_in", (double)accounts.token_ttl);
        cJSON_AddStringToObject(o, "token_type", "Bearer");
        rq_reply_json(rq, 200, o);
}

/* Cookie flow: 200, empty body, the session cookie points at a fresh token pair. Before
 * it, as web servers do, a language cookie for every path and a UI cookie for /ui only:
 * a client that keeps only the first cookie, or ignores paths, fails GET /login. */
static void rl_cookie_reply(struct rq *rq, int acct)
{
        long long now = now_ms();
        struct store_rec c = { .kind = SK_REST_COOKIE, .acct = acct, .created = now,
                               .expires = now + accounts.token_ttl * 1000LL };
        char refresh[41];

        rl_issue(acct, c.peer, refresh);
        rand_hex(c.key, 16);
        store_put(&c);
        rq_reply_buf(rq, 200, NULL, NULL, 0);
        rq_add_header(rq, MHD_HTTP_HEADER_SET_COOKIE, "lang=en; Path=/");
        rq_add_header(rq, MHD_HTTP_HEADER_SET_COOKIE, "pbx_ui=dark; Path=/ui");
        rq_add_header(rq, MHD_HTTP_HEADER_SET_COOKIE, "session=%s; Path=/; HttpOnly", c.key);
}

/* Applies the field rules of section 4.3; replies 400 VALIDATE_FAILED on failure. */
static bool rl_validate(struct rq *rq, const cJSON *req)
{
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(req, "username");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(req, "password");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, "domain");
        const char *bad = NULL;

        if (!cJSON_IsObject(req))
                bad = "body";
        else if (!cJSON_IsString(u) || !rl_username_ok(u->valuestring))
                bad = "username";
        else if (!cJSON_IsString(p) || !p->valuestring[0])
                bad = "password";
        else if (d && !cJSON_IsNull(d) &&
                 (!cJSON_IsString(d) || strlen(d->valuestring) > RL_DOMAIN_MAX))
                bad = "domain";
        if (bad)
                rl_invalid(rq, bad);
        return !bad;
}

/* Checks the credentials of a valid body; returns the account or -1 after replying. */
static int rl_check(struct rq *rq, const cJSON *req)
{
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, "domain");
        const char *user = cJSON_GetObjectItemCaseSensitive(req, "username")->valuestring;
        const char *pw = cJSON_GetObjectItemCaseSensitive(req, "password")->valuestring;
        int i = acct_rl_find(user, cJSON_IsString(d) ? d->valuestring : NULL);
        const struct acct_rl *a = i >= 0 ? &accounts.rl[i] : NULL;

        if (a && a->rate_limited) {
                rl_error(rq, 429, "TOO_MANY_REQUESTS", "too many requests", NULL);
                rq_add_header(rq, "Retry-After", "5");
        } else if (!a || strcmp(a->password, pw) != 0) {
                rl_unauthorized(rq);
        } else if (a->disabled) {
                rl_error(rq, 403, "FORBIDDEN", "account disabled", NULL);
        } else {
                return i;
        }
        return -1;
}

static bool rl_post_login(struct rq *rq)
{
        cJSON *req = rq_parse_json(rq);
        int i = rl_validate(rq, req) ? rl_check(rq, req) : -1;

        cJSON_Delete(req);
        if (i < 0)
                return false;
        if (accounts.rl[i].cookie_flow)
                rl_cookie_reply(rq, i);
        else
                rl_token_reply(rq, i);
        return true;
}

/* Finds the live access token named by the Bearer header, else by the session cookie. */
static bool rl_session(struct rq *rq, struct store_rec *ret_access, char *ret_cookie)
{
        const char *tok = rq_bearer(rq, MHD_HTTP_HEADER_AUTHORIZATION);
        const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "session");
        struct store_rec c;

        ret_cookie[0] = '\0';
        if (tok && store_get(SK_REST_ACCESS, tok, ret_access) == STORE_LIVE)
                return true;
        if (!cookie || store_get(SK_REST_COOKIE, cookie, &c) != STORE_LIVE)
                return false;
        memcpy(ret_cookie, c.key, STORE_KEY_MAX);
        return store_get(SK_REST_ACCESS, c.peer, ret_access) == STORE_LIVE;
}

static bool rl_get_login(struct rq *rq)
{
        struct store_rec a;
        char cookie[STORE_KEY_MAX], date[32];
        const char *role;
        cJSON *o;

        if (MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "pbx_ui")) {
                /* Set for Path=/ui: a browser never sends it to /api. */
                stat_inc(ST_rest_cookie_off_path);
                rl_error(rq, 400, "VALIDATE_FAILED", "cookie sent outside its path", NULL);
                return false;
        }
        if (MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "lang"))
                stat_inc(ST_rest_cookie_lang);
        if (!rl_session(rq, &a, cookie)) {
                rl_error(rq, 401, "UNAUTHORIZED", "not logged in", NULL);
                return false;
        }
        role = accounts.rl[a.acct].role;
        fmt_rfc3339((time_t)(a.expires / 1000), date, sizeof(date));
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "access_token", a.key);
        cJSON_AddStringToObject(o, "refresh_token", a.peer);
        cJSON_AddStringToObject(o, "expires_at", date);
        cJSON_AddNumberToObject(o, "expires_in", (double)((a.expires - now_ms()) / 1000));
        cJSON_AddStringToObject(o, "role", role ? role : "StandardUser");
        rq_reply_json(rq, 200, o);
        return true;
}

void api_rest_login(struct rq *rq)
{
        bool ok;

        if (rq_is_post(rq)) {
                ok = rl_post_login(rq);
                stat_inc(ST_rest_login);
                stat_inc(ok ? ST_rest_login_ok : ST_rest_login_fail);
        } else {
                ok = rl_get_login(rq);
                stat_inc(ST_rest_login_get);
                stat_inc(ok ? ST_rest_login_get_ok : ST_rest_login_get_fail);
        }
}

/* POST /api/auth/refresh_token {"refresh_token":".."}: single use, new pair. */
void api_rest_refresh(struct rq *rq)
{
        cJSON *req = rq_parse_json(rq);
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(req, "refresh_token");
        struct store_rec r;
        bool ok = cJSON_IsString(rt) &&
                  store_take(SK_REST_REFRESH, rt->valuestring, &r) == STORE_LIVE;

        cJSON_Delete(req);
        if (ok)
                rl_token_reply(rq, r.acct);
        else
                rl_error(rq, 400, "UNKNOWN", "unknown error", NULL);
        stat_inc(ST_rest_refresh);
        stat_inc(ok ? ST_rest_refresh_ok : ST_rest_refresh_fail);
}

/* POST /api/logout with the Bearer token (or the cookie): revokes the session, 204. */
void api_rest_logout(struct rq *rq)
{
        struct store_rec a;
        char cookie[STORE_KEY_MAX];
        bool ok = rl_session(rq, &a, cookie);

        if (ok) {
                (void)store_take(SK_REST_ACCESS, a.key, NULL);
                (void)store_take(SK_REST_REFRESH, a.peer, NULL);
                if (cookie[0])
                        (void)store_take(SK_REST_COOKIE, cookie, NULL);
                rq_reply_buf(rq, 204, NULL, NULL, 0);
        } else {
                rl_error(rq, 401, "UNAUTHORIZED", "not logged in", NULL);
        }
        stat_inc(ST_rest_logout);
        stat_inc(ok ? ST_rest_logout_ok : ST_rest_logout_fail);
}

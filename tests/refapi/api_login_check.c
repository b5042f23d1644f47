/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_login_check.c: Noventiq/Softline "login_check" (protocols.md section 5):
 * POST /v1/login_check, plus our extensions POST /v1/token/refresh and GET /v1/whoami. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "stats.h"
#include "store.h"

/* Replies {"errors":[{"error":code,"message":msg}]}; msg must need no JSON escaping. */
static void lc_error(struct rq *rq, unsigned status, int code, const char *msg)
{
        char buf[200];

        snprintf(buf, sizeof(buf), "{\"errors\":[{\"error\":%d,\"message\":\"%s\"}]}", code, msg);
        rq_reply_text(rq, status, buf);
        rq->ctype = "application/json";
}

static const char *nonempty_str(const cJSON *obj, const char *name)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

        return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Checks Content-Type and JSON; replies 400 111/110 and returns NULL on failure. */
static cJSON *lc_parse(struct rq *rq)
{
        cJSON *req;

        if (!ctype_is(rq_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE), "application/json")) {
                lc_error(rq, 400, 111, "Invalid data format. Content-Type must be "
                         "application/json.");
                return NULL;
        }
        req = rq_parse_json(rq);
        if (!cJSON_IsObject(req)) {
                cJSON_Delete(req);
                lc_error(rq, 400, 110, "JSON is not valid.");
                return NULL;
        }
        return req;
}

/* Issues a token pair for account acct and replies 200 with it. */
static void lc_issue(struct rq *rq, int acct)
{
        const struct acct_lc *a = &accounts.lc[acct];
        long long now = now_ms();
        struct store_rec tok = { .kind = SK_LC_TOKEN, .acct = acct, .created = now,
                                 .expires = now + accounts.token_ttl * 1000LL };
        struct store_rec ref = { .kind = SK_LC_REFRESH, .acct = acct, .created = now,
                                 .expires = now + accounts.refresh_ttl * 1000LL };
        char date[32];
        cJSON *o = cJSON_CreateObject();

        rand_hex(tok.key, 16);
        rand_hex(ref.key, 20);
        memcpy(tok.peer, ref.key, sizeof(tok.peer));
        memcpy(ref.peer, tok.key, sizeof(ref.peer));
        store_put(&tok);
        store_put(&ref);
        fmt_rfc3339((time_t)(now / 1000), date, sizeof(date));
        cJSON_AddStringToObject(o, "token", tok.key);
        cJSON_AddStringToObject(o, "refresh_token", ref.key);
        cJSON_AddStringToObject(o, "date", date);
        cJSON_AddNumberToObject(o, "expires_in", (double)accounts.token_ttl);
        if (a->display_name)
                cJSON_AddStringToObject(o, "display_name", a->display_name);
        rq_reply_json(rq, 200, o);
}

/* Returns true when a token was issued. */
static bool lc_login(struct rq *rq, const cJSON *req)
{
        const char *user = nonempty_str(req, "username"), *pw = nonempty_str(req, "password");
        int i;

        if (!user || !pw) {
                lc_error(rq, 400, 1005, "Invalid authorization data.");
                return false;
        }
        i = acct_lc_find(user);
        if (i >= 0 && accounts.lc[i].rate_limited) {
                stat_inc(ST_login_check_rate_limited);
                lc_error(rq, 429, 429, "Too many requests");
                rq_add_header(rq, "Retry-After", "5");
                return false;
        }
        if (i < 0 || strcmp(accounts.lc[i].password, pw) != 0) {
                lc_error(rq, 401, 1006, "Invalid credentials.");
                return false;
        }
        if (accounts.lc[i].disabled) {
                stat_inc(ST_login_check_disabled);
                lc_error(rq, 403, 1010, "Account disabled.");
                return false;
        }
        lc_issue(rq, i);
        return true;
}

void api_login_check(struct rq *rq)
{
        cJSON *req = lc_parse(rq);
        bool ok = req && lc_login(rq, req);

        cJSON_Delete(req);
        stat_inc(ST_login_check);
        stat_inc(ok ? ST_login_check_ok : ST_login_check_fail);
}

static bool lc_refresh(struct rq *rq, const cJSON *req)
{
        const char *rt = nonempty_str(req, "refresh_token");
        struct store_rec rec;

        if (!rt) {
                lc_error(rq, 400, 1005, "Invalid authorization data.");
                return false;
        }
        switch (store_take(SK_LC_REFRESH, rt, &rec)) {
        case STORE_LIVE:
                lc_issue(rq, rec.acct);
                return true;
        case STORE_EXPIRED:
                lc_error(rq, 401, 1009, "Your token is expired.");
                return false;
        default:
                lc_error(rq, 401, 1007, "Your token is invalid.");
                return false;
        }
}

/* POST /v1/token/refresh {"refresh_token":".."}: single-use refresh, new pair. */
void api_lc_refresh(struct rq *rq)
{
        cJSON *req = lc_parse(rq);
        bool ok = req && lc_refresh(rq, req);

        cJSON_Delete(req);
        stat_inc(ST_refresh);
        stat_inc(ok ? ST_refresh_ok : ST_refresh_fail);
}

static bool lc_whoami(struct rq *rq)
{
        const char *tok = rq_bearer(rq, "AuthorizationJWT");
        struct store_rec rec;
        char date[32];
        cJSON *o;

        if (!tok)
                tok = rq_bearer(rq, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!tok) {
                lc_error(rq, 401, 1008, "Missing token.");
                return false;
        }
        switch (store_get(SK_LC_TOKEN, tok, &rec)) {
        case STORE_LIVE:
                break;
        case STORE_EXPIRED:
                lc_error(rq, 401, 1009, "Your token is expired.");
                return false;
        default:
                lc_error(rq, 401, 1007, "Your token is invalid.");
                return false;
        }
        o = cJSON_CreateObject();
        fmt_rfc3339((time_t)(rec.expires / 1000), date, sizeof(date));
        cJSON_AddStringToObject(o, "username", accounts.lc[rec.acct].username);
        if (accounts.lc[rec.acct].display_name)
                cJSON_AddStringToObject(o, "display_name", accounts.lc[rec.acct].display_name);
        cJSON_AddStringToObject(o, "expires_at", date);
        cJSON_AddNumberToObject(o, "expires_in", (double)((rec.expires - now_ms()) / 1000));
        rq_reply_json(rq, 200, o);
        return true;
}

/* GET /v1/whoami with "AuthorizationJWT: Bearer <token>": is the token still good? */
void api_lc_whoami(struct rq *rq)
{
        bool ok = lc_whoami(rq);

        stat_inc(ST_whoami);
        stat_inc(ok ? ST_whoami_ok : ST_whoami_fail);
}

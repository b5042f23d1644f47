/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_token_login.c: Wialon Remote API (protocols.md section 2): POST|GET
 * /wialon/ajax.html with svc=token/login or svc=core/logout, and /avl_evts.
 * Every answer is HTTP 200; failures are {"error":N[,"reason":".."]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "stats.h"
#include "store.h"

static void wl_error(struct rq *rq, int code, const char *reason)
{
        char buf[128];

        if (reason)
                snprintf(buf, sizeof(buf), "{\"error\":%d,\"reason\":\"%s\"}", code, reason);
        else
                snprintf(buf, sizeof(buf), "{\"error\":%d}", code);
        rq_reply_text(rq, 200, buf);
        rq->ctype = "application/json";
}

/* Returns the value of name from a form body, else from the query (caller frees). */
static char *wl_param(const struct rq *rq, const char *name)
{
        const char *ct = rq_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE), *q;
        char *v = NULL;

        if (rq->body_len > 0 && (!ct || ctype_is(ct, "application/x-www-form-urlencoded")))
                v = form_get(rq->body, rq->body_len, name);
        if (!v && (q = rq_query(rq, name)))
                v = strdup(q);
        return v;
}

/* The "token" field of a login answer: escaped JSON describing the token. */
static void wl_token_info(char *buf, size_t size, time_t now)
{
        snprintf(buf, size, "{\"app\":\"refapi\",\"ct\":%ld,\"at\":%ld,\"dur\":0,\"fl\":-1,"
                 "\"p\":\"{}\",\"items\":[]}", (long)now, (long)now);
}

static void wl_login_reply(struct rq *rq, int acct, int sub, const char *eid, time_t now)
{
        const struct acct_tl *a = &accounts.tl[acct];
        const char *name = sub > 0 ? a->subusers.v[sub - 1] : a->user;
        cJSON *o = cJSON_CreateObject(), *u;
        char gis[33], ti[160];

        rand_hex(gis, 16);
        wl_token_info(ti, sizeof(ti), now);
        cJSON_AddStringToObject(o, "host", "127.0.0.1");
        cJSON_AddStringToObject(o, "eid", eid);
        cJSON_AddStringToObject(o, "gis_sid", gis);
        cJSON_AddStringToObject(o, "au", name);
        cJSON_AddNumberToObject(o, "tm", (double)now);
        cJSON_AddNumberToObject(o, "pi", 2);
        cJSON_AddStringToObject(o, "wsdk_version", "refapi");
        u = cJSON_AddObjectToObject(o, "user");
        cJSON_AddStringToObject(u, "nm", name);
        cJSON_AddNumberToObject(u, "id", 10000 + 100 * acct + sub);
        cJSON_AddNumberToObject(u, "cls", 1);
        cJSON_AddNumberToObject(u, "bact", 1);
        cJSON_AddNumberToObject(u, "fl", 6);
        if (a->display_name && sub == 0)
                cJSON_AddStringToObject(cJSON_AddObjectToObject(u, "prp"), "display_name",
                                        a->display_name);
        cJSON_AddStringToObject(o, "token", ti);
        cJSON_AddStringToObject(o, "th", a->token);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "classes"), "user", 1);
        rq_reply_json(rq, 200, o);
}

/* Returns the subuser number for operateAs (0 = owner), or -1 if not allowed. */
static int wl_operate_as(const struct acct_tl *a, const char *op)
{
        if (!op || !op[0] || strcmp(op, a->user) == 0)
                return 0;
        for (size_t i = 0; i < a->subusers.n; i++)
                if (strcmp(a->subusers.v[i], op) == 0)
                        return (int)i + 1;
        return -1;
}

/* Checks the token/login params; returns the account or -1 after replying. */
static int wl_check(struct rq *rq, const cJSON *p, int *ret_sub)
{
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(p, "token");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(p, "operateAs");
        int i;

        if (!cJSON_IsObject(p) || !cJSON_IsString(tok) || strlen(tok->valuestring) != 72 ||
            (op && !cJSON_IsString(op))) {
                wl_error(rq, 4, NULL);
                return -1;
        }
        i = acct_tl_find(tok->valuestring);
        if (i < 0) {
                wl_error(rq, 8, NULL);
                return -1;
        }
        if (accounts.tl[i].rate_limited) {
                wl_error(rq, 1003, "LIMIT api_concurrent");
                return -1;
        }
        if (accounts.tl[i].disabled) {
                wl_error(rq, 7, NULL);
                return -1;
        }
        *ret_sub = wl_operate_as(&accounts.tl[i], op ? op->valuestring : NULL);
        if (*ret_sub < 0) {
                wl_error(rq, 8, NULL);
                return -1;
        }
        return i;
}

static bool wl_token_login(struct rq *rq, const char *params)
{
        cJSON *p = params ? cJSON_Parse(params) : NULL;
        long long now = now_ms();
        struct store_rec s = { .kind = SK_WIALON_SID, .created = now,
                               .idle = accounts.session_idle * 1000LL,
                               .expires = now + accounts.session_idle * 1000LL };
        int sub = 0;

        s.acct = wl_check(rq, p, &sub);
        cJSON_Delete(p);
        if (s.acct < 0)
                return false;
        s.aux = sub;
        rand_hex(s.key, 16);
        store_put(&s);
        wl_login_reply(rq, s.acct, sub, s.key, (time_t)(now / 1000));
        return true;
}

static bool wl_logout(struct rq *rq, const char *sid)
{
        bool ok = sid && store_take(SK_WIALON_SID, sid, NULL) == STORE_LIVE;

        wl_error(rq, ok ? 0 : 1, NULL);
        return ok;
}

void api_wialon_ajax(struct rq *rq)
{
        char *svc = wl_param(rq, "svc"), *params = wl_param(rq, "params");
        char *sid = wl_param(rq, "sid");
        bool ok;

        stat_inc(ST_wialon_ajax);
        if (svc && strcmp(svc, "token/login") == 0) {
                ok = wl_token_login(rq, params);
                stat_inc(ST_token_login);
                stat_inc(ok ? ST_token_login_ok : ST_token_login_fail);
        } else if (svc && strcmp(svc, "core/logout") == 0) {
                ok = wl_logout(rq, sid);
                stat_inc(ST_logout_token_login);
                stat_inc(ok ? ST_logout_token_login_ok : ST_logout_token_login_fail);
        } else {
                if (sid)        /* any call with a live sid keeps the session alive */
                        (void)store_get(SK_WIALON_SID, sid, NULL);
                stat_inc(ST_wialon_bad_svc);
                wl_error(rq, svc ? 2 : 1, NULL);
        }
        free(svc);
        free(params);
        free(sid);
}

/* GET|POST /avl_evts?sid=..: the keep-alive poll; refreshes the session's idle timer. */
void api_wialon_avl_evts(struct rq *rq)
{
        char *sid = wl_param(rq, "sid"), buf[64];
        bool ok = sid && store_get(SK_WIALON_SID, sid, NULL) == STORE_LIVE;

        if (ok) {
                snprintf(buf, sizeof(buf), "{\"tm\":%ld,\"events\":[]}", (long)now_s());
                rq_reply_text(rq, 200, buf);
                rq->ctype = "application/json";
        } else {
                wl_error(rq, 1, NULL);
        }
        free(sid);
        stat_inc(ST_avl_evts);
        stat_inc(ok ? ST_avl_evts_ok : ST_avl_evts_fail);
}

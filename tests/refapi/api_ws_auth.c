/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_ws_auth.c: TrueConf VideoSDK/Room control API (protocols.md section 3): the
 * WebSocket handshake on "/" and "/ws", the JSON methods of one connection (auth,
 * getTokenForHttpServer, clearTokens, setUsedApiVersion, getAppState), and the built-in
 * HTTP server's check of a tokenForHttpServer (GET /frames/?token=..), which lives
 * ws_http_token_ttl seconds (300 unless the accounts file says less). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "sha1.h"
#include "stats.h"
#include "store.h"
#include "ws_session.h"

static bool header_has(const struct rq *rq, const char *name, const char *token)
{
        const char *v = rq_header(rq, name);

        return v && strcasestr(v, token);
}

/* GET / or /ws with the RFC 6455 handshake headers: 101 and hand over to ws_session. */
void api_ws_auth(struct rq *rq)
{
        const char *key = rq_header(rq, "Sec-WebSocket-Key");
        const char *ver = rq_header(rq, "Sec-WebSocket-Version");
        struct MHD_Response *resp;
        char accept[29];

        if (!header_has(rq, MHD_HTTP_HEADER_UPGRADE, "websocket") ||
            !header_has(rq, MHD_HTTP_HEADER_CONNECTION, "upgrade") || !ver ||
            strcmp(ver, "13") != 0) {
                stat_inc(ST_ws_bad_handshake);
                rq_reply_text(rq, 426, "WebSocket (version 13) required\n");
                rq_add_header(rq, MHD_HTTP_HEADER_UPGRADE, "websocket");
                rq_add_header(rq, "Sec-WebSocket-Version", "13");
                return;
        }
        if (!key || strlen(key) != 24) {
                stat_inc(ST_ws_bad_handshake);
                rq_reply_text(rq, 400, "bad Sec-WebSocket-Key\n");
                return;
        }
        ws_accept_key(key, accept);
        resp = MHD_create_response_for_upgrade(ws_session_start,
                                               strcmp(rq->path, "/ws") == 0 ? "/ws" : "/");
        if (!resp) {
                rq_reply_text(rq, 500, "upgrade failed\n");
                return;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
        MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
        rq->custom = resp;
        rq->status = MHD_HTTP_SWITCHING_PROTOCOLS;
}

/* Starts a reply {"method":method,"requestId":<echoed or "">}. */
static cJSON *ws_reply(const char *method, const cJSON *req)
{
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(req, "requestId");
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "method", method);
        cJSON_AddItemToObject(o, "requestId", rid ? cJSON_Duplicate(rid, true)
                                                  : cJSON_CreateString(""));
        return o;
}

/* Returns the privileges a secret grants: 2 admin, 1 user, 0 none. */
static int ws_match(const char *cred)
{
        const struct acct_ws *w = &accounts.ws;
        struct store_rec t;

        if (w->admin_password && strcmp(cred, w->admin_password) == 0)
                return 2;
        if (w->user_password && strcmp(cred, w->user_password) == 0)
                return 1;
        if (strncmp(cred, "1*", 2) == 0 && store_get(SK_WS_TOKEN, cred, &t) == STORE_LIVE)
                return t.aux;
        return 0;
}

/* Decides an auth request.  Returns the resultCode; on 0 sets *ret_priv. */
static int ws_auth_check(const cJSON *req, int *ret_priv)
{
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(req, "type");
        const cJSON *cred = cJSON_GetObjectItemCaseSensitive(req, "credentials");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(req, "role");
        bool secured = cJSON_IsString(type) && strcmp(type->valuestring, "secured") == 0;
        int want = 0, priv;

        if (!type)
                return 11;
        if (!secured && !(cJSON_IsString(type) && strcmp(type->valuestring, "unsecured") == 0))
                return 10;
        if (role && (!cJSON_IsString(role) || (strcmp(role->valuestring, "admin") != 0 &&
                                               strcmp(role->valuestring, "user") != 0)))
                return 9;
        if (role)
                want = strcmp(role->valuestring, "admin") == 0 ? 2 : 1;
        if (!secured) {
                *ret_priv = want ? want : 2;
                return accounts.ws.unsecured ? 0 : 4;
        }
        if (!cJSON_IsString(cred))
                return 12;
        if (!cred->valuestring[0])
                return 7;
        if (accounts.ws.locked)
                return 6;
        priv = ws_match(cred->valuestring);
        if (priv == 0)
                return 8;
        if (want && want != priv)
                return 5;
        *ret_priv = priv;
        return 0;
}

/* A new tokenForHttpServer, live ws_http_token_ttl, tied to the connection's 1* token. */
static void ws_add_http_token(cJSON *o, const struct ws_auth_state *st)
{
        long long now = now_ms();
        struct store_rec h = { .kind = SK_WS_HTTP, .aux = st->priv, .created = now,
                               .expires = now + accounts.ws_http_token_ttl * 1000LL };

        memcpy(h.key, "4*", 2);
        rand_hex(h.key + 2, 16);
        snprintf(h.peer, sizeof(h.peer), "%s", st->token);
        store_put(&h);
        stat_inc(ST_ws_http_token_issued);
        cJSON_AddStringToObject(o, "tokenForHttpServer", h.key);
}

/* Adds "token" (kept or new) and "tokenForHttpServer" for a successful auth. */
static void ws_add_tokens(cJSON *o, struct ws_auth_state *st, const cJSON *req)
{
        const cJSON *cred = cJSON_GetObjectItemCaseSensitive(req, "credentials");
        long long now = now_ms();
        struct store_rec t = { .kind = SK_WS_TOKEN, .aux = st->priv, .created = now,
                               .expires = now + accounts.token_ttl * 1000LL };

        if (cJSON_IsString(cred) && strncmp(cred->valuestring, "1*", 2) == 0) {
                snprintf(t.key, sizeof(t.key), "%s", cred->valuestring); /* re-auth keeps it */
                stat_inc(ST_ws_auth_token_ok);
        } else {
                memcpy(t.key, "1*", 2);
                rand_hex(t.key + 2, 16);
                store_put(&t);
        }
        cJSON_AddStringToObject(o, "token", t.key);
        snprintf(st->token, sizeof(st->token), "%s", t.key);
        ws_add_http_token(o, st);
}

static cJSON *ws_auth(struct ws_auth_state *st, const cJSON *req)
{
        cJSON *o = ws_reply("auth", req);
        int priv = 0, code = ws_auth_check(req, &priv);

        stat_inc(ST_ws_auth);
        stat_inc(code == 0 ? ST_ws_auth_ok : ST_ws_auth_fail);
        if (code != 0) {
                cJSON_AddFalseToObject(o, "result");
                cJSON_AddNumberToObject(o, "resultCode", code);
                return o;
        }
        st->priv = priv;
        cJSON_AddNumberToObject(o, "previleges", priv);
        ws_add_tokens(o, st, req);
        cJSON_AddTrueToObject(o, "result");
        cJSON_AddNumberToObject(o, "resultCode", 0);
        return o;
}

/* A fresh tokenForHttpServer for an authorized connection whose token is still live (a
 * connection authorized by a token that has since expired or been cleared gets none). */
static cJSON *ws_get_http_token(const struct ws_auth_state *st, const cJSON *req)
{
        cJSON *o = ws_reply("getTokenForHttpServer", req);
        bool ok = st->priv && st->token[0] &&
                  store_get(SK_WS_TOKEN, st->token, NULL) == STORE_LIVE;

        stat_inc(ST_ws_get_token_http);
        stat_inc(ok ? ST_ws_get_token_http_ok : ST_ws_get_token_http_fail);
        if (!ok) {
                cJSON_AddFalseToObject(o, "result");
                cJSON_AddStringToObject(o, "error", "not authorized");
                return o;
        }
        cJSON_AddTrueToObject(o, "result");
        ws_add_http_token(o, st);
        return o;
}

/* GET /frames/?token=4*..: the built-in HTTP server's page behind a tokenForHttpServer
 * (section 3.4): 200 while the token lives, 401 once it has expired or was never issued. */
void api_ws_http_frames(struct rq *rq)
{
        const char *tok = rq_query(rq, "token");
        bool ok = tok && store_get(SK_WS_HTTP, tok, NULL) == STORE_LIVE;

        stat_inc(ok ? ST_ws_http_check_ok : ST_ws_http_check_fail);
        rq_reply_text(rq, ok ? 200 : 401, ok ? "frames\n" : "token expired or unknown\n");
}

/* The simple methods; returns NULL for an unknown one. */
static cJSON *ws_simple(const char *method, const cJSON *req)
{
        cJSON *o;

        if (strcmp(method, "clearTokens") == 0) {
                stat_inc(ST_ws_clear_tokens);
                (void)store_drop_kind(SK_WS_TOKEN);
                (void)store_drop_kind(SK_WS_HTTP);
        } else if (strcmp(method, "setUsedApiVersion") != 0 &&
                   strcmp(method, "getAppState") != 0) {
                return NULL;
        }
        o = ws_reply(method, req);
        if (strcmp(method, "getAppState") == 0)
                cJSON_AddNumberToObject(o, "appState", 3);
        cJSON_AddTrueToObject(o, "result");
        return o;
}

static char *ws_print(cJSON *o)
{
        char *s = cJSON_PrintUnformatted(o);

        cJSON_Delete(o);
        return s;
}

char *ws_auth_message(struct ws_auth_state *st, const char *text, size_t len)
{
        cJSON *req = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true), *o;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");

        if (!cJSON_IsObject(req) || !cJSON_IsString(m)) {
                stat_inc(ST_ws_other);
                cJSON_Delete(req);
                return strdup("{\"method\":\"error\",\"result\":false,"
                              "\"error\":\"invalid request\"}");
        }
        if (strcmp(m->valuestring, "auth") == 0)
                o = ws_auth(st, req);
        else if (strcmp(m->valuestring, "getTokenForHttpServer") == 0)
                o = ws_get_http_token(st, req);
        else if (!(o = ws_simple(m->valuestring, req))) {
                stat_inc(ST_ws_other);
                o = ws_reply(m->valuestring, req);
                cJSON_AddFalseToObject(o, "result");
                cJSON_AddStringToObject(o, "error", "unknown method");
        }
        cJSON_Delete(req);
        return ws_print(o);
}

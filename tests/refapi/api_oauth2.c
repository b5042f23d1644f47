/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_oauth2.c: an OAuth 2.0 token endpoint for the resource owner password grant and
 * the refresh_token grant (RFC 6749 sections 4.3, 6), and a revocation endpoint (RFC 7009):
 * POST /oauth2/token and POST /oauth2/revoke, form-encoded, the client authenticated by
 * HTTP Basic (section 2.3.1: client_id and client_secret form-encoded, then base64).
 * The client is "oauth2_client" of the accounts file, the users "oauth2_password".
 * Refresh tokens are single use: every refresh issues a new pair (rotation).
 * The request shape is counted for the tests: form-encoded bodies (oauth2_form), good and
 * bad Basic credentials, and any query argument at all (oauth2_query_args: no secret
 * may travel in a URL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "accounts.h"
#include "refapi.h"
#include "stats.h"
#include "store.h"

static void o2_error(struct rq *rq, unsigned status, const char *error, const char *desc)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "error", error);
        if (desc)
                cJSON_AddStringToObject(o, "error_description", desc);
        rq_reply_json(rq, status, o);
        rq_add_header(rq, "Cache-Control", "no-store");
}

static int b64val(int c)
{
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(tab, c) : NULL;

        return p ? (int)(p - tab) : -1;
}

/* Standard base64 (padded) into a new NUL-terminated string; NULL if malformed. */
static char *b64_decode(const char *s)
{
        size_t n = strlen(s), o = 0;
        char *out;

        if (n == 0 || n % 4 != 0 || !(out = malloc(n / 4 * 3 + 1)))
                return NULL;
        for (size_t i = 0; i < n; i += 4) {
                int v[4];

                for (int k = 0; k < 4; k++)
                        v[k] = s[i + k] == '=' && i + 4 == n && k >= 2 ? 0 : b64val(s[i + k]);
                if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0 ||
                    (s[i + 2] == '=' && s[i + 3] != '=')) {
                        free(out);
                        return NULL;
                }
                out[o++] = (char)(v[0] << 2 | v[1] >> 4);
                if (s[i + 2] != '=')
                        out[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
                if (s[i + 3] != '=')
                        out[o++] = (char)((v[2] & 3) << 6 | v[3]);
        }
        out[o] = '\0';
        return out;
}

/* The client authenticated by "Authorization: Basic base64(enc(id):enc(secret))". */
static bool o2_client_ok(const struct rq *rq)
{
        const char *h = rq_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
        const struct o2_client *c = &accounts.o2_client;
        char *pair = h && strncasecmp(h, "Basic ", 6) == 0 ? b64_decode(h + 6) : NULL;
        char *colon = pair ? strchr(pair, ':') : NULL, *id = NULL, *secret = NULL;
        bool ok;

        if (colon) {
                id = url_decode(pair, (size_t)(colon - pair));
                secret = url_decode(colon + 1, strlen(colon + 1));
        }
        ok = c->client_id && id && secret && strcmp(id, c->client_id) == 0 &&
             strcmp(secret, c->client_secret) == 0;
        free(pair);
        free(id);
        free(secret);
        stat_inc(ok ? ST_oauth2_basic_ok : ST_oauth2_basic_bad);
        return ok;
}

static int count_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
        (void)kind;
        (void)key;
        (void)value;
        ++*(int *)cls;
        return MHD_YES;
}

/* Shape checks shared by both endpoints; replies and returns false on a refusal. */
static bool o2_request_ok(struct rq *rq)
{
        int args = 0;

        MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND,
                                  (MHD_KeyValueIterator)count_arg, &args);
        if (args > 0)
                stat_inc(ST_oauth2_query_args);
        if (!ctype_is(rq_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE),
                      "application/x-www-form-urlencoded")) {
                o2_error(rq, 400, "invalid_request", "form-encoded body expected");
                return false;
        }
        stat_inc(ST_oauth2_form);
        if (!o2_client_ok(rq)) {
                o2_error(rq, 401, "invalid_client", "Invalid client credentials");
                rq_add_header(rq, "WWW-Authenticate", "Basic realm=\"refapi\"");
                return false;
        }
        return true;
}

static char *field(const struct rq *rq, const char *name)
{
        return form_get(rq->body, rq->body_len, name);
}

/* A new access token and refresh token for account acct, in a 200 reply. */
static void o2_issue(struct rq *rq, int acct)
{
        long long now = now_ms();
        struct store_rec at = { .kind = SK_O2_ACCESS, .acct = acct, .created = now,
                                .expires = now + accounts.o2_token_ttl * 1000LL };
        struct store_rec rt = { .kind = SK_O2_REFRESH, .acct = acct, .created = now,
                                .expires = now + accounts.refresh_ttl * 1000LL };
        cJSON *o = cJSON_CreateObject();

        rand_hex(at.key, 20);
        rand_hex(rt.key, 20);
        memcpy(at.peer, rt.key, sizeof(at.peer));
        store_put(&at);
        store_put(&rt);
        cJSON_AddStringToObject(o, "access_token", at.key);
        cJSON_AddStringToObject(o, "token_type", "Bearer");
        cJSON_AddNumberToObject(o, "expires_in", (double)accounts.o2_token_ttl);
        cJSON_AddStringToObject(o, "refresh_token", rt.key);
        rq_reply_json(rq, 200, o);
        rq_add_header(rq, "Cache-Control", "no-store");
}

static bool o2_password(struct rq *rq)
{
        char *user = field(rq, "username"), *pw = field(rq, "password");
        char *scope = field(rq, "scope");
        int i = user ? acct_o2_find(user) : -1;
        bool ok = false;

        stat_inc(ST_oauth2_password_grant);
        if (scope)
                stat_inc(ST_oauth2_scope);
        if (!user || !pw) {
                o2_error(rq, 400, "invalid_request", "username and password required");
        } else if (i >= 0 && accounts.o2[i].rate_limited) {
                stat_inc(ST_oauth2_rate_limited);
                o2_error(rq, 429, "slow_down", "Too many requests");
                rq_add_header(rq, "Retry-After", "5");
        } else if (i >= 0 && accounts.o2[i].unavailable) {
                stat_inc(ST_oauth2_unavailable);
                rq_reply_text(rq, 503, "Service Unavailable\n");
        } else if (i < 0 || strcmp(accounts.o2[i].password, pw) != 0) {
                o2_error(rq, 400, "invalid_grant", "Invalid user credentials");
        } else if (accounts.o2[i].disabled) {
                o2_error(rq, 400, "invalid_grant", "Account disabled");
        } else {
                o2_issue(rq, i);
                ok = true;
        }
        free(user);
        free(pw);
        free(scope);
        return ok;
}

static bool o2_refresh(struct rq *rq)
{
        char *rt = field(rq, "refresh_token");
        struct store_rec rec;
        bool ok = false;

        stat_inc(ST_oauth2_refresh_grant);
        if (rt && rt[0] && store_take(SK_O2_REFRESH, rt, &rec) == STORE_LIVE) {
                o2_issue(rq, rec.acct);
                stat_inc(ST_oauth2_refresh_ok);
                ok = true;
        } else {
                o2_error(rq, 400, "invalid_grant", "Invalid refresh token");
        }
        free(rt);
        return ok;
}

void api_oauth2_token(struct rq *rq)
{
        char *grant = NULL;
        bool ok = false;

        stat_inc(ST_oauth2_token);
        if (o2_request_ok(rq)) {
                grant = field(rq, "grant_type");
                if (grant && strcmp(grant, "password") == 0)
                        ok = o2_password(rq);
                else if (grant && strcmp(grant, "refresh_token") == 0)
                        ok = o2_refresh(rq);
                else
                        o2_error(rq, 400, "unsupported_grant_type", NULL);
        }
        free(grant);
        stat_inc(ok ? ST_oauth2_token_ok : ST_oauth2_token_fail);
}

/* RFC 7009: 200 whether or not the token was known (section 2.2); the hint is only a
 * hint, so both kinds are looked up. */
void api_oauth2_revoke(struct rq *rq)
{
        char *tok;

        stat_inc(ST_oauth2_revoke);
        if (!o2_request_ok(rq))
                return;
        tok = field(rq, "token");
        if (!tok || !tok[0])
                o2_error(rq, 400, "invalid_request", "token required");
        else if (store_take(SK_O2_ACCESS, tok, NULL) != STORE_MISSING)
                stat_inc(ST_oauth2_revoke_access);
        else if (store_take(SK_O2_REFRESH, tok, NULL) != STORE_MISSING)
                stat_inc(ST_oauth2_revoke_refresh);
        else
                stat_inc(ST_oauth2_revoke_unknown);
        if (tok && tok[0])
                rq_reply_text(rq, 200, "");
        free(tok);
}

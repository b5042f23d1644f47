/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws_auth.c: driver for the TrueConf VideoSDK / Room control API, type "ws_auth"
 * (protocols.md section 3): one `auth` request over a WebSocket (ws.c carries it),
 * {"method":"auth","requestId":..,"type":"secured","credentials":<PIN or password>,
 * "role":"user"|"admin"}. The API knows no users, only a device secret and a role: the
 * provider's users = map says which local login names may log in and the role each must
 * obtain; a name not in the map is not this provider's (nothing is sent). The reply carries
 * previleges (sic; 1 user, 2 admin), which must be the role asked for, token (30 days) and
 * tokenForHttpServer (5 minutes), or result false with a resultCode (section 3.6). No
 * logout (closing the WebSocket ends the control session, and ws.c closes it at once).
 *
 * Refresh keeps tokenForHttpServer alive without the PIN: a new connection authorized by
 * the 30-day token ({"type":"secured","credentials":<token>}, the token re-authentication
 * of section 3.4), whose reply carries a fresh tokenForHttpServer. That reply is the one
 * the seed documents, where getTokenForHttpServer's is not (section 3.5), and it takes one
 * request on one connection. The 30-day token and its expiry are kept as they are: a
 * token from token authorization inherits the lifetime of the original one (3.5). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "names.h"
#include "secure.h"

#define WA_REQUEST_ID "apilogin-auth-1" /* one request per connection: a constant will do */
#define WA_RENEW_ID "apilogin-renew-1"  /* the token authorization of a refresh */
#define WA_TOKEN_MAX 4096
#define WA_LIFETIME (30 * 24 * 3600)    /* section 3.5: a token lives 30 days */
#define WA_HTTP_LIFETIME (5 * 60)       /* section 3.5: tokenForHttpServer, 5 minutes */
#define WA_CODE_MAX 1000000

/* The one mapping from resultCode to an outcome, section 3.6. The API sends no text: the
 * meaning below is what syslog shows. Codes not listed are a reply we do not understand. */
static const struct wa_code {
        long code;
        enum apilogin_outcome outcome;
        const char *meaning;
} wa_codes[] = {
        { 1, APILOGIN_UNAVAIL, "internal failure" },
        { 2, APILOGIN_PERM_DENIED, "the current plan is not Pro" },
        { 3, APILOGIN_PERM_DENIED, "the connection is not authenticated as administrator" },
        { 4, APILOGIN_AUTH_ERR, "this protection type cannot be used with these credentials" },
        { 5, APILOGIN_PERM_DENIED, "the privileges obtained differ from the requested role" },
        { 6, APILOGIN_MAXTRIES, "too many wrong passwords, retry later" },
        { 7, APILOGIN_AUTH_ERR, "empty credentials" },
        { 8, APILOGIN_AUTH_ERR, "incorrect credentials" },
        { 9, APILOGIN_SERVICE_ERR, "invalid role value" },
        { 10, APILOGIN_SERVICE_ERR, "invalid type value" },
        { 11, APILOGIN_SERVICE_ERR, "type missing" },
        { 12, APILOGIN_SERVICE_ERR, "credentials missing" },
};

/* The keys of a [provider] section of type ws_auth, beside the common ones. */
struct wa_conf {
        struct apilogin_pair *users; /* local login name -> role (admin or user) */
        size_t n_users;
};

static bool wa_role_ok(const char *s)
{
        return strcmp(s, "admin") == 0 || strcmp(s, "user") == 0;
}

static int wa_parse_users(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k,
                          void *obj, const char *v)
{
        struct wa_conf *c = obj;

        return apilogin_conf_parse_pairs(ctx, k, v, apilogin_name_valid, wa_role_ok, &c->users,
                                         &c->n_users);
}

static void wa_clear_users(const struct apilogin_key *k, void *obj)
{
        struct wa_conf *c = obj;

        apilogin_pairs_free(c->users, c->n_users);
        *c = (struct wa_conf){ 0 };
}

static const struct apilogin_key wa_keys[] = {
        { .name = "users", .parse = wa_parse_users, .clear = wa_clear_users, .required = true,
          .append = true, .what = "NAME:ROLE with role admin or user",
          .doc = "local login name to the role it must obtain, NAME:ROLE, ..." },
};

/* The role users = gives name ("admin" or "user"), NULL if the name is not in the map. */
static const char *wa_role(const struct apilogin_provider_cfg *p, const char *name)
{
        const struct wa_conf *c = p ? p->conf : NULL;

        for (size_t i = 0; c && name && i < c->n_users; i++)
                if (c->users[i].key && strcmp(c->users[i].key, name) == 0)
                        return c->users[i].value;
        return NULL;
}

/* previleges for a role: 2 admin, 1 user (the config accepts nothing else). */
static long wa_privileges(const char *role)
{
        return strcmp(role, "admin") == 0 ? 2 : 1;
}

static bool int_value(const cJSON *v, long *ret)
{
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > WA_CODE_MAX ||
            v->valuedouble != (double)(long)v->valuedouble)
                return false;
        *ret = (long)v->valuedouble;
        return true;
}

static int fail(struct apilogin_result *r, enum apilogin_outcome o, const char *code,
                const char *message)
{
        r->outcome = o;
        r->api_code = code ? strdup(code) : NULL;
        r->api_message = message ? strdup(message) : NULL;
        if ((code && !r->api_code) || (message && !r->api_message))
                return -ENOMEM;
        return 0;
}

static int fail_code(struct apilogin_result *r, long code)
{
        char c[40];

        (void)snprintf(c, sizeof(c), "resultCode %ld", code);
        for (size_t i = 0; i < ELEMENTSOF(wa_codes); i++)
                if (wa_codes[i].code == code)
                        return fail(r, wa_codes[i].outcome, c, wa_codes[i].meaning);
        return fail(r, APILOGIN_UNAVAIL, c, "unknown resultCode");
}

/* The resultCode of a reply: resultCode itself, or 0 when only "result":true is there.
 * false when neither tells (a reply we do not understand). */
static bool wa_result_code(const cJSON *j, long *ret)
{
        const cJSON *result = cJSON_GetObjectItemCaseSensitive(j, "result");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "resultCode");

        if (code)
                return int_value(code, ret) && !(*ret == 0 && cJSON_IsFalse(result));
        if (!cJSON_IsTrue(result))
                return false;
        *ret = 0;
        return true;
}

/* An answer to our request: method auth, our requestId. */
static bool wa_is_ours(const cJSON *j, const char *request_id)
{
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "method");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "requestId");

        return cJSON_IsString(m) && strcmp(m->valuestring, "auth") == 0 && cJSON_IsString(id) &&
               strcmp(id->valuestring, request_id) == 0;
}

/* resultCode 0: the privileges must be the role asked for; then the two tokens. */
static int wa_success(const char *role, const cJSON *j, struct apilogin_result *r)
{
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
        const cJSON *http = cJSON_GetObjectItemCaseSensitive(j, "tokenForHttpServer");
        long priv;
        char code[40];

        if (!int_value(cJSON_GetObjectItemCaseSensitive(j, "previleges"), &priv) ||
            !apilogin_json_str_ok(tok, WA_TOKEN_MAX))
                return fail(r, APILOGIN_UNAVAIL, NULL, "malformed reply");
        if (priv != wa_privileges(role)) {
                (void)snprintf(code, sizeof(code), "previleges %ld", priv);
                return fail(r, APILOGIN_PERM_DENIED, code,
                            "the privileges obtained differ from the role of this login name");
        }
        r->token = strdup(tok->valuestring);
        r->role = strdup(role);
        if (!r->token || !r->role)
                return -ENOMEM;
        if (apilogin_json_str_ok(http, WA_TOKEN_MAX)) {
                r->extra[0].key = strdup("tokenForHttpServer");
                r->extra[0].value = strdup(http->valuestring);
                if (!r->extra[0].key || !r->extra[0].value)
                        return -ENOMEM;
        }
        r->expires_at = (int64_t)time(NULL) + WA_LIFETIME;
        r->outcome = APILOGIN_OK;
        return 0;
}

/* The secured auth request {"method":"auth","requestId":id,"type":"secured",
 * "credentials":secret,"role":role} to url. The secret is wiped from the JSON tree. */
static int wa_auth_request(const char *url, const char *id, const char *secret,
                           const char *role, struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = cJSON_CreateObject();
        struct apilogin_http_req req = { 0 };

        if (!o || !cJSON_AddStringToObject(o, "method", "auth") ||
            !cJSON_AddStringToObject(o, "requestId", id) ||
            !cJSON_AddStringToObject(o, "type", "secured") ||
            !cJSON_AddStringToObject(o, "credentials", secret) ||
            !cJSON_AddStringToObject(o, "role", role))
                return -ENOMEM;
        req.body = apilogin_json_print_wipe(o);
        req.body_len = req.body ? strlen(req.body) : 0;
        req.url = strdup(url);
        req.match_id = strdup(id);
        if (!req.body || !req.url || !req.match_id) {
                apilogin_http_req_clear(&req);
                return -ENOMEM;
        }
        *ret = req;
        return 0;
}

/* -ENOENT: the name is not in the users map (not this provider's: nothing is sent);
 * -EINVAL: an empty or over-long secret. */
static int wa_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        const char *role = wa_role(in->p, in->user);

        if (!role)
                return -ENOENT;
        if (!in->url || !in->secret || !in->secret[0] ||
            strnlen(in->secret, APILOGIN_SECRET_MAX + 1) > APILOGIN_SECRET_MAX)
                return -EINVAL;
        return wa_auth_request(in->url, WA_REQUEST_ID, in->secret, role, ret);
}

/* Any reply that is not a JSON object answering our auth (method, requestId), or whose
 * result cannot be read, is UNAVAIL: the daemon fails over. */
static int wa_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        const char *role = wa_role(in->p, in->user);
        long code;
        int r;

        apilogin_result_clear(ret);
        if (!role)
                r = fail(ret, APILOGIN_SERVICE_ERR, NULL, "login name not in the users map");
        else if (!cJSON_IsObject(j) || !wa_is_ours(j, WA_REQUEST_ID) || !wa_result_code(j, &code))
                r = fail(ret, APILOGIN_UNAVAIL, NULL, "malformed reply");
        else if (code == 0)
                r = wa_success(role, j, ret);
        else
                r = fail_code(ret, code);
        if (r < 0)
                apilogin_result_clear(ret); /* never a half-filled result */
        return r;
}

/* Token authorization with the session's 30-day token, on a new connection to the URL
 * that issued it. -ENOENT: the name left the users map (a reload); -EINVAL: no usable
 * token. Neither sends anything. */
static int wa_refresh_request(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret)
{
        const char *role = wa_role(p, c->user);

        if (!role)
                return -ENOENT;
        if (!c->url || !c->token || !c->token[0] ||
            strnlen(c->token, WA_TOKEN_MAX + 1) > WA_TOKEN_MAX)
                return -EINVAL;
        return wa_auth_request(c->url, WA_RENEW_ID, c->token, role, ret);
}

/* The reply to a token authorization: its tokenForHttpServer is the renewal; the token
 * and its expiry stay the session's (3.5: a token from token authorization inherits the
 * lifetime of the original). resultCode 8 (the device forgot the token: restarted,
 * clearTokens) and the other refusals end the renewals (AUTH_ERR, PERM_DENIED); a reply
 * without tokenForHttpServer is UNAVAIL, retried later. */
static int wa_refresh_reply(const struct apilogin_provider_cfg *p,
                            const struct apilogin_session_creds *c,
                            const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        const char *role = wa_role(p, c->user);
        long code;
        int r;

        apilogin_result_clear(ret);
        if (!role)
                r = fail(ret, APILOGIN_SERVICE_ERR, NULL, "login name not in the users map");
        else if (!cJSON_IsObject(j) || !wa_is_ours(j, WA_RENEW_ID) || !wa_result_code(j, &code))
                r = fail(ret, APILOGIN_UNAVAIL, NULL, "malformed reply");
        else if (code != 0)
                r = fail_code(ret, code);
        else
                r = wa_success(role, j, ret);
        if (r == 0 && ret->outcome == APILOGIN_OK && !ret->extra[0].value) {
                apilogin_result_clear(ret);
                r = fail(ret, APILOGIN_UNAVAIL, NULL, "no tokenForHttpServer in the reply");
        }
        if (r == 0 && ret->outcome == APILOGIN_OK) {
                apilogin_erase_free(ret->token);
                ret->token = strdup(c->token);
                ret->expires_at = c->expires_at;
                if (!ret->token)
                        r = -ENOMEM;
        }
        if (r < 0)
                apilogin_result_clear(ret);
        return r;
}

const struct apilogin_driver apilogin_driver_ws_auth = {
        .type = { .name = "ws_auth",
                  .doc = "TrueConf Room control API auth over WebSocket, with a PIN",
                  .keys = wa_keys, .n_keys = ELEMENTSOF(wa_keys),
                  .conf_size = sizeof(struct wa_conf), .ws = true },
        .prompt = "PIN: ",
        .names_exact = true,
        .extra_lifetime_s = WA_HTTP_LIFETIME,
        .renew_how = "token authorization on a new connection for a fresh tokenForHttpServer "
                     "(no PIN kept)",
        .login_request = wa_login_request,
        .login_reply = wa_login_reply,
        .logout_request = NULL,
        .refresh_request = wa_refresh_request,
        .refresh_reply = wa_refresh_reply,
};

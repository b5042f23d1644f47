/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* oauth2_password.c: driver for the OAuth 2.0 resource owner password credentials grant,
 * type "oauth2_password" (RFC 6749 section 4.3), as Keycloak, Okta, Entra ID and most
 * identity providers serve it at their token endpoint (url).
 *
 * Login: POST grant_type=password&username=..&password=..[&scope=..], form-encoded, the
 * client authenticated by HTTP Basic with client_id:client_secret, each form-encoded first
 * (section 2.3.1); the secret is read from client_secret_file for each request and wiped
 * right after. Without client_secret_file the client is public and sends client_id in the
 * body (section 3.2.1). A 200 reply carries access_token, expires_in and maybe
 * refresh_token (section 5.1); an error reply {"error": ...} (section 5.2) maps as:
 * invalid_grant -> AUTH_ERR (wrong password, disabled account); invalid_client and
 * unauthorized_client -> SERVICE_ERR (the administrator's client settings); other errors
 * -> SERVICE_ERR; 429 -> MAXTRIES; 5xx and anything unreadable -> UNAVAIL.
 * Refresh: grant_type=refresh_token (section 6) at the same endpoint; a new refresh_token
 * in the reply replaces the old one (rotation), none keeps it. Logout: when revocation_url
 * is set, the refresh token, then the access token, are revoked (RFC 7009 section 2.1:
 * token=..&token_type_hint=.., the same client authentication). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "secure.h"

#define O2_TOKEN_MAX 8192         /* JWT access tokens run to a few kB */
#define O2_SECRET_MAX 1024        /* client secrets are 32-256 bytes in practice */
#define O2_CODE_MAX 64
#define O2_MSG_MAX 256
#define O2_DEFAULT_LIFETIME 300   /* expires_in is RECOMMENDED only; assume it is short */
#define O2_LIFETIME_MAX (366 * 24 * 3600)

/* ---- config ------------------------------------------------------------------------------ */

struct o2_conf {
        char *client_id;
        char *client_secret_file; /* NULL: a public client */
        char *scope;
        char *revocation_url;     /* RFC 7009 endpoint; NULL: no revocation at logout */
};

static const struct apilogin_key o2_keys[] = {
        { .name = "client_id", .parse = apilogin_key_word, .clear = apilogin_key_clear_str,
          .off = offsetof(struct o2_conf, client_id), .required = true,
          .doc = "the OAuth 2.0 client id registered at the identity provider" },
        { .name = "client_secret_file", .parse = apilogin_key_secret_file,
          .clear = apilogin_key_clear_str, .off = offsetof(struct o2_conf, client_secret_file),
          .doc = "root-owned 0600 file holding the client secret (omit for a public client)" },
        { .name = "scope", .parse = apilogin_key_text, .clear = apilogin_key_clear_str,
          .off = offsetof(struct o2_conf, scope),
          .doc = "scope to request, space-separated (default: the server's)" },
        { .name = "revocation_url", .parse = apilogin_key_url, .clear = apilogin_key_clear_str,
          .off = offsetof(struct o2_conf, revocation_url),
          .doc = "RFC 7009 endpoint that revokes the tokens at the last close (default: none)" },
};

static int o2_check(struct apilogin_conf_ctx *ctx, const struct apilogin_provider_cfg *pc)
{
        const struct o2_conf *c = pc->conf;

        return c->revocation_url ? apilogin_conf_check_url(ctx, pc, "revocation_url",
                                                           c->revocation_url, false)
                                 : 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* "Authorization: Basic base64(enc(id):enc(secret))" into *ret, reading the secret now. */
static int o2_basic_header(const struct o2_conf *c, char **ret)
{
        _cleanup_(apilogin_erase_freep) char *id = NULL, *sec = NULL, *pair = NULL, *b64 = NULL;
        char secret[O2_SECRET_MAX + 1];
        ssize_t n = apilogin_secret_file_read(c->client_secret_file, secret, sizeof(secret));

        if (n < 0)
                return (int)n;
        id = apilogin_form_encode(c->client_id);
        sec = apilogin_form_encode(secret);
        apilogin_secure_erase(secret, sizeof(secret));
        if (!id || !sec || asprintf(&pair, "%s:%s", id, sec) < 0) {
                pair = NULL;
                return -ENOMEM;
        }
        b64 = apilogin_base64(pair, strlen(pair));
        if (!b64 || asprintf(ret, "Authorization: Basic %s", b64) < 0)
                return -ENOMEM;
        return 0;
}

/* A form POST to url: the body so far (taken), plus the client's authentication. */
static int o2_post(const struct o2_conf *c, const char *url, char *body, size_t len,
                   struct apilogin_http_req *ret)
{
        struct apilogin_http_req req = { .post = true, .body = body, .body_len = len };
        int r = 0;

        if (!c->client_secret_file)
                r = apilogin_form_add(&req.body, &req.body_len, "client_id", c->client_id);
        else
                r = o2_basic_header(c, &req.headers[0]);
        req.url = strdup(url);
        req.content_type = strdup("application/x-www-form-urlencoded");
        req.headers[1] = strdup("Accept: application/json");
        if (r == 0 && (!req.url || !req.content_type || !req.headers[1]))
                r = -ENOMEM;
        if (r < 0) {
                apilogin_http_req_clear(&req);
                return r;
        }
        *ret = req;
        return 0;
}

/* POST the grant: name/value pairs in kv (n of them), then scope when set. */
static int o2_grant(const struct apilogin_provider_cfg *p, const char *url,
                    const char *const *kv, size_t n, struct apilogin_http_req *ret)
{
        const struct o2_conf *c = p->conf;
        char *body = NULL;
        size_t len = 0;
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++)
                r = apilogin_form_add(&body, &len, kv[2 * i], kv[2 * i + 1]);
        if (r == 0 && c->scope)
                r = apilogin_form_add(&body, &len, "scope", c->scope);
        if (r < 0) {
                apilogin_freezero(body, len);
                return r;
        }
        return o2_post(c, url, body, len, ret);
}

static int o2_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        const char *kv[] = { "grant_type", "password", "username", in->user,
                             "password", in->secret };

        if (!in->p || !in->p->conf || !in->secret || !in->secret[0])
                return -EINVAL;
        return o2_grant(in->p, in->url, kv, 3, ret);
}

/* -EINVAL without a refresh token: the daemon then logs in again (renew = relogin) or lets
 * the token expire. */
static int o2_refresh_request(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret)
{
        const char *kv[] = { "grant_type", "refresh_token", "refresh_token", c->refresh };

        if (!p->conf || !c->refresh || !c->refresh[0] || !c->url)
                return -EINVAL;
        return o2_grant(p, c->url, kv, 2, ret);
}

/* Step 0 revokes the refresh token, step 1 the access token (RFC 7009 section 2.1). */
static int o2_logout_request(const struct apilogin_provider_cfg *p,
                             const struct apilogin_session_creds *c,
                             struct apilogin_http_req *ret)
{
        const struct o2_conf *o = p->conf;
        const char *tok = c->step == 0 ? c->refresh : c->token;
        const char *kv[] = { "token", tok, "token_type_hint",
                             c->step == 0 ? "refresh_token" : "access_token" };
        char *body = NULL;
        size_t len = 0;
        int r = 0;

        if (!o || !o->revocation_url || !tok || !tok[0] || c->step > 1)
                return -ENOENT; /* nothing to revoke, or nowhere to */
        for (size_t i = 0; i < 2 && r == 0; i++)
                r = apilogin_form_add(&body, &len, kv[2 * i], kv[2 * i + 1]);
        if (r < 0) {
                apilogin_freezero(body, len);
                return r;
        }
        return o2_post(o, o->revocation_url, body, len, ret);
}

/* ---- replies ------------------------------------------------------------------------------ */

static const struct o2_error {
        const char *code;
        enum apilogin_outcome outcome;
        const char *why; /* for the log: whose error it is */
} o2_errors[] = {
        { "invalid_grant", APILOGIN_AUTH_ERR, "wrong name or password, or account disabled" },
        { "invalid_client", APILOGIN_SERVICE_ERR,
          "the server refused the client: check client_id and client_secret_file" },
        { "unauthorized_client", APILOGIN_SERVICE_ERR,
          "the client may not use the password grant: enable it at the identity provider" },
        { "invalid_scope", APILOGIN_SERVICE_ERR, "the server refused scope" },
        { "unsupported_grant_type", APILOGIN_SERVICE_ERR,
          "the server does not offer the password grant" },
        { "invalid_request", APILOGIN_SERVICE_ERR, "the server could not read the request" },
};

static int o2_fail(struct apilogin_result *r, enum apilogin_outcome o, const char *code,
                   const char *message)
{
        r->outcome = o;
        if (code && !(r->api_code = apilogin_sanitize_dup(code, O2_CODE_MAX)))
                return -ENOMEM;
        if (message && !(r->api_message = apilogin_sanitize_dup(message, O2_MSG_MAX)))
                return -ENOMEM;
        return 0;
}

/* An error reply of section 5.2: its "error" decides, the description goes to the log. */
static int o2_error_reply(const struct apilogin_http_resp *resp, const cJSON *j,
                          struct apilogin_result *r)
{
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
        char msg[O2_MSG_MAX];

        if (!apilogin_json_str_ok(err, O2_CODE_MAX))
                return resp->status == 401
                               ? o2_fail(r, APILOGIN_SERVICE_ERR, "401",
                                         "the server refused the client: check client_id and "
                                         "client_secret_file")
                               : o2_fail(r, APILOGIN_UNAVAIL, NULL, "malformed reply");
        for (size_t i = 0; i < ELEMENTSOF(o2_errors); i++) {
                if (strcmp(err->valuestring, o2_errors[i].code) != 0)
                        continue;
                (void)snprintf(msg, sizeof(msg), "%s%s%s", o2_errors[i].why,
                               apilogin_json_str_ok(desc, O2_MSG_MAX) ? ": " : "",
                               apilogin_json_str_ok(desc, O2_MSG_MAX) ? desc->valuestring : "");
                return o2_fail(r, o2_errors[i].outcome, err->valuestring, msg);
        }
        return o2_fail(r, APILOGIN_SERVICE_ERR, err->valuestring,
                       apilogin_json_str_ok(desc, O2_MSG_MAX) ? desc->valuestring : NULL);
}

/* A 200 reply of section 5.1; old_refresh is kept when no new refresh token comes. */
static int o2_success(const cJSON *j, const char *old_refresh, struct apilogin_result *r)
{
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
        const cJSON *tt = cJSON_GetObjectItemCaseSensitive(j, "token_type");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
        const char *refresh;
        long lifetime = O2_DEFAULT_LIFETIME;

        if (!apilogin_json_str_ok(at, O2_TOKEN_MAX) || !apilogin_json_str_ok(tt, O2_CODE_MAX))
                return o2_fail(r, APILOGIN_UNAVAIL, NULL, "malformed reply");
        r->token = strdup(at->valuestring);
        if (!r->token)
                return -ENOMEM;
        refresh = apilogin_json_str_ok(rt, O2_TOKEN_MAX) ? rt->valuestring : old_refresh;
        if (refresh && !(r->refresh = strdup(refresh)))
                return -ENOMEM;
        if (apilogin_json_int(exp, &lifetime) && (lifetime <= 0 || lifetime > O2_LIFETIME_MAX))
                lifetime = O2_DEFAULT_LIFETIME;
        r->expires_at = (int64_t)time(NULL) + lifetime;
        r->outcome = APILOGIN_OK;
        return 0;
}

static int o2_parse(const struct apilogin_http_resp *resp, const char *old_refresh,
                    struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        int ret;

        apilogin_result_clear(r);
        r->retry_after = resp->retry_after;
        if (resp->status == 200 && cJSON_IsObject(j))
                ret = o2_success(j, old_refresh, r);
        else if (resp->status == 429)
                ret = o2_fail(r, APILOGIN_MAXTRIES, "429", "rate limited by the server");
        else if (resp->status >= 400 && resp->status < 500)
                ret = o2_error_reply(resp, cJSON_IsObject(j) ? j : NULL, r);
        else
                ret = o2_fail(r, APILOGIN_UNAVAIL, NULL,
                              resp->status >= 500 ? "server error" : "malformed reply");
        if (ret < 0)
                apilogin_result_clear(r); /* never a half-filled result */
        return ret;
}

static int o2_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        return o2_parse(resp, NULL, ret);
}

static int o2_refresh_reply(const struct apilogin_provider_cfg *p,
                            const struct apilogin_session_creds *c,
                            const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        return o2_parse(resp, c->refresh, ret);
}

const struct apilogin_driver apilogin_driver_oauth2_password = {
        .type = { .name = "oauth2_password",
                  .doc = "OAuth 2.0 resource owner password grant (RFC 6749 4.3, RFC 7009)",
                  .keys = o2_keys, .n_keys = ELEMENTSOF(o2_keys),
                  .conf_size = sizeof(struct o2_conf), .check = o2_check },
        .logout_steps = 2,
        .login_request = o2_login_request,
        .login_reply = o2_login_reply,
        .logout_request = o2_logout_request,
        .refresh_request = o2_refresh_request,
        .refresh_reply = o2_refresh_reply,
};

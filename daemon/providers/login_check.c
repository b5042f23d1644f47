/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* login_check.c: driver for the Noventiq (Softline) Checkout authentication API, type
 * "login_check" (protocols.md section 5): POST {"username","password"} as JSON, get
 * {"token","refresh_token"} back; errors are {"errors":[{"error":N,"message":...}]} with
 * the HTTP status, of which only the first counts. Refresh (our extension, only when
 * refresh_url is set) posts {"refresh_token"} and reads the same reply. No logout. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "secure.h"

#define LC_TOKEN_MAX 4096
#define LC_NAME_MAX 255
#define LC_MSG_MAX 256
#define LC_DEFAULT_LIFETIME (24 * 3600)     /* section 5.6: a token lives 24 h */
#define LC_LIFETIME_MAX (366 * 24 * 3600)   /* larger expires_in values are not believed */

#define ANY_ERROR (-1) /* any code, but the body must carry {"errors":[{"error":N}]} */
#define ANY_BODY (-2)  /* the status alone decides, whatever the body */
#define STATUS_4XX 4
#define STATUS_5XX 5

/* The one mapping from (HTTP status, first error code) to an outcome, section 5.7, at
 * login and at refresh. First match wins; no match (a 4xx whose body carries no error,
 * any 1xx/2xx/3xx that is not a 200) means a reply we do not understand: UNAVAIL. At
 * refresh the token errors 1007-1009 are about the refresh token we sent: it is dead,
 * which is AUTH_ERR (the daemon logs in again or lets the session expire). */
static const struct lc_rule {
        long status;
        long error;
        enum apilogin_outcome outcome;
        enum apilogin_outcome at_refresh;
} lc_rules[] = {
        { 400, 110, APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR },  /* JSON not valid: our bug */
        { 400, 111, APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR },  /* Content-Type */
        { 400, 1005, APILOGIN_AUTH_ERR, APILOGIN_AUTH_ERR },       /* required data missing */
        { 401, 1006, APILOGIN_AUTH_ERR, APILOGIN_AUTH_ERR },       /* bad credentials */
        { 401, 1007, APILOGIN_SERVICE_ERR, APILOGIN_AUTH_ERR },    /* token invalid */
        { 401, 1008, APILOGIN_SERVICE_ERR, APILOGIN_AUTH_ERR },    /* token missing */
        { 401, 1009, APILOGIN_SERVICE_ERR, APILOGIN_AUTH_ERR },    /* token expired */
        { 401, ANY_ERROR, APILOGIN_AUTH_ERR, APILOGIN_AUTH_ERR },
        { 403, ANY_ERROR, APILOGIN_ACCT_EXPIRED, APILOGIN_ACCT_EXPIRED }, /* refapi: 1010 */
        { 404, ANY_BODY, APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR },   /* wrong URL */
        { 429, ANY_BODY, APILOGIN_MAXTRIES, APILOGIN_MAXTRIES },
        { STATUS_4XX, ANY_ERROR, APILOGIN_SERVICE_ERR, APILOGIN_SERVICE_ERR },
        { STATUS_5XX, ANY_BODY, APILOGIN_UNAVAIL, APILOGIN_UNAVAIL },
};

/* The keys of a [provider] section of type login_check, beside the common ones. */
struct lc_conf {
        char *refresh_url; /* our extension: where a refresh token is exchanged; NULL: none */
};

static const struct apilogin_key lc_keys[] = {
        { .name = "refresh_url", .parse = apilogin_key_url, .clear = apilogin_key_clear_str,
          .off = offsetof(struct lc_conf, refresh_url),
          .doc = "endpoint that exchanges the refresh token for a new token (default: none)" },
};

static int lc_check(struct apilogin_conf_ctx *ctx, const struct apilogin_provider_cfg *pc)
{
        const struct lc_conf *c = pc->conf;

        return c->refresh_url ? apilogin_conf_check_url(ctx, pc, "refresh_url", c->refresh_url,
                                                        false)
                              : 0;
}

static int fail(struct apilogin_result *r, enum apilogin_outcome o, long status, long error,
                const char *message)
{
        char code[48];

        if (error == ANY_ERROR)
                (void)snprintf(code, sizeof(code), "HTTP %ld", status);
        else
                (void)snprintf(code, sizeof(code), "HTTP %ld/%ld", status, error);
        r->outcome = o;
        r->api_code = strdup(code);
        r->api_message = message ? apilogin_sanitize_dup(message, LC_MSG_MAX) : NULL;
        if (!r->api_code || (message && !r->api_message))
                return -ENOMEM;
        return 0;
}

/* The first error of {"errors":[{"error":N,"message":"..."}]}; false if there is none
 * of the right types. *ret_msg may be NULL (message is optional). */
static bool first_error(const cJSON *j, long *ret_code, const char **ret_msg)
{
        const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
        const cJSON *e, *msg;

        if (!cJSON_IsArray(errs) || !cJSON_IsObject(errs->child))
                return false;
        e = errs->child;
        if (!apilogin_json_int(cJSON_GetObjectItemCaseSensitive(e, "error"), ret_code))
                return false;
        msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        *ret_msg = cJSON_IsString(msg) ? msg->valuestring : NULL;
        return true;
}

static bool rule_matches(const struct lc_rule *rule, long status, bool has_error, long error)
{
        if (rule->status != status && !(rule->status == STATUS_4XX && status / 100 == 4) &&
            !(rule->status == STATUS_5XX && status / 100 == 5))
                return false;
        if (rule->error == ANY_BODY)
                return true;
        return has_error && (rule->error == ANY_ERROR || rule->error == error);
}

static int lc_failure(const struct apilogin_http_resp *resp, const cJSON *j, bool refreshing,
                      struct apilogin_result *r)
{
        long error = ANY_ERROR;
        const char *msg = NULL;
        bool has_error = cJSON_IsObject(j) && first_error(j, &error, &msg);

        if (!has_error)
                error = ANY_ERROR;
        for (size_t i = 0; i < ELEMENTSOF(lc_rules); i++) {
                enum apilogin_outcome o;

                if (!rule_matches(&lc_rules[i], resp->status, has_error, error))
                        continue;
                o = refreshing ? lc_rules[i].at_refresh : lc_rules[i].outcome;
                if (o == APILOGIN_MAXTRIES)
                        r->retry_after = resp->retry_after;
                return fail(r, o, resp->status, error, msg);
        }
        return fail(r, APILOGIN_UNAVAIL, resp->status, error, msg ? msg : "malformed reply");
}

/* A 200 reply: token, optional refresh_token (else keep old_refresh), expires_in and
 * display_name. */
static int lc_success(const struct apilogin_http_resp *resp, const cJSON *j,
                      const char *old_refresh, struct apilogin_result *r)
{
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
        const cJSON *dn = cJSON_GetObjectItemCaseSensitive(j, "display_name");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
        const char *refresh;
        long lifetime = LC_DEFAULT_LIFETIME;

        if (!apilogin_json_str_ok(tok, LC_TOKEN_MAX))
                return fail(r, APILOGIN_UNAVAIL, resp->status, ANY_ERROR, "malformed reply");
        r->token = strdup(tok->valuestring);
        if (!r->token)
                return -ENOMEM;
        refresh = apilogin_json_str_ok(rt, LC_TOKEN_MAX) ? rt->valuestring : old_refresh;
        if (refresh && !(r->refresh = strdup(refresh)))
                return -ENOMEM;
        if (apilogin_json_str_ok(dn, LC_NAME_MAX) && apilogin_gecos_ok(dn->valuestring) &&
            !(r->display_name = strdup(dn->valuestring)))
                return -ENOMEM;
        if (apilogin_json_int(exp, &lifetime) && (lifetime <= 0 || lifetime > LC_LIFETIME_MAX))
                lifetime = LC_DEFAULT_LIFETIME;
        r->expires_at = (int64_t)time(NULL) + lifetime;
        r->outcome = APILOGIN_OK;
        return 0;
}

/* A login reply (refreshing false), or a refresh reply, which keeps old_refresh when it
 * brings no new refresh token. */
static int lc_parse(const struct apilogin_http_resp *resp, bool refreshing,
                    const char *old_refresh, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        int ret;

        apilogin_result_clear(r);
        if (resp->status == 200 && cJSON_IsObject(j))
                ret = lc_success(resp, j, old_refresh, r);
        else
                ret = lc_failure(resp, j, refreshing, r);
        if (ret < 0)
                apilogin_result_clear(r); /* never a half-filled result */
        return ret;
}

/* POST url with a JSON object of n string members (keys and values in kv). */
static int json_post(const char *url, const char *const *kv, size_t n,
                     struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = cJSON_CreateObject();
        struct apilogin_http_req req = { .post = true };

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!cJSON_AddStringToObject(o, kv[2 * i], kv[2 * i + 1]))
                        return -ENOMEM;
        req.body = apilogin_json_print_wipe(o);
        req.body_len = req.body ? strlen(req.body) : 0;
        req.url = strdup(url);
        req.content_type = strdup("application/json");
        if (!req.body || !req.url || !req.content_type) {
                apilogin_http_req_clear(&req);
                return -ENOMEM;
        }
        *ret = req;
        return 0;
}

static int lc_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        const char *kv[] = { "username", in->user, "password", in->secret };

        /* An empty name or password would only earn 400/1005: refuse before sending. */
        if (!in->url || !in->user || !in->user[0] || !in->secret || !in->secret[0] ||
            strnlen(in->secret, APILOGIN_SECRET_MAX + 1) > APILOGIN_SECRET_MAX)
                return -EINVAL;
        return json_post(in->url, kv, 2, ret);
}

static int lc_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        return lc_parse(resp, false, NULL, ret);
}

/* -EOPNOTSUPP when the provider has no refresh_url: the daemon then renews by re-login
 * (renew = relogin) or lets the token expire. */
static int lc_refresh_request(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret)
{
        const char *kv[] = { "refresh_token", c->refresh };
        const struct lc_conf *lc = p->conf;

        if (!lc || !lc->refresh_url)
                return -EOPNOTSUPP;
        if (!c->refresh || !c->refresh[0])
                return -EINVAL;
        return json_post(lc->refresh_url, kv, 1, ret);
}

/* Same reply as a login (new token pair); a reply without a new refresh_token keeps the
 * old one; a rejected refresh token is AUTH_ERR. */
static int lc_refresh_reply(const struct apilogin_provider_cfg *p,
                            const struct apilogin_session_creds *c,
                            const struct apilogin_http_resp *resp, struct apilogin_result *ret)
{
        return lc_parse(resp, true, c->refresh, ret);
}

const struct apilogin_driver apilogin_driver_login_check = {
        .type = { .name = "login_check",
                  .doc = "Noventiq (Softline) Checkout authentication API",
                  .keys = lc_keys, .n_keys = ELEMENTSOF(lc_keys),
                  .conf_size = sizeof(struct lc_conf), .check = lc_check },
        .login_request = lc_login_request,
        .login_reply = lc_login_reply,
        .logout_request = NULL,
        .refresh_request = lc_refresh_request,
        .refresh_reply = lc_refresh_reply,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* token_login.c: driver for the Wialon Remote API, type "token_login" (protocols.md
 * section 2). Login is a form POST svc=token/login&params={"token":T,"fl":3[,"operateAs":U]}
 * that opens a session (eid). Errors come as HTTP 200 {"error":N[,"reason":...]}. The
 * token alone names the account, so the returned "au" must be the login name. The session
 * dies after 5 idle minutes: the daemon keeps it alive with avl_evts and ends it with
 * core/logout. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "names.h"
#include "secure.h"

#define TL_TOKEN_LEN 72     /* section 2.5 code 4: a token is exactly 72 characters */
#define TL_EID_MAX 4096
#define TL_NAME_MAX 255
#define TL_MSG_MAX 256

enum tl_cond {
        TL_ALWAYS,
        TL_IF_OPERATE_AS,    /* alt applies when we sent operateAs */
        TL_IF_REASON_LIMIT,  /* alt applies when "reason" starts with "LIMIT" */
};

/* The one mapping from a Wialon error code to an outcome, section 2.5. Codes not listed
 * are UNAVAIL. */

/* The keys of a [provider] section of type token_login, beside the common ones. */
struct tl_conf {
        bool operate_as; /* send the login name as operateAs (a token of another account) */
};

static const struct apilogin_key tl_keys[] = {
        { .name = "operate_as", .parse = apilogin_key_bool,
          .off = offsetof(struct tl_conf, operate_as), .def = "no",
          .doc = "send the login name as operateAs" },
};

/* operate_as of provider p (no for a provider without its keys read). */
static bool tl_operate_as(const struct apilogin_provider_cfg *p)
{
        const struct tl_conf *c = p ? p->conf : NULL;

        return c && c->operate_as;
}

static const struct tl_rule {
        long code;
        enum apilogin_outcome outcome;
        enum tl_cond cond;
        enum apilogin_outcome alt;
        const char *text;
} tl_rules[] = {
        { 1, APILOGIN_SERVICE_ERR, TL_ALWAYS, 0, "invalid session" },
        { 2, APILOGIN_SERVICE_ERR, TL_ALWAYS, 0, "invalid service name" },
        { 4, APILOGIN_AUTH_ERR, TL_ALWAYS, 0, "invalid input" },
        { 5, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "error performing request" },
        { 6, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "unknown error" },
        { 7, APILOGIN_PERM_DENIED, TL_ALWAYS, 0, "access denied" },
        { 8, APILOGIN_AUTH_ERR, TL_IF_OPERATE_AS, APILOGIN_USER_UNKNOWN,
          "invalid user name or password / operateAs user not found" },
        { 9, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "authorization server unavailable" },
        { 10, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "concurrent request limit" },
        { 14, APILOGIN_ACCT_EXPIRED, TL_ALWAYS, 0, "billing error" },
        { 1003, APILOGIN_UNAVAIL, TL_IF_REASON_LIMIT, APILOGIN_MAXTRIES, "request limit" },
        { 1006, APILOGIN_MAXTRIES, TL_ALWAYS, 0, "too many two-factor attempts" },
        { 1011, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "IP changed or session expired" },
        { -100, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "internal network timeout" },
        { -101, APILOGIN_UNAVAIL, TL_ALWAYS, 0, "bad network response" },
};

/* Percent-encode s for a form body: unreserved characters stay, the rest is %XX. */
static char *form_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(3 * n + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~') {
                        *o++ = (char)c;
                } else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = '\0';
        return out;
}

static int fail(struct apilogin_result *r, enum apilogin_outcome o, const char *code,
                const char *message)
{
        r->outcome = o;
        r->api_code = strdup(code);
        r->api_message = message ? apilogin_sanitize_dup(message, TL_MSG_MAX) : NULL;
        if (!r->api_code || (message && !r->api_message))
                return -ENOMEM;
        return 0;
}

static int malformed(struct apilogin_result *r, long status)
{
        char code[32];

        (void)snprintf(code, sizeof(code), "HTTP %ld", status);
        return fail(r, APILOGIN_UNAVAIL, code, "malformed reply");
}

/* Wialon answers errors with 200; any other status is a proxy or server failure. */
static int status_failure(const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        char code[32];

        (void)snprintf(code, sizeof(code), "HTTP %ld", resp->status);
        if (resp->status == 429) {
                r->retry_after = resp->retry_after;
                return fail(r, APILOGIN_MAXTRIES, code, "rate limited");
        }
        return fail(r, APILOGIN_UNAVAIL, code, "unexpected HTTP status");
}

static const struct tl_rule *rule_find(long code)
{
        for (size_t i = 0; i < ELEMENTSOF(tl_rules); i++)
                if (tl_rules[i].code == code)
                        return &tl_rules[i];
        return NULL;
}

/* {"error":N,"reason":...} with N != 0, at login. */
static int tl_error(const struct apilogin_login_in *in, const cJSON *j, long n,
                    struct apilogin_result *r)
{
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
        const char *why = cJSON_IsString(reason) ? reason->valuestring : NULL;
        const struct tl_rule *rule = rule_find(n);
        enum apilogin_outcome o = rule ? rule->outcome : APILOGIN_UNAVAIL;
        char code[32];

        if (rule && rule->cond == TL_IF_OPERATE_AS && tl_operate_as(in->p))
                o = rule->alt;
        if (rule && rule->cond == TL_IF_REASON_LIMIT && why && strncmp(why, "LIMIT", 5) == 0)
                o = rule->alt;
        (void)snprintf(code, sizeof(code), "error %ld", n);
        return fail(r, o, code, why ? why : rule ? rule->text : "unknown error code");
}

/* A session: eid and au, au being the login name (also with operateAs, since we asked
 * for exactly that user). */
static int tl_success(const struct apilogin_login_in *in, const struct apilogin_http_resp *resp,
                      const cJSON *j, struct apilogin_result *r)
{
        const cJSON *eid = cJSON_GetObjectItemCaseSensitive(j, "eid");
        const cJSON *au = cJSON_GetObjectItemCaseSensitive(j, "au");
        const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
        const cJSON *prp = cJSON_GetObjectItemCaseSensitive(user, "prp");
        const cJSON *dn = cJSON_GetObjectItemCaseSensitive(prp, "display_name");
        char msg[TL_MSG_MAX];

        if (!apilogin_json_str_ok(eid, TL_EID_MAX) || !apilogin_json_str_ok(au, TL_NAME_MAX))
                return malformed(r, resp->status);
        if (!in->user || !apilogin_ascii_caseeq(au->valuestring, in->user)) {
                /* The remote name is fine for syslog (sanitized by fail); the token never. */
                (void)snprintf(msg, sizeof(msg), "token belongs to another user: %s",
                               au->valuestring);
                return fail(r, APILOGIN_AUTH_ERR, "identity", msg);
        }
        r->token = strdup(eid->valuestring);
        r->remote_id = strdup(au->valuestring);
        if (!r->token || !r->remote_id)
                return -ENOMEM;
        if (cJSON_IsObject(prp) && apilogin_json_str_ok(dn, TL_NAME_MAX) && apilogin_gecos_ok(dn->valuestring) &&
            !(r->display_name = strdup(dn->valuestring)))
                return -ENOMEM;
        r->expires_at = 0; /* lives as long as it is kept alive */
        r->outcome = APILOGIN_OK;
        return 0;
}

static int tl_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = NULL;
        const cJSON *err;
        long n = 0;
        int ret;

        apilogin_result_clear(r);
        if (resp->status != 200) {
                ret = status_failure(resp, r);
        } else if (!cJSON_IsObject(j = apilogin_json_parse(resp))) {
                ret = malformed(r, resp->status);
        } else {
                err = cJSON_GetObjectItemCaseSensitive(j, "error");
                if (err && !apilogin_json_int(err, &n))
                        ret = malformed(r, resp->status);
                else if (n != 0)
                        ret = tl_error(in, j, n, r);
                else
                        ret = tl_success(in, resp, j, r);
        }
        if (ret < 0)
                apilogin_result_clear(r);
        return ret;
}

/* POST url with the form prefix + escaped params JSON [+ "&sid=" + escaped sid]. */
static int form_post(const char *url, const char *prefix, const char *json, const char *sid,
                     struct apilogin_http_req *ret)
{
        _cleanup_erase_free_ char *ej = form_escape(json);
        _cleanup_erase_free_ char *es = sid ? form_escape(sid) : NULL;
        struct apilogin_http_req req = { .post = true };
        size_t len;

        if (!ej || (sid && !es))
                return -ENOMEM;
        len = strlen(prefix) + strlen(ej) + (es ? strlen("&sid=") + strlen(es) : 0);
        req.body = malloc(len + 1);
        if (req.body) {
                req.body_len = len;
                (void)snprintf(req.body, len + 1, "%s%s%s%s", prefix, ej, es ? "&sid=" : "",
                               es ? es : "");
        }
        req.url = strdup(url);
        req.content_type = strdup("application/x-www-form-urlencoded");
        if (!req.body || !req.url || !req.content_type) {
                apilogin_http_req_clear(&req);
                return -ENOMEM;
        }
        *ret = req;
        return 0;
}

/* -EINVAL unless the secret is exactly 72 characters: anything else can only earn
 * error 4, so it is never sent. */
static int tl_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = NULL;
        _cleanup_erase_free_ char *json = NULL;

        if (!in->url || !in->user || !in->user[0] || !in->secret ||
            strnlen(in->secret, TL_TOKEN_LEN + 1) != TL_TOKEN_LEN)
                return -EINVAL;
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "token", in->secret) ||
            !cJSON_AddNumberToObject(o, "fl", 3))
                return -ENOMEM;
        if (tl_operate_as(in->p) && !cJSON_AddStringToObject(o, "operateAs", in->user))
                return -ENOMEM;
        json = apilogin_json_print_wipe(o);
        if (!json)
                return -ENOMEM;
        return form_post(in->url, "svc=token%2Flogin&params=", json, NULL, ret);
}

static int tl_logout_request(const struct apilogin_provider_cfg *p,
                             const struct apilogin_session_creds *c,
                             struct apilogin_http_req *ret)
{
        if (!c->url || !c->token || !c->token[0])
                return -EINVAL;
        return form_post(c->url, "svc=core%2Flogout&params=", "{}", c->token, ret);
}

/* Keep-alive: GET scheme://host[:port]/avl_evts?sid=<eid>, the base cut from the login
 * URL. */
static int tl_refresh_request(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret)
{
        _cleanup_erase_free_ char *sid = NULL;
        const char *auth;
        size_t base, len;
        struct apilogin_http_req req = { .post = false };

        if (!c->url || !c->token || !c->token[0] || !(auth = strstr(c->url, "://")))
                return -EINVAL;
        base = (size_t)(auth + 3 - c->url) + strcspn(auth + 3, "/?#");
        sid = form_escape(c->token);
        if (!sid)
                return -ENOMEM;
        len = base + strlen("/avl_evts?sid=") + strlen(sid);
        req.url = malloc(len + 1);
        if (!req.url)
                return -ENOMEM;
        (void)snprintf(req.url, len + 1, "%.*s/avl_evts?sid=%s", (int)base, c->url, sid);
        *ret = req;
        return 0;
}

/* An avl_evts reply: {"tm":N,...} means alive (the result carries the same session id);
 * {"error":1} or 1011: the session is gone (AUTH_ERR: log in again); anything else: try
 * again later (UNAVAIL). */
static int tl_evts(const struct apilogin_session_creds *c, const cJSON *j, long status,
                   struct apilogin_result *r)
{
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
        const struct tl_rule *rule;
        char code[32];
        long n = 0;

        if (!cJSON_IsObject(j) || (err && !apilogin_json_int(err, &n)))
                return malformed(r, status);
        if (n != 0) {
                rule = rule_find(n);
                (void)snprintf(code, sizeof(code), "error %ld", n);
                return fail(r, n == 1 || n == 1011 ? APILOGIN_AUTH_ERR : APILOGIN_UNAVAIL, code,
                            rule ? rule->text : "unknown error code");
        }
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "tm")))
                return malformed(r, status);
        r->token = strdup(c->token);
        if (!r->token)
                return -ENOMEM;
        r->outcome = APILOGIN_OK;
        return 0;
}

static int tl_refresh_reply(const struct apilogin_provider_cfg *p,
                            const struct apilogin_session_creds *c,
                            const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = NULL;
        int ret;

        apilogin_result_clear(r);
        if (resp->status != 200) {
                ret = status_failure(resp, r);
        } else {
                j = apilogin_json_parse(resp);
                ret = tl_evts(c, j, resp->status, r);
        }
        if (ret < 0)
                apilogin_result_clear(r);
        return ret;
}

const struct apilogin_driver apilogin_driver_token_login = {
        .type = { .name = "token_login", .doc = "Wialon Remote API token/login",
                  .keys = tl_keys, .n_keys = ELEMENTSOF(tl_keys),
                  .conf_size = sizeof(struct tl_conf) },
        .prompt = "Access token: ",
        .login_request = tl_login_request,
        .login_reply = tl_login_reply,
        .logout_request = tl_logout_request,
        .refresh_request = tl_refresh_request,
        .refresh_reply = tl_refresh_reply,
};

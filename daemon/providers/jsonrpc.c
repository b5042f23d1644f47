/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jsonrpc.c: driver for the UIS / CoMagic Call API, type "jsonrpc" (protocols.md section
 * 1): a JSON-RPC 2.0 POST of login.user {login, password}; the reply carries
 * result.data.{access_token, expire_at} or a JSON-RPC error named by error.data.mnemonic
 * (the numeric code is shared by several errors and only decides when the mnemonic is
 * unknown). Logout is logout.user {access_token}. The API has no refresh call: a key lives
 * one hour and renewing it (renew = relogin) is the daemon's business. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "secure.h"

/* Not declared in provider.h yet (provider.c refers to it as a weak symbol); the
 * extern line belongs there, next to the other drivers. */
extern const struct apilogin_driver apilogin_driver_jsonrpc;

#define JR_CONTENT_TYPE "application/json; charset=UTF-8" /* section 1.2 */
#define JR_TOKEN_MAX 4096
#define JR_USER_MAX 255
#define JR_MSG_MAX 200
#define JR_MNEMONIC_MAX 64
#define JR_ID_MAX 48
#define JR_DEFAULT_LIFETIME 3600      /* section 1.7: a key from login.user lives 1 h */
#define JR_EXPIRE_MAX 253402300799LL  /* 9999-12-31T23:59:59Z: later values are nonsense */
#define JR_LOGOUT_ID "apilogin-logout"

/* The one mapping from error.data.mnemonic to an outcome: every error section 1.6 lists
 * for login.user. note, when set, replaces the start of the syslog text: these errors
 * are the administrator's to fix and must stand out. */
static const struct jr_rule {
        const char *mnemonic;
        enum apilogin_outcome outcome;
        bool user_field; /* outcome only when data.field is "login"/"password"; else
                            SERVICE_ERR */
        const char *note;
} jr_rules[] = {
        { "auth_error", APILOGIN_AUTH_ERR, false, NULL },
        { "access_token_invalid", APILOGIN_AUTH_ERR, false, NULL },
        { "access_token_expired", APILOGIN_ACCT_EXPIRED, false, NULL },
        { "access_token_blocked", APILOGIN_PERM_DENIED, false, NULL },
        { "account_inactive", APILOGIN_ACCT_EXPIRED, false, NULL },
        { "forbidden", APILOGIN_PERM_DENIED, false, NULL },
        { "ip_not_whitelisted", APILOGIN_UNAVAIL, false,
          "this host's IP is not whitelisted at the API (ip_not_whitelisted)" },
        { "component_disabled", APILOGIN_UNAVAIL, false,
          "the API account lacks the Call API component (component_disabled)" },
        { "limit_exceeded", APILOGIN_MAXTRIES, false, NULL },
        { "internal_error", APILOGIN_UNAVAIL, false, NULL },
        { "parse_error", APILOGIN_SERVICE_ERR, false, NULL },
        { "invalid_request", APILOGIN_SERVICE_ERR, false, NULL },
        { "method_not_found", APILOGIN_SERVICE_ERR, false, NULL },
        { "data_type_error", APILOGIN_SERVICE_ERR, false, NULL },
        /* Empty values are refused before sending, so a missed parameter is our bug. */
        { "required_parameter_missed", APILOGIN_SERVICE_ERR, false, NULL },
        { "invalid_parameter_value", APILOGIN_AUTH_ERR, true, NULL },
        { "unexpected_parameters", APILOGIN_SERVICE_ERR, false, NULL },
        { "batch_opreations_not_supported", APILOGIN_SERVICE_ERR, false, NULL }, /* sic */
        { "notifications_not_supported", APILOGIN_SERVICE_ERR, false, NULL },
};

/* Fallback on the code group (section 1.5) for an unknown mnemonic or a missing
 * error.data; codes not listed are SERVICE_ERR. */
static const struct jr_group {
        long code;
        enum apilogin_outcome outcome;
} jr_groups[] = {
        { -32001, APILOGIN_AUTH_ERR },
        { -32009, APILOGIN_ACCT_EXPIRED },
        { -32003, APILOGIN_PERM_DENIED },
        { -32029, APILOGIN_MAXTRIES },
        { -32603, APILOGIN_UNAVAIL },
};

/* A token we are willing to store: 1..JR_TOKEN_MAX bytes of visible ASCII, because it
 * ends up in a token file that people paste into HTTP headers. */
static bool token_ok(const cJSON *v)
{
        if (!apilogin_json_str_ok(v, JR_TOKEN_MAX))
                return false;
        for (const char *s = v->valuestring; *s; s++)
                if (*s < 0x21 || *s > 0x7e)
                        return false;
        return true;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
        return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* The request id: "apilogin-<FNV-1a of the login name>-<step>". Drivers keep no state,
 * so login_reply must be able to recompute what login_request sent; the name and the
 * step are what both see. A reply meant for another request (another user, another
 * step) is then noticed. */
static void jr_id(const struct apilogin_login_in *in, char *buf, size_t size)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const unsigned char *s = (const unsigned char *)in->user; s && *s; s++) {
                h ^= *s;
                h *= 0x100000001b3ULL;
        }
        (void)snprintf(buf, size, "apilogin-%016" PRIx64 "-%u", h, in->step);
}

static int fail(struct apilogin_result *r, enum apilogin_outcome o, const char *code,
                const char *message)
{
        r->outcome = o;
        r->api_code = apilogin_sanitize_dup(code, JR_MNEMONIC_MAX + 32);
        r->api_message = message ? apilogin_sanitize_dup(message, JR_MSG_MAX) : NULL;
        if (!r->api_code || (message && !r->api_message))
                return -ENOMEM;
        return 0;
}

/* A reply we do not understand: UNAVAIL, except that a 429 without a JSON-RPC body is
 * a rate limit whatever the body says. */
static int malformed(struct apilogin_result *r, const struct apilogin_http_resp *resp,
                     const char *why)
{
        char code[32];

        (void)snprintf(code, sizeof(code), "HTTP %ld", resp->status);
        if (resp->status == 429) {
                r->retry_after = resp->retry_after;
                return fail(r, APILOGIN_MAXTRIES, code, "rate limited");
        }
        return fail(r, APILOGIN_UNAVAIL, code, why);
}

static const struct jr_rule *rule_find(const char *mnemonic)
{
        for (size_t i = 0; i < ELEMENTSOF(jr_rules); i++)
                if (strcmp(jr_rules[i].mnemonic, mnemonic) == 0)
                        return &jr_rules[i];
        return NULL;
}

static enum apilogin_outcome group_outcome(long code)
{
        for (size_t i = 0; i < ELEMENTSOF(jr_groups); i++)
                if (jr_groups[i].code == code)
                        return jr_groups[i].outcome;
        return APILOGIN_SERVICE_ERR;
}

static enum apilogin_outcome rule_outcome(const struct jr_rule *rule, const cJSON *data)
{
        const cJSON *field = member(data, "field");

        if (!rule->user_field)
                return rule->outcome;
        if (cJSON_IsString(field) && (strcmp(field->valuestring, "login") == 0 ||
                                      strcmp(field->valuestring, "password") == 0))
                return rule->outcome;
        return APILOGIN_SERVICE_ERR;
}

/* The "error" member of a reply: {"code":N,"message":"...","data":{"mnemonic":"..."}}. */
static int jr_error(const struct apilogin_http_resp *resp, const cJSON *err,
                    struct apilogin_result *r)
{
        const cJSON *data = member(err, "data");
        const cJSON *mn = member(data, "mnemonic");
        const cJSON *msg = member(err, "message");
        const char *mnemonic = apilogin_json_str_ok(mn, JR_MNEMONIC_MAX) ? mn->valuestring : NULL;
        const struct jr_rule *rule = mnemonic ? rule_find(mnemonic) : NULL;
        const char *text = cJSON_IsString(msg) && msg->valuestring[0] ? msg->valuestring : NULL;
        char code[JR_MNEMONIC_MAX + 32], note[JR_MSG_MAX + 1];
        enum apilogin_outcome o;
        long n = 0;
        bool has_code = apilogin_json_int(member(err, "code"), &n);

        if (!rule && !has_code)
                return malformed(r, resp, "error without code or known mnemonic");
        o = rule ? rule_outcome(rule, data) : group_outcome(n);
        if (o == APILOGIN_MAXTRIES)
                r->retry_after = resp->retry_after;
        if (has_code)
                (void)snprintf(code, sizeof(code), "%ld %s", n, mnemonic ? mnemonic : "-");
        else
                (void)snprintf(code, sizeof(code), "- %s", mnemonic);
        if (rule && rule->note) {
                (void)snprintf(note, sizeof(note), "%s%s%s", rule->note, text ? ": " : "",
                               text ? text : "");
                text = note;
        }
        return fail(r, o, code, text);
}

/* result.data.access_token (required) and result.data.expire_at (unix time; one hour
 * from now when absent or not a sane number). */
static int jr_success(const struct apilogin_http_resp *resp, const cJSON *result,
                      struct apilogin_result *r)
{
        const cJSON *data = member(result, "data");
        const cJSON *tok = member(data, "access_token");
        const cJSON *exp = member(data, "expire_at");

        if (!token_ok(tok))
                return malformed(r, resp, "result without data.access_token");
        r->token = strdup(tok->valuestring);
        if (!r->token)
                return -ENOMEM;
        if (cJSON_IsNumber(exp) && exp->valuedouble >= 1 &&
            exp->valuedouble <= (double)JR_EXPIRE_MAX)
                r->expires_at = (int64_t)exp->valuedouble;
        else
                r->expires_at = (int64_t)time(NULL) + JR_DEFAULT_LIFETIME;
        r->outcome = APILOGIN_OK;
        return 0;
}

/* The reply must echo our id; JSON-RPC allows a null id on an error (the server could
 * not read ours), and the API's own error example has one. */
static bool id_matches(const cJSON *rid, const char *id, bool is_error)
{
        if (cJSON_IsNull(rid))
                return is_error;
        return cJSON_IsString(rid) && rid->valuestring && strcmp(rid->valuestring, id) == 0;
}

static int jr_parse(const struct apilogin_http_resp *resp, const cJSON *j, const char *id,
                    struct apilogin_result *r)
{
        const cJSON *result = member(j, "result"), *err = member(j, "error");
        char code[32];

        if (resp->status >= 500)
                return malformed(r, resp, "server error");
        if (!cJSON_IsObject(j))
                return malformed(r, resp, "reply is not JSON");
        if (!result == !err || (err && !cJSON_IsObject(err))) /* exactly one of them */
                return malformed(r, resp, "reply is not JSON-RPC");
        if (!id_matches(member(j, "id"), id, err != NULL)) {
                (void)snprintf(code, sizeof(code), "HTTP %ld", resp->status);
                return fail(r, APILOGIN_UNAVAIL, code, "reply id mismatch");
        }
        if (err)
                return jr_error(resp, err, r);
        return jr_success(resp, result, r);
}

/* {"jsonrpc":"2.0","id":id,"method":method,"params":{}}; the params object is returned
 * in *ret_params (owned by the envelope). */
static cJSON *jr_envelope(const char *id, const char *method, cJSON **ret_params)
{
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddStringToObject(o, "jsonrpc", "2.0") ||
            !cJSON_AddStringToObject(o, "id", id) ||
            !cJSON_AddStringToObject(o, "method", method) ||
            !(*ret_params = cJSON_AddObjectToObject(o, "params"))) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* POST the envelope o (its strings are wiped by the serialization) to url. */
static int jr_post(const char *url, cJSON *o, struct apilogin_http_req *ret)
{
        struct apilogin_http_req req = { .post = true };

        req.body = apilogin_json_print_wipe(o);
        req.body_len = req.body ? strlen(req.body) : 0;
        req.url = strdup(url);
        req.content_type = strdup(JR_CONTENT_TYPE);
        if (!req.body || !req.url || !req.content_type) {
                apilogin_http_req_clear(&req);
                return -ENOMEM;
        }
        *ret = req;
        return 0;
}

/* login.user with exactly {login, password} (any other param earns
 * unexpected_parameters). -EINVAL for an empty name or password: the API would only
 * answer required_parameter_missed. */
static int jr_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = NULL;
        cJSON *params = NULL;
        char id[JR_ID_MAX];

        if (!in->url || !in->user || !in->user[0] ||
            strnlen(in->user, JR_USER_MAX + 1) > JR_USER_MAX || !in->secret ||
            !in->secret[0] || strnlen(in->secret, APILOGIN_SECRET_MAX + 1) > APILOGIN_SECRET_MAX)
                return -EINVAL;
        jr_id(in, id, sizeof(id));
        o = jr_envelope(id, "login.user", &params);
        if (!o || !cJSON_AddStringToObject(params, "login", in->user) ||
            !cJSON_AddStringToObject(params, "password", in->secret))
                return -ENOMEM;
        return jr_post(in->url, o, ret);
}

/* Any HTTP status: the error status is not documented, so the body decides (5xx and
 * non-JSON bodies are UNAVAIL). */
static int jr_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = NULL;
        char id[JR_ID_MAX];
        int ret;

        apilogin_result_clear(r);
        jr_id(in, id, sizeof(id));
        j = apilogin_json_parse(resp);
        ret = jr_parse(resp, j, id, r);
        if (ret < 0)
                apilogin_result_clear(r); /* never a half-filled result */
        return ret;
}

/* logout.user {access_token}; its reply is not read (section 1.8: ignore errors). */
static int jr_logout_request(const struct apilogin_provider_cfg *p,
                             const struct apilogin_session_creds *c,
                             struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = NULL;
        cJSON *params = NULL;

        if (!c->url || !c->token || !c->token[0] ||
            strnlen(c->token, JR_TOKEN_MAX + 1) > JR_TOKEN_MAX)
                return -EINVAL;
        o = jr_envelope(JR_LOGOUT_ID, "logout.user", &params);
        if (!o || !cJSON_AddStringToObject(params, "access_token", c->token))
                return -ENOMEM;
        return jr_post(c->url, o, ret);
}

const struct apilogin_driver apilogin_driver_jsonrpc = {
        .type = { .name = "jsonrpc", .doc = "JSON-RPC 2.0 login.user (UIS/CoMagic call API)" },
        .login_request = jr_login_request,
        .login_reply = jr_login_reply,
        .logout_request = jr_logout_request,
        .refresh_request = NULL, /* no refresh call: re-login (renew = relogin) */
        .refresh_reply = NULL,
};

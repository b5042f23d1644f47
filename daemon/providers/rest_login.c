/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rest_login.c: driver for the PortSIP PBX REST API, type "rest_login" (protocols.md
 * section 4). The provider url is the API base (https://pbx.example.com:8887/api).
 * Step 0 POSTs {"username","password"[,"domain"]} to <base>/login. The sources disagree
 * on what comes back (section 4.4), so both shapes are read: a JSON body with
 * access_token ends the login; an empty 200 with a session cookie asks for step 1, a GET
 * of <base>/login with that cookie, whose JSON carries the token, its expiry and the
 * role. Cookies are libcurl's (uses_cookies: the login's jar, http.h): whatever other
 * cookies the server sets (a language, a load balancer's), the GET carries what a browser
 * would send, with paths and other attributes honoured. Errors are 4xx {"errors":[{"code","message","detail"}]}. Refresh posts
 * {"refresh_token"} to <base>/auth/refresh_token; logout posts to <base>/logout with
 * the bearer token. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "daemon/providers/driver.h"
#include "macro.h"
#include "names.h"
#include "secure.h"

/* Not declared in provider.h yet (provider.c refers to it as a weak symbol); the
 * extern line belongs there, next to the other drivers. */
extern const struct apilogin_driver apilogin_driver_rest_login;

#define RL_USER_MAX 64     /* section 4.3 */
#define RL_TOKEN_MAX 4096
#define RL_ROLE_MAX 64
#define RL_CODE_MAX 64
#define RL_MSG_MAX 200
#define RL_URL_MAX 8192
#define RL_TIME_MAX 64     /* longest RFC 3339 string we read */
#define RL_LIFETIME_MAX (366 * 24 * 3600) /* larger expires_in values are not believed */

#define RL_400_401 (-1)    /* rule status: 400 or 401 */
#define RL_4XX (-4)        /* rule status: any 4xx */

#define RL_DOMAIN_MAX 280 /* PortSIP's limit for a tenant domain */

/* The keys of a [provider] section of type rest_login, beside the common ones. */
struct rl_conf {
        char *domain; /* the tenant's domain; NULL: the system administrator */
};

static int rl_parse_domain(struct apilogin_conf_ctx *ctx, const struct apilogin_key *k,
                           void *obj, const char *v)
{
        if (strlen(v) > RL_DOMAIN_MAX)
                return apilogin_conf_fail(ctx, k->name, "invalid domain '%.80s' (at most %d bytes)",
                                          v, RL_DOMAIN_MAX);
        return apilogin_key_word(ctx, k, obj, v);
}

static const struct apilogin_key rl_keys[] = {
        { .name = "domain", .parse = rl_parse_domain, .clear = apilogin_key_clear_str,
          .off = offsetof(struct rl_conf, domain),
          .doc = "the tenant's domain (omit for the system administrator)" },
};

static const char RL_SOME[] = "*"; /* rule code: any errors[0].code (compared by address) */

/* The one mapping from (HTTP status, errors[0].code) to an outcome for a login reply,
 * section 4.7. First match wins; code NULL matches any body, even none. No match (5xx,
 * a 2xx other than 200, 3xx) means UNAVAIL. */
static const struct rl_rule {
        long status;
        const char *code;
        enum apilogin_outcome outcome;
        bool on_field; /* outcome only when detail.field is absent or "username"; a
                          problem with any other field is ours: SERVICE_ERR */
} rl_login_rules[] = {
        { 429, NULL, APILOGIN_MAXTRIES, false },
        { 403, NULL, APILOGIN_PERM_DENIED, false },   /* SPEC.md: account refused */
        { 404, NULL, APILOGIN_SERVICE_ERR, false },   /* endpoint not in this PBX version */
        { 400, "VALIDATE_FAILED", APILOGIN_AUTH_ERR, true },
        { RL_400_401, "UNAUTHORIZED", APILOGIN_AUTH_ERR, false },
        { RL_400_401, "UNKNOWN", APILOGIN_AUTH_ERR, false },
        { RL_400_401, RL_SOME, APILOGIN_AUTH_ERR, false }, /* unknown codes read as UNKNOWN */
        { 401, NULL, APILOGIN_AUTH_ERR, false },      /* 401 without a usable body */
        { RL_4XX, NULL, APILOGIN_SERVICE_ERR, false },
}, rl_refresh_rules[] = {
        { 429, NULL, APILOGIN_MAXTRIES, false },
        { RL_400_401, NULL, APILOGIN_AUTH_ERR, false }, /* refused: token revoked or used */
};

/* Section 4.3: reserved for the system administrator, who logs in without a domain. */
static const char *const rl_reserved[] = { "admin", "system", "administrator", "root" };

/* errors[0] of an error body; members NULL when absent or of the wrong type. */
struct rl_error {
        const char *code;
        const char *message;
        const char *field;
};

static const cJSON *member(const cJSON *obj, const char *key)
{
        return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* 1..max bytes of visible ASCII, none of them in reject: tokens go into an
 * "Authorization: Bearer" header and the token file. */
static bool visible_ok(const char *s, size_t max, const char *reject)
{
        size_t n = s ? strnlen(s, max + 1) : 0;

        if (n == 0 || n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x21 || s[i] > 0x7e || strchr(reject, s[i]))
                        return false;
        return true;
}

static bool token_ok(const cJSON *v)
{
        return cJSON_IsString(v) && visible_ok(v->valuestring, RL_TOKEN_MAX, "");
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A role is a name for role_groups (SystemAdmin, StandardUser, ...); anything else is
 * dropped rather than trusted. */
static bool role_ok(const cJSON *v)
{
        if (!apilogin_json_str_ok(v, RL_ROLE_MAX))
                return false;
        for (const char *s = v->valuestring; *s; s++)
                if (!is_alnum(*s) && *s != '_' && *s != '-' && *s != '.')
                        return false;
        return true;
}

/* Section 4.3: 1-64 ASCII letters, digits, _ - ' . without a leading or trailing dot;
 * the reserved system admin names only without a domain. A name that breaks these can
 * only earn VALIDATE_FAILED, so it is never sent. */
static bool rl_username_ok(const char *u, bool has_domain)
{
        size_t n = u ? strnlen(u, RL_USER_MAX + 1) : 0;

        if (n == 0 || n > RL_USER_MAX || u[0] == '.' || u[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(u[i]) && u[i] != '_' && u[i] != '-' && u[i] != '\'' && u[i] != '.')
                        return false;
        for (size_t i = 0; has_domain && i < ELEMENTSOF(rl_reserved); i++)
                if (apilogin_ascii_caseeq(u, rl_reserved[i]))
                        return false;
        return true;
}

/* base + "/" + path, with exactly one slash between (trailing slashes of base are
 * dropped). NULL with errno EINVAL for an empty or absurd base, ENOMEM. */
static char *rl_url(const char *base, const char *path)
{
        size_t n = base ? strnlen(base, RL_URL_MAX + 1) : 0, len;
        char *u;

        while (n > 0 && base[n - 1] == '/')
                n--;
        if (n == 0 || n > RL_URL_MAX) {
                errno = EINVAL;
                return NULL;
        }
        len = n + 1 + strlen(path);
        u = malloc(len + 1);
        if (!u) {
                errno = ENOMEM;
                return NULL;
        }
        memcpy(u, base, n);
        u[n] = '/';
        memcpy(u + n + 1, path, strlen(path) + 1);
        return u;
}

/* ---- time -------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *ret)
{
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

/* The zone of an RFC 3339 time at s: "Z" or "+HH:MM"/"-HH:MM", in seconds east of UTC,
 * followed by the end of the string. */
static bool zone_offset(const char *s, long *ret)
{
        int oh, om;

        if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
                *ret = 0;
                return true;
        }
        if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &oh) || s[3] != ':' ||
            !digits(s + 4, 2, &om) || s[6] != '\0' || oh > 23 || om > 59)
                return false;
        *ret = (s[0] == '-' ? -1L : 1L) * (oh * 3600L + om * 60L);
        return true;
}

/* RFC 3339 date-time ("2024-05-01T12:00:00Z", "...T12:00:00.5+02:00"; 't', 'z' and a
 * space for 'T' accepted) to unix time. Pure: no TZ, no locale. -EINVAL if malformed. */
static int rfc3339_to_unix(const char *s, int64_t *ret)
{
        static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, mo, d, h, mi, sec;
        long off;
        size_t i = 19;
        bool leap;

        if (strnlen(s, RL_TIME_MAX + 1) > RL_TIME_MAX || strnlen(s, 20) < 20 ||
            !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
            !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
            s[16] != ':' || !digits(s + 17, 2, &sec))
                return -EINVAL;
        if (s[i] == '.') {
                if (s[++i] < '0' || s[i] > '9')
                        return -EINVAL;
                while (s[i] >= '0' && s[i] <= '9')
                        i++;
        }
        if (!zone_offset(s + i, &off))
                return -EINVAL;
        leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
            mi > 59 || sec > 60)
                return -EINVAL;
        *ret = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
               sec - off;
        return 0;
}

/* expires_in (seconds from now) is preferred, as it does not depend on the two clocks
 * agreeing; then expires_at (RFC 3339); 0 (unknown) if neither is usable. */
static int64_t rl_expiry(const cJSON *in, const cJSON *at)
{
        int64_t t;

        if (cJSON_IsNumber(in) && in->valuedouble >= 1 && in->valuedouble <= RL_LIFETIME_MAX)
                return (int64_t)time(NULL) + (int64_t)in->valuedouble;
        if (cJSON_IsString(at) && rfc3339_to_unix(at->valuestring, &t) == 0 && t > 0)
                return t;
        return 0;
}

/* ---- replies ----------------------------------------------------------------------- */

static int fail(struct apilogin_result *r, enum apilogin_outcome o, long status,
                const char *code, const char *message)
{
        char buf[RL_CODE_MAX + 32];

        if (code)
                (void)snprintf(buf, sizeof(buf), "%ld %s", status, code);
        else
                (void)snprintf(buf, sizeof(buf), "%ld", status);
        r->outcome = o;
        r->api_code = apilogin_sanitize_dup(buf, sizeof(buf) - 1);
        r->api_message = message ? apilogin_sanitize_dup(message, RL_MSG_MAX) : NULL;
        if (!r->api_code || (message && !r->api_message))
                return -ENOMEM;
        return 0;
}

static int malformed(struct apilogin_result *r, long status, const char *why)
{
        return fail(r, APILOGIN_UNAVAIL, status, NULL, why);
}

/* errors[0] of {"errors":[{"code":"..","message":"..","detail":{"field":".."}}]}, each
 * member taken only when it has the right type. */
static struct rl_error rl_error_of(const cJSON *j)
{
        const cJSON *errs = member(j, "errors");
        const cJSON *e = cJSON_IsArray(errs) ? errs->child : NULL;
        const cJSON *code = member(e, "code"), *msg = member(e, "message");
        const cJSON *field = member(member(e, "detail"), "field");
        struct rl_error ret = { 0 };

        if (apilogin_json_str_ok(code, RL_CODE_MAX))
                ret.code = code->valuestring;
        if (cJSON_IsString(msg) && msg->valuestring[0])
                ret.message = msg->valuestring;
        if (cJSON_IsString(field))
                ret.field = field->valuestring;
        return ret;
}

static bool rule_matches(const struct rl_rule *rule, long status, const char *code)
{
        if (rule->status == RL_400_401 ? status != 400 && status != 401 :
            rule->status == RL_4XX ? status / 100 != 4 : status != rule->status)
                return false;
        if (rule->code == RL_SOME)
                return code != NULL;
        return !rule->code || (code && strcmp(rule->code, code) == 0);
}

/* A reply other than 200, mapped through rules (no match: UNAVAIL). */
static int rl_failure(const struct apilogin_http_resp *resp, const cJSON *j,
                      const struct rl_rule *rules, size_t n, struct apilogin_result *r)
{
        struct rl_error e = rl_error_of(j);
        enum apilogin_outcome o = APILOGIN_UNAVAIL;

        for (size_t i = 0; i < n; i++) {
                if (!rule_matches(&rules[i], resp->status, e.code))
                        continue;
                o = rules[i].outcome;
                if (rules[i].on_field && e.field && strcmp(e.field, "username") != 0)
                        o = APILOGIN_SERVICE_ERR;
                break;
        }
        if (o == APILOGIN_MAXTRIES)
                r->retry_after = resp->retry_after;
        return fail(r, o, resp->status, e.code,
                    e.message ? e.message : o == APILOGIN_UNAVAIL ? "unexpected reply" : NULL);
}

/* A JSON object holding access_token: the token, refresh_token (optional), the expiry
 * and the role (optional). */
static int rl_tokens(const struct apilogin_http_resp *resp, const cJSON *j,
                     struct apilogin_result *r)
{
        const cJSON *tok = member(j, "access_token"), *rt = member(j, "refresh_token");
        const cJSON *role = member(j, "role");

        if (!token_ok(tok))
                return malformed(r, resp->status, "malformed access_token");
        r->token = strdup(tok->valuestring);
        if (!r->token)
                return -ENOMEM;
        if (token_ok(rt) && !(r->refresh = strdup(rt->valuestring)))
                return -ENOMEM;
        if (role_ok(role) && !(r->role = strdup(role->valuestring)))
                return -ENOMEM;
        r->expires_at = rl_expiry(member(j, "expires_in"), member(j, "expires_at"));
        r->outcome = APILOGIN_OK;
        return 0;
}

/* A 200 to a login step: tokens in the body end the login; at step 0, a body without
 * them and a cookie in the jar mean "credentials accepted, GET /login for the token"
 * (outcome OK, no token yet, another_step). Which cookie is the session's is the
 * server's business: the jar sends back every one that applies. */
static int rl_login_ok(const struct apilogin_login_in *in,
                       const struct apilogin_http_resp *resp, const cJSON *j,
                       struct apilogin_result *r)
{
        if (member(j, "access_token"))
                return rl_tokens(resp, j, r);
        if (in->step > 0)
                return malformed(r, resp->status, "no access_token in the session");
        if (resp->cookies == 0)
                return malformed(r, resp->status, "neither access_token nor session cookie");
        r->outcome = APILOGIN_OK;
        r->another_step = true;
        return 0;
}

/* ---- requests ---------------------------------------------------------------------- */

/* A request to base/path, POST with o's JSON (may be NULL: no body) or GET. The
 * strings of o are wiped by the serialization. */
static int rl_request(const char *base, const char *path, bool post, cJSON *o,
                      struct apilogin_http_req *ret)
{
        struct apilogin_http_req req = { .post = post };

        req.url = rl_url(base, path);
        if (!req.url)
                return -errno;
        if (o) {
                req.body = apilogin_json_print_wipe(o);
                req.body_len = req.body ? strlen(req.body) : 0;
                req.content_type = strdup("application/json");
                if (!req.body || !req.content_type) {
                        apilogin_http_req_clear(&req);
                        return -ENOMEM;
                }
        }
        *ret = req;
        return 0;
}

/* The tenant domain to send, or NULL (an empty one counts as none: system admin). */
static const char *rl_domain(const struct apilogin_provider_cfg *p)
{
        const struct rl_conf *c = p ? p->conf : NULL;

        return c && c->domain && c->domain[0] ? c->domain : NULL;
}

static int rl_post_login(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = cJSON_CreateObject();
        const char *domain = rl_domain(in->p);

        if (!o || !cJSON_AddStringToObject(o, "username", in->user) ||
            !cJSON_AddStringToObject(o, "password", in->secret) ||
            (domain && !cJSON_AddStringToObject(o, "domain", domain)))
                return -ENOMEM;
        return rl_request(in->url, "login", true, o, ret);
}

/* Step 1 of the cookie flow: GET <base>/login; the login's jar adds the cookies of
 * step 0. */
static int rl_get_login(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        return rl_request(in->url, "login", false, NULL, ret);
}

/* Step 0: POST /login; step 1: GET /login with the session cookie. -EINVAL when the
 * name breaks section 4.3 or the password is empty; -EPROTO for a step this API does
 * not have (a daemon bug). */
static int rl_login_request(const struct apilogin_login_in *in, struct apilogin_http_req *ret)
{
        bool has_domain = rl_domain(in->p) != NULL;

        if (!in->url || !rl_username_ok(in->user, has_domain))
                return -EINVAL;
        if (in->step == 1)
                return rl_get_login(in, ret);
        if (in->step > 1)
                return -EPROTO;
        if (!in->secret || !in->secret[0] ||
            strnlen(in->secret, APILOGIN_SECRET_MAX + 1) > APILOGIN_SECRET_MAX)
                return -EINVAL;
        return rl_post_login(in, ret);
}

/* At step 1 the password was already accepted: a 400/401 there means the server did
 * not honour its own session cookie, which is no reason to count a bad password. */
static int rl_login_reply(const struct apilogin_login_in *in,
                          const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        int ret;

        apilogin_result_clear(r);
        if (resp->status == 200)
                ret = rl_login_ok(in, resp, j, r);
        else
                ret = rl_failure(resp, j, rl_login_rules, ELEMENTSOF(rl_login_rules), r);
        if (ret == 0 && in->step > 0 && r->outcome == APILOGIN_AUTH_ERR)
                r->outcome = APILOGIN_UNAVAIL;
        if (ret < 0)
                apilogin_result_clear(r); /* never a half-filled result */
        return ret;
}

/* POST <base>/logout with the bearer token and no body (answers 204). */
static int rl_logout_request(const struct apilogin_provider_cfg *p,
                             const struct apilogin_session_creds *c,
                             struct apilogin_http_req *ret)
{
        static const char prefix[] = "Authorization: Bearer ";
        struct apilogin_http_req req = { 0 };
        size_t len;
        int r;

        if (!visible_ok(c->token, RL_TOKEN_MAX, ""))
                return -EINVAL;
        r = rl_request(c->url, "logout", true, NULL, &req);
        if (r < 0)
                return r;
        len = strlen(prefix) + strlen(c->token);
        req.headers[0] = malloc(len + 1);
        if (!req.headers[0]) {
                apilogin_http_req_clear(&req);
                return -ENOMEM;
        }
        memcpy(req.headers[0], prefix, strlen(prefix));
        memcpy(req.headers[0] + strlen(prefix), c->token, strlen(c->token) + 1);
        *ret = req;
        return 0;
}

/* POST <base>/auth/refresh_token {"refresh_token"} (no Authorization header). */
static int rl_refresh_request(const struct apilogin_provider_cfg *p,
                              const struct apilogin_session_creds *c,
                              struct apilogin_http_req *ret)
{
        _cleanup_(apilogin_json_freep) cJSON *o = NULL;

        if (!visible_ok(c->refresh, RL_TOKEN_MAX, ""))
                return -EINVAL;
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "refresh_token", c->refresh))
                return -ENOMEM;
        return rl_request(c->url, "auth/refresh_token", true, o, ret);
}

/* 200 with tokens: OK with the new set (the old refresh token is spent, so none is
 * kept when the reply has no new one); 400/401: refused (AUTH_ERR, log in again); 429:
 * MAXTRIES; anything else UNAVAIL. */
static int rl_refresh_reply(const struct apilogin_provider_cfg *p,
                            const struct apilogin_session_creds *c,
                            const struct apilogin_http_resp *resp, struct apilogin_result *r)
{
        _cleanup_(apilogin_json_freep) cJSON *j = apilogin_json_parse(resp);
        int ret;

        apilogin_result_clear(r);
        if (resp->status == 200)
                ret = rl_tokens(resp, j, r);
        else
                ret = rl_failure(resp, j, rl_refresh_rules, ELEMENTSOF(rl_refresh_rules), r);
        if (ret < 0)
                apilogin_result_clear(r);
        return ret;
}

const struct apilogin_driver apilogin_driver_rest_login = {
        .type = { .name = "rest_login", .doc = "PortSIP PBX REST API /login",
                  .keys = rl_keys, .n_keys = ELEMENTSOF(rl_keys),
                  .conf_size = sizeof(struct rl_conf) },
        .uses_cookies = true,
        .login_request = rl_login_request,
        .login_reply = rl_login_reply,
        .logout_request = rl_logout_request,
        .refresh_request = rl_refresh_request,
        .refresh_reply = rl_refresh_reply,
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_providers.c: the login_check and token_login drivers, without any network: the
 * requests they build (URL, method, content type, exact body), their refusals before
 * sending, and how every reply of protocols.md sections 2 and 5 (fixtures in
 * tests/data/lc_* and tl_*), every error code and every wrong JSON type maps to an
 * outcome. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "daemon/provider.h"
#include "secure.h"
#include "prov_fixture.h"

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

static const char TOKEN72[] =
        "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4";

static struct apilogin_provider_cfg lc_cfg = {
        .name = "fleet", .type = &apilogin_driver_login_check.type,
        .url = "https://id.example.com/v1/login_check",
};
static struct apilogin_provider_cfg tl_cfg = {
        .name = "gps", .type = &apilogin_driver_token_login.type,
        .url = "https://hst-api.wialon.com/wialon/ajax.html",
};

/* ---- helpers ------------------------------------------------------------------------ */

static struct apilogin_http_resp resp_of(long status, const char *body)
{
        struct apilogin_http_resp r = { .status = status, .retry_after = -1 };

        if (body) {
                r.body = strdup(body);
                assert_non_null(r.body);
                r.len = strlen(body);
        }
        return r;
}

static struct apilogin_http_resp resp_file(long status, const char *name)
{
        char path[512];
        struct apilogin_http_resp r = { .status = status, .retry_after = -1 };
        FILE *f;
        long n;

        snprintf(path, sizeof(path), "%s/%s", TEST_DATADIR, name);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        r.body = malloc((size_t)n + 1);
        assert_non_null(r.body);
        assert_int_equal(fread(r.body, 1, (size_t)n, f), (size_t)n);
        r.body[n] = '\0';
        r.len = (size_t)n;
        fclose(f);
        return r;
}

static char *repeat(char c, size_t n)
{
        char *s = malloc(n + 1);

        assert_non_null(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Decoded value of key in a form body, or NULL; also checks the encoding is strict
 * (only unreserved characters unescaped). */
static char *form_get(const char *body, const char *key)
{
        size_t kl = strlen(key);

        for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
                const char *end = strchr(p, '&');
                size_t n;
                char *out, *o;

                if (strncmp(p, key, kl) != 0 || p[kl] != '=')
                        continue;
                p += kl + 1;
                n = end ? (size_t)(end - p) : strlen(p);
                out = o = malloc(n + 1);
                assert_non_null(out);
                for (size_t i = 0; i < n; i++) {
                        if (p[i] == '%') {
                                assert_true(i + 2 < n);
                                assert_true(hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0);
                                *o++ = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                                i += 2;
                        } else {
                                assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                                       "nopqrstuvwxyz0123456789-._~", p[i]));
                                *o++ = p[i];
                        }
                }
                *o = '\0';
                return out;
        }
        return NULL;
}

static int json_count(const cJSON *o)
{
        int n = 0;

        for (const cJSON *c = o->child; c; c = c->next)
                n++;
        return n;
}

static const char *json_str(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        assert_true(cJSON_IsString(v));
        return v->valuestring;
}

static struct apilogin_login_in login_in(const struct apilogin_provider_cfg *p, const char *user,
                                         const char *secret)
{
        return (struct apilogin_login_in){ .p = p, .url = p->url, .user = user, .secret = secret };
}

/* Run the login reply of driver d on resp; frees resp. */
static void reply(const struct apilogin_driver *d, const struct apilogin_login_in *in,
                  struct apilogin_http_resp *resp, struct apilogin_result *res)
{
        *res = (struct apilogin_result){ 0 };
        assert_int_equal(d->login_reply(in, resp, res), 0);
        apilogin_http_resp_clear(resp);
}

/* ---- registry and helpers --------------------------------------------------------------- */

static void test_driver_find(void **state)
{
        (void)state;
        assert_ptr_equal(apilogin_driver_find(&apilogin_driver_login_check.type),
                         &apilogin_driver_login_check);
        assert_ptr_equal(apilogin_driver_find(lc_cfg.type), &apilogin_driver_login_check);
        assert_ptr_equal(apilogin_driver_find(tl_cfg.type), &apilogin_driver_token_login);
        assert_null(apilogin_driver_find(NULL));
        for (size_t i = 0; apilogin_registry_type(i); i++)
                assert_ptr_equal(&apilogin_driver_find(apilogin_registry_type(i))->type,
                                 apilogin_registry_type(i));
}

static void test_json_parse(void **state)
{
        struct apilogin_http_resp r;
        cJSON *j;

        (void)state;
        r = resp_of(200, "{\"a\":1}\r\n ");
        j = apilogin_json_parse(&r);
        assert_non_null(j);
        apilogin_json_delete_wipe(j);
        apilogin_http_resp_clear(&r);

        r = resp_of(200, "{\"a\":1} {\"b\":2}"); /* trailing garbage: not JSON */
        assert_null(apilogin_json_parse(&r));
        apilogin_http_resp_clear(&r);

        r = resp_of(200, "{\"a\":1}");
        r.len = 4; /* only "{\"a\"" counts */
        assert_null(apilogin_json_parse(&r));
        apilogin_http_resp_clear(&r);

        r = resp_of(200, "");
        assert_null(apilogin_json_parse(&r));
        apilogin_http_resp_clear(&r);
        r = resp_of(200, NULL);
        assert_null(apilogin_json_parse(&r));
}

static void test_json_strdup_print(void **state)
{
        cJSON *o = cJSON_Parse("{\"s\":\"abc\",\"n\":5,\"long\":\"abcdefgh\"}");
        char *s;

        (void)state;
        assert_non_null(o);
        s = apilogin_json_strdup(o, "s", 3);
        assert_string_equal(s, "abc");
        free(s);
        assert_null(apilogin_json_strdup(o, "n", 10));
        assert_null(apilogin_json_strdup(o, "long", 7));
        assert_null(apilogin_json_strdup(o, "missing", 7));
        s = apilogin_json_print_wipe(o);
        assert_string_equal(s, "{\"s\":\"abc\",\"n\":5,\"long\":\"abcdefgh\"}");
        /* the values in the tree are wiped after printing */
        assert_string_equal(cJSON_GetObjectItem(o, "s")->valuestring, "");
        free(s);
        apilogin_json_delete_wipe(o);

        /* a value much larger than the first print buffer */
        o = cJSON_CreateObject();
        char *big = repeat('x', 20000);
        cJSON_AddStringToObject(o, "password", big);
        s = apilogin_json_print_wipe(o);
        assert_non_null(s);
        assert_int_equal(strlen(s), 20000 + strlen("{\"password\":\"\"}"));
        free(s);
        free(big);
        apilogin_json_delete_wipe(o);
}

static void test_result_clear(void **state)
{
        struct apilogin_result r = { .outcome = APILOGIN_OK };

        (void)state;
        r.token = strdup("t");
        r.refresh = strdup("r");
        r.api_code = strdup("c");
        r.extra[0].key = strdup("k");
        r.extra[0].value = strdup("v");
        apilogin_result_clear(&r);
        assert_null(r.token);
        assert_null(r.extra[0].key);
        assert_int_equal(r.outcome, APILOGIN_UNAVAIL); /* never OK by default */
        assert_int_equal(r.retry_after, -1);
        apilogin_result_clear(NULL);
}

/* ---- login_check ---------------------------------------------------------------------- */

static void test_lc_request(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_login_in in = login_in(&lc_cfg, "api_user", "p\"w\\1234\xc3\xa9");
        struct apilogin_http_req req = { 0 };
        cJSON *j;

        (void)state;
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "https://id.example.com/v1/login_check");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/json");
        assert_int_equal(req.body_len, strlen(req.body));
        assert_null(req.jar);
        for (int i = 0; i < APILOGIN_HTTP_MAX_HEADERS; i++)
                assert_null(req.headers[i]);
        j = cJSON_ParseWithLength(req.body, req.body_len);
        assert_non_null(j);
        assert_true(cJSON_IsObject(j));
        assert_int_equal(json_count(j), 2);
        assert_string_equal(json_str(j, "username"), "api_user");
        assert_string_equal(json_str(j, "password"), "p\"w\\1234\xc3\xa9");
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);
        assert_null(req.body);

        in.url = "http://127.0.0.1:8080/v1/login_check"; /* the endpoint being tried */
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "http://127.0.0.1:8080/v1/login_check");
        apilogin_http_req_clear(&req);
}

static void test_lc_request_einval(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in;
        char *huge = repeat('p', APILOGIN_SECRET_MAX + 1);

        (void)state;
        in = login_in(&lc_cfg, "api_user", "");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&lc_cfg, "api_user", NULL);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&lc_cfg, "", "1234");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&lc_cfg, "api_user", huge);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        assert_null(req.url); /* untouched on failure */
        assert_null(req.body);
        free(huge);
}

static void test_lc_success(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_login_in in = login_in(&lc_cfg, "api_user", "1234");
        struct apilogin_http_resp resp = resp_file(200, "lc_success.json");
        struct apilogin_result res;
        int64_t now = time(NULL);

        (void)state;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "fj45u923j59ju42395iu9423i59243u0");
        assert_string_equal(res.refresh, "4e283bb7620068c42d6");
        assert_true(res.expires_at >= now + 86400 && res.expires_at <= now + 86400 + 5);
        assert_null(res.display_name);
        assert_null(res.api_code);
        assert_int_equal(res.retry_after, -1);
        apilogin_result_clear(&res);

        resp = resp_file(200, "lc_success_ext.json");
        now = time(NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "eyJhbGciOiJIUzI1NiJ9.e30.sig");
        assert_string_equal(res.refresh, "rt-0001");
        assert_string_equal(res.display_name, "Alice Example");
        assert_true(res.expires_at >= now + 3600 && res.expires_at <= now + 3600 + 5);
        apilogin_result_clear(&res);

        /* no refresh_token at all is fine */
        resp = resp_of(200, "{\"token\":\"t1\"}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_null(res.refresh);
        apilogin_result_clear(&res);

        /* a display name that would break /etc/passwd is dropped, the login stands */
        resp = resp_of(200, "{\"token\":\"t1\",\"display_name\":\"a:b\\nc\"}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_null(res.display_name);
        apilogin_result_clear(&res);
}

struct lc_case {
        long status;
        const char *body;
        enum apilogin_outcome outcome;
        const char *api_code;
};

static const struct lc_case lc_cases[] = {
        { 400, "{\"errors\":[{\"error\":110,\"message\":\"JSON is not valid\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 400/110" },
        { 400, "{\"errors\":[{\"error\":111,\"message\":\"Invalid data format\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 400/111" },
        { 400, "{\"errors\":[{\"error\":1005,\"message\":\"Invalid authorization data\"}]}",
          APILOGIN_AUTH_ERR, "HTTP 400/1005" },
        { 401, "{\"errors\":[{\"error\":1006,\"message\":\"Bad credentials\"}]}",
          APILOGIN_AUTH_ERR, "HTTP 401/1006" },
        { 401, "{\"errors\":[{\"error\":1007,\"message\":\"Your token is invalid.\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 401/1007" },
        { 401, "{\"errors\":[{\"error\":1008,\"message\":\"Missing token.\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 401/1008" },
        { 401, "{\"errors\":[{\"error\":1009,\"message\":\"Your token is expired.\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 401/1009" },
        { 401, "{\"errors\":[{\"error\":4242,\"message\":\"new code\"}]}",
          APILOGIN_AUTH_ERR, "HTTP 401/4242" },
        { 403, "{\"errors\":[{\"error\":1010,\"message\":\"Account is disabled.\"}]}",
          APILOGIN_ACCT_EXPIRED, "HTTP 403/1010" },
        { 404, "{\"errors\":[{\"error\":404,\"message\":\"Not found\"}]}",
          APILOGIN_SERVICE_ERR, "HTTP 404/404" },
        { 404, "<html>not found</html>", APILOGIN_SERVICE_ERR, "HTTP 404" },
        { 429, "", APILOGIN_MAXTRIES, "HTTP 429" },
        { 429, "{\"errors\":[{\"error\":1,\"message\":\"slow down\"}]}", APILOGIN_MAXTRIES,
          "HTTP 429/1" },
        { 418, "{\"errors\":[{\"error\":999,\"message\":\"teapot\"}]}", APILOGIN_SERVICE_ERR,
          "HTTP 418/999" },
        { 400, "{\"errors\":[{\"error\":123,\"message\":\"other\"}]}", APILOGIN_SERVICE_ERR,
          "HTTP 400/123" },
        { 500, "{\"errors\":[{\"error\":500,\"message\":\"Server error\"}]}", APILOGIN_UNAVAIL,
          "HTTP 500/500" },
        { 502, "<html>bad gateway</html>", APILOGIN_UNAVAIL, "HTTP 502" },
        { 503, "", APILOGIN_UNAVAIL, "HTTP 503" },
        { 200, "{\"refresh_token\":\"x\"}", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"errors\":[{\"error\":1006,\"message\":\"?\"}]}", APILOGIN_UNAVAIL,
          "HTTP 200" },
        { 302, "", APILOGIN_UNAVAIL, "HTTP 302" },
        { 201, "{\"token\":\"t\"}", APILOGIN_UNAVAIL, "HTTP 201" },
        /* wrong JSON types and non-JSON: never a crash, always UNAVAIL */
        { 200, "{\"token\":5}", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"token\":\"\"}", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"token\":null}", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"token\":[\"t\"]}", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "[\"token\"]", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "\"token\"", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "null", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "not json", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"token\":\"t\"", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "{\"token\":\"t\"} trailing", APILOGIN_UNAVAIL, "HTTP 200" },
        { 200, "", APILOGIN_UNAVAIL, "HTTP 200" },
        { 401, "{\"errors\":\"x\"}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "{\"errors\":[]}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "{\"errors\":[5]}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "{\"errors\":[{\"error\":\"1006\"}]}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "{\"errors\":[{\"error\":1006.5}]}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "{\"errors\":{\"error\":1006}}", APILOGIN_UNAVAIL, "HTTP 401" },
        { 401, "<html>401</html>", APILOGIN_UNAVAIL, "HTTP 401" },
        { 403, "<html>WAF</html>", APILOGIN_UNAVAIL, "HTTP 403" },
        { 400, "[]", APILOGIN_UNAVAIL, "HTTP 400" },
        { 0, "", APILOGIN_UNAVAIL, "HTTP 0" },
};

static void test_lc_error_table(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_login_in in = login_in(&lc_cfg, "api_user", "1234");

        (void)state;
        for (size_t i = 0; i < sizeof(lc_cases) / sizeof(lc_cases[0]); i++) {
                const struct lc_case *c = &lc_cases[i];
                struct apilogin_http_resp resp = resp_of(c->status, c->body);
                struct apilogin_result res;

                resp.retry_after = 30;
                reply(d, &in, &resp, &res);
                if (res.outcome != c->outcome || !res.api_code ||
                    strcmp(res.api_code, c->api_code) != 0)
                        fail_msg("case %zu (%ld %s): outcome %d code %s, want %d %s", i,
                                 c->status, c->body, res.outcome, res.api_code, c->outcome,
                                 c->api_code);
                assert_null(res.token);
                assert_null(res.refresh);
                assert_int_equal(res.retry_after, c->outcome == APILOGIN_MAXTRIES ? 30 : -1);
                apilogin_result_clear(&res);
        }
}

static void test_lc_error_fixtures(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_login_in in = login_in(&lc_cfg, "api_user", "1234");
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        resp = resp_file(401, "lc_error_1006.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_string_equal(res.api_code, "HTTP 401/1006");
        assert_string_equal(res.api_message, "Invalid credentials.");
        apilogin_result_clear(&res);

        resp = resp_file(401, "lc_error_1007.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_SERVICE_ERR);
        assert_string_equal(res.api_message, "Your token is invalid.");
        apilogin_result_clear(&res);

        /* only the first error counts */
        resp = resp_file(400, "lc_error_two.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_string_equal(res.api_code, "HTTP 400/1005");
        apilogin_result_clear(&res);

        resp = resp_file(403, "lc_error_disabled.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_ACCT_EXPIRED);
        apilogin_result_clear(&res);

        resp = resp_file(502, "lc_not_json.html");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);

        resp = resp_file(200, "lc_not_json.html");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_message, "malformed reply");
        apilogin_result_clear(&res);
}

static void test_lc_oversized(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_login_in in = login_in(&lc_cfg, "api_user", "1234");
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        char *s, body[12000];

        (void)state;
        s = repeat('t', 4097);
        snprintf(body, sizeof(body), "{\"token\":\"%s\"}", s);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);
        s[4096] = '\0';
        snprintf(body, sizeof(body), "{\"token\":\"%s\"}", s);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_int_equal(strlen(res.token), 4096);
        apilogin_result_clear(&res);
        free(s);

        /* refresh token too long: dropped; display name too long: dropped */
        s = repeat('n', 4097);
        snprintf(body, sizeof(body), "{\"token\":\"t\",\"refresh_token\":\"%s\","
                 "\"display_name\":\"%.256s\"}", s, s);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_null(res.refresh);
        assert_null(res.display_name);
        apilogin_result_clear(&res);

        /* API message: capped at 256 bytes, printable ASCII only */
        snprintf(body, sizeof(body),
                 "{\"errors\":[{\"error\":1006,\"message\":\"bad\\n\\u0007\\u00e9%s\"}]}", s);
        resp = resp_of(401, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_int_equal(strlen(res.api_message), 256);
        assert_memory_equal(res.api_message, "bad????nnn", 10); /* \n, \a, 2-byte e-acute */
        for (const char *c = res.api_message; *c; c++)
                assert_true(*c >= 0x20 && *c < 0x7f);
        apilogin_result_clear(&res);
        free(s);

        /* absurd expires_in falls back to 24 h */
        resp = resp_of(200, "{\"token\":\"t\",\"expires_in\":-5}");
        reply(d, &in, &resp, &res);
        assert_true(res.expires_at >= time(NULL) + 86400 - 5);
        apilogin_result_clear(&res);
        resp = resp_of(200, "{\"token\":\"t\",\"expires_in\":\"3600\"}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_true(res.expires_at >= time(NULL) + 86400 - 5);
        apilogin_result_clear(&res);
}

static void test_lc_refresh_logout(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        struct apilogin_provider_cfg p = lc_cfg;
        struct apilogin_session_creds c = { .url = p.url, .user = "api_user", .token = "t0",
                                            .refresh = "r0" };
        struct apilogin_http_req req = { 0 };
        struct apilogin_http_resp resp;
        struct apilogin_result res = { 0 };
        cJSON *j;

        (void)state;
        assert_null(d->logout_request);
        assert_int_equal(d->refresh_request(&p, &c, &req), -EOPNOTSUPP);
        p.conf = prov_conf(d, "refresh_url", "https://id.example.com/v1/token/refresh", NULL);
        c.refresh = NULL;
        assert_int_equal(d->refresh_request(&p, &c, &req), -EINVAL);
        c.refresh = "r0";
        assert_int_equal(d->refresh_request(&p, &c, &req), 0);
        assert_string_equal(req.url, "https://id.example.com/v1/token/refresh");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/json");
        j = cJSON_ParseWithLength(req.body, req.body_len);
        assert_non_null(j);
        assert_int_equal(json_count(j), 1);
        assert_string_equal(json_str(j, "refresh_token"), "r0");
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);

        resp = resp_file(200, "lc_success.json");
        assert_int_equal(d->refresh_reply(&p, &c, &resp, &res), 0);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "fj45u923j59ju42395iu9423i59243u0");
        assert_string_equal(res.refresh, "4e283bb7620068c42d6");
        apilogin_result_clear(&res);
        apilogin_http_resp_clear(&resp);

        resp = resp_of(200, "{\"token\":\"t1\"}"); /* no new refresh token: keep the old */
        assert_int_equal(d->refresh_reply(&p, &c, &resp, &res), 0);
        assert_string_equal(res.token, "t1");
        assert_string_equal(res.refresh, "r0");
        apilogin_result_clear(&res);
        apilogin_http_resp_clear(&resp);

        /* a rejected refresh token means the session is over: AUTH_ERR, not a
         * configuration error as the same codes are at login */
        static const struct {
                long status;
                const char *body;
                enum apilogin_outcome outcome;
        } replies[] = {
                { 401, "{\"errors\":[{\"error\":1007,\"message\":\"Your token is invalid.\"}]}",
                  APILOGIN_AUTH_ERR },
                { 401, "{\"errors\":[{\"error\":1009,\"message\":\"Your token is expired.\"}]}",
                  APILOGIN_AUTH_ERR },
                { 400, "{\"errors\":[{\"error\":110,\"message\":\"JSON is not valid.\"}]}",
                  APILOGIN_SERVICE_ERR },
                { 503, "", APILOGIN_UNAVAIL },
                { 200, "{\"token\":7}", APILOGIN_UNAVAIL },
        };
        for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
                resp = resp_of(replies[i].status, replies[i].body);
                assert_int_equal(d->refresh_reply(&p, &c, &resp, &res), 0);
                assert_int_equal(res.outcome, replies[i].outcome);
                assert_null(res.token);
                assert_null(res.refresh);
                apilogin_result_clear(&res);
                apilogin_http_resp_clear(&resp);
        }
        apilogin_type_conf_free(&d->type, p.conf);
}

/* ---- token_login ------------------------------------------------------------------------ */

static void check_tl_params(const struct apilogin_http_req *req, const char *operate_as)
{
        char *svc = form_get(req->body, "svc");
        char *params = form_get(req->body, "params");
        cJSON *j, *fl;

        assert_non_null(svc);
        assert_string_equal(svc, "token/login");
        assert_null(form_get(req->body, "sid"));
        assert_non_null(params);
        j = cJSON_Parse(params);
        assert_non_null(j);
        assert_int_equal(json_count(j), operate_as ? 3 : 2);
        assert_string_equal(json_str(j, "token"), TOKEN72);
        fl = cJSON_GetObjectItemCaseSensitive(j, "fl");
        assert_true(cJSON_IsNumber(fl));
        assert_int_equal(fl->valueint, 3);
        if (operate_as)
                assert_string_equal(json_str(j, "operateAs"), operate_as);
        else
                assert_null(cJSON_GetObjectItem(j, "operateAs"));
        cJSON_Delete(j);
        free(svc);
        free(params);
}

static void test_tl_request(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_provider_cfg p = tl_cfg;
        struct apilogin_login_in in = login_in(&p, "wialon_test", TOKEN72);
        struct apilogin_http_req req = { 0 };

        (void)state;
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "https://hst-api.wialon.com/wialon/ajax.html");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/x-www-form-urlencoded");
        assert_int_equal(req.body_len, strlen(req.body));
        assert_true(strncmp(req.body, "svc=token%2Flogin&params=%7B%22token%22%3A%22", 44) == 0);
        check_tl_params(&req, NULL);
        apilogin_http_req_clear(&req);

        p.conf = prov_conf(d, "operate_as", "yes", NULL);
        in.user = "sub user&=";
        assert_int_equal(d->login_request(&in, &req), 0);
        check_tl_params(&req, "sub user&=");
        apilogin_http_req_clear(&req);
        apilogin_type_conf_free(&d->type, p.conf);
}

static void test_tl_request_einval(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in;
        char t71[72], t73[74];

        (void)state;
        memcpy(t71, TOKEN72, 71);
        t71[71] = '\0';
        snprintf(t73, sizeof(t73), "%sX", TOKEN72);
        in = login_in(&tl_cfg, "wialon_test", t71);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&tl_cfg, "wialon_test", t73);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&tl_cfg, "wialon_test", "");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&tl_cfg, "wialon_test", NULL);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&tl_cfg, "", TOKEN72);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        assert_null(req.body);
}

static void test_tl_success(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_provider_cfg p = tl_cfg;
        const char *users[] = { "wialon_test", "WIALON_TEST", "Wialon_Test" };
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        struct apilogin_login_in in;

        (void)state;
        for (size_t i = 0; i < 3; i++) {
                in = login_in(&p, users[i], TOKEN72);
                resp = resp_file(200, "tl_success.json");
                reply(d, &in, &resp, &res);
                assert_int_equal(res.outcome, APILOGIN_OK);
                assert_string_equal(res.token, "d1cb60897768780f846df7ab2400eb5f");
                assert_string_equal(res.remote_id, "wialon_test");
                assert_int_equal(res.expires_at, 0);
                assert_null(res.refresh);
                assert_null(res.display_name);
                assert_null(res.api_code);
                apilogin_result_clear(&res);
        }

        /* the token belongs to wialon_test, not to alice: refused, with or without
         * operateAs */
        for (int op = 0; op < 2; op++) {
                p.conf = apilogin_type_conf_free(&d->type, p.conf);
                p.conf = prov_conf(d, "operate_as", op ? "yes" : "no", NULL);
                in = login_in(&p, "alice", TOKEN72);
                resp = resp_file(200, "tl_success.json");
                reply(d, &in, &resp, &res);
                assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
                assert_null(res.token);
                assert_null(res.remote_id);
                assert_string_equal(res.api_code, "identity");
                assert_non_null(strstr(res.api_message, "token belongs to another user"));
                assert_null(strstr(res.api_message, TOKEN72));
                apilogin_result_clear(&res);
        }
        /* a prefix is not a match */
        p.conf = apilogin_type_conf_free(&d->type, p.conf);
        in = login_in(&p, "wialon_tes", TOKEN72);
        resp = resp_file(200, "tl_success.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        apilogin_result_clear(&res);

        in = login_in(&p, "Fleet.Manager", TOKEN72);
        resp = resp_file(200, "tl_success_prp.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.display_name, "Fleet Manager");
        assert_string_equal(res.remote_id, "fleet.manager");
        apilogin_result_clear(&res);

        /* {"error":0} with a session is a success too */
        in = login_in(&p, "bob", TOKEN72);
        resp = resp_of(200, "{\"error\":0,\"eid\":\"e1\",\"au\":\"bob\",\"user\":{\"prp\":5}}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_null(res.display_name);
        apilogin_result_clear(&res);
}

struct tl_case {
        const char *body;
        bool operate_as;
        enum apilogin_outcome outcome;
        const char *api_code;
};

static const struct tl_case tl_cases[] = {
        { "{\"error\":4}", false, APILOGIN_AUTH_ERR, "error 4" },
        { "{\"error\":6}", false, APILOGIN_UNAVAIL, "error 6" },
        { "{\"error\":7}", false, APILOGIN_PERM_DENIED, "error 7" },
        { "{\"error\":8}", false, APILOGIN_AUTH_ERR, "error 8" },
        { "{\"error\":8}", true, APILOGIN_USER_UNKNOWN, "error 8" },
        { "{\"error\":1003,\"reason\":\"LIMIT api_concurrent\"}", false, APILOGIN_MAXTRIES,
          "error 1003" },
        { "{\"error\":1003,\"reason\":\"LOCKER_ERROR\"}", false, APILOGIN_UNAVAIL, "error 1003" },
        { "{\"error\":1003,\"reason\":\"NO_SESSION\"}", false, APILOGIN_UNAVAIL, "error 1003" },
        { "{\"error\":1003}", false, APILOGIN_UNAVAIL, "error 1003" },
        { "{\"error\":1}", false, APILOGIN_SERVICE_ERR, "error 1" },
        { "{\"error\":2}", false, APILOGIN_SERVICE_ERR, "error 2" },
        { "{\"error\":5}", false, APILOGIN_UNAVAIL, "error 5" },
        { "{\"error\":9}", false, APILOGIN_UNAVAIL, "error 9" },
        { "{\"error\":10}", false, APILOGIN_UNAVAIL, "error 10" },
        { "{\"error\":14}", false, APILOGIN_ACCT_EXPIRED, "error 14" },
        { "{\"error\":1006}", false, APILOGIN_MAXTRIES, "error 1006" },
        { "{\"error\":1011}", false, APILOGIN_UNAVAIL, "error 1011" },
        { "{\"error\":-100}", false, APILOGIN_UNAVAIL, "error -100" },
        { "{\"error\":-101}", false, APILOGIN_UNAVAIL, "error -101" },
        { "{\"error\":12345}", false, APILOGIN_UNAVAIL, "error 12345" },
        { "{\"error\":7,\"eid\":\"e\",\"au\":\"wialon_test\"}", false, APILOGIN_PERM_DENIED,
          "error 7" },
        /* wrong JSON types and non-JSON */
        { "{\"error\":\"7\"}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"error\":7.5}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"error\":null}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"error\":1e12}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"eid\":5,\"au\":\"wialon_test\"}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"eid\":\"e\",\"au\":[\"wialon_test\"]}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"eid\":\"e\"}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"au\":\"wialon_test\"}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{\"eid\":\"\",\"au\":\"wialon_test\"}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "{}", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "[]", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "7", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "<html>", false, APILOGIN_UNAVAIL, "HTTP 200" },
        { "", false, APILOGIN_UNAVAIL, "HTTP 200" },
};

static void test_tl_error_table(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;

        (void)state;
        for (size_t i = 0; i < sizeof(tl_cases) / sizeof(tl_cases[0]); i++) {
                const struct tl_case *c = &tl_cases[i];
                struct apilogin_provider_cfg p = tl_cfg;
                struct apilogin_login_in in = login_in(&p, "wialon_test", TOKEN72);
                struct apilogin_http_resp resp = resp_of(200, c->body);
                struct apilogin_result res;

                p.conf = prov_conf(d, "operate_as", c->operate_as ? "yes" : "no", NULL);
                reply(d, &in, &resp, &res);
                if (res.outcome != c->outcome || !res.api_code ||
                    strcmp(res.api_code, c->api_code) != 0)
                        fail_msg("case %zu (%s): outcome %d code %s, want %d %s", i, c->body,
                                 res.outcome, res.api_code, c->outcome, c->api_code);
                assert_null(res.token);
                assert_non_null(res.api_message);
                apilogin_result_clear(&res);
                p.conf = apilogin_type_conf_free(&d->type, p.conf);
        }
}

static void test_tl_status_fixtures(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_login_in in = login_in(&tl_cfg, "wialon_test", TOKEN72);
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        resp = resp_file(200, "tl_error_4.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_string_equal(res.api_code, "error 4");
        assert_string_equal(res.api_message, "Invalid token length");
        apilogin_result_clear(&res);

        resp = resp_file(200, "tl_error_1003_limit.json");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_MAXTRIES);
        assert_string_equal(res.api_message, "LIMIT api_concurrent");
        apilogin_result_clear(&res);

        resp = resp_file(500, "tl_success.json"); /* a 5xx is never a success */
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_code, "HTTP 500");
        apilogin_result_clear(&res);

        resp = resp_of(429, "");
        resp.retry_after = 12;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_MAXTRIES);
        assert_int_equal(res.retry_after, 12);
        apilogin_result_clear(&res);

        resp = resp_of(404, "<html>");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);
}

static void test_tl_oversized(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_login_in in;
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        char *s = repeat('e', 4097), *name = repeat('u', 256), body[12000];

        (void)state;
        in = login_in(&tl_cfg, "wialon_test", TOKEN72);
        snprintf(body, sizeof(body), "{\"eid\":\"%s\",\"au\":\"wialon_test\"}", s);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);

        in = login_in(&tl_cfg, name, TOKEN72);
        snprintf(body, sizeof(body), "{\"eid\":\"e\",\"au\":\"%s\"}", name);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);

        in = login_in(&tl_cfg, "wialon_test", TOKEN72);
        snprintf(body, sizeof(body), "{\"error\":7,\"reason\":\"%s\\r\\n\"}", s);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_PERM_DENIED);
        assert_int_equal(strlen(res.api_message), 256);
        apilogin_result_clear(&res);

        snprintf(body, sizeof(body), "{\"eid\":\"e\",\"au\":\"wialon_test\",\"user\":"
                 "{\"prp\":{\"display_name\":\"%s\"}}}", name);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_null(res.display_name);
        apilogin_result_clear(&res);
        free(s);
        free(name);
}

static void test_tl_logout(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        struct apilogin_session_creds c = { .url = tl_cfg.url, .user = "wialon_test",
                                            .token = "d1cb60897768780f846df7ab2400eb5f" };
        struct apilogin_http_req req = { 0 };

        (void)state;
        assert_int_equal(d->logout_request(&tl_cfg, &c, &req), 0);
        assert_string_equal(req.url, "https://hst-api.wialon.com/wialon/ajax.html");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/x-www-form-urlencoded");
        assert_string_equal(req.body,
                            "svc=core%2Flogout&params=%7B%7D&sid=d1cb60897768780f846df7ab2400eb5f");
        assert_int_equal(req.body_len, strlen(req.body));
        apilogin_http_req_clear(&req);

        c.token = NULL;
        assert_int_equal(d->logout_request(&tl_cfg, &c, &req), -EINVAL);
}

static void test_tl_keepalive(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        static const struct {
                const char *url, *want;
        } urls[] = {
                { "https://hst-api.wialon.com/wialon/ajax.html",
                  "https://hst-api.wialon.com/avl_evts?sid=abc%2B1" },
                { "http://127.0.0.1:8080/wialon/ajax.html",
                  "http://127.0.0.1:8080/avl_evts?sid=abc%2B1" },
                { "https://[::1]:443/x?y=1", "https://[::1]:443/avl_evts?sid=abc%2B1" },
                { "https://host.example", "https://host.example/avl_evts?sid=abc%2B1" },
        };
        struct apilogin_session_creds c = { .user = "wialon_test", .token = "abc+1" };
        struct apilogin_http_req req = { 0 };
        struct apilogin_http_resp resp;
        struct apilogin_result res = { 0 };

        (void)state;
        for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
                c.url = urls[i].url;
                assert_int_equal(d->refresh_request(&tl_cfg, &c, &req), 0);
                assert_string_equal(req.url, urls[i].want);
                assert_false(req.post);
                assert_null(req.body);
                apilogin_http_req_clear(&req);
        }
        c.url = "no-scheme";
        assert_int_equal(d->refresh_request(&tl_cfg, &c, &req), -EINVAL);
        c.url = tl_cfg.url;

        resp = resp_file(200, "tl_avl_evts.json");
        assert_int_equal(d->refresh_reply(&tl_cfg, &c, &resp, &res), 0);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "abc+1");
        apilogin_result_clear(&res);
        apilogin_http_resp_clear(&resp);

        static const struct {
                long status;
                const char *body;
                enum apilogin_outcome outcome;
        } replies[] = {
                { 200, "{\"error\":1}", APILOGIN_AUTH_ERR },
                { 200, "{\"error\":1011}", APILOGIN_AUTH_ERR },
                { 200, "{\"error\":5}", APILOGIN_UNAVAIL },
                { 200, "{\"error\":\"1\"}", APILOGIN_UNAVAIL },
                { 200, "{}", APILOGIN_UNAVAIL },
                { 200, "{\"tm\":\"1\"}", APILOGIN_UNAVAIL },
                { 200, "nope", APILOGIN_UNAVAIL },
                { 502, "", APILOGIN_UNAVAIL },
        };
        for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
                resp = resp_of(replies[i].status, replies[i].body);
                assert_int_equal(d->refresh_reply(&tl_cfg, &c, &resp, &res), 0);
                assert_int_equal(res.outcome, replies[i].outcome);
                assert_null(res.token);
                apilogin_result_clear(&res);
                apilogin_http_resp_clear(&resp);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_driver_find),
                cmocka_unit_test(test_json_parse),
                cmocka_unit_test(test_json_strdup_print),
                cmocka_unit_test(test_result_clear),
                cmocka_unit_test(test_lc_request),
                cmocka_unit_test(test_lc_request_einval),
                cmocka_unit_test(test_lc_success),
                cmocka_unit_test(test_lc_error_table),
                cmocka_unit_test(test_lc_error_fixtures),
                cmocka_unit_test(test_lc_oversized),
                cmocka_unit_test(test_lc_refresh_logout),
                cmocka_unit_test(test_tl_request),
                cmocka_unit_test(test_tl_request_einval),
                cmocka_unit_test(test_tl_success),
                cmocka_unit_test(test_tl_error_table),
                cmocka_unit_test(test_tl_status_fixtures),
                cmocka_unit_test(test_tl_oversized),
                cmocka_unit_test(test_tl_logout),
                cmocka_unit_test(test_tl_keepalive),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_providers_more.c: the jsonrpc and rest_login drivers, without any network: the
 * requests they build (URL, method, headers, cookie, exact JSON keys), their refusals
 * before sending (empty secrets, the username rules of protocols.md section 4.3), and
 * how every reply of sections 1 and 4 (fixtures in tests/data/jr_* and rl_*), every
 * mnemonic of the section 1.6 table, every row of the section 4.7 table and every wrong
 * JSON type maps to an outcome. */
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

static struct apilogin_provider_cfg jr_cfg = {
        .name = "calls", .type = &apilogin_driver_jsonrpc.type, .url = "https://callapi.uiscom.ru/v4.0",
};
static struct apilogin_provider_cfg rl_cfg = {
        .name = "pbx", .type = &apilogin_driver_rest_login.type,
        .url = "https://pbx.example.com:8887/api", /* .conf: domain, set in main */
};
static struct apilogin_provider_cfg rl_cfg_nodomain = {
        .name = "pbxadmin", .type = &apilogin_driver_rest_login.type,
        .url = "https://pbx.example.com:8887/api/",
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

/* Every "@ID@" of s replaced by id (NULL: s unchanged); a new string. */
static char *subst_id(const char *s, const char *id)
{
        size_t n = 0, il = id ? strlen(id) : 0;
        char *out, *o;

        for (const char *p = s; id && (p = strstr(p, "@ID@")); p += 4)
                n++;
        out = o = malloc(strlen(s) + n * il + 1);
        assert_non_null(out);
        while (*s) {
                if (id && strncmp(s, "@ID@", 4) == 0) {
                        memcpy(o, id, il);
                        o += il;
                        s += 4;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

/* The fixture tests/data/name as a reply body, with @ID@ replaced by id. */
static struct apilogin_http_resp resp_file(long status, const char *name, const char *id)
{
        char path[512], *raw, *body;
        struct apilogin_http_resp r;
        FILE *f;
        long n;

        snprintf(path, sizeof(path), "%s/%s", TEST_DATADIR, name);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        raw = calloc(1, (size_t)n + 1);
        assert_non_null(raw);
        assert_int_equal(fread(raw, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        body = subst_id(raw, id);
        r = resp_of(status, body);
        free(raw);
        free(body);
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

static void assert_near_now(int64_t t, int64_t delta)
{
        int64_t now = (int64_t)time(NULL);

        assert_true(t >= now + delta - 5 && t <= now + delta + 5);
}

/* The id the jsonrpc driver sends for in (read back from the request it builds). */
static char *jr_id_of(const struct apilogin_login_in *in)
{
        struct apilogin_http_req req = { 0 };
        cJSON *j;
        char *id;

        assert_int_equal(apilogin_driver_jsonrpc.login_request(in, &req), 0);
        j = cJSON_Parse(req.body);
        assert_non_null(j);
        id = strdup(json_str(j, "id"));
        assert_non_null(id);
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);
        return id;
}

static void test_driver_find(void **state)
{
        (void)state;
        assert_ptr_equal(apilogin_driver_find(jr_cfg.type), &apilogin_driver_jsonrpc);
        assert_ptr_equal(apilogin_driver_find(rl_cfg.type), &apilogin_driver_rest_login);
        assert_string_equal(apilogin_driver_jsonrpc.type.name, "jsonrpc");
        assert_string_equal(apilogin_driver_rest_login.type.name, "rest_login");
        assert_null(apilogin_driver_jsonrpc.refresh_request);
        assert_null(apilogin_driver_jsonrpc.refresh_reply);
}

/* ---- jsonrpc: requests -------------------------------------------------------------- */

static void test_jr_request(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "operator@example", "S3\"c\\ret\xc3\xa9");
        struct apilogin_http_req req = { 0 };
        const cJSON *params;
        char expect[256];
        cJSON *j;

        (void)state;
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "https://callapi.uiscom.ru/v4.0");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/json; charset=UTF-8");
        assert_null(req.jar);
        assert_null(req.headers[0]);
        assert_int_equal(req.body_len, strlen(req.body));
        j = cJSON_Parse(req.body);
        assert_non_null(j);
        assert_int_equal(json_count(j), 4);
        assert_string_equal(json_str(j, "jsonrpc"), "2.0");
        assert_string_equal(json_str(j, "method"), "login.user");
        assert_true(strncmp(json_str(j, "id"), "apilogin-", 9) == 0);
        params = cJSON_GetObjectItemCaseSensitive(j, "params");
        assert_true(cJSON_IsObject(params));
        assert_int_equal(json_count(params), 2); /* exactly login and password */
        assert_string_equal(json_str(params, "login"), "operator@example");
        assert_string_equal(json_str(params, "password"), "S3\"c\\ret\xc3\xa9");
        /* The exact bytes, key order included. */
        snprintf(expect, sizeof(expect),
                 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"method\":\"login.user\",\"params\":"
                 "{\"login\":\"operator@example\",\"password\":\"S3\\\"c\\\\ret\xc3\xa9\"}}",
                 json_str(j, "id"));
        assert_string_equal(req.body, expect);
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);

        in.url = "http://127.0.0.1:8080/v4.0"; /* the endpoint being tried, not p->url */
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "http://127.0.0.1:8080/v4.0");
        apilogin_http_req_clear(&req);
}

static void test_jr_request_ids(void **state)
{
        struct apilogin_login_in a = login_in(&jr_cfg, "alice", "pw");
        struct apilogin_login_in b = login_in(&jr_cfg, "bob", "pw");
        char *ida = jr_id_of(&a), *ida2, *idb, *ids;

        (void)state;
        ida2 = jr_id_of(&a);
        idb = jr_id_of(&b);
        a.step = 1;
        ids = jr_id_of(&a);
        assert_string_equal(ida, ida2); /* recomputable by login_reply */
        assert_string_not_equal(ida, idb);
        assert_string_not_equal(ida, ids);
        free(ida);
        free(ida2);
        free(idb);
        free(ids);
}

static void test_jr_request_einval(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in;
        char *huge = repeat('x', APILOGIN_SECRET_MAX + 1);

        (void)state;
        in = login_in(&jr_cfg, "alice", "");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&jr_cfg, "alice", NULL);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&jr_cfg, "", "pw");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&jr_cfg, "alice", huge);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&jr_cfg, "alice", "pw");
        in.url = NULL;
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        assert_null(req.body);
        assert_null(req.url);
        free(huge);
}

static void test_jr_logout(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_session_creds c = { .url = "https://callapi.uiscom.ru/v4.0",
                                            .user = "alice", .token = "2fRN4g21f6093d" };
        struct apilogin_http_req req = { 0 };

        (void)state;
        assert_int_equal(d->logout_request(&jr_cfg, &c, &req), 0);
        assert_true(req.post);
        assert_string_equal(req.url, "https://callapi.uiscom.ru/v4.0");
        assert_string_equal(req.content_type, "application/json; charset=UTF-8");
        assert_string_equal(req.body, "{\"jsonrpc\":\"2.0\",\"id\":\"apilogin-logout\","
                                      "\"method\":\"logout.user\","
                                      "\"params\":{\"access_token\":\"2fRN4g21f6093d\"}}");
        assert_int_equal(req.body_len, strlen(req.body));
        apilogin_http_req_clear(&req);

        c.token = "";
        assert_int_equal(d->logout_request(&jr_cfg, &c, &req), -EINVAL);
        c.token = NULL;
        assert_int_equal(d->logout_request(&jr_cfg, &c, &req), -EINVAL);
}

/* ---- jsonrpc: replies --------------------------------------------------------------- */

static void test_jr_success(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "operator@example", "S3cret");
        char *id = jr_id_of(&in), body[512];
        struct apilogin_http_resp resp = resp_file(200, "jr_success.json", id);
        struct apilogin_result res;

        (void)state;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "2fRN4g21c0ffee0123456789abcdeff6093d");
        assert_int_equal(res.expires_at, 1475853742);
        assert_null(res.refresh);
        assert_null(res.api_code);
        assert_false(res.another_step);
        apilogin_result_clear(&res);

        /* expire_at missing or of the wrong type: the documented hour. */
        snprintf(body, sizeof(body),
                 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"data\":"
                 "{\"access_token\":\"abc\",\"expire_at\":\"1475853742\"}}}", id);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_near_now(res.expires_at, 3600);
        apilogin_result_clear(&res);

        /* Whatever the HTTP status, the body decides. */
        resp = resp_file(400, "jr_success.json", id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        apilogin_result_clear(&res);
        free(id);
}

/* Every mnemonic of section 1.6, with its code and the outcome of the brief. */
static const struct jr_case {
        long code;
        const char *mnemonic;
        const char *field; /* JSON text of data.field, NULL: no field member */
        enum apilogin_outcome outcome;
} jr_cases[] = {
        { -32001, "auth_error", "null", APILOGIN_AUTH_ERR },
        { -32001, "access_token_invalid", NULL, APILOGIN_AUTH_ERR },
        { -32001, "access_token_expired", NULL, APILOGIN_ACCT_EXPIRED },
        { -32001, "access_token_blocked", NULL, APILOGIN_PERM_DENIED },
        { -32009, "account_inactive", NULL, APILOGIN_ACCT_EXPIRED },
        { -32003, "forbidden", NULL, APILOGIN_PERM_DENIED },
        { -32003, "ip_not_whitelisted", NULL, APILOGIN_UNAVAIL },
        { -32008, "component_disabled", NULL, APILOGIN_UNAVAIL },
        { -32029, "limit_exceeded", NULL, APILOGIN_MAXTRIES },
        { -32603, "internal_error", NULL, APILOGIN_UNAVAIL },
        { -32700, "parse_error", NULL, APILOGIN_SERVICE_ERR },
        { -32600, "invalid_request", "\"id\"", APILOGIN_SERVICE_ERR },
        { -32601, "method_not_found", "\"method\"", APILOGIN_SERVICE_ERR },
        { -32602, "data_type_error", "\"login\"", APILOGIN_SERVICE_ERR },
        { -32602, "required_parameter_missed", "\"password\"", APILOGIN_SERVICE_ERR },
        { -32602, "invalid_parameter_value", "\"login\"", APILOGIN_AUTH_ERR },
        { -32602, "invalid_parameter_value", "\"password\"", APILOGIN_AUTH_ERR },
        { -32602, "invalid_parameter_value", "\"params.x\"", APILOGIN_SERVICE_ERR },
        { -32602, "invalid_parameter_value", "null", APILOGIN_SERVICE_ERR },
        { -32602, "invalid_parameter_value", NULL, APILOGIN_SERVICE_ERR },
        { -32602, "invalid_parameter_value", "7", APILOGIN_SERVICE_ERR },
        { -32602, "unexpected_parameters", "\"domain\"", APILOGIN_SERVICE_ERR },
        { -32099, "batch_opreations_not_supported", NULL, APILOGIN_SERVICE_ERR },
        { -32099, "notifications_not_supported", NULL, APILOGIN_SERVICE_ERR },
        /* The mnemonic decides, not the code. */
        { -32001, "limit_exceeded", NULL, APILOGIN_MAXTRIES },
        { -32603, "auth_error", NULL, APILOGIN_AUTH_ERR },
};

static void test_jr_mnemonic_table(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "alice", "pw");
        char *id = jr_id_of(&in), body[1024], field[64], code[96];
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        for (size_t i = 0; i < sizeof(jr_cases) / sizeof(jr_cases[0]); i++) {
                const struct jr_case *c = &jr_cases[i];

                snprintf(field, sizeof(field), c->field ? ",\"field\":%s" : "", c->field);
                snprintf(body, sizeof(body),
                         "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"error\":{\"code\":%ld,"
                         "\"message\":\"text of %s\",\"data\":{\"mnemonic\":\"%s\"%s,"
                         "\"value\":null,\"params\":{},\"extended_helper\":null}}}",
                         id, c->code, c->mnemonic, c->mnemonic, field);
                resp = resp_of(200, body);
                resp.retry_after = 42;
                reply(d, &in, &resp, &res);
                print_message("# %s field=%s\n", c->mnemonic, c->field ? c->field : "-");
                assert_int_equal(res.outcome, c->outcome);
                assert_null(res.token);
                snprintf(code, sizeof(code), "%ld %s", c->code, c->mnemonic);
                assert_string_equal(res.api_code, code);
                assert_non_null(strstr(res.api_message, "text of "));
                assert_int_equal(res.retry_after, c->outcome == APILOGIN_MAXTRIES ? 42 : -1);
                apilogin_result_clear(&res);
        }
        free(id);
}

/* Unknown mnemonic or no usable data: the code group decides. */
static void test_jr_code_fallback(void **state)
{
        static const struct {
                long code;
                const char *data; /* JSON text of error.data, NULL: no member */
                enum apilogin_outcome outcome;
        } cases[] = {
                { -32001, "{\"mnemonic\":\"brand_new_auth_thing\"}", APILOGIN_AUTH_ERR },
                { -32009, "{\"mnemonic\":\"account_frozen\"}", APILOGIN_ACCT_EXPIRED },
                { -32003, NULL, APILOGIN_PERM_DENIED },
                { -32029, "{}", APILOGIN_MAXTRIES },
                { -32603, "\"oops\"", APILOGIN_UNAVAIL },
                { -32602, "{\"mnemonic\":\"call_session_not_found\"}", APILOGIN_SERVICE_ERR },
                { -32004, "{\"mnemonic\":12}", APILOGIN_SERVICE_ERR },
                { -32007, "[]", APILOGIN_SERVICE_ERR },
                { 1, NULL, APILOGIN_SERVICE_ERR },
        };
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "alice", "pw");
        char *id = jr_id_of(&in), body[512], code[32];
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                snprintf(body, sizeof(body),
                         "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"error\":{\"code\":%ld,"
                         "\"message\":\"m\"%s%s}}",
                         id, cases[i].code, cases[i].data ? ",\"data\":" : "",
                         cases[i].data ? cases[i].data : "");
                resp = resp_of(200, body);
                reply(d, &in, &resp, &res);
                print_message("# code %ld data %s\n", cases[i].code, cases[i].data);
                assert_int_equal(res.outcome, cases[i].outcome);
                snprintf(code, sizeof(code), "%ld ", cases[i].code);
                assert_true(strncmp(res.api_code, code, strlen(code)) == 0);
                apilogin_result_clear(&res);
        }
        free(id);
}

static void test_jr_ids(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "operator@example", "S3cret");
        struct apilogin_login_in other = login_in(&jr_cfg, "mallory", "S3cret");
        char *id = jr_id_of(&in), *other_id = jr_id_of(&other);
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        static const char *const bad_success[] = {
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"data\":{\"access_token\":\"t\"}}}",
                "{\"jsonrpc\":\"2.0\",\"result\":{\"data\":{\"access_token\":\"t\"}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"data\":{\"access_token\":\"t\"}}}",
                "{\"jsonrpc\":\"2.0\",\"id\":\"pam-1\","
                "\"result\":{\"data\":{\"access_token\":\"t\"}}}",
        };

        (void)state;
        /* Someone else's reply (another user's id). */
        resp = resp_file(200, "jr_success.json", other_id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_null(res.token);
        assert_string_equal(res.api_message, "reply id mismatch");
        apilogin_result_clear(&res);

        /* The same user, another step. */
        in.step = 1;
        resp = resp_file(200, "jr_success.json", id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_message, "reply id mismatch");
        apilogin_result_clear(&res);
        in.step = 0;

        for (size_t i = 0; i < sizeof(bad_success) / sizeof(bad_success[0]); i++) {
                resp = resp_of(200, bad_success[i]);
                reply(d, &in, &resp, &res);
                assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
                assert_null(res.token);
                assert_string_equal(res.api_message, "reply id mismatch");
                apilogin_result_clear(&res);
        }

        /* An error with a wrong (non-null) id is not believed either. */
        resp = resp_file(200, "jr_error_ip.json", other_id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_message, "reply id mismatch");
        apilogin_result_clear(&res);

        /* The published error example: "id": null is fine on an error. */
        resp = resp_file(200, "jr_error_auth_null_id.json", NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_string_equal(res.api_code, "-32001 auth_error");
        assert_string_equal(res.api_message, "Login or password is wrong");
        apilogin_result_clear(&res);
        free(id);
        free(other_id);
}

static void test_jr_error_fixtures(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "operator@example", "S3cret");
        char *id = jr_id_of(&in);
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        resp = resp_file(200, "jr_error_ip.json", id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_code, "-32003 ip_not_whitelisted");
        assert_string_equal(res.api_message,
                            "this host's IP is not whitelisted at the API (ip_not_whitelisted): "
                            "Your IP 203.0.113.7 is not whitelisted");
        apilogin_result_clear(&res);

        resp = resp_file(200, "jr_error_invalid_value.json", id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        assert_string_equal(res.api_code, "-32602 invalid_parameter_value");
        apilogin_result_clear(&res);

        resp = resp_file(502, "jr_not_json.html", NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_code, "HTTP 502");
        apilogin_result_clear(&res);

        resp = resp_file(200, "jr_not_json.html", NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);

        /* A 5xx never counts, even with a well-formed body. */
        resp = resp_file(503, "jr_success.json", id);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_null(res.token);
        apilogin_result_clear(&res);

        /* A proxy's 429 without a JSON-RPC body is still a rate limit. */
        resp = resp_of(429, "slow down");
        resp.retry_after = 7;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_MAXTRIES);
        assert_int_equal(res.retry_after, 7);
        apilogin_result_clear(&res);
        free(id);
}

/* Wrong JSON types and shapes: UNAVAIL (or a sane mapping), never a crash or a token. */
static void test_jr_malformed(void **state)
{
        static const char *const results[] = {
                "\"result\":{\"data\":{\"access_token\":12345,\"expire_at\":1}}",
                "\"result\":{\"data\":{\"expire_at\":1}}",
                "\"result\":{\"data\":[\"access_token\"]}",
                "\"result\":{\"data\":\"access_token\"}",
                "\"result\":{}",
                "\"result\":null",
                "\"result\":[1,2]",
                "\"result\":{\"data\":{\"access_token\":\"\"}}",
                "\"result\":{\"data\":{\"access_token\":\"has space\"}}",
                "\"result\":{\"data\":{\"access_token\":\"line\\nbreak\"}}",
                "\"result\":{\"data\":{\"access_token\":\"t\"}},\"error\":{\"code\":-32001}",
                "\"error\":\"auth_error\"",
                "\"error\":{\"message\":\"no code\",\"data\":{\"mnemonic\":\"nope\"}}",
                "\"error\":{\"code\":\"-32001\",\"data\":{\"mnemonic\":7}}",
                "\"error\":{\"code\":-32001.5}",
                "\"jsonrpc_only\":true",
        };
        const struct apilogin_driver *d = &apilogin_driver_jsonrpc;
        struct apilogin_login_in in = login_in(&jr_cfg, "alice", "pw");
        char *id = jr_id_of(&in), body[512], *big, *bigbody;
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
                snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",%s}", id,
                         results[i]);
                resp = resp_of(200, body);
                reply(d, &in, &resp, &res);
                print_message("# %s\n", results[i]);
                assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
                assert_null(res.token);
                assert_non_null(res.api_code);
                apilogin_result_clear(&res);
        }
        static const char *const bodies[] = { "[]", "[{\"id\":null}]", "\"x\"", "", "{", "null" };
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                resp = resp_of(200, bodies[i]);
                reply(d, &in, &resp, &res);
                assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
                apilogin_result_clear(&res);
        }
        resp = resp_of(200, NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);

        /* A token over 4096 bytes is refused; one of exactly 4096 is kept. */
        for (size_t n = 4096; n <= 4097; n++) {
                big = repeat('t', n);
                bigbody = malloc(n + 256);
                assert_non_null(bigbody);
                sprintf(bigbody,
                        "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"data\":"
                        "{\"access_token\":\"%s\",\"expire_at\":1}}}", id, big);
                resp = resp_of(200, bigbody);
                reply(d, &in, &resp, &res);
                assert_int_equal(res.outcome, n == 4096 ? APILOGIN_OK : APILOGIN_UNAVAIL);
                apilogin_result_clear(&res);
                free(big);
                free(bigbody);
        }

        /* API text is cut to 200 bytes of printable ASCII. */
        big = repeat('m', 300);
        bigbody = malloc(1024);
        assert_non_null(bigbody);
        sprintf(bigbody,
                "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,"
                "\"message\":\"a\\u0007b\\n\xc3\xa9%s\",\"data\":{\"mnemonic\":\"auth\\terror\"}}}",
                big);
        resp = resp_of(200, bigbody);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR); /* unknown mnemonic: -32001 */
        assert_string_equal(res.api_code, "-32001 auth?error");
        assert_int_equal(strlen(res.api_message), 200);
        assert_true(strncmp(res.api_message, "a?b???mmm", 9) == 0);
        apilogin_result_clear(&res);
        free(big);
        free(bigbody);
        free(id);
}

/* ---- rest_login: requests ----------------------------------------------------------- */

static void test_rl_request(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3\"cret");
        struct apilogin_http_req req = { 0 };
        cJSON *j;

        (void)state;
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "https://pbx.example.com:8887/api/login");
        assert_true(req.post);
        assert_string_equal(req.content_type, "application/json");
        assert_null(req.jar);
        assert_null(req.headers[0]);
        assert_string_equal(req.body, "{\"username\":\"1001\",\"password\":\"S3\\\"cret\","
                                      "\"domain\":\"tenant.example.com\"}");
        assert_int_equal(req.body_len, strlen(req.body));
        j = cJSON_Parse(req.body);
        assert_int_equal(json_count(j), 3);
        cJSON_Delete(j);
        apilogin_http_req_clear(&req);

        /* No domain configured: exactly username and password; one slash at the join. */
        in = login_in(&rl_cfg_nodomain, "admin", "pw");
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "https://pbx.example.com:8887/api/login");
        assert_string_equal(req.body, "{\"username\":\"admin\",\"password\":\"pw\"}");
        apilogin_http_req_clear(&req);

        /* An empty domain never reaches the driver: its key table refuses it. */
        {
                const char *kv[] = { "domain", "", NULL };
                void *conf = NULL;
                char e[256];

                assert_int_equal(apilogin_type_conf_new(&d->type, kv, &conf, e, sizeof(e)),
                                 -EINVAL);
                assert_null(conf);
                assert_non_null(strstr(e, "domain: "));
        }

        in.url = "http://127.0.0.1:8887/api///";
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_string_equal(req.url, "http://127.0.0.1:8887/api/login");
        apilogin_http_req_clear(&req);

        in.url = "///";
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in.url = NULL;
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        assert_null(req.url);
}

static void test_rl_username_rules(void **state)
{
        static const struct {
                const char *user;
                bool with_domain;
                int ret;
        } cases[] = {
                { "1001", true, 0 },
                { "john.o'neil_2-x", true, 0 },
                { "a", true, 0 },
                { "", true, -EINVAL },
                { ".lead", true, -EINVAL },
                { "trail.", true, -EINVAL },
                { "has space", true, -EINVAL },
                { "tab\tbed", true, -EINVAL },
                { "user@host", true, -EINVAL },
                { "caf\xc3\xa9", true, -EINVAL },
                { "admin", true, -EINVAL },
                { "Admin", true, -EINVAL },
                { "SYSTEM", true, -EINVAL },
                { "administrator", true, -EINVAL },
                { "rOOt", true, -EINVAL },
                { "admin", false, 0 },
                { "Administrator", false, 0 },
                { "admin2", true, 0 },
        };
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_http_req req = { 0 };
        struct apilogin_login_in in;
        char *u64 = repeat('u', 64), *u65 = repeat('u', 65);

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                in = login_in(cases[i].with_domain ? &rl_cfg : &rl_cfg_nodomain, cases[i].user,
                              "pw");
                print_message("# '%s' domain=%d\n", cases[i].user, cases[i].with_domain);
                assert_int_equal(d->login_request(&in, &req), cases[i].ret);
                apilogin_http_req_clear(&req);
        }
        in = login_in(&rl_cfg, u64, "pw");
        assert_int_equal(d->login_request(&in, &req), 0);
        apilogin_http_req_clear(&req);
        in = login_in(&rl_cfg, u65, "pw");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&rl_cfg, "1001", "");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&rl_cfg, "1001", NULL);
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        in = login_in(&rl_cfg, NULL, "pw");
        assert_int_equal(d->login_request(&in, &req), -EINVAL);
        /* A step this API does not have. */
        in = login_in(&rl_cfg, "1001", "pw");
        in.step = 2;
        assert_int_equal(d->login_request(&in, &req), -EPROTO);
        assert_null(req.url);
        free(u64);
        free(u65);
}

/* ---- rest_login: replies ------------------------------------------------------------ */

static void test_rl_success_body(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3cret");
        struct apilogin_http_resp resp = resp_file(200, "rl_token.json", NULL);
        struct apilogin_result res;

        (void)state;
        resp.cookies = 1; /* the body wins */
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_false(res.another_step);
        assert_string_equal(res.token, "NGMZZGRMZMQTNJG4YS0ZMJY3LWI1MTUTNWZJYTDIZDA4ODAY");
        assert_string_equal(res.refresh, "NTU4Y2UXODATYJYZZC01OGI3LTKZMTATZGQ5ZGM1ODCZMDDM");
        assert_near_now(res.expires_at, 3600);
        assert_null(res.role);
        assert_null(res.api_code);
        apilogin_result_clear(&res);
}

static void test_rl_cookie_flow(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3cret");
        struct apilogin_http_req req = { 0 };
        struct apilogin_http_resp resp = resp_of(200, NULL);
        struct apilogin_result res;

        (void)state;
        /* The cookies are the jar's (http.h): the caller gives one to every step. */
        assert_true(d->uses_cookies);
        /* Step 0: 200, empty body, a cookie in the jar (more than one: a language too). */
        resp.cookies = 2;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_true(res.another_step);
        assert_null(res.token);
        apilogin_result_clear(&res);

        /* Step 1: GET /login (the jar adds the cookies), no body, no password. */
        in.step = 1;
        assert_int_equal(d->login_request(&in, &req), 0);
        assert_false(req.post);
        assert_string_equal(req.url, "https://pbx.example.com:8887/api/login");
        assert_null(req.jar); /* the caller's to set */
        assert_null(req.body);
        assert_int_equal(req.body_len, 0);
        assert_null(req.headers[0]);
        apilogin_http_req_clear(&req);

        resp = resp_file(200, "rl_get_login.json", NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_false(res.another_step);
        assert_string_equal(res.token, "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c");
        assert_string_equal(res.refresh, "a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2");
        assert_string_equal(res.role, "Admin");
        assert_near_now(res.expires_at, 1800); /* expires_in preferred over expires_at */
        apilogin_result_clear(&res);

        /* Step 1 answered 200 without a token, or 401: not the user's fault. */
        resp = resp_of(200, "");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_false(res.another_step);
        apilogin_result_clear(&res);
        resp = resp_file(401, "rl_error_unauthorized.json", NULL);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_string_equal(res.api_code, "401 UNAUTHORIZED");
        apilogin_result_clear(&res);

        /* Step 0: 200 empty and no cookie in the jar. */
        in.step = 0;
        resp = resp_of(200, "");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_false(res.another_step);
        apilogin_result_clear(&res);
        /* A non-JSON 200 with a cookie still goes on to step 1. */
        resp = resp_of(200, "<html>ok</html>");
        resp.cookies = 1;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_true(res.another_step);
        apilogin_result_clear(&res);
}

/* Every row of section 4.7 that a login reply can hit, with the brief's outcome. */
static const struct rl_case {
        long status;
        const char *body; /* inline JSON, "@file" for a fixture, NULL for none */
        enum apilogin_outcome outcome;
        const char *api_code;
} rl_cases[] = {
        { 401, "@rl_error_unauthorized.json", APILOGIN_AUTH_ERR, "401 UNAUTHORIZED" },
        { 400, "@rl_error_unauthorized.json", APILOGIN_AUTH_ERR, "400 UNAUTHORIZED" },
        { 401, NULL, APILOGIN_AUTH_ERR, "401" },
        { 401, "Unauthorized", APILOGIN_AUTH_ERR, "401" },
        { 400, "@rl_error_validate_username.json", APILOGIN_AUTH_ERR, "400 VALIDATE_FAILED" },
        { 400, "{\"errors\":[{\"code\":\"VALIDATE_FAILED\",\"message\":\"m\"}]}",
          APILOGIN_AUTH_ERR, "400 VALIDATE_FAILED" },
        { 400, "@rl_error_validate_domain.json", APILOGIN_SERVICE_ERR, "400 VALIDATE_FAILED" },
        { 400, "{\"errors\":[{\"code\":\"VALIDATE_FAILED\",\"detail\":{\"field\":\"password\"}}]}",
          APILOGIN_SERVICE_ERR, "400 VALIDATE_FAILED" },
        { 403, "@rl_error_forbidden.json", APILOGIN_PERM_DENIED, "403 FORBIDDEN" },
        { 403, NULL, APILOGIN_PERM_DENIED, "403" },
        { 404, "<html>Not Found</html>", APILOGIN_SERVICE_ERR, "404" },
        { 404, "@rl_error_unknown.json", APILOGIN_SERVICE_ERR, "404 UNKNOWN" },
        { 429, "@rl_error_too_many.json", APILOGIN_MAXTRIES, "429 TOO_MANY_REQUESTS" },
        { 429, NULL, APILOGIN_MAXTRIES, "429" },
        { 400, "@rl_error_unknown.json", APILOGIN_AUTH_ERR, "400 UNKNOWN" },
        { 401, "@rl_error_unknown.json", APILOGIN_AUTH_ERR, "401 UNKNOWN" },
        { 400, "{\"errors\":[{\"code\":\"BRAND_NEW_CODE\",\"message\":\"m\"}]}",
          APILOGIN_AUTH_ERR, "400 BRAND_NEW_CODE" },
        { 409, "{\"errors\":[{\"code\":\"CONFLICT\",\"message\":\"m\"}]}",
          APILOGIN_SERVICE_ERR, "409 CONFLICT" },
        { 400, "not json", APILOGIN_SERVICE_ERR, "400" },
        { 422, NULL, APILOGIN_SERVICE_ERR, "422" },
        { 500, "@rl_error_unknown.json", APILOGIN_UNAVAIL, "500 UNKNOWN" },
        { 502, "<html>Bad Gateway</html>", APILOGIN_UNAVAIL, "502" },
        { 204, NULL, APILOGIN_UNAVAIL, "204" },
        { 302, NULL, APILOGIN_UNAVAIL, "302" },
        /* Wrong types inside the error body: a sane mapping, no crash. */
        { 401, "{\"errors\":{\"code\":\"UNAUTHORIZED\"}}", APILOGIN_AUTH_ERR, "401" },
        { 400, "{\"errors\":\"UNAUTHORIZED\"}", APILOGIN_SERVICE_ERR, "400" },
        { 400, "{\"errors\":[]}", APILOGIN_SERVICE_ERR, "400" },
        { 400, "{\"errors\":[\"UNAUTHORIZED\"]}", APILOGIN_SERVICE_ERR, "400" },
        { 400, "{\"errors\":[{\"code\":401}]}", APILOGIN_SERVICE_ERR, "400" },
        { 400, "{\"errors\":[{\"code\":\"VALIDATE_FAILED\",\"detail\":\"username\"}]}",
          APILOGIN_AUTH_ERR, "400 VALIDATE_FAILED" },
        { 400, "{\"errors\":[{\"code\":\"VALIDATE_FAILED\",\"detail\":{\"field\":3}}]}",
          APILOGIN_AUTH_ERR, "400 VALIDATE_FAILED" },
        { 400, "[]", APILOGIN_SERVICE_ERR, "400" },
};

static struct apilogin_http_resp rl_case_resp(const struct rl_case *c)
{
        if (c->body && c->body[0] == '@')
                return resp_file(c->status, c->body + 1, NULL);
        return resp_of(c->status, c->body);
}

static void test_rl_error_table(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3cret");
        struct apilogin_http_resp resp;
        struct apilogin_result res;

        (void)state;
        for (size_t i = 0; i < sizeof(rl_cases) / sizeof(rl_cases[0]); i++) {
                resp = rl_case_resp(&rl_cases[i]);
                resp.retry_after = 5;
                reply(d, &in, &resp, &res);
                print_message("# %ld %s\n", rl_cases[i].status,
                              rl_cases[i].body ? rl_cases[i].body : "(none)");
                assert_int_equal(res.outcome, rl_cases[i].outcome);
                assert_string_equal(res.api_code, rl_cases[i].api_code);
                assert_int_equal(res.retry_after,
                                 rl_cases[i].outcome == APILOGIN_MAXTRIES ? 5 : -1);
                assert_null(res.token);
                assert_false(res.another_step);
                apilogin_result_clear(&res);
        }

        resp = resp_file(401, "rl_error_unauthorized.json", NULL);
        reply(d, &in, &resp, &res);
        assert_string_equal(res.api_message, "Login failed, authentication error");
        apilogin_result_clear(&res);
}

/* 200 bodies with wrong types. */
static void test_rl_wrong_types(void **state)
{
        static const char *const unavail[] = {
                "{\"access_token\":12345,\"expires_in\":3600}",
                "{\"access_token\":null}",
                "{\"access_token\":\"\"}",
                "{\"access_token\":\"a b\"}",
                "{\"access_token\":[\"t\"]}",
                "[{\"access_token\":\"t\"}]",
                "{\"token\":\"t\"}",
        };
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3cret");
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        char *big, *body;

        (void)state;
        for (size_t i = 0; i < sizeof(unavail) / sizeof(unavail[0]); i++) {
                resp = resp_of(200, unavail[i]);
                reply(d, &in, &resp, &res);
                print_message("# %s\n", unavail[i]);
                assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
                assert_null(res.token);
                assert_false(res.another_step);
                apilogin_result_clear(&res);
        }
        /* access_token of the wrong type is not rescued by a cookie. */
        resp = resp_of(200, "{\"access_token\":1}");
        resp.cookies = 1;
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        assert_false(res.another_step);
        apilogin_result_clear(&res);

        /* Optional members of the wrong type are dropped; the token stands. */
        resp = resp_of(200, "{\"access_token\":\"t0k\",\"expires_in\":\"3600\","
                            "\"refresh_token\":42,\"role\":{\"name\":\"Admin\"}}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "t0k");
        assert_int_equal(res.expires_at, 0);
        assert_null(res.refresh);
        assert_null(res.role);
        apilogin_result_clear(&res);

        resp = resp_of(200, "{\"access_token\":\"t0k\",\"expires_in\":\"soon\","
                            "\"expires_at\":\"2030-01-02T03:04:05Z\",\"role\":\"Admin:sudo\"}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_int_equal(res.expires_at, 1893553445);
        assert_null(res.role); /* not a plain role name */
        apilogin_result_clear(&res);

        resp = resp_of(200, "{\"access_token\":\"t0k\",\"expires_in\":-5,\"role\":\""
                            "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\"}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_int_equal(res.expires_at, 0);
        assert_null(res.role); /* 65 bytes */
        apilogin_result_clear(&res);

        big = repeat('t', 4097);
        body = malloc(4200);
        assert_non_null(body);
        sprintf(body, "{\"access_token\":\"%s\"}", big);
        resp = resp_of(200, body);
        reply(d, &in, &resp, &res);
        assert_int_equal(res.outcome, APILOGIN_UNAVAIL);
        apilogin_result_clear(&res);
        free(big);
        free(body);
}

/* RFC 3339 expires_at, read when expires_in is absent. */
static void test_rl_expires_at(void **state)
{
        static const struct {
                const char *at;
                int64_t t;
        } cases[] = {
                { "2030-01-02T03:04:05Z", 1893553445 },
                { "2030-01-02t03:04:05z", 1893553445 },
                { "2030-01-02 03:04:05Z", 1893553445 },
                { "2030-01-02T03:04:05.123456Z", 1893553445 },
                { "2030-01-02T05:04:05+02:00", 1893553445 },
                { "2030-01-01T21:34:05-05:30", 1893553445 },
                { "2024-02-29T23:59:59Z", 1709251199 },
                { "2000-03-01T00:00:00Z", 951868800 },
                { "1970-01-01T00:00:00Z", 0 }, /* not > 0: unknown */
                { "2023-02-29T00:00:00Z", 0 },
                { "2030-13-01T00:00:00Z", 0 },
                { "2030-04-31T00:00:00Z", 0 },
                { "2030-01-02T24:00:00Z", 0 },
                { "2030-01-02T03:04:05", 0 },
                { "2030-01-02T03:04:05Zjunk", 0 },
                { "2030-01-02T03:04:05+0200", 0 },
                { "2030-01-02T03:04:05.Z", 0 },
                { "2030-1-02T03:04:05Z", 0 },
                { "", 0 },
                { "tomorrow", 0 },
        };
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_login_in in = login_in(&rl_cfg, "1001", "S3cret");
        struct apilogin_http_resp resp;
        struct apilogin_result res;
        char body[256];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                snprintf(body, sizeof(body), "{\"access_token\":\"t\",\"expires_at\":\"%s\"}",
                         cases[i].at);
                resp = resp_of(200, body);
                reply(d, &in, &resp, &res);
                print_message("# %s\n", cases[i].at);
                assert_int_equal(res.outcome, APILOGIN_OK);
                assert_int_equal(res.expires_at, cases[i].t);
                apilogin_result_clear(&res);
        }
        resp = resp_of(200, "{\"access_token\":\"t\",\"expires_at\":1893553445}");
        reply(d, &in, &resp, &res);
        assert_int_equal(res.expires_at, 0);
        apilogin_result_clear(&res);
}

static void test_rl_logout(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_session_creds c = { .url = "https://pbx.example.com:8887/api/",
                                            .user = "1001", .token = "NGMZZGRM",
                                            .refresh = "NTU4Y2UX" };
        struct apilogin_http_req req = { 0 };

        (void)state;
        assert_int_equal(d->logout_request(&rl_cfg, &c, &req), 0);
        assert_true(req.post);
        assert_string_equal(req.url, "https://pbx.example.com:8887/api/logout");
        assert_string_equal(req.headers[0], "Authorization: Bearer NGMZZGRM");
        assert_null(req.headers[1]);
        assert_null(req.body);
        assert_int_equal(req.body_len, 0);
        assert_null(req.jar);
        apilogin_http_req_clear(&req);

        c.token = "NGMZ\r\nX-Injected: 1";
        assert_int_equal(d->logout_request(&rl_cfg, &c, &req), -EINVAL);
        c.token = "";
        assert_int_equal(d->logout_request(&rl_cfg, &c, &req), -EINVAL);
        c.token = NULL;
        assert_int_equal(d->logout_request(&rl_cfg, &c, &req), -EINVAL);
        assert_null(req.url);
}

static void test_rl_refresh(void **state)
{
        static const struct {
                long status;
                const char *body;
                enum apilogin_outcome outcome;
        } cases[] = {
                { 400, "@rl_error_unknown.json", APILOGIN_AUTH_ERR },
                { 401, "@rl_error_unauthorized.json", APILOGIN_AUTH_ERR },
                { 401, NULL, APILOGIN_AUTH_ERR },
                { 429, "@rl_error_too_many.json", APILOGIN_MAXTRIES },
                { 403, "@rl_error_forbidden.json", APILOGIN_UNAVAIL },
                { 404, NULL, APILOGIN_UNAVAIL },
                { 500, "@rl_error_unknown.json", APILOGIN_UNAVAIL },
                { 200, "", APILOGIN_UNAVAIL },
                { 200, "{\"access_token\":7}", APILOGIN_UNAVAIL },
                { 200, "not json", APILOGIN_UNAVAIL },
        };
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        struct apilogin_session_creds c = { .url = "https://pbx.example.com:8887/api",
                                            .user = "1001", .token = "OLD",
                                            .refresh = "NTU4Y2UX" };
        struct apilogin_http_req req = { 0 };
        struct apilogin_http_resp resp;
        struct apilogin_result res = { 0 };
        struct rl_case rc;

        (void)state;
        assert_int_equal(d->refresh_request(&rl_cfg, &c, &req), 0);
        assert_true(req.post);
        assert_string_equal(req.url, "https://pbx.example.com:8887/api/auth/refresh_token");
        assert_string_equal(req.content_type, "application/json");
        assert_string_equal(req.body, "{\"refresh_token\":\"NTU4Y2UX\"}");
        assert_int_equal(req.body_len, strlen(req.body));
        assert_null(req.headers[0]); /* no Authorization header */
        apilogin_http_req_clear(&req);

        c.refresh = NULL;
        assert_int_equal(d->refresh_request(&rl_cfg, &c, &req), -EINVAL);
        c.refresh = "";
        assert_int_equal(d->refresh_request(&rl_cfg, &c, &req), -EINVAL);
        c.refresh = "NTU4Y2UX";

        resp = resp_file(200, "rl_token.json", NULL);
        assert_int_equal(d->refresh_reply(&rl_cfg, &c, &resp, &res), 0);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "NGMZZGRMZMQTNJG4YS0ZMJY3LWI1MTUTNWZJYTDIZDA4ODAY");
        assert_string_equal(res.refresh, "NTU4Y2UXODATYJYZZC01OGI3LTKZMTATZGQ5ZGM1ODCZMDDM");
        assert_near_now(res.expires_at, 3600);
        apilogin_result_clear(&res);
        apilogin_http_resp_clear(&resp);

        /* No new refresh token: none kept (the old one was spent). */
        resp = resp_of(200, "{\"access_token\":\"NEW\",\"expires_in\":1800}");
        assert_int_equal(d->refresh_reply(&rl_cfg, &c, &resp, &res), 0);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "NEW");
        assert_null(res.refresh);
        apilogin_result_clear(&res);
        apilogin_http_resp_clear(&resp);

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                rc = (struct rl_case){ .status = cases[i].status, .body = cases[i].body };
                resp = rl_case_resp(&rc);
                resp.retry_after = 9;
                assert_int_equal(d->refresh_reply(&rl_cfg, &c, &resp, &res), 0);
                print_message("# refresh %ld %s\n", cases[i].status,
                              cases[i].body ? cases[i].body : "(none)");
                assert_int_equal(res.outcome, cases[i].outcome);
                assert_null(res.token);
                assert_int_equal(res.retry_after,
                                 cases[i].outcome == APILOGIN_MAXTRIES ? 9 : -1);
                apilogin_result_clear(&res);
                apilogin_http_resp_clear(&resp);
        }
}

int main(void)
{
        rl_cfg.conf = prov_conf(&apilogin_driver_rest_login, "domain", "tenant.example.com", NULL);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_driver_find),
                cmocka_unit_test(test_jr_request),
                cmocka_unit_test(test_jr_request_ids),
                cmocka_unit_test(test_jr_request_einval),
                cmocka_unit_test(test_jr_logout),
                cmocka_unit_test(test_jr_success),
                cmocka_unit_test(test_jr_mnemonic_table),
                cmocka_unit_test(test_jr_code_fallback),
                cmocka_unit_test(test_jr_ids),
                cmocka_unit_test(test_jr_error_fixtures),
                cmocka_unit_test(test_jr_malformed),
                cmocka_unit_test(test_rl_request),
                cmocka_unit_test(test_rl_username_rules),
                cmocka_unit_test(test_rl_success_body),
                cmocka_unit_test(test_rl_cookie_flow),
                cmocka_unit_test(test_rl_error_table),
                cmocka_unit_test(test_rl_wrong_types),
                cmocka_unit_test(test_rl_expires_at),
                cmocka_unit_test(test_rl_logout),
                cmocka_unit_test(test_rl_refresh),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

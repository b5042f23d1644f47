/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_driver_keys.c: the drivers' key tables (daemon/providers/), one test per driver:
 * each key parses, validates and defaults as its table declares (seen through what the
 * driver then builds: the request it sends), and a key the type does not have is refused
 * with file:line:key by the config parser. Plus the rules every table must follow, and the
 * whole oauth2_password driver: its request shape, its client secret file and its reply
 * mapping. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/provider.h"
#include "macro.h"
#include "prov_fixture.h"

static char err[1024];
static char tmp_path[256];

/* Write text to a fresh temp file of mode mode; its name is left in tmp_path. */
static const char *write_tmp(const char *text, mode_t mode)
{
        const char *dir = getenv("TMPDIR");
        FILE *f;
        int fd;

        (void)snprintf(tmp_path, sizeof(tmp_path), "%s/apilogin-keys-XXXXXX",
                       dir && *dir ? dir : "/tmp");
        fd = mkstemp(tmp_path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(tmp_path, mode), 0);
        return tmp_path;
}

static int teardown_tmp(void **state)
{
        (void)state;
        if (tmp_path[0])
                (void)unlink(tmp_path);
        tmp_path[0] = '\0';
        return 0;
}

/* A type's conf from kv (NULL-terminated pairs): the return code, the message in err. */
static int conf_try(const struct apilogin_driver *d, const char *const *kv, void **ret)
{
        *ret = NULL;
        return apilogin_type_conf_new(&d->type, kv, ret, err, sizeof(err));
}

/* Load a config from text with the registry; the return code, the message in err. */
static int load_text(const char *text)
{
        struct apilogin_config *cfg = NULL;
        int r = apilogin_config_load(write_tmp(text, 0644), apilogin_registry_type, &cfg, err,
                                     sizeof(err));

        apilogin_config_free(cfg);
        return r;
}

/* The login request d builds for user/secret with conf; the caller clears it. */
static int request(const struct apilogin_driver *d, void *conf, const char *url, const char *user,
                   const char *secret, struct apilogin_http_req *req)
{
        struct apilogin_provider_cfg p = { .name = (char *)"p", .type = &d->type,
                                           .url = (char *)url, .conf = conf };
        struct apilogin_login_in in = { .p = &p, .url = url, .user = user, .secret = secret };

        *req = (struct apilogin_http_req){ 0 };
        return d->login_request(&in, req);
}

/* The value of header name in req ("Name: value"), NULL if absent. */
static const char *header(const struct apilogin_http_req *req, const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < APILOGIN_HTTP_MAX_HEADERS; i++)
                if (req->headers[i] && strncasecmp(req->headers[i], name, n) == 0 &&
                    req->headers[i][n] == ':')
                        return req->headers[i] + n + 2;
        return NULL;
}

/* ---- every table ---------------------------------------------------------------------- */

/* A sample value for each required key of every type, so that defaults can be applied. */
static const char *const required_samples[] = {
        "users", "kiosk:user", "client_id", "host-7", NULL,
};

static const char *sample_for(const char *key)
{
        for (size_t i = 0; required_samples[i]; i += 2)
                if (strcmp(required_samples[i], key) == 0)
                        return required_samples[i + 1];
        return NULL;
}

/* Names unique, rows complete, no row shadowing a common or [global] key, and the
 * defaults of every table parse (apilogin_type_conf_new applies them). */
static void test_tables(void **state)
{
        size_t n_common, n_global;
        const struct apilogin_key *common = apilogin_config_common_keys(&n_common);
        const struct apilogin_key *global = apilogin_config_global_keys(&n_global);
        const struct apilogin_type *t, *u;
        size_t n_types = 0;

        (void)state;
        for (size_t i = 0; (t = apilogin_registry_type(i)); i++, n_types++) {
                const char *kv[2 * 32 + 1] = { 0 };
                size_t nkv = 0;
                void *conf;

                assert_non_null(t->name);
                assert_non_null(t->doc);
                assert_ptr_equal(&apilogin_driver_find(t)->type, t);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(apilogin_registry_type(j)->name, t->name);
                assert_true(t->n_keys <= 32);
                assert_true((t->n_keys == 0) == (t->conf_size == 0));
                for (size_t k = 0; k < t->n_keys; k++) {
                        const struct apilogin_key *key = &t->keys[k];

                        assert_non_null(key->name);
                        assert_non_null(key->parse);
                        assert_non_null(key->doc);
                        assert_true(key->off < t->conf_size);
                        for (size_t m = 0; m < k; m++)
                                assert_string_not_equal(t->keys[m].name, key->name);
                        for (size_t m = 0; m < n_common; m++)
                                assert_string_not_equal(common[m].name, key->name);
                        for (size_t m = 0; m < n_global; m++)
                                assert_string_not_equal(global[m].name, key->name);
                        if (key->required) {
                                assert_non_null(sample_for(key->name));
                                kv[nkv++] = key->name;
                                kv[nkv++] = sample_for(key->name);
                        }
                }
                if (conf_try(apilogin_driver_find(t), kv, &conf) < 0)
                        fail_msg("type %s: %s", t->name, err);
                apilogin_type_conf_free(t, conf);
        }
        assert_int_equal(n_types, 6);
        u = apilogin_registry_type(n_types);
        assert_null(u);
}

/* A key no type has, and a key of another type, are refused with file:line:key. */
static void test_unknown_keys(void **state)
{
        static const char *const extra[] = {
                "login_check", "", "token_login", "", "jsonrpc", "", "rest_login", "",
                "ws_auth", "users = kiosk:user\n", "oauth2_password", "client_id = c\n",
        };
        char text[512], want[512];

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(extra); i += 2) {
                bool ws = strcmp(extra[i], "ws_auth") == 0;
                int line = 4 + (extra[i + 1][0] != '\0');

                (void)snprintf(text, sizeof(text), "[provider p]\ntype = %s\nurl = %s\n%s"
                               "bogus_key = 1\n", extra[i],
                               ws ? "wss://x.example/" : "https://x.example/", extra[i + 1]);
                assert_int_equal(load_text(text), -EINVAL);
                (void)snprintf(want, sizeof(want),
                               "%s:%d: bogus_key: unknown key in [provider p] (type %s)",
                               tmp_path, line, extra[i]);
                assert_string_equal(err, want);
                teardown_tmp(NULL);
                /* a key of another type */
                (void)snprintf(text, sizeof(text), "[provider p]\ntype = %s\nurl = %s\n%s"
                               "%s = x\n", extra[i], ws ? "wss://x.example/" : "https://x.example/",
                               extra[i + 1], strcmp(extra[i], "rest_login") ? "domain" : "scope");
                assert_int_equal(load_text(text), -EINVAL);
                (void)snprintf(want, sizeof(want), "%s:%d: %s: not used by type %s", tmp_path,
                               line, strcmp(extra[i], "rest_login") ? "domain" : "scope", extra[i]);
                assert_string_equal(err, want);
                teardown_tmp(NULL);
        }
}

/* ---- one test per driver -------------------------------------------------------------- */

static void test_login_check_keys(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_login_check;
        const char *set[] = { "refresh_url", "https://id.example.com/r", NULL };
        const char *bad[] = { "refresh_url", "", NULL };
        struct apilogin_provider_cfg p = { .type = &d->type };
        struct apilogin_session_creds c = { .url = "https://id.example.com/l", .refresh = "r0" };
        struct apilogin_http_req req = { 0 };

        (void)state;
        assert_int_equal(conf_try(d, NULL, &p.conf), 0); /* default: none */
        assert_int_equal(d->refresh_request(&p, &c, &req), -EOPNOTSUPP);
        p.conf = apilogin_type_conf_free(&d->type, p.conf);
        assert_int_equal(conf_try(d, set, &p.conf), 0);
        assert_int_equal(d->refresh_request(&p, &c, &req), 0);
        assert_string_equal(req.url, "https://id.example.com/r");
        apilogin_http_req_clear(&req);
        p.conf = apilogin_type_conf_free(&d->type, p.conf);
        assert_int_equal(conf_try(d, bad, &p.conf), -EINVAL);
        assert_string_equal(err, "(keys):1: refresh_url: empty value");
}

static void test_token_login_keys(void **state)
{
        static const char tok[] =
                "e0f36a30bbfb6299571c8694047fe5dd81228b7d75679a8cca68e551fb7e9a2f4edc5d20";
        const struct apilogin_driver *d = &apilogin_driver_token_login;
        const char *yes[] = { "operate_as", "yes", NULL }, *bad[] = { "operate_as", "maybe", NULL };
        struct apilogin_http_req req;
        void *conf;

        (void)state;
        assert_int_equal(conf_try(d, NULL, &conf), 0); /* default: no */
        assert_int_equal(request(d, conf, "https://w.example/wialon/ajax.html", "carol", tok, &req), 0);
        assert_null(strstr(req.body, "operateAs"));
        apilogin_http_req_clear(&req);
        apilogin_type_conf_free(&d->type, conf);
        assert_int_equal(conf_try(d, yes, &conf), 0);
        assert_int_equal(request(d, conf, "https://w.example/wialon/ajax.html", "carol", tok, &req), 0);
        assert_non_null(strstr(req.body, "operateAs"));
        apilogin_http_req_clear(&req);
        apilogin_type_conf_free(&d->type, conf);
        assert_int_equal(conf_try(d, bad, &conf), -EINVAL);
        assert_non_null(strstr(err, "(keys):1: operate_as: invalid boolean 'maybe'"));
}

static void test_rest_login_keys(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_rest_login;
        const char *set[] = { "domain", "tenant.example.com", NULL };
        char longd[300];
        const char *bad[] = { "domain", longd, NULL };
        struct apilogin_http_req req;
        void *conf;

        (void)state;
        assert_int_equal(conf_try(d, NULL, &conf), 0); /* default: none */
        assert_int_equal(request(d, conf, "https://pbx.example/api", "gina", "pw", &req), 0);
        assert_null(strstr(req.body, "domain"));
        apilogin_http_req_clear(&req);
        apilogin_type_conf_free(&d->type, conf);
        assert_int_equal(conf_try(d, set, &conf), 0);
        assert_int_equal(request(d, conf, "https://pbx.example/api", "gina", "pw", &req), 0);
        assert_non_null(strstr(req.body, "\"tenant.example.com\""));
        apilogin_http_req_clear(&req);
        apilogin_type_conf_free(&d->type, conf);
        memset(longd, 'a', 281);
        longd[281] = '\0';
        assert_int_equal(conf_try(d, bad, &conf), -EINVAL);
        assert_non_null(strstr(err, "domain: invalid domain"));
}

static void test_ws_auth_keys(void **state)
{
        const struct apilogin_driver *d = &apilogin_driver_ws_auth;
        const char *set[] = { "users", "kiosk:user", "users", "boss:admin", NULL };
        const char *bad[] = { "users", "kiosk:root", NULL };
        struct apilogin_http_req req;
        void *conf;

        (void)state;
        assert_int_equal(conf_try(d, NULL, &conf), -EINVAL); /* required */
        assert_string_equal(err, "(keys): users: missing in ws_auth");
        assert_int_equal(conf_try(d, set, &conf), 0); /* a list: both lines add */
        assert_int_equal(request(d, conf, "wss://room.example/", "boss", "1234", &req), 0);
        apilogin_http_req_clear(&req);
        assert_int_equal(request(d, conf, "wss://room.example/", "kiosk", "1234", &req), 0);
        apilogin_http_req_clear(&req);
        assert_int_equal(request(d, conf, "wss://room.example/", "other", "1234", &req), -ENOENT);
        apilogin_type_conf_free(&d->type, conf);
        assert_int_equal(conf_try(d, bad, &conf), -EINVAL);
        assert_non_null(strstr(err, "users: invalid entry 'kiosk:root'"));
}

static void test_jsonrpc_keys(void **state)
{
        const char *any[] = { "domain", "x", NULL };
        void *conf;

        (void)state;
        assert_int_equal(apilogin_driver_jsonrpc.type.n_keys, 0);
        assert_int_equal(conf_try(&apilogin_driver_jsonrpc, any, &conf), -EINVAL);
        assert_non_null(strstr(err, "domain: unknown key"));
}

/* ---- oauth2_password ------------------------------------------------------------------- */

static const struct apilogin_driver *o2 = &apilogin_driver_oauth2_password;

static void test_oauth2_keys(void **state)
{
        const char *none[] = { "scope", "openid", NULL };
        const char *bad_url[] = { "client_id", "c", "revocation_url", "", NULL };
        const char *blank_id[] = { "client_id", "a b", NULL };
        const char *kv[] = { "client_id", "c", "client_secret_file", NULL, NULL };
        void *conf;

        (void)state;
        assert_int_equal(conf_try(o2, none, &conf), -EINVAL);
        assert_string_equal(err, "(keys): client_id: missing in oauth2_password");
        assert_int_equal(conf_try(o2, bad_url, &conf), -EINVAL);
        assert_string_equal(err, "(keys):2: revocation_url: empty value");
        assert_int_equal(conf_try(o2, blank_id, &conf), -EINVAL);
        assert_non_null(strstr(err, "client_id: invalid value"));
        kv[3] = "secret";
        assert_int_equal(conf_try(o2, kv, &conf), -EINVAL);
        assert_non_null(strstr(err, "client_secret_file: 'secret' is not an absolute path"));
        kv[3] = "/nonexistent/secret";
        assert_int_equal(conf_try(o2, kv, &conf), -ENOENT);
        assert_non_null(strstr(err, "client_secret_file: cannot use /nonexistent/secret"));
        /* readable or writable by others: refused, naming the file and the mode */
        kv[3] = write_tmp("s\n", 0640);
        assert_int_equal(conf_try(o2, kv, &conf), -EPERM);
        assert_non_null(strstr(err, "client_secret_file: refusing "));
        assert_non_null(strstr(err, tmp_path));
        assert_non_null(strstr(err, "readable by its group (mode 0640; use 0600)"));
        assert_int_equal(chmod(tmp_path, 0602), 0);
        assert_int_equal(conf_try(o2, kv, &conf), -EPERM);
        assert_non_null(strstr(err, "writable by others"));
        assert_int_equal(chmod(tmp_path, 0400), 0);
        assert_int_equal(conf_try(o2, kv, &conf), 0);
        apilogin_type_conf_free(&o2->type, conf);
}

/* Form encoding, Basic client authentication (RFC 6749 2.3.1), nothing in the URL. */
static void test_oauth2_request(void **state)
{
        const char *kv[] = { "client_id", "host:7", "client_secret_file", NULL,
                             "scope", "openid profile", NULL };
        const char *pub[] = { "client_id", "host 7x", NULL };
        struct apilogin_http_req req;
        void *conf;

        (void)state;
        kv[3] = write_tmp("s:cr+t \xc3\xa9\n", 0600);
        assert_int_equal(conf_try(o2, kv, &conf), 0);
        assert_int_equal(request(o2, conf, "https://sso.example/token", "al ice", "p&w=%", &req), 0);
        assert_true(req.post);
        assert_string_equal(req.url, "https://sso.example/token");
        assert_string_equal(req.content_type, "application/x-www-form-urlencoded");
        assert_string_equal(req.body, "grant_type=password&username=al+ice&password=p%26w%3D%25"
                                      "&scope=openid+profile");
        assert_int_equal(req.body_len, strlen(req.body));
        /* base64("host%3A7:s%3Acr%2Bt+%C3%A9") */
        assert_string_equal(header(&req, "Authorization"),
                            "Basic aG9zdCUzQTc6cyUzQWNyJTJCdCslQzMlQTk=");
        assert_string_equal(header(&req, "Accept"), "application/json");
        apilogin_http_req_clear(&req);
        /* the secret file is read at each request: one others may read is refused then */
        assert_int_equal(chmod(tmp_path, 0644), 0);
        assert_int_equal(request(o2, conf, "https://sso.example/token", "alice", "pw", &req), -EPERM);
        apilogin_type_conf_free(&o2->type, conf);
        /* a public client: client_id in the body, no Authorization; an empty password is
         * never sent */
        assert_int_equal(apilogin_type_conf_new(&o2->type, (const char *[]){ "client_id", "pub",
                                                NULL }, &conf, err, sizeof(err)), 0);
        assert_int_equal(request(o2, conf, "https://sso.example/token", "alice", "pw", &req), 0);
        assert_string_equal(req.body, "grant_type=password&username=alice&password=pw&client_id=pub");
        assert_null(header(&req, "Authorization"));
        apilogin_http_req_clear(&req);
        assert_int_equal(request(o2, conf, "https://sso.example/token", "alice", "", &req), -EINVAL);
        apilogin_type_conf_free(&o2->type, conf);
        assert_int_equal(conf_try(o2, pub, &conf), -EINVAL); /* a blank in the id */
}

static struct apilogin_http_resp resp_of(long status, const char *body, long retry_after)
{
        struct apilogin_http_resp r = { .status = status, .retry_after = retry_after };

        if (body) {
                r.body = strdup(body);
                assert_non_null(r.body);
                r.len = strlen(body);
        }
        return r;
}

static void test_oauth2_replies(void **state)
{
        static const struct {
                long status;
                const char *body;
                enum apilogin_outcome outcome;
                const char *code;
        } cases[] = {
                { 400, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}",
                  APILOGIN_AUTH_ERR, "invalid_grant" },
                { 401, "{\"error\":\"invalid_client\"}", APILOGIN_SERVICE_ERR, "invalid_client" },
                { 400, "{\"error\":\"unauthorized_client\"}", APILOGIN_SERVICE_ERR,
                  "unauthorized_client" },
                { 400, "{\"error\":\"invalid_scope\"}", APILOGIN_SERVICE_ERR, "invalid_scope" },
                { 400, "{\"error\":\"something_new\"}", APILOGIN_SERVICE_ERR, "something_new" },
                { 401, NULL, APILOGIN_SERVICE_ERR, "401" },
                { 400, "<html>", APILOGIN_UNAVAIL, NULL },
                { 429, "{\"error\":\"slow_down\"}", APILOGIN_MAXTRIES, "429" },
                { 503, "Service Unavailable", APILOGIN_UNAVAIL, NULL },
                { 500, "{\"error\":\"invalid_grant\"}", APILOGIN_UNAVAIL, NULL },
                { 200, "not json", APILOGIN_UNAVAIL, NULL },
                { 200, "{\"token_type\":\"Bearer\"}", APILOGIN_UNAVAIL, NULL },
                { 200, "{\"access_token\":\"a\"}", APILOGIN_UNAVAIL, NULL },
                { 302, NULL, APILOGIN_UNAVAIL, NULL },
        };
        struct apilogin_login_in in = { .user = "alice", .secret = "pw" };
        struct apilogin_result res = { 0 };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct apilogin_http_resp resp = resp_of(cases[i].status, cases[i].body, 7);

                assert_int_equal(o2->login_reply(&in, &resp, &res), 0);
                if (res.outcome != cases[i].outcome ||
                    (cases[i].code && (!res.api_code || strcmp(res.api_code, cases[i].code))))
                        fail_msg("case %zu: outcome %d code %s", i, res.outcome, res.api_code);
                assert_null(res.token);
                if (cases[i].outcome == APILOGIN_MAXTRIES)
                        assert_int_equal(res.retry_after, 7);
                if (cases[i].outcome == APILOGIN_SERVICE_ERR && cases[i].status == 401)
                        assert_non_null(strstr(res.api_message, "client_secret_file"));
                apilogin_http_resp_clear(&resp);
                apilogin_result_clear(&res);
        }
}

/* Login, refresh with and without rotation, and the two revocations. */
static void test_oauth2_tokens(void **state)
{
        const char *kv[] = { "client_id", "c", "revocation_url", "https://sso.example/revoke",
                             NULL };
        struct apilogin_provider_cfg p = { .type = &o2->type };
        struct apilogin_login_in in = { .p = &p, .user = "alice", .secret = "pw" };
        struct apilogin_session_creds c = { .url = "https://sso.example/token", .token = "at1",
                                            .refresh = "rt1" };
        struct apilogin_http_resp resp;
        struct apilogin_result res = { 0 };
        struct apilogin_http_req req = { 0 };
        int64_t now = (int64_t)time(NULL);

        (void)state;
        assert_int_equal(conf_try(o2, kv, &p.conf), 0);
        resp = resp_of(200, "{\"access_token\":\"at1\",\"token_type\":\"Bearer\",\"expires_in\":60,"
                            "\"refresh_token\":\"rt1\"}", -1);
        assert_int_equal(o2->login_reply(&in, &resp, &res), 0);
        apilogin_http_resp_clear(&resp);
        assert_int_equal(res.outcome, APILOGIN_OK);
        assert_string_equal(res.token, "at1");
        assert_string_equal(res.refresh, "rt1");
        assert_true(res.expires_at >= now + 59 && res.expires_at <= now + 61);
        apilogin_result_clear(&res);

        assert_int_equal(o2->refresh_request(&p, &c, &req), 0);
        assert_string_equal(req.url, "https://sso.example/token");
        assert_string_equal(req.body, "grant_type=refresh_token&refresh_token=rt1&client_id=c");
        apilogin_http_req_clear(&req);
        /* rotated: the new refresh token replaces the old one */
        resp = resp_of(200, "{\"access_token\":\"at2\",\"token_type\":\"bearer\",\"refresh_token\":"
                            "\"rt2\"}", -1);
        assert_int_equal(o2->refresh_reply(&p, &c, &resp, &res), 0);
        apilogin_http_resp_clear(&resp);
        assert_string_equal(res.token, "at2");
        assert_string_equal(res.refresh, "rt2");
        assert_true(res.expires_at >= now + 299); /* no expires_in: 300 s assumed */
        apilogin_result_clear(&res);
        /* not rotated: the old one is kept */
        resp = resp_of(200, "{\"access_token\":\"at3\",\"token_type\":\"Bearer\"}", -1);
        assert_int_equal(o2->refresh_reply(&p, &c, &resp, &res), 0);
        apilogin_http_resp_clear(&resp);
        assert_string_equal(res.refresh, "rt1");
        apilogin_result_clear(&res);
        resp = resp_of(400, "{\"error\":\"invalid_grant\"}", -1);
        assert_int_equal(o2->refresh_reply(&p, &c, &resp, &res), 0);
        apilogin_http_resp_clear(&resp);
        assert_int_equal(res.outcome, APILOGIN_AUTH_ERR);
        apilogin_result_clear(&res);

        /* revocation: the refresh token, then the access token, then nothing */
        assert_int_equal(o2->logout_steps, 2);
        assert_int_equal(o2->logout_request(&p, &c, &req), 0);
        assert_string_equal(req.url, "https://sso.example/revoke");
        assert_string_equal(req.body, "token=rt1&token_type_hint=refresh_token&client_id=c");
        apilogin_http_req_clear(&req);
        c.step = 1;
        assert_int_equal(o2->logout_request(&p, &c, &req), 0);
        assert_string_equal(req.body, "token=at1&token_type_hint=access_token&client_id=c");
        apilogin_http_req_clear(&req);
        c.step = 2;
        assert_int_equal(o2->logout_request(&p, &c, &req), -ENOENT);
        c.step = 0;
        c.refresh = NULL; /* no refresh token: that step is skipped */
        assert_int_equal(o2->logout_request(&p, &c, &req), -ENOENT);
        c.refresh = NULL;
        assert_int_equal(o2->refresh_request(&p, &c, &req), -EINVAL);
        p.conf = apilogin_type_conf_free(&o2->type, p.conf);
        /* no revocation_url: no revocation at all */
        assert_int_equal(conf_try(o2, (const char *[]){ "client_id", "c", NULL }, &p.conf), 0);
        c.refresh = "rt1";
        assert_int_equal(o2->logout_request(&p, &c, &req), -ENOENT);
        c.step = 1;
        assert_int_equal(o2->logout_request(&p, &c, &req), -ENOENT);
        apilogin_type_conf_free(&o2->type, p.conf);
}

/* The helpers the driver stands on: form encoding and base64 (RFC 4648 test vectors). */
static void test_form_and_base64(void **state)
{
        static const char *const b64[][2] = {
                { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
        };
        char *s = NULL;
        size_t n = 0;

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(b64); i++) {
                char *e = apilogin_base64(b64[i][0], strlen(b64[i][0]));

                assert_string_equal(e, b64[i][1]);
                free(e);
        }
        s = apilogin_form_encode("aZ09-._~ +&=%/\x01\xff");
        assert_string_equal(s, "aZ09-._~+%2B%26%3D%25%2F%01%FF");
        free(s);
        s = NULL;
        assert_int_equal(apilogin_form_add(&s, &n, "a b", "c"), 0);
        assert_int_equal(apilogin_form_add(&s, &n, "d", ""), 0);
        assert_string_equal(s, "a+b=c&d=");
        assert_int_equal(n, strlen(s));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tables),
                cmocka_unit_test_teardown(test_unknown_keys, teardown_tmp),
                cmocka_unit_test(test_login_check_keys),
                cmocka_unit_test(test_token_login_keys),
                cmocka_unit_test(test_rest_login_keys),
                cmocka_unit_test(test_ws_auth_keys),
                cmocka_unit_test(test_jsonrpc_keys),
                cmocka_unit_test_teardown(test_oauth2_keys, teardown_tmp),
                cmocka_unit_test_teardown(test_oauth2_request, teardown_tmp),
                cmocka_unit_test(test_oauth2_replies),
                cmocka_unit_test(test_oauth2_tokens),
                cmocka_unit_test(test_form_and_base64),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

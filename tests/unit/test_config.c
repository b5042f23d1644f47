/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_config.c: the apilogin.conf parser (core/conf.c) and the duration and lockout
 * syntax (core/duration.c): a full config, every default, the shipped example, comment
 * and layout rules, and each kind of error with the file, line and key it must name.
 * Fixtures are tests/data/conf_*.conf; one-off configs are written to temp files. */
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
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "daemon/providers/registry.h"
#include "duration.h"

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

static char tmp_path[256];
static char err[1024];

/* The parser with the registry's types, as the daemon and apiloginctl run it. */
static int load_file(const char *path, struct apilogin_config **ret, char *e, size_t n)
{
        return apilogin_config_load(path, apilogin_registry_type, ret, e, n);
}

/* Write text to a fresh temp file; its name is left in tmp_path. */
static const char *write_tmp(const char *text)
{
        const char *dir = getenv("TMPDIR");
        int fd;
        FILE *f;

        (void)snprintf(tmp_path, sizeof(tmp_path), "%s/apilogin-conf-XXXXXX",
                       dir && *dir ? dir : "/tmp");
        fd = mkstemp(tmp_path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return tmp_path;
}

static int teardown_tmp(void **state)
{
        if (tmp_path[0])
                (void)unlink(tmp_path);
        tmp_path[0] = '\0';
        return 0;
}

/* Load text; return the result, config freed. */
static int load_text(const char *text)
{
        struct apilogin_config *cfg = NULL;
        int r;

        memset(err, 'x', sizeof(err) - 1);
        err[sizeof(err) - 1] = '\0';
        r = load_file(write_tmp(text), &cfg, err, sizeof(err));
        if (r < 0)
                assert_null(cfg);
        else
                assert_string_equal(err, "");
        apilogin_config_free(cfg);
        (void)unlink(tmp_path);
        return r;
}

static struct apilogin_config *load_ok(const char *text)
{
        struct apilogin_config *cfg = NULL;
        int r = load_file(write_tmp(text), &cfg, err, sizeof(err));

        if (r < 0)
                print_error("unexpected error: %s\n", err);
        assert_int_equal(r, 0);
        assert_non_null(cfg);
        return cfg;
}

#define PROV_OK "[provider p]\ntype = login_check\nurl = https://id.example.com/login\n"

/* ---- good configs ---------------------------------------------------------------------- */

static void test_full(void **state)
{
        struct apilogin_config *cfg = NULL;
        const struct apilogin_provider_cfg *p;

        assert_int_equal(load_file(TEST_DATADIR "/conf_full.conf", &cfg, err, sizeof(err)), 0);
        assert_string_equal(cfg->path, TEST_DATADIR "/conf_full.conf");
        assert_int_equal(cfg->providers.n, 3);
        assert_string_equal(cfg->providers.v[0], "fleet");
        assert_string_equal(cfg->providers.v[1], "gps");
        assert_string_equal(cfg->providers.v[2], "calls");
        assert_int_equal(cfg->uid_min, 300000);
        assert_int_equal(cfg->uid_max, 399999);
        assert_string_equal(cfg->home, "/srv/home/%u");
        assert_string_equal(cfg->shell, "/bin/zsh");
        assert_string_equal(cfg->group, "remote-users");
        assert_int_equal(cfg->n_role_groups, 2);
        assert_string_equal(cfg->role_groups[0].key, "admin");
        assert_string_equal(cfg->role_groups[0].value, "sudo");
        assert_string_equal(cfg->role_groups[1].key, "ops");
        assert_string_equal(cfg->role_groups[1].value, "adm");
        assert_int_equal(cfg->deny_users.n, 3);
        assert_true(apilogin_strv_contains(&cfg->deny_users, "alice"));
        assert_true(apilogin_strv_contains(&cfg->deny_users, "bob"));
        assert_true(apilogin_strv_contains(&cfg->deny_users, "root"));
        assert_true(cfg->allow_local_users);
        assert_int_equal(cfg->timeout_ms, 30000);
        assert_true(cfg->offline_login);
        assert_int_equal(cfg->offline_max_age_s, 2 * 86400);
        assert_int_equal(cfg->lockout_max, 3);
        assert_int_equal(cfg->lockout_window_s, 600);
        assert_int_equal(cfg->first_login_from.n, 2);
        assert_string_equal(cfg->first_login_from.v[1], "login");
        assert_int_equal(cfg->services.n, 3);
        assert_string_equal(cfg->services.v[2], "gdm-password");
        assert_true(cfg->enumerate);
        assert_string_equal(cfg->users_file, "/etc/apilogin/users");
        assert_string_equal(cfg->socket_path, "/tmp/apilogin-test/socket");
        assert_string_equal(cfg->state_dir, "/tmp/apilogin-test/state");
        assert_string_equal(cfg->run_dir, "/tmp/apilogin-test/run");
        assert_int_equal(cfg->n_prov, 5);

        p = apilogin_config_provider(cfg, "fleet");
        assert_non_null(p);
        assert_ptr_equal(p->type, &apilogin_driver_login_check.type);
        assert_non_null(p->conf); /* refresh_url: test_driver_keys */
        assert_int_equal(p->line, 24);
        assert_string_equal(p->url, "https://id.example.com/v1/login_check");
        assert_int_equal(p->fallback_urls.n, 2);
        assert_string_equal(p->fallback_urls.v[1], "https://id3.example.com/v1/login_check");
        assert_string_equal(p->ca_file, "/etc/ssl/certs/ca-certificates.crt");
        assert_false(p->insecure_http);
        assert_int_equal(p->renew, APILOGIN_RENEW_RELOGIN);

        p = apilogin_config_provider(cfg, "gps");
        assert_string_equal(p->type->name, "token_login");
        assert_int_equal(p->renew, APILOGIN_RENEW_DEFAULT);
        assert_null(p->ca_file);
        assert_int_equal(p->fallback_urls.n, 0);

        p = apilogin_config_provider(cfg, "calls");
        assert_string_equal(p->type->name, "jsonrpc");
        assert_null(p->conf); /* no keys of its own */
        assert_true(p->insecure_http);
        assert_int_equal(p->renew, APILOGIN_RENEW_NONE);

        p = apilogin_config_provider(cfg, "pbx");
        assert_string_equal(p->type->name, "rest_login");
        assert_null(p->proxy);

        p = apilogin_config_provider(cfg, "room");
        assert_string_equal(p->type->name, "ws_auth");
        assert_non_null(p->conf);

        assert_null(apilogin_config_provider(cfg, "nope"));
        apilogin_config_free(cfg);
}

static void test_defaults(void **state)
{
        struct apilogin_config *cfg = NULL;
        const struct apilogin_provider_cfg *p;

        assert_int_equal(load_file(TEST_DATADIR "/conf_minimal.conf", &cfg, err, sizeof(err)), 0);
        assert_int_equal(cfg->providers.n, 2); /* every section, in file order */
        assert_string_equal(cfg->providers.v[0], "second");
        assert_string_equal(cfg->providers.v[1], "first");
        assert_int_equal(cfg->uid_min, 200000);
        assert_int_equal(cfg->uid_max, 299999);
        assert_string_equal(cfg->home, "/home/%u");
        assert_string_equal(cfg->shell, "/bin/bash");
        assert_string_equal(cfg->group, "apilogin-users");
        assert_int_equal(cfg->n_role_groups, 0);
        assert_null(cfg->role_groups);
        assert_int_equal(cfg->deny_users.n, 1);
        assert_string_equal(cfg->deny_users.v[0], "root");
        assert_false(cfg->allow_local_users);
        assert_int_equal(cfg->timeout_ms, 10000);
        assert_false(cfg->offline_login);
        assert_int_equal(cfg->offline_max_age_s, 3 * 86400);
        assert_int_equal(cfg->lockout_max, 5);
        assert_int_equal(cfg->lockout_window_s, 15 * 60);
        assert_int_equal(cfg->first_login_from.n, 0);
        assert_int_equal(cfg->services.n, 0);
        assert_false(cfg->enumerate);
        assert_null(cfg->users_file);
        assert_string_equal(cfg->socket_path, APILOGIN_RUNDIR "/socket");
        assert_string_equal(cfg->state_dir, APILOGIN_STATEDIR);
        assert_string_equal(cfg->run_dir, APILOGIN_RUNDIR);
        p = apilogin_config_provider(cfg, "first");
        assert_non_null(p);
        assert_false(p->insecure_http);
        assert_null(p->proxy);
        assert_null(p->ca_file);
        assert_int_equal(p->renew, APILOGIN_RENEW_DEFAULT);
        assert_false(p->offline_login_set);
        apilogin_config_free(cfg);
}

/* The config installed as /etc/apilogin/apilogin.conf loads and is inert (no provider, no
 * first_login_from); the commented example installed as documentation loads too. */
static void test_shipped_example(void **state)
{
        struct apilogin_config *cfg = NULL;
        int r = load_file(TEST_DATADIR "/../../etc/apilogin.conf", &cfg, err, sizeof(err));

        if (r < 0)
                print_error("%s\n", err);
        assert_int_equal(r, 0);
        assert_int_equal(cfg->n_prov, 0);
        assert_int_equal(cfg->providers.n, 0);
        assert_int_equal(cfg->first_login_from.n, 0);
        apilogin_config_free(cfg);
        cfg = NULL;
        r = load_file(TEST_DATADIR "/../../etc/apilogin.conf.example", &cfg, err, sizeof(err));
        if (r < 0)
                print_error("%s\n", err);
        assert_int_equal(r, 0);
        assert_non_null(apilogin_config_provider(cfg, "fleet"));
        apilogin_config_free(cfg);
}

/* No [provider] section at all is a valid, inert config. */
static void test_no_provider(void **state)
{
        struct apilogin_config *cfg = load_ok("[global]\n");

        assert_int_equal(cfg->n_prov, 0);
        assert_int_equal(cfg->providers.n, 0);
        apilogin_config_free(cfg);
        cfg = load_ok("");
        assert_int_equal(cfg->n_prov, 0);
        apilogin_config_free(cfg);
}

static void test_comments_and_layout(void **state)
{
        struct apilogin_config *cfg = load_ok(
                "\xEF\xBB\xBF# a BOM, then a comment\r\n"
                "; a semicolon comment\n"
                "  [ global ]   # a comment after a header\n"
                "timeout = 20s   # inline hash comment\n"
                "\tshell = /bin/sh ; inline semicolon comment\r\n"
                "   home = /home/%u#not-a-comment\n"
                "\n"
                "[provider  p]\n"
                "type=login_check\n"
                "url = https://id.example.com/login#frag;x\n");

        assert_int_equal(cfg->timeout_ms, 20000);
        assert_string_equal(cfg->shell, "/bin/sh");
        assert_string_equal(cfg->home, "/home/%u#not-a-comment");
        assert_string_equal(cfg->prov[0].name, "p");
        assert_string_equal(cfg->prov[0].url, "https://id.example.com/login#frag;x");
        apilogin_config_free(cfg);
}

/* A provider section not named in "providers" is allowed (for PAM's provider=). */
static void test_unlisted_provider(void **state)
{
        struct apilogin_config *cfg = load_ok("[global]\nproviders = p\n" PROV_OK
                                              "[provider extra]\ntype = jsonrpc\nurl = https://x.example/v4\n");

        assert_int_equal(cfg->providers.n, 1);
        assert_int_equal(cfg->n_prov, 2);
        assert_non_null(apilogin_config_provider(cfg, "extra"));
        apilogin_config_free(cfg);
}

static void test_loopback_urls(void **state)
{
        static const char *const ok[] = {
                "http://127.0.0.1:8080/x", "http://127.255.0.9/", "http://localhost:1/",
                "HTTP://LOCALHOST", "http://[::1]:8443/api", "https://id.example.com",
                "https://[2001:db8::1]:443/x",
        };
        char text[512];

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                (void)snprintf(text, sizeof(text), "[provider p]\ntype = jsonrpc\nurl = %s\n", ok[i]);
                if (load_text(text) != 0)
                        print_error("%s: %s\n", ok[i], err);
                assert_int_equal(load_text(text), 0);
        }
        assert_int_equal(load_text("[provider p]\ntype = ws_auth\nurl = wss://room.example/\n"
                                   "users = kiosk:user\n"), 0);
        assert_int_equal(load_text("[provider p]\ntype = ws_auth\nurl = ws://localhost:8765\n"
                                   "users = kiosk:user\n"), 0);
}

/* The keys every provider has, whatever its type: renew and proxy included. */
static void test_common_keys(void **state)
{
        struct apilogin_config *cfg = load_ok(
                "[provider t]\ntype = token_login\nurl = https://a.example/\nrenew = relogin\n"
                "proxy = http://proxy.example:3128\n"
                "[provider o]\nrenew = none\ntype = oauth2_password\nclient_id = c\n"
                "url = https://id.example/token\nproxy = https://[::1]:8443/\n");

        assert_int_equal(cfg->prov[0].renew, APILOGIN_RENEW_RELOGIN);
        assert_string_equal(cfg->prov[0].proxy, "http://proxy.example:3128");
        assert_int_equal(cfg->prov[1].renew, APILOGIN_RENEW_NONE);
        assert_string_equal(cfg->prov[1].proxy, "https://[::1]:8443/");
        assert_string_equal(cfg->prov[1].type->name, "oauth2_password");
        apilogin_config_free(cfg);
}

static void test_lockout_off(void **state)
{
        struct apilogin_config *cfg = load_ok("[global]\nlockout = off\n" PROV_OK);

        assert_int_equal(cfg->lockout_max, 0);
        apilogin_config_free(cfg);
        cfg = load_ok("[global]\nlockout = 0/1h\n" PROV_OK);
        assert_int_equal(cfg->lockout_max, 0);
        apilogin_config_free(cfg);
        cfg = load_ok("[global]\nlockout = 1000/30d\n" PROV_OK);
        assert_int_equal(cfg->lockout_max, 1000);
        assert_int_equal(cfg->lockout_window_s, 30 * 86400);
        apilogin_config_free(cfg);
}

static void test_bool_words(void **state)
{
        static const char *const yes[] = { "yes", "YES", "true", "True", "1" };
        static const char *const no[] = { "no", "No", "false", "FALSE", "0" };
        char text[256];
        struct apilogin_config *cfg;

        for (size_t i = 0; i < 5; i++) {
                (void)snprintf(text, sizeof(text), "[global]\nallow_local_users = %s\n" PROV_OK, yes[i]);
                cfg = load_ok(text);
                assert_true(cfg->allow_local_users);
                apilogin_config_free(cfg);
                (void)snprintf(text, sizeof(text), "[global]\nallow_local_users = %s\n" PROV_OK, no[i]);
                cfg = load_ok(text);
                assert_false(cfg->allow_local_users);
                apilogin_config_free(cfg);
        }
}

static void test_empty_lists(void **state)
{
        struct apilogin_config *cfg = load_ok("[global]\nproviders =\ndeny_users = ,\n" PROV_OK);

        assert_int_equal(cfg->providers.n, 1); /* empty: every section */
        assert_int_equal(cfg->deny_users.n, 1);
        assert_string_equal(cfg->deny_users.v[0], "root");
        apilogin_config_free(cfg);
}

/* ---- errors ---------------------------------------------------------------------------- */

struct bad {
        const char *text;
        int line;          /* 0: a whole-file error "PATH: ..." */
        const char *key;   /* what follows "PATH:LINE: ", NULL if nothing in particular */
        const char *what;  /* a piece of the message */
};

static const struct bad bad_configs[] = {
        /* unknown key, unknown section, structure */
        { "[global]\ntimout = 10s\n" PROV_OK, 2, "timout", "unknown key in [global]" },
        { PROV_OK "operate = yes\n", 4, "operate", "unknown key in [provider p]" },
        { "[globals]\n" PROV_OK, 1, NULL, "[globals]: unknown section" },
        { "[provider]\n", 1, NULL, "missing provider name" },
        { "[provider bad.name]\n", 1, NULL, "invalid provider name" },
        { "[provider a234567890123456789012345678901234567890123456789012345678901234]\n", 1, NULL,
          "invalid provider name" },
        { PROV_OK "[provider p]\n", 4, NULL, "section given twice (first on line 1)" },
        { "[global]\n[global]\n" PROV_OK, 2, NULL, "[global]: section given twice" },
        { "timeout = 10s\n" PROV_OK, 1, "timeout", "outside of a section" },
        { "[global]\njust words\n" PROV_OK, 2, NULL, "expected 'key = value'" },
        { "[global]\ntimeout: 10s\n" PROV_OK, 2, NULL, "expected 'key = value'" },
        { "[global\n" PROV_OK, 1, NULL, "missing ']'" },
        { "[global] x\n" PROV_OK, 1, NULL, "unexpected text after ']'" },
        { "[global]\nhome = /home/\x01u\n" PROV_OK, 2, NULL, "control character" },
        /* duplicate key */
        { "[global]\ntimeout = 10s\nshell = /bin/sh\ntimeout = 10s\n" PROV_OK, 4, "timeout",
          "duplicate key in [global] (first given on line 2)" },
        { PROV_OK "url = https://b.example/\n", 4, "url", "duplicate key in [provider p] (first given on line 3)" },
        /* durations */
        { "[global]\ntimeout = 10x\n" PROV_OK, 2, "timeout", "invalid duration '10x'" },
        { "[global]\ntimeout =\n" PROV_OK, 2, "timeout", "invalid duration ''" },
        { "[global]\ntimeout = -5s\n" PROV_OK, 2, "timeout", "invalid duration" },
        { "[global]\ntimeout = 10 s\n" PROV_OK, 2, "timeout", "invalid duration" },
        { "[global]\ntimeout = 0s\n" PROV_OK, 2, "timeout", "out of range (1s..120s)" },
        { "[global]\ntimeout = 3m\n" PROV_OK, 2, "timeout", "out of range" },
        { "[global]\ntimeout = 99999999999999999999999d\n" PROV_OK, 2, "timeout", "out of range" },
        { "[global]\noffline_max_age = 400d\n" PROV_OK, 2, "offline_max_age", "out of range" },
        { "[global]\nlockout = 5\n" PROV_OK, 2, "lockout", "invalid value '5'" },
        { "[global]\nlockout = 5/\n" PROV_OK, 2, "lockout", "invalid value" },
        { "[global]\nlockout = /15m\n" PROV_OK, 2, "lockout", "invalid value" },
        { "[global]\nlockout = 1001/15m\n" PROV_OK, 2, "lockout", "out of range" },
        { "[global]\nlockout = 5/0s\n" PROV_OK, 2, "lockout", "out of range" },
        { "[global]\nlockout = 5/31d\n" PROV_OK, 2, "lockout", "out of range" },
        { "[global]\nlockout = OFF\n" PROV_OK, 2, "lockout", "invalid value" },
        /* uid_range */
        { "[global]\nuid_range = 999-2000\n" PROV_OK, 2, "uid_range", "invalid range '999-2000'" },
        { "[global]\nuid_range = 5000-5000\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = 5000-4000\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = 5000-2147483647\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = 5000-99999999999\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = 5000 - 6000\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = 5000-6000x\n" PROV_OK, 2, "uid_range", "invalid range" },
        { "[global]\nuid_range = -6000\n" PROV_OK, 2, "uid_range", "invalid range" },
        /* booleans and other values */
        { "[global]\nenumerate = maybe\n" PROV_OK, 2, "enumerate", "invalid boolean 'maybe'" },
        { PROV_OK "renew = always\n", 4, "renew", "invalid value 'always' (use none or relogin)" },
        { "[global]\non_remote_revoke = kill\n" PROV_OK, 2, "on_remote_revoke",
          "invalid value 'kill' (use log or end_session)" },
        { PROV_OK "insecure_http = on\n", 4, "insecure_http", "invalid boolean 'on'" },
        { "[global]\nhome = home/%u\n" PROV_OK, 2, "home", "not an absolute path" },
        { "[global]\nhome = /home/%u:x\n" PROV_OK, 2, "home", "must not contain ':'" },
        { "[global]\nhome = /home/%n\n" PROV_OK, 2, "home", "unknown escape" },
        { "[global]\nshell = bash\n" PROV_OK, 2, "shell", "not an absolute path" },
        { "[global]\ngroup = 1users\n" PROV_OK, 2, "group", "invalid group name" },
        { "[global]\nrole_groups = admin\n" PROV_OK, 2, "role_groups", "invalid entry 'admin'" },
        { "[global]\nrole_groups = admin:su do\n" PROV_OK, 2, "role_groups", "invalid entry 'do'" },
        { "[global]\nrole_groups = a:x, a:y\n" PROV_OK, 2, "role_groups", "'a' is listed twice" },
        { "[global]\ndeny_users = ok -bad\n" PROV_OK, 2, "deny_users", "invalid user name '-bad'" },
        { "[global]\nproviders = p p\n" PROV_OK, 2, "providers", "'p' is listed twice" },
        { "[global]\nproviders = p:x\n" PROV_OK, 2, "providers", "invalid provider name" },
        { "[global]\nsocket = run/sock\n" PROV_OK, 2, "socket", "not an absolute path" },
        { "[global]\nsocket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/s\n"
          PROV_OK, 2, "socket", "too long for a socket" },
        { "[global]\nstate_dir = var/lib\n" PROV_OK, 2, "state_dir", "not an absolute path" },
        { "[global]\nrun_dir =\n" PROV_OK, 2, "run_dir", "not an absolute path" },
        { "[global]\nusers_file = users\n" PROV_OK, 2, "users_file", "not an absolute path" },
        { PROV_OK "ca_file = ca.pem\n", 4, "ca_file", "not an absolute path" },
        /* providers */
        { "[global]\nproviders = p nope\n" PROV_OK, 2, "providers", "no [provider nope] section" },
        { "[provider p]\nurl = https://id.example.com/\n", 1, "type", "missing in [provider p]" },
        { "[provider p]\ntype = ldap\n", 2, "type", "unknown type 'ldap'" },
        { "[provider p]\ntype = login_check\n", 1, "url", "missing in [provider p]" },
        { "[provider p]\ntype = login_check\nurl =\n", 3, "url", "empty value" },
        { "[provider p]\ntype = ws_auth\nurl = wss://x.example/\n", 1, "users", "missing in [provider p]" },
        { "[provider p]\ntype = ws_auth\nurl = wss://x.example/\nusers = kiosk:root\n", 4, "users",
          "invalid entry 'kiosk:root'" },
        { "[provider p]\ntype = ws_auth\nurl = wss://x.example/\nusers = kiosk\n", 4, "users", "invalid entry" },
        /* a key the type does not use (whatever the order of type and key) */
        { PROV_OK "operate_as = yes\n", 4, "operate_as", "not used by type login_check" },
        { "[provider p]\ndomain = t.example\ntype = jsonrpc\nurl = https://a.example/\n", 2, "domain",
          "not used by type jsonrpc" },
        { "[provider p]\ntype = oauth2_password\nurl = https://a.example/t\nclient_id = c\nclient_sercet_file = /x\n",
          5, "client_sercet_file", "unknown key in [provider p] (type oauth2_password)" },
        { "[provider p]\nclient_id = c\ntype = oauth2_password\nurl = https://a.example/t\nscope =\n",
          5, "scope", "empty value" },
        { "[provider p]\ntype = oauth2_password\nurl = https://a.example/t\n", 1, "client_id",
          "missing in [provider p]" },
        { "[provider p]\ntype = oauth2_password\nurl = https://a.example/t\nclient_id = c\n"
          "revocation_url = http://a.example/r\n", 5, "revocation_url", "plain http://" },
        { "[provider p]\ntype = oauth2_password\nurl = https://a.example/t\nclient_id = c\n"
          "client_secret_file = secret\n", 5, "client_secret_file", "not an absolute path" },
        { PROV_OK "proxy = socks5://127.0.0.1:1080\n", 4, "proxy", "invalid proxy" },
        { PROV_OK "proxy = 127.0.0.1:3128\n", 4, "proxy", "invalid proxy" },
        { PROV_OK "proxy = http://p.example:3128\nproxy = http://q.example:3128\n", 5, "proxy",
          "duplicate key" },
        { PROV_OK "refresh_url = https://a.example/r\nrefresh_url = https://a.example/s\n", 5,
          "refresh_url", "duplicate key in [provider p] (first given on line 4)" },
        { "[provider p]\ntype = rest_login\nurl = https://a.example/\nrefresh_url = https://a.example/r\n", 4,
          "refresh_url", "not used by type rest_login" },
        { PROV_OK "users = a:user\n", 4, "users", "not used by type login_check" },
        { PROV_OK "renew = sometimes\n", 4, "renew", "invalid value 'sometimes'" },
        /* URL policy */
        { "[provider p]\ntype = login_check\nurl = http://id.example.com/login\n", 3, "url",
          "plain http:// to a host that is not loopback is refused" },
        { "[provider p]\ntype = login_check\nurl = http://127.0.0.1.evil.example/\n", 3, "url", "not loopback" },
        { "[provider p]\ntype = login_check\nurl = http://127.1/\n", 3, "url", "not loopback" },
        { "[provider p]\ntype = login_check\nurl = http://[::2]/\n", 3, "url", "not loopback" },
        { "[provider p]\ntype = login_check\nurl = http://localhost.evil.example/\n", 3, "url", "not loopback" },
        { PROV_OK "fallback_urls = https://b.example/ http://c.example/\n", 4, "fallback_urls",
          "'http://c.example/': plain http://" },
        { PROV_OK "refresh_url = http://c.example/r\n", 4, "refresh_url", "plain http://" },
        { "[provider p]\ntype = login_check\nurl = ftp://id.example.com/\n", 3, "url", "scheme must be https://" },
        { "[provider p]\ntype = login_check\nurl = wss://id.example.com/\n", 3, "url", "scheme must be https://" },
        { "[provider p]\ntype = ws_auth\nurl = https://x.example/\nusers = a:user\n", 3, "url",
          "scheme must be wss://" },
        { "[provider p]\ntype = ws_auth\nurl = ws://x.example/\nusers = a:user\n", 3, "url", "plain ws://" },
        { "[provider p]\ntype = login_check\nurl = https://user@id.example.com/\n", 3, "url", "invalid URL" },
        { "[provider p]\ntype = login_check\nurl = https://id.example.com:99999/\n", 3, "url", "invalid URL" },
        { "[provider p]\ntype = login_check\nurl = https:///x\n", 3, "url", "invalid URL" },
        { "[provider p]\ntype = login_check\nurl = id.example.com\n", 3, "url", "invalid URL" },
};

static void check_bad(const struct bad *b)
{
        char want[512];
        int r = load_text(b->text);

        if (r != -EINVAL || !strstr(err, b->what))
                print_error("config:\n%s\ngot %d: %s\n", b->text, r, err);
        assert_int_equal(r, -EINVAL);
        if (b->line > 0)
                (void)snprintf(want, sizeof(want), "%s:%d: %s%s", tmp_path, b->line,
                               b->key ? b->key : "", b->key ? ": " : "");
        else
                (void)snprintf(want, sizeof(want), "%s: ", tmp_path);
        if (strncmp(err, want, strlen(want)) != 0)
                print_error("want prefix '%s', got '%s'\n", want, err);
        assert_int_equal(strncmp(err, want, strlen(want)), 0);
        assert_non_null(strstr(err, b->what));
        assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
        for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++)
                check_bad(&bad_configs[i]);
}

static void test_error_fixtures(void **state)
{
        struct apilogin_config *cfg = NULL;

        assert_int_equal(load_file(TEST_DATADIR "/conf_err_http.conf", &cfg, err, sizeof(err)),
                         -EINVAL);
        assert_null(cfg);
        assert_non_null(strstr(err, "/conf_err_http.conf:5: url: "));
        assert_int_equal(load_file(TEST_DATADIR "/conf_err_unknown_key.conf", &cfg, err,
                                              sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "/conf_err_unknown_key.conf:4: timout: unknown key"));
}

static void test_long_line(void **state)
{
        char text[8192];
        size_t n;

        n = (size_t)snprintf(text, sizeof(text), "[global]\nhome = /");
        memset(text + n, 'a', 5000);
        (void)snprintf(text + n + 5000, sizeof(text) - n - 5000, "\n%s", PROV_OK);
        assert_int_equal(load_text(text), -EINVAL);
        assert_non_null(strstr(err, ":2: line too long"));

        /* a long trailing comment does not count */
        n = (size_t)snprintf(text, sizeof(text), "[global]\nhome = /x   # ");
        memset(text + n, 'c', 5000);
        (void)snprintf(text + n + 5000, sizeof(text) - n - 5000, "\n%s", PROV_OK);
        assert_int_equal(load_text(text), 0);
}

/* name is (or is not) in the users map of ws_auth provider pc: its driver builds a request
 * for it (or answers -ENOENT, "not this provider's"). */
static void check_ws_user(const struct apilogin_provider_cfg *pc, const char *name, bool in)
{
        struct apilogin_login_in li = { .p = pc, .url = pc->url, .user = name, .secret = "1234" };
        struct apilogin_http_req req = { 0 };

        assert_int_equal(apilogin_driver_ws_auth.login_request(&li, &req), in ? 0 : -ENOENT);
        apilogin_http_req_clear(&req);
}

/* Lists written over several lines: the same key on several lines, each adding to
 * the list; one physical line over the limit is an error with file:line, never cut. */
static void test_long_lists(void **state)
{
        char text[16384], line[256];
        size_t n = 0;
        struct apilogin_config *cfg;
        const struct apilogin_provider_cfg *pc;
        size_t total = 0;

        (void)state;
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[global]\n");
        for (int l = 0; l < 4; l++) { /* 4 lines of 6 ROLE:GROUP entries */
                int m = snprintf(line, sizeof(line), "role_groups =");
                for (int i = 0; i < 6; i++)
                        m += snprintf(line + m, sizeof(line) - (size_t)m, " role%02d:group%02d,",
                                      l * 6 + i, l * 6 + i);
                total += strlen(line);
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", line);
        }
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[provider room]\ntype = ws_auth\nurl = ws://127.0.0.1:8765\n");
        for (int l = 0; l < 4; l++) { /* 4 lines of 8 users */
                int m = snprintf(line, sizeof(line), "users =");
                for (int i = 0; i < 8; i++)
                        m += snprintf(line + m, sizeof(line) - (size_t)m, " kiosk%02d:%s",
                                      l * 8 + i, i % 2 ? "admin" : "user");
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", line);
        }
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", PROV_OK);
        for (int l = 0; l < 4; l++) /* 4 lines of 3 fallback URLs */
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      "fallback_urls = https://id%02d.example.com/v1/login_check, "
                                      "https://id%02d.example.com/v1/login_check "
                                      "https://id%02d.example.com/v1/login_check\n",
                                      l * 3, l * 3 + 1, l * 3 + 2);
        assert_true(total > 400);
        cfg = load_ok(text);
        assert_int_equal(cfg->n_role_groups, 24);
        for (size_t i = 0; i < 24; i++) {
                (void)snprintf(line, sizeof(line), "role%02zu", i);
                assert_string_equal(cfg->role_groups[i].key, line);
                (void)snprintf(line, sizeof(line), "group%02zu", i);
                assert_string_equal(cfg->role_groups[i].value, line);
        }
        pc = apilogin_config_provider(cfg, "room");
        assert_non_null(pc);
        check_ws_user(pc, "kiosk00", true);
        check_ws_user(pc, "kiosk31", true);
        check_ws_user(pc, "kiosk32", false);
        pc = apilogin_config_provider(cfg, "p");
        assert_non_null(pc);
        assert_int_equal(pc->fallback_urls.n, 12);
        assert_string_equal(pc->fallback_urls.v[0], "https://id00.example.com/v1/login_check");
        assert_string_equal(pc->fallback_urls.v[11], "https://id11.example.com/v1/login_check");
        apilogin_config_free(cfg);
        teardown_tmp(NULL);

        /* An entry repeated on a later line is named with that line. */
        assert_int_equal(load_text("[global]\nrole_groups = a:b\nrole_groups = c:d, a:e\n"
                                   PROV_OK), -EINVAL);
        assert_non_null(strstr(err, ":3: role_groups: 'a' is listed twice"));
        assert_int_equal(load_text(PROV_OK "fallback_urls = https://b.example/\n"
                                   "fallback_urls = https://b.example/\n"), -EINVAL);
        assert_non_null(strstr(err, ":5: fallback_urls: 'https://b.example/' is listed twice"));

        /* The same 32 users on one physical line of over 400 bytes (more than inih's 200) in a
         * section whose name has the longest provider name (more than inih's 49). */
        n = (size_t)snprintf(text, sizeof(text), "[provider %.63s]\ntype = ws_auth\n"
                             "url = ws://127.0.0.1:8765\nusers =",
                             "room_0123456789_0123456789_0123456789_0123456789_0123456789_xy");
        for (int i = 0; i < 32; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, " kiosk%02d:user", i);
        (void)snprintf(text + n, sizeof(text) - n, " # and a comment\n");
        assert_true(strlen(strstr(text, "users =")) > 400);
        cfg = load_ok(text);
        pc = apilogin_config_provider(
                cfg, "room_0123456789_0123456789_0123456789_0123456789_0123456789_xy");
        assert_non_null(pc);
        check_ws_user(pc, "kiosk00", true);
        check_ws_user(pc, "kiosk31", true);
        apilogin_config_free(cfg);
        teardown_tmp(NULL);
}

static void test_nul_byte(void **state)
{
        static const char text[] = "[global]\nshell = /bin/sh\0x\n" PROV_OK;
        struct apilogin_config *cfg = NULL;
        FILE *f;

        write_tmp("");
        f = fopen(tmp_path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(load_file(tmp_path, &cfg, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, ":2: NUL byte"));
}

static void test_file_errors(void **state)
{
        struct apilogin_config *cfg = NULL;
        char want[300];

        assert_int_equal(load_file("/nonexistent/apilogin.conf", &cfg, err, sizeof(err)), -ENOENT);
        assert_null(cfg);
        assert_string_equal(err, "/nonexistent/apilogin.conf: cannot open: No such file or directory");
        assert_int_equal(load_file(TEST_DATADIR, &cfg, err, sizeof(err)), -EISDIR);
        assert_int_equal(load_file("/dev/null", &cfg, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "/dev/null: not a regular file");

        /* small or no error buffer */
        assert_int_equal(load_file("/nonexistent", &cfg, err, 8), -ENOENT);
        assert_string_equal(err, "/nonexi");
        assert_int_equal(load_file("/nonexistent", &cfg, NULL, 0), -ENOENT);
        assert_int_equal(load_file(NULL, &cfg, err, sizeof(err)), -EINVAL);

        if (geteuid() == 0) /* root reads anything */
                return;
        write_tmp(PROV_OK);
        assert_int_equal(chmod(tmp_path, 0), 0);
        assert_int_equal(load_file(tmp_path, &cfg, err, sizeof(err)), -EACCES);
        (void)snprintf(want, sizeof(want), "%s: cannot open: Permission denied", tmp_path);
        assert_string_equal(err, want);
}

static void test_helpers(void **state)
{
        struct apilogin_strv v = { 0 };

        assert_false(apilogin_strv_contains(&v, "x"));
        assert_false(apilogin_strv_contains(NULL, "x"));
        assert_null(apilogin_config_free(NULL));
        assert_null(apilogin_config_provider(NULL, "x"));
}

/* ---- duration.c ------------------------------------------------------------------------ */

static void test_duration(void **state)
{
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } cases[] = {
                { "0", 0, 0 },          { "10", 0, 10 },          { "10s", 0, 10 },
                { "15m", 0, 900 },      { "3h", 0, 10800 },       { "3d", 0, 259200 },
                { "007s", 0, 7 },       { "36500d", 0, 36500ULL * 86400 },
                { "3153600000", 0, 3153600000ULL },
                { "", -EINVAL, 0 },     { "s", -EINVAL, 0 },      { "-5s", -EINVAL, 0 },
                { "+5s", -EINVAL, 0 },  { " 5s", -EINVAL, 0 },    { "5s ", -EINVAL, 0 },
                { "5 s", -EINVAL, 0 },  { "5w", -EINVAL, 0 },     { "5S", -EINVAL, 0 },
                { "5ms", -EINVAL, 0 },  { "5ss", -EINVAL, 0 },    { "1h30m", -EINVAL, 0 },
                { "1.5h", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },   { "99999999999999999999999x", -EINVAL, 0 },
                { "36501d", -ERANGE, 0 }, { "3153600001", -ERANGE, 0 },
                { "18446744073709551615", -ERANGE, 0 }, { "18446744073709551616s", -ERANGE, 0 },
                { "99999999999999999999999999999d", -ERANGE, 0 }, { "307445734561825861m", -ERANGE, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t v = 12345;
                int r = apilogin_duration_parse(cases[i].s, &v);

                if (r != cases[i].r)
                        print_error("'%s': got %d\n", cases[i].s, r);
                assert_int_equal(r, cases[i].r);
                assert_int_equal(v, r == 0 ? cases[i].v : 12345); /* written only on success */
        }
        assert_int_equal(apilogin_duration_parse(NULL, NULL), -EINVAL);
}

static void test_lockout_parse(void **state)
{
        static const struct {
                const char *s;
                int r;
                unsigned max;
                uint64_t window;
        } cases[] = {
                { "5/15m", 0, 5, 900 },   { "off", 0, 0, 0 },          { "0/15m", 0, 0, 900 },
                { "0/0", 0, 0, 0 },       { "1000/1d", 0, 1000, 86400 }, { "3/60", 0, 3, 60 },
                { "1001/15m", -ERANGE, 0, 0 }, { "5/0s", -ERANGE, 0, 0 }, { "5/36501d", -ERANGE, 0, 0 },
                { "99999999999/1m", -ERANGE, 0, 0 },
                { "", -EINVAL, 0, 0 },    { "5", -EINVAL, 0, 0 },      { "5/", -EINVAL, 0, 0 },
                { "/5m", -EINVAL, 0, 0 }, { "-1/5m", -EINVAL, 0, 0 },  { "5/15x", -EINVAL, 0, 0 },
                { "5 /15m", -EINVAL, 0, 0 }, { "5/ 15m", -EINVAL, 0, 0 }, { "Off", -EINVAL, 0, 0 },
                { "5/15m/2", -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                unsigned max = 77;
                uint64_t window = 77;
                int r = apilogin_lockout_parse(cases[i].s, &max, &window);

                if (r != cases[i].r)
                        print_error("'%s': got %d\n", cases[i].s, r);
                assert_int_equal(r, cases[i].r);
                assert_int_equal(max, r == 0 ? cases[i].max : 77);
                assert_int_equal(window, r == 0 ? cases[i].window : 77);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_shipped_example),
                cmocka_unit_test_teardown(test_no_provider, teardown_tmp),
                cmocka_unit_test_teardown(test_comments_and_layout, teardown_tmp),
                cmocka_unit_test_teardown(test_unlisted_provider, teardown_tmp),
                cmocka_unit_test_teardown(test_loopback_urls, teardown_tmp),
                cmocka_unit_test_teardown(test_common_keys, teardown_tmp),
                cmocka_unit_test_teardown(test_lockout_off, teardown_tmp),
                cmocka_unit_test_teardown(test_bool_words, teardown_tmp),
                cmocka_unit_test_teardown(test_empty_lists, teardown_tmp),
                cmocka_unit_test_teardown(test_errors, teardown_tmp),
                cmocka_unit_test(test_error_fixtures),
                cmocka_unit_test_teardown(test_long_line, teardown_tmp),
                cmocka_unit_test_teardown(test_long_lists, teardown_tmp),
                cmocka_unit_test_teardown(test_nul_byte, teardown_tmp),
                cmocka_unit_test_teardown(test_file_errors, teardown_tmp),
                cmocka_unit_test(test_helpers),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_lockout_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

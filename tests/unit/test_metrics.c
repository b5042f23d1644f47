/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_metrics.c: the metrics state and its text: API error codes from the network are
 * sanitised and capped (a hostile API cannot grow the file), provider labels are capped,
 * the histogram is cumulative with +Inf equal to the count, and offline logins count as
 * logins too. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"

static const struct metrics_gauges no_gauges;

/* The rendered text, in a new buffer. */
static char *render(const struct metrics *m)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        assert_int_equal(metrics_render(m, &no_gauges, f), 0);
        fclose(f);
        return buf;
}

static size_t count_lines(const char *text, const char *prefix)
{
        size_t n = 0;

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += strncmp(p, prefix, strlen(prefix)) == 0;
        return n;
}

static void test_codes_sanitised_and_capped(void **state)
{
        struct metrics *m = metrics_new();
        char code[64], *text;

        assert_non_null(m);
        metrics_api_error(m, "fleet", "bad\"code\n{x}=1 \\", 200);
        metrics_api_error(m, "fleet", "a-very-long-code-that-goes-on-and-on-and-on-forever", 200);
        metrics_api_error(m, "fleet", NULL, 503);
        for (int i = 0; i < 1000; i++) {
                snprintf(code, sizeof(code), "E%d", i);
                metrics_api_error(m, "fleet", code, 400);
        }
        text = render(m);
        assert_non_null(strstr(text, "code=\"bad_code__x__1__\"} 1\n"));
        assert_non_null(strstr(text, "code=\"a-very-long-code-that-goes-on-an\"} 1\n"));
        assert_non_null(strstr(text, "code=\"http_503\"} 1\n"));
        /* 32 distinct codes in all; the rest are "other". */
        assert_int_equal(count_lines(text, "apilogin_api_errors_total{"), METRICS_CODES_MAX + 1);
        assert_non_null(strstr(text, "{provider=\"fleet\",code=\"other\"} 971\n"));
        free(text);
        metrics_free(m);
}

static void test_providers_capped(void **state)
{
        struct metrics *m = metrics_new();
        char name[32], *text;

        for (int i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "p%d", i);
                metrics_login(m, name, APILOGIN_OK, 10, false);
                metrics_provider_seen(m, name, true, NULL);
        }
        text = render(m);
        assert_int_equal(count_lines(text, "apilogin_provider_up{"), METRICS_PROVIDERS_MAX);
        assert_non_null(strstr(text, "apilogin_logins_total{provider=\"other\",outcome=\"ok\"} "
                                     "68\n"));
        free(text);
        metrics_free(m);
}

static void test_histogram_and_offline(void **state)
{
        struct metrics *m = metrics_new();
        char *text;

        metrics_login(m, "fleet", APILOGIN_OK, 30, false);        /* <= 0.05 */
        metrics_login(m, "fleet", APILOGIN_AUTH_ERR, 700, false); /* <= 1 */
        metrics_login(m, NULL, APILOGIN_USER_UNKNOWN, 0, false);  /* decided locally */
        metrics_login(m, "fleet", APILOGIN_OK, 120000, true);     /* past 60 s: +Inf only */
        metrics_provider_seen(m, "fleet", false, "HTTP 500");
        text = render(m);
        assert_non_null(strstr(text, "apilogin_login_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert_non_null(strstr(text, "apilogin_login_duration_seconds_bucket{le=\"1\"} 3\n"));
        assert_non_null(strstr(text, "apilogin_login_duration_seconds_bucket{le=\"60\"} 3\n"));
        assert_non_null(strstr(text, "apilogin_login_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert_non_null(strstr(text, "apilogin_login_duration_seconds_count 4\n"));
        assert_non_null(strstr(text, "{provider=\"fleet\",outcome=\"ok\"} 2\n"));
        assert_non_null(strstr(text, "{provider=\"-\",outcome=\"user_unknown\"} 1\n"));
        assert_non_null(strstr(text, "apilogin_offline_logins_total{provider=\"fleet\"} 1\n"));
        assert_non_null(strstr(text, "apilogin_provider_up{provider=\"fleet\"} 0\n"));
        assert_int_equal(metrics_logins_total(m, APILOGIN_OK), 2);
        assert_int_equal(metrics_offline_logins_total(m), 1);
        assert_string_equal(metrics_provider_find(m, "fleet")->last_error, "HTTP 500");
        assert_null(metrics_provider_find(m, "nope"));
        free(text);
        metrics_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_codes_sanitised_and_capped),
                cmocka_unit_test(test_providers_capped),
                cmocka_unit_test(test_histogram_and_offline),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_offline.c: the verifier store of offline login (daemon/offline.c): format and parse
 * round trip, corrupt and truncated files refused (never a crash), hash match, save/check
 * on disk with modes, max age, delete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/offline.h"

#define NOW 1800000000LL

static char dir[64];

static void test_round_trip(void **state)
{
        struct offline_verifier v = { .at = NOW - 5, .provider = "fleet" }, w;
        char text[OFFLINE_FILE_MAX + 1];

        (void)state;
        assert_int_equal(offline_hash("pw", 1, v.hash, sizeof(v.hash)), 0);
        assert_int_equal(offline_format(&v, text, sizeof(text)), 0);
        assert_int_equal(offline_parse(text, strlen(text), NOW, &w), 0);
        assert_int_equal(w.at, v.at);
        assert_string_equal(w.provider, "fleet");
        assert_string_equal(w.hash, v.hash);
        assert_true(offline_hash_matches(w.hash, "pw"));
        assert_false(offline_hash_matches(w.hash, "pW"));
        assert_false(offline_hash_matches(w.hash, ""));
}

/* Every prefix of a good file, and a set of broken ones, are refused. */
static void test_corrupt(void **state)
{
        static const char *const bad[] = {
                "", "\n", "apilogin-verifier 1\n", "apilogin-verifier 2 1 fleet $y$abc\n",
                "apilogin-verifier 1 x fleet $y$abc\n", "apilogin-verifier 1 -5 fleet $y$abc\n",
                "apilogin-verifier 1 100 fleet $1$abc\n", "apilogin-verifier 1 100 fl/et $y$abc\n",
                "apilogin-verifier 1 100 fleet $y$abc extra\n",
                "apilogin-verifier 1 100 fleet $y$a bc\n", "apilogin-verifier 1 100  fleet $y$abc\n",
                "apilogin-verifier 1 9999999999 fleet $y$abc\n",
                "apilogin-verifier 1 100 fleet $y$abc\nsecond line\n",
                "apilogin-verifier 1 100 fleet $y$ab\"c\n",
                "apilogin-verifier 1 99999999999999999999999 fleet $y$abc\n",
        };
        struct offline_verifier v = { .at = NOW, .provider = "fleet" }, w;
        char text[OFFLINE_FILE_MAX + 1], big[OFFLINE_FILE_MAX + 10];

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(offline_parse(bad[i], strlen(bad[i]), NOW, &w), -EBADMSG);
        assert_int_equal(offline_parse("apilogin-verifier 1 100 fleet $y$a\0c\n", 36, NOW, &w),
                         -EBADMSG);
        assert_int_equal(offline_parse(NULL, 0, NOW, &w), -EBADMSG);
        assert_int_equal(offline_hash("pw", 1, v.hash, sizeof(v.hash)), 0);
        assert_int_equal(offline_format(&v, text, sizeof(text)), 0);
        for (size_t n = 0; n < strlen(text); n++) /* truncated */
                assert_int_equal(offline_parse(text, n, NOW, &w), -EBADMSG);
        memset(big, 'a', sizeof(big));
        assert_int_equal(offline_parse(big, sizeof(big), NOW, &w), -EBADMSG);
}

static void write_file(const char *user, const char *text, size_t len)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/private/offline/%s", dir, user);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        fclose(f);
}

static void test_store(void **state)
{
        char prov[64], path[256];
        struct stat st;

        (void)state;
        assert_int_equal(offline_check(dir, "alice", "pw", 100, NOW, prov, sizeof(prov)), -ENOENT);
        assert_int_equal(offline_save(dir, "alice", "fleet", "pw", NOW - 10), 0);
        snprintf(path, sizeof(path), "%s/private/offline/alice", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        snprintf(path, sizeof(path), "%s/private/offline", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(offline_check(dir, "alice", "pw", 100, NOW, prov, sizeof(prov)), 0);
        assert_string_equal(prov, "fleet");
        assert_int_equal(offline_check(dir, "alice", "px", 100, NOW, NULL, 0), -EACCES);
        assert_int_equal(offline_check(dir, "alice", "pw", 5, NOW, NULL, 0), -ESTALE);
        assert_int_equal(offline_check(dir, "../x", "pw", 5, NOW, NULL, 0), -EINVAL);
        write_file("alice", "apilogin-verifier 1 100 fl", 26); /* truncated on disk */
        assert_int_equal(offline_check(dir, "alice", "pw", 100, NOW, NULL, 0), -EBADMSG);
        write_file("alice", "", 0);
        assert_int_equal(offline_check(dir, "alice", "pw", 100, NOW, NULL, 0), -EBADMSG);
        assert_int_equal(offline_delete(dir, "alice"), 0);
        assert_int_equal(offline_delete(dir, "alice"), 0);
        assert_int_equal(offline_check(dir, "alice", "pw", 100, NOW, NULL, 0), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_corrupt),
                cmocka_unit_test(test_store),
        };
        int r;

        snprintf(dir, sizeof(dir), "/tmp/test_offline.XXXXXX");
        if (!mkdtemp(dir))
                return 1;
        char cmd[128];

        r = cmocka_run_group_tests(tests, NULL, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)!system(cmd);
        return r;
}

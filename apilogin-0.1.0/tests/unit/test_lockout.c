/* test_lockout.c: the pure parts of apilogind's local lockout (daemon/lockout.c): counting,
 * the window, the persisted format (round trip through a real file), bounds, and a corrupt
 * file that must be tolerated line by line. */
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

#include "daemon/lockout.h"

#define WINDOW 900 /* 15 minutes */
#define T0 1700000000

static char tmpdir[] = "/tmp/test_lockout.XXXXXX";

static struct lockout *mem_table(void)
{
        struct lockout *l = NULL;

        assert_int_equal(lockout_new(NULL, NULL, &l), 0);
        return l;
}

static void test_counting(void **state)
{
        struct lockout *l = mem_table();

        assert_false(lockout_is_locked(l, "alice", 5, WINDOW, T0));
        for (int i = 1; i <= 4; i++) {
                assert_int_equal(lockout_fail(l, "alice", WINDOW, T0 + i), i);
                assert_false(lockout_is_locked(l, "alice", 5, WINDOW, T0 + i));
        }
        assert_int_equal(lockout_fail(l, "alice", WINDOW, T0 + 5), 5);
        assert_true(lockout_is_locked(l, "alice", 5, WINDOW, T0 + 6));
        assert_false(lockout_is_locked(l, "bob", 5, WINDOW, T0 + 6)); /* per name */
        assert_false(lockout_is_locked(l, "alice", 0, WINDOW, T0 + 6)); /* 0 = off */
        assert_int_equal(lockout_reset(l, "alice"), 0);
        assert_false(lockout_is_locked(l, "alice", 5, WINDOW, T0 + 7));
        assert_int_equal(lockout_count(l, "alice"), 0);
        assert_int_equal(lockout_reset(l, "nobody-here"), 0);
        lockout_free(l);
}

static void test_window(void **state)
{
        struct lockout *l = mem_table();

        for (int i = 0; i < 5; i++)
                lockout_fail(l, "alice", WINDOW, T0);
        assert_true(lockout_is_locked(l, "alice", 5, WINDOW, T0 + WINDOW - 1));
        /* The window starts at the first failure and closes WINDOW seconds later. */
        assert_false(lockout_is_locked(l, "alice", 5, WINDOW, T0 + WINDOW));
        /* A failure after the window starts a new count. */
        assert_int_equal(lockout_fail(l, "alice", WINDOW, T0 + WINDOW + 10), 1);
        assert_false(lockout_is_locked(l, "alice", 1 + 1, WINDOW, T0 + WINDOW + 11));
        assert_true(lockout_is_locked(l, "alice", 1, WINDOW, T0 + WINDOW + 11));
        /* A clock that went backwards does not lock anybody out forever. */
        assert_false(lockout_is_locked(l, "alice", 1, WINDOW, T0));
        lockout_free(l);
}

static void test_prune_expired(void **state)
{
        struct lockout *l = mem_table();

        lockout_fail(l, "old", WINDOW, T0);
        lockout_fail(l, "recent", WINDOW, T0 + WINDOW - 1);
        assert_int_equal(lockout_size(l), 2);
        /* Counting a failure drops the names whose window has closed. */
        lockout_fail(l, "new", WINDOW, T0 + WINDOW + 1);
        assert_int_equal(lockout_size(l), 2);
        assert_int_equal(lockout_count(l, "old"), 0);
        assert_int_equal(lockout_count(l, "recent"), 1);
        lockout_free(l);
}

static void test_bounded(void **state)
{
        struct lockout *l = mem_table();
        char name[32];

        for (int i = 0; i < LOCKOUT_MAX_NAMES + 5; i++) {
                snprintf(name, sizeof(name), "user%d", i);
                lockout_fail(l, name, 1000000, T0 + i);
        }
        assert_int_equal(lockout_size(l), LOCKOUT_MAX_NAMES);
        /* The oldest were dropped, the newest kept. */
        assert_int_equal(lockout_count(l, "user0"), 0);
        assert_int_equal(lockout_count(l, "user4"), 0);
        assert_int_equal(lockout_count(l, "user5"), 1);
        snprintf(name, sizeof(name), "user%d", LOCKOUT_MAX_NAMES + 4);
        assert_int_equal(lockout_count(l, name), 1);
        lockout_free(l);
}

static void test_format_roundtrip(void **state)
{
        struct lockout *l = mem_table(), *m = mem_table();
        char *text;

        lockout_fail(l, "alice", WINDOW, T0);
        lockout_fail(l, "alice", WINDOW, T0 + 1);
        lockout_fail(l, "bob.smith-2", WINDOW, T0 + 2);
        text = lockout_format(l);
        assert_non_null(text);
        assert_non_null(strstr(text, "alice 2 1700000000\n"));
        assert_non_null(strstr(text, "bob.smith-2 1 1700000002\n"));
        assert_int_equal(lockout_parse(m, text, strlen(text)), 0);
        assert_int_equal(lockout_count(m, "alice"), 2);
        assert_int_equal(lockout_count(m, "bob.smith-2"), 1);
        assert_int_equal(lockout_size(m), 2);
        free(text);
        lockout_free(l);
        lockout_free(m);
}

static void test_corrupt_lines(void **state)
{
        static const char text[] =
                "alice 3 1700000000\n"
                "garbage\n"
                "bob x 1700000000\n"
                "carol 2\n"
                "dave 1 -5\n"
                "erin 1 17 extra\n"
                "bad:name 1 1700000000\n"
                "frank 0 1700000000\n"
                "gina  1 1700000000\n"
                "\n"
                "hugo 99999999999999999999 1\n"
                "ivan 1 1700000001"; /* no final newline: still a line */
        struct lockout *l = mem_table();

        assert_int_equal(lockout_parse(l, text, sizeof(text) - 1), 9);
        assert_int_equal(lockout_size(l), 2);
        assert_int_equal(lockout_count(l, "alice"), 3);
        assert_int_equal(lockout_count(l, "ivan"), 1);
        lockout_free(l);
}

static void test_binary_garbage(void **state)
{
        struct lockout *l = mem_table();
        char junk[4096];

        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char)(i * 7 + 3);
        (void)lockout_parse(l, junk, sizeof(junk));
        assert_int_equal(lockout_size(l), 0);
        lockout_free(l);
}

static void test_file_roundtrip(void **state)
{
        struct lockout *l = NULL, *m = NULL;
        char dir[sizeof(tmpdir) + 16], path[sizeof(dir) + 16];
        struct stat st;

        snprintf(dir, sizeof(dir), "%s/private", tmpdir);
        snprintf(path, sizeof(path), "%s/lockout", dir);
        assert_int_equal(lockout_new(dir, "lockout", &l), 0);
        assert_int_equal(lockout_load(l), 0); /* missing file = empty table */
        assert_int_equal(lockout_fail(l, "alice", WINDOW, T0), 1);
        assert_int_equal(lockout_fail(l, "alice", WINDOW, T0 + 1), 2);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        assert_int_equal(lockout_new(dir, "lockout", &m), 0);
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_count(m, "alice"), 2);
        assert_int_equal(lockout_reset(m, "alice"), 0);
        lockout_free(m);

        assert_int_equal(lockout_new(dir, "lockout", &m), 0);
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_size(m), 0);
        lockout_free(m);
        lockout_free(l);
}

static void test_file_corrupt(void **state)
{
        char dir[sizeof(tmpdir) + 16], path[sizeof(dir) + 16];
        struct lockout *l = NULL;
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/corrupt", tmpdir);
        snprintf(path, sizeof(path), "%s/lockout", dir);
        assert_int_equal(mkdir(dir, 0700), 0);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("alice 5 1700000000\n\x01\x02\xff junk\nbob 2 1700000005\n", f);
        fclose(f);
        assert_int_equal(lockout_new(dir, "lockout", &l), 0);
        assert_int_equal(lockout_load(l), 1);
        assert_true(lockout_is_locked(l, "alice", 5, WINDOW, T0 + 10));
        assert_int_equal(lockout_count(l, "bob"), 2);
        lockout_free(l);
}

static int setup(void **state)
{
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[sizeof(tmpdir) + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_counting),
                cmocka_unit_test(test_window),
                cmocka_unit_test(test_prune_expired),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_format_roundtrip),
                cmocka_unit_test(test_corrupt_lines),
                cmocka_unit_test(test_binary_garbage),
                cmocka_unit_test(test_file_roundtrip),
                cmocka_unit_test(test_file_corrupt),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}

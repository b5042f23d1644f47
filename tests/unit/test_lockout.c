/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_lockout.c: apilogind's local lockout (daemon/lockout.c): the two thresholds (per
 * name and source, per name), the window and expiry, case folding, resistance to name
 * spraying when the table is full, and the journal (replay, truncation, corrupt records,
 * misalignment, compaction) through real files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "daemon/providers/registry.h"

#define WINDOW 900 /* 15 minutes */
#define T0 1700000000

static char tmpdir[] = "/tmp/test_lockout.XXXXXX";
static const struct lockout_limits LIM = { .source_max = 5, .source_window_s = WINDOW,
                                           .name_max = 20, .name_window_s = WINDOW };

static struct lockout *mem_table(void)
{
        struct lockout *l = NULL;

        assert_int_equal(lockout_new(NULL, NULL, &l), 0);
        return l;
}

static struct lockout *file_table(const char *sub)
{
        char dir[sizeof(tmpdir) + 32];
        struct lockout *l = NULL;

        snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
        assert_int_equal(lockout_new(dir, "lockout", &l), 0);
        return l;
}

static void journal_path(const char *sub, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s/lockout", tmpdir, sub);
}

static off_t file_size(const char *path)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        return st.st_size;
}

static void fail_n(struct lockout *l, const char *name, const char *rhost, int n, int64_t t)
{
        for (int i = 0; i < n; i++)
                assert_int_equal(lockout_fail(l, &LIM, name, rhost, t), 0);
}

/* ---- thresholds -------------------------------------------------------------------------- */

static void test_source_threshold(void **state)
{
        struct lockout *l = mem_table();

        for (int i = 1; i <= 4; i++) {
                assert_int_equal(lockout_fail(l, &LIM, "alice", "10.0.0.1", T0 + i), 0);
                assert_int_equal(lockout_check(l, &LIM, "alice", "10.0.0.1", T0 + i),
                                 LOCKOUT_OPEN);
        }
        assert_int_equal(lockout_fail(l, &LIM, "alice", "10.0.0.1", T0 + 5), 0);
        assert_int_equal(lockout_check(l, &LIM, "alice", "10.0.0.1", T0 + 6), LOCKOUT_SOURCE);
        /* The same name from another address, and another name from that address: open. */
        assert_int_equal(lockout_check(l, &LIM, "alice", "10.0.0.2", T0 + 6), LOCKOUT_OPEN);
        assert_int_equal(lockout_check(l, &LIM, "alice", NULL, T0 + 6), LOCKOUT_OPEN);
        assert_int_equal(lockout_check(l, &LIM, "bob", "10.0.0.1", T0 + 6), LOCKOUT_OPEN);
        assert_int_equal(lockout_count_source(l, "alice", "10.0.0.1"), 5);
        assert_int_equal(lockout_count_name(l, "alice"), 5);
        lockout_free(l);
}

static void test_name_threshold(void **state)
{
        struct lockout *l = mem_table();
        char rhost[32];

        /* Four addresses, five failures each: each locks itself, then the name locks. */
        for (int a = 0; a < 4; a++) {
                snprintf(rhost, sizeof(rhost), "192.0.2.%d", a);
                assert_int_equal(lockout_check(l, &LIM, "alice", rhost, T0), LOCKOUT_OPEN);
                fail_n(l, "alice", rhost, 5, T0 + a);
                assert_int_equal(lockout_check(l, &LIM, "alice", rhost, T0 + a),
                                 a < 3 ? LOCKOUT_SOURCE : LOCKOUT_NAME);
        }
        assert_int_equal(lockout_count_name(l, "alice"), 20);
        assert_int_equal(lockout_check(l, &LIM, "alice", "198.51.100.7", T0 + 10), LOCKOUT_NAME);
        assert_int_equal(lockout_check(l, &LIM, "alice", NULL, T0 + 10), LOCKOUT_NAME);
        assert_int_equal(lockout_check(l, &LIM, "bob", NULL, T0 + 10), LOCKOUT_OPEN);
        lockout_free(l);
}

static void test_local_source(void **state)
{
        struct lockout *l = mem_table();

        /* A request without rhost is the local source "". */
        fail_n(l, "alice", NULL, 3, T0);
        fail_n(l, "alice", "", 2, T0);
        assert_int_equal(lockout_count_source(l, "alice", NULL), 5);
        assert_int_equal(lockout_check(l, &LIM, "alice", "", T0 + 1), LOCKOUT_SOURCE);
        assert_int_equal(lockout_check(l, &LIM, "alice", "localhost", T0 + 1), LOCKOUT_OPEN);
        lockout_free(l);
}

static void test_long_rhost(void **state)
{
        struct lockout *l = mem_table();
        char a[300], b[300];

        /* Only the first LOCKOUT_RHOST_KEY_MAX bytes count: longer ones share a counter. */
        memset(a, 'h', sizeof(a) - 1);
        a[sizeof(a) - 1] = '\0';
        memcpy(b, a, sizeof(b));
        b[LOCKOUT_RHOST_KEY_MAX + 5] = 'x';
        fail_n(l, "alice", a, 5, T0);
        assert_int_equal(lockout_check(l, &LIM, "alice", b, T0 + 1), LOCKOUT_SOURCE);
        lockout_free(l);
}

static void test_reset(void **state)
{
        struct lockout *l = mem_table();

        fail_n(l, "alice", "A", 5, T0);
        fail_n(l, "alice", "B", 3, T0);
        assert_int_equal(lockout_count_name(l, "alice"), 8);
        /* A success from B resets (alice, B) and alice, but not the guesser at A. */
        assert_int_equal(lockout_reset(l, "alice", "B"), 0);
        assert_int_equal(lockout_count_source(l, "alice", "B"), 0);
        assert_int_equal(lockout_count_name(l, "alice"), 0);
        assert_int_equal(lockout_check(l, &LIM, "alice", "A", T0 + 1), LOCKOUT_SOURCE);
        assert_int_equal(lockout_reset(l, "nobody-here", NULL), 0);
        lockout_free(l);
}

static void test_off(void **state)
{
        const struct lockout_limits off = { 0 };
        const struct lockout_limits name_only = { .name_max = 2, .name_window_s = WINDOW };
        struct lockout *l = mem_table();

        assert_int_equal(lockout_fail(l, &off, "alice", "A", T0), 0);
        assert_int_equal(lockout_size(l), 0);
        assert_int_equal(lockout_check(l, &off, "alice", "A", T0), LOCKOUT_OPEN);
        assert_int_equal(lockout_fail(l, &name_only, "alice", "A", T0), 0);
        assert_int_equal(lockout_fail(l, &name_only, "alice", "B", T0), 0);
        assert_int_equal(lockout_size(l), 1);
        assert_int_equal(lockout_check(l, &name_only, "alice", "C", T0), LOCKOUT_NAME);
        assert_int_equal(lockout_fail(l, &LIM, "bad:name", "A", T0), -EINVAL);
        lockout_free(l);
}

static void test_limits_from_config(void **state)
{
        struct apilogin_config cfg = { .lockout_max = 5, .lockout_window_s = WINDOW };
        struct lockout_limits lim;

        lockout_limits_from_config(&cfg, &lim);
        assert_int_equal(lim.source_max, 5);
        assert_int_equal(lim.source_window_s, WINDOW);
        assert_int_equal(lim.name_max, 5 * LOCKOUT_USER_FACTOR);
        assert_int_equal(lim.name_window_s, WINDOW);
        cfg.lockout_max = 900;
        lockout_limits_from_config(&cfg, &lim);
        assert_int_equal(lim.name_max, 1000); /* capped */
        cfg.lockout_max = 0;
        lockout_limits_from_config(&cfg, &lim);
        assert_int_equal(lim.name_max, 0); /* off goes with it */
        cfg = (struct apilogin_config){ .lockout_max = 3, .lockout_window_s = 60,
                                        .lockout_user_set = true, .lockout_user_max = 7,
                                        .lockout_user_window_s = 3600 };
        lockout_limits_from_config(&cfg, &lim);
        assert_int_equal(lim.source_max, 3);
        assert_int_equal(lim.name_max, 7);
        assert_int_equal(lim.name_window_s, 3600);
}

/* ---- window, expiry, case ---------------------------------------------------------------- */

static void test_window(void **state)
{
        struct lockout *l = mem_table();

        fail_n(l, "alice", "A", 5, T0);
        assert_int_equal(lockout_check(l, &LIM, "alice", "A", T0 + WINDOW - 1), LOCKOUT_SOURCE);
        /* The window starts at the first failure and closes WINDOW seconds later. */
        assert_int_equal(lockout_check(l, &LIM, "alice", "A", T0 + WINDOW), LOCKOUT_OPEN);
        /* A failure after the window starts a new count. */
        assert_int_equal(lockout_fail(l, &LIM, "alice", "A", T0 + WINDOW + 10), 0);
        assert_int_equal(lockout_count_source(l, "alice", "A"), 1);
        assert_int_equal(lockout_count_name(l, "alice"), 1);
        /* A clock that went backwards does not lock anybody out forever. */
        fail_n(l, "alice", "A", 5, T0 + WINDOW + 10);
        assert_int_equal(lockout_check(l, &LIM, "alice", "A", T0), LOCKOUT_OPEN);
        lockout_free(l);
}

static void test_case_fold(void **state)
{
        static const char *const names[] = { "Alice", "ALICE", "alice", "aLiCe", "ALICE" };
        struct lockout *l = mem_table();
        char *k;

        assert_true(lockout_type_folds_case(&apilogin_driver_token_login.type));
        assert_true(lockout_type_folds_case(&apilogin_driver_login_check.type));
        assert_true(lockout_type_folds_case(&apilogin_driver_rest_login.type));
        assert_true(lockout_type_folds_case(&apilogin_driver_jsonrpc.type));
        assert_false(lockout_type_folds_case(&apilogin_driver_ws_auth.type));
        assert_true(lockout_type_folds_case(&apilogin_driver_oauth2_password.type));
        k = lockout_key("Bob.Smith-2", false);
        assert_string_equal(k, "Bob.Smith-2");
        free(k);
        for (size_t i = 0; i < 5; i++) {
                k = lockout_key(names[i], true);
                assert_non_null(k);
                assert_int_equal(lockout_fail(l, &LIM, k, "A", T0), 0);
                free(k);
        }
        /* One budget for every spelling. */
        assert_int_equal(lockout_count_source(l, "alice", "A"), 5);
        assert_int_equal(lockout_check(l, &LIM, "alice", "A", T0 + 1), LOCKOUT_SOURCE);
        assert_int_equal(lockout_size(l), 2);
        lockout_free(l);
}

static void test_spray(void **state)
{
        struct lockout *l = mem_table();
        char name[32];
        int full = 0;

        assert_int_equal(lockout_set_max_entries(l, 16), 0);
        fail_n(l, "victim", "A", 4, T0);
        /* Spray far more names than the table holds, all inside the window. */
        for (int i = 0; i < 200; i++) {
                snprintf(name, sizeof(name), "spray%d", i);
                full += lockout_fail(l, &LIM, name, "B", T0 + 1 + i) == LOCKOUT_TABLE_FULL;
        }
        assert_true(full > 150);
        assert_int_equal(lockout_size(l), 16);
        assert_int_equal(lockout_count_source(l, "victim", "A"), 4);
        assert_int_equal(lockout_count_name(l, "victim"), 4);
        /* The victim's counters keep counting: the 5th failure still locks (victim, A). */
        assert_int_equal(lockout_fail(l, &LIM, "victim", "A", T0 + 300), 0);
        assert_int_equal(lockout_check(l, &LIM, "victim", "A", T0 + 301), LOCKOUT_SOURCE);
        /* From a new source only the name's counter can count; it still does. */
        assert_int_equal(lockout_fail(l, &LIM, "victim", "C", T0 + 302), LOCKOUT_TABLE_FULL);
        assert_int_equal(lockout_count_name(l, "victim"), 6);
        /* Names never counted are not locked either. */
        assert_int_equal(lockout_check(l, &LIM, "spray199", "B", T0 + 303), LOCKOUT_OPEN);
        /* Once the windows have closed, the expired counters (only they) make room. */
        assert_int_equal(lockout_fail(l, &LIM, "newcomer", "D", T0 + 3 * WINDOW), 0);
        assert_int_equal(lockout_count_name(l, "newcomer"), 1);
        assert_int_equal(lockout_size(l), 2);
        assert_int_equal(lockout_set_max_entries(l, 100), -EBUSY);
        lockout_free(l);
}

static void test_expired_only_evicted(void **state)
{
        struct lockout *l = mem_table();

        assert_int_equal(lockout_set_max_entries(l, 4), 0);
        fail_n(l, "old", "A", 1, T0);                    /* 2 counters, expire at T0+W */
        fail_n(l, "recent", "A", 1, T0 + WINDOW - 1);    /* 2 counters, live for long */
        /* Full: at T0 + WINDOW the old ones are expired and make room, the recent stay. */
        assert_int_equal(lockout_fail(l, &LIM, "new", "A", T0 + WINDOW), 0);
        assert_int_equal(lockout_count_name(l, "old"), 0);
        assert_int_equal(lockout_count_name(l, "recent"), 1);
        assert_int_equal(lockout_count_name(l, "new"), 1);
        assert_int_equal(lockout_size(l), 4);
        lockout_free(l);
}

/* ---- the journal --------------------------------------------------------------------------- */

static void test_journal_roundtrip(void **state)
{
        char path[sizeof(tmpdir) + 64], dir[sizeof(tmpdir) + 64];
        struct lockout *l = file_table("rt"), *m;
        struct stat st;

        assert_int_equal(lockout_load(l), 0); /* missing journal = empty table */
        fail_n(l, "alice", "A", 3, T0);
        fail_n(l, "bob", NULL, 1, T0 + 5);
        journal_path("rt", path, sizeof(path));
        snprintf(dir, sizeof(dir), "%s/rt", tmpdir);
        /* O(1) per failure: two fixed-size records appended, nothing rewritten. */
        assert_int_equal(file_size(path), 8 * LOCKOUT_RECORD_SIZE);
        assert_int_equal(lockout_journal_records(l), 8);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        m = file_table("rt");
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_count_source(m, "alice", "A"), 3);
        assert_int_equal(lockout_count_name(m, "alice"), 3);
        assert_int_equal(lockout_count_source(m, "bob", ""), 1);
        assert_int_equal(lockout_size(m), 4);
        /* It goes on counting where it stopped, and a reset is journaled too. */
        fail_n(m, "alice", "A", 2, T0 + 6);
        assert_int_equal(lockout_check(m, &LIM, "alice", "A", T0 + 7), LOCKOUT_SOURCE);
        assert_int_equal(lockout_reset(m, "bob", NULL), 0);
        lockout_free(m);
        m = file_table("rt");
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_check(m, &LIM, "alice", "A", T0 + 8), LOCKOUT_SOURCE);
        assert_int_equal(lockout_count_name(m, "bob"), 0);
        assert_int_equal(lockout_size(m), 2);
        lockout_free(m);
        lockout_free(l);
}

static void write_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void *read_all(const char *path, size_t *len)
{
        char *buf;
        int fd = open(path, O_RDONLY);

        assert_true(fd >= 0);
        *len = (size_t)file_size(path);
        buf = malloc(*len + 1);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, *len), (ssize_t)*len);
        close(fd);
        return buf;
}

static void test_journal_truncated(void **state)
{
        char path[sizeof(tmpdir) + 64];
        struct lockout *l = file_table("trunc"), *m;

        journal_path("trunc", path, sizeof(path));
        fail_n(l, "alice", "A", 3, T0);
        fail_n(l, "bob", "A", 1, T0);
        lockout_free(l);
        /* A torn last record (bob's source counter, written last) is skipped. */
        assert_int_equal(truncate(path, 8 * LOCKOUT_RECORD_SIZE - 100), 0);
        m = file_table("trunc");
        assert_int_equal(lockout_load(m), 1);
        assert_int_equal(lockout_count_source(m, "alice", "A"), 3);
        assert_int_equal(lockout_count_name(m, "bob"), 1);
        assert_int_equal(lockout_count_source(m, "bob", "A"), 0);
        /* The next write rewrites the journal whole and aligned. */
        fail_n(m, "carol", "A", 1, T0 + 1);
        assert_int_equal(file_size(path), 5 * LOCKOUT_RECORD_SIZE);
        lockout_free(m);
        m = file_table("trunc");
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_size(m), 5);
        assert_int_equal(lockout_count_source(m, "alice", "A"), 3);
        lockout_free(m);
}

static void test_journal_corrupt(void **state)
{
        char path[sizeof(tmpdir) + 64];
        struct lockout *l = file_table("corrupt"), *m;
        unsigned char *data, *shifted;
        size_t len;

        journal_path("corrupt", path, sizeof(path));
        fail_n(l, "alice", "A", 1, T0);  /* records 0, 1 */
        fail_n(l, "bob", "A", 1, T0);    /* records 2, 3 */
        fail_n(l, "carol", "A", 1, T0);  /* records 4, 5 */
        lockout_free(l);
        data = read_all(path, &len);
        /* A flipped bit in bob's name record: its checksum fails, it alone is skipped. */
        data[2 * LOCKOUT_RECORD_SIZE + 30] ^= 0x01;
        write_file(path, data, len);
        m = file_table("corrupt");
        assert_int_equal(lockout_load(m), 1);
        assert_int_equal(lockout_count_name(m, "alice"), 1);
        assert_int_equal(lockout_count_name(m, "bob"), 0);
        assert_int_equal(lockout_count_source(m, "bob", "A"), 1);
        assert_int_equal(lockout_count_name(m, "carol"), 1);
        lockout_free(m);
        /* Misaligned: 3 junk bytes in front; the reader realigns on the next record. */
        data[2 * LOCKOUT_RECORD_SIZE + 30] ^= 0x01;
        shifted = malloc(len + 3);
        assert_non_null(shifted);
        memcpy(shifted, "\x01\x02\x03", 3);
        memcpy(shifted + 3, data, len);
        write_file(path, shifted, len + 3);
        m = file_table("corrupt");
        assert_int_equal(lockout_load(m), 1);
        assert_int_equal(lockout_size(m), 6);
        lockout_free(m);
        free(shifted);
        free(data);
}

static void test_replay_garbage(void **state)
{
        static const char old_format[] = "alice 5 1700000000\nbob 2 1700000005\n";
        struct lockout *l = mem_table();
        unsigned char junk[64 * LOCKOUT_RECORD_SIZE];
        uint32_t x = 12345;

        for (size_t i = 0; i < sizeof(junk); i++) {
                x = x * 1103515245u + 12345u;
                junk[i] = (unsigned char)(x >> 16);
        }
        /* Random bytes, some with the magic in front: nothing applied, no crash. */
        for (size_t i = 0; i < sizeof(junk); i += 97)
                memcpy(junk + i, "ALK1", 4);
        assert_true(lockout_replay(l, junk, sizeof(junk)) >= 1);
        assert_int_equal(lockout_size(l), 0);
        assert_int_equal(lockout_replay(l, junk, 7), 1);
        assert_int_equal(lockout_replay(l, "", 0), 0);
        /* The previous text format is not a journal: skipped (its counters are forgotten). */
        assert_int_equal(lockout_replay(l, old_format, sizeof(old_format) - 1), 1);
        assert_int_equal(lockout_size(l), 0);
        lockout_free(l);
}

static void test_compaction(void **state)
{
        char path[sizeof(tmpdir) + 64];
        struct lockout *l = file_table("compact"), *m;
        size_t peak = 0;

        journal_path("compact", path, sizeof(path));
        /* One name failing over and over: every failure appends, the live table is 2. */
        for (int i = 0; i < LOCKOUT_COMPACT_MIN; i++) {
                assert_int_equal(lockout_fail(l, &LIM, "alice", "A", T0 + i), 0);
                if (lockout_journal_records(l) > peak)
                        peak = lockout_journal_records(l);
        }
        /* It was rewritten from the live table whenever stale records passed the bound. */
        assert_true(peak <= LOCKOUT_COMPACT_MIN + 2);
        assert_true(lockout_journal_records(l) < LOCKOUT_COMPACT_MIN);
        assert_int_equal(file_size(path),
                         (off_t)lockout_journal_records(l) * LOCKOUT_RECORD_SIZE);
        m = file_table("compact");
        assert_int_equal(lockout_load(m), 0);
        assert_int_equal(lockout_count_source(m, "alice", "A"),
                         lockout_count_source(l, "alice", "A"));
        assert_int_equal(lockout_size(m), 2);
        lockout_free(m);
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
                cmocka_unit_test(test_source_threshold),
                cmocka_unit_test(test_name_threshold),
                cmocka_unit_test(test_local_source),
                cmocka_unit_test(test_long_rhost),
                cmocka_unit_test(test_reset),
                cmocka_unit_test(test_off),
                cmocka_unit_test(test_limits_from_config),
                cmocka_unit_test(test_window),
                cmocka_unit_test(test_case_fold),
                cmocka_unit_test(test_spray),
                cmocka_unit_test(test_expired_only_evicted),
                cmocka_unit_test(test_journal_roundtrip),
                cmocka_unit_test(test_journal_truncated),
                cmocka_unit_test(test_journal_corrupt),
                cmocka_unit_test(test_replay_garbage),
                cmocka_unit_test(test_compaction),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_refresh.c: the parts of apilogind's background renewal that can be checked without
 * an API: the scheduling rules (daemon/refresh.c: due time, backoff), the session record
 * and token.json fields they rely on (daemon/tokenfile.c: issued_ms, state, pid_start,
 * temp files a killed daemon leaves), the leader watch (daemon/pidwatch.c, on a real child
 * process and the real event loop) and the keyring (daemon/keyring.c; skipped where the
 * kernel keyring cannot be used). The end-to-end tests (tests/e2e/t_refresh.sh and the
 * others) cover the renewals themselves against refapi. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/http.h"
#include "daemon/keyring.h"
#include "daemon/loop.h"
#include "daemon/pidwatch.h"
#include "daemon/refresh.h"
#include "daemon/server.h"
#include "daemon/tokenfile.h"
#include "secure.h"

#define NOW 1700000000000LL /* unix ms */
#define LIFE 60000LL

/* refresh.c holds a config reference while a request is in flight; no request is sent
 * here, so the reference counting of server.c is not needed. */
struct cfg_box *cfg_box_ref(struct cfg_box *b)
{
        return b;
}

struct cfg_box *cfg_box_unref(struct cfg_box *b)
{
        return NULL;
}

static char tmpdir[] = "/tmp/test_refresh.XXXXXX";

/* ---- scheduling rules ------------------------------------------------------------------ */

static void test_due_window(void **state)
{
        /* A fresh token: a point in 75..85 % of its lifetime, spread by rnd. */
        assert_int_equal(refresh_due_ms(NOW, NOW + LIFE, NOW, 0.0), NOW + 45000);
        assert_int_equal(refresh_due_ms(NOW, NOW + LIFE, NOW, 0.5), NOW + 48000);
        assert_true(refresh_due_ms(NOW, NOW + LIFE, NOW, 0.999999) <= NOW + 51000);
        assert_true(refresh_due_ms(NOW, NOW + LIFE, NOW, 0.999999) > NOW + 50990);
        /* Half-way through its life (a restart): the same point, still ahead. */
        assert_int_equal(refresh_due_ms(NOW, NOW + LIFE, NOW + 30000, 0.0), NOW + 45000);
}

static void test_due_overdue(void **state)
{
        int64_t now = NOW + 50000, d;

        /* Past its window (a daemon that was down): soon, spread over <= 5 % of the life. */
        d = refresh_due_ms(NOW, NOW + LIFE, now, 0.0);
        assert_int_equal(d, now);
        d = refresh_due_ms(NOW, NOW + LIFE, now, 0.999);
        assert_true(d >= now && d <= now + LIFE / 20);
        /* A day-long token: the spread is capped. */
        d = refresh_due_ms(NOW, NOW + 86400000LL, NOW + 86000000LL, 0.999);
        assert_true(d <= NOW + 86000000LL + REFRESH_SPREAD_MAX_MS);
        /* Already expired: now, plus the spread. */
        d = refresh_due_ms(NOW, NOW + LIFE, NOW + 2 * LIFE, 0.5);
        assert_true(d >= NOW + 2 * LIFE && d <= NOW + 2 * LIFE + LIFE / 20);
}

static void test_due_issue_unknown(void **state)
{
        /* No issue time (an old record): the window is taken from what is left. */
        assert_int_equal(refresh_due_ms(0, NOW + 40000, NOW, 0.0), NOW + 30000);
        /* Issue time after the expiry (clock trouble): the same. */
        assert_int_equal(refresh_due_ms(NOW + 90000, NOW + 40000, NOW, 0.0), NOW + 30000);
}

static void test_extra_due(void **state)
{
        const int64_t life = 300000; /* tokenForHttpServer: 5 minutes */

        /* 60..80 % of the extra token's life after its issue, spread by rnd. */
        assert_int_equal(refresh_extra_due_ms(NOW, life, NOW, 0.0), NOW + 180000);
        assert_int_equal(refresh_extra_due_ms(NOW, life, NOW, 0.5), NOW + 210000);
        assert_true(refresh_extra_due_ms(NOW, life, NOW, 0.999999) <= NOW + 240000);
        assert_int_equal(refresh_extra_due_ms(NOW, life, NOW + 100000, 0.0), NOW + 180000);
        /* Overdue (a daemon restarted after 4 minutes), unknown or future issue: soon,
         * within 5 % of the life. */
        assert_int_equal(refresh_extra_due_ms(NOW, life, NOW + 250000, 0.0), NOW + 250000);
        assert_true(refresh_extra_due_ms(NOW, life, NOW + 250000, 0.999) <= NOW + 265000);
        assert_int_equal(refresh_extra_due_ms(0, life, NOW, 0.5), NOW + 7500);
        assert_int_equal(refresh_extra_due_ms(NOW + 1000, life, NOW, 0.0), NOW);
}

static void test_backoff(void **state)
{
        uint64_t prev = 0;

        assert_int_equal(refresh_backoff_ms(1, 0.5), REFRESH_BACKOFF_MIN_MS);
        assert_true(refresh_backoff_ms(1, 0.0) >= REFRESH_BACKOFF_MIN_MS * 8 / 10);
        assert_true(refresh_backoff_ms(1, 0.99) <= REFRESH_BACKOFF_MIN_MS * 12 / 10);
        /* Doubling even with the worst jitter, up to the cap. */
        for (unsigned n = 1; n < 9; n++) {
                uint64_t lo = refresh_backoff_ms(n + 1, 0.0), hi = refresh_backoff_ms(n, 0.999);

                assert_true(lo > hi);
                assert_true(lo > prev);
                prev = lo;
        }
        assert_true(refresh_backoff_ms(30, 0.999) <= REFRESH_BACKOFF_MAX_MS * 12 / 10);
        assert_true(refresh_backoff_ms(UINT32_MAX, 0.0) >= REFRESH_BACKOFF_MAX_MS * 8 / 10);
}

/* ---- lanes: turns per provider ---------------------------------------------------------- */

static void test_lanes(void **state)
{
        struct refresh_lane l = { 0 };
        struct refresh_waiter w[4] = { 0 }, *x;

        /* Room: go at once, nobody queued. */
        assert_true(refresh_lane_admit(&l, &w[0]));
        assert_null(w[0].lane);
        assert_int_equal(l.n_waiting, 0);
        /* Full: the waiters queue in order; a full lane lets none go. */
        l.in_flight = REFRESH_LANE_MAX;
        for (int i = 0; i < 4; i++)
                assert_false(refresh_lane_admit(&l, &w[i]));
        assert_int_equal(l.n_waiting, 4);
        assert_null(refresh_lane_next(&l));
        /* One leaves the middle of the queue (its user logged out). */
        refresh_lane_leave(&w[1]);
        assert_null(w[1].lane);
        assert_int_equal(l.n_waiting, 3);
        refresh_lane_leave(&w[1]); /* not waiting: a no-op */
        assert_int_equal(l.n_waiting, 3);
        /* A place frees: first come, first served, one per place. */
        l.in_flight--;
        x = refresh_lane_next(&l);
        assert_ptr_equal(x, &w[0]);
        assert_null(x->lane);
        l.in_flight++;
        assert_null(refresh_lane_next(&l));
        /* Room again, but waiters are there first: a newcomer queues behind them. */
        l.in_flight = 0;
        assert_false(refresh_lane_admit(&l, &w[1]));
        assert_ptr_equal(refresh_lane_next(&l), &w[2]);
        assert_ptr_equal(refresh_lane_next(&l), &w[3]);
        assert_ptr_equal(refresh_lane_next(&l), &w[1]);
        assert_null(refresh_lane_next(&l));
        assert_int_equal(l.n_waiting, 0);
        assert_null(l.head);
        assert_null(l.tail);
}

/* ---- records and token files ----------------------------------------------------------- */

static struct apilogin_config *test_cfg(void)
{
        static struct apilogin_config cfg;

        cfg = (struct apilogin_config){ .run_dir = tmpdir, .group = "apilogin-users",
                                        .uid_min = 200000, .uid_max = 299999 };
        return &cfg;
}

static struct user_state *test_user(void)
{
        struct user_state *u = calloc(1, sizeof(*u));

        assert_non_null(u);
        u->name = strdup("alice");
        u->uid = getuid() ? getuid() : 4242;
        u->has_token = true;
        u->tok.token = strdup("0123456789abcdef0123456789abcdef");
        u->tok.refresh = strdup("feedfacefeedfacefeedfacefeedface01234567");
        u->tok.provider = strdup("fleet");
        u->tok.endpoint = strdup("https://id.example.com/v1/login_check");
        u->tok.expires_at = NOW / 1000 + 60;
        u->tok.issued_ms = NOW;
        u->sess = calloc(1, sizeof(*u->sess));
        assert_non_null(u->sess);
        u->n_sess = 1;
        memcpy(u->sess[0].id, "00112233445566778899aabbccddeeff", SESSION_ID_LEN + 1);
        u->sess[0].service = strdup("login");
        u->sess[0].pid = 1234;
        u->sess[0].pid_start = 987654321;
        u->sess[0].opened_at = NOW / 1000;
        return u;
}

static char *slurp(const char *path)
{
        static char buf[8192];
        int fd = open(path, O_RDONLY);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n >= 0);
        buf[n] = '\0';
        return buf;
}

static void test_record_round_trip(void **state)
{
        struct user_state *u = test_user(), *v = NULL;
        char path[4096];

        u->tok.expired = true;
        assert_int_equal(record_save(test_cfg(), u), 0);
        snprintf(path, sizeof(path), "%s/sessions/alice.json", tmpdir);
        assert_int_equal(record_parse(slurp(path), strlen(slurp(path)), "alice", &v), 0);
        assert_int_equal(v->tok.issued_ms, NOW);
        assert_true(v->tok.expired);
        assert_string_equal(v->tok.refresh, u->tok.refresh);
        assert_int_equal(v->n_sess, 1);
        assert_int_equal(v->sess[0].pid_start, 987654321);
        assert_false(v->sess[0].watched);
        assert_null(v->job);
        user_state_free(v);
        /* Records from before these fields load with them unknown. */
        static const char old[] = "{\"user\":\"alice\",\"uid\":4242,\"token\":{\"token\":\"t\","
                                  "\"refresh\":null,\"expires_at\":5,\"provider\":\"p\","
                                  "\"endpoint\":\"e\",\"role\":null,\"extra\":{}},"
                                  "\"sessions\":[{\"id\":\"00112233445566778899aabbccddeeff\","
                                  "\"service\":\"login\",\"tty\":null,\"rhost\":null,"
                                  "\"pid\":1,\"opened_at\":1}]}";
        assert_int_equal(record_parse(old, strlen(old), "alice", &v), 0);
        assert_int_equal(v->tok.issued_ms, 0);
        assert_false(v->tok.expired);
        assert_int_equal(v->sess[0].pid_start, 0);
        user_state_free(v);
        /* A state that is neither valid nor expired is a bad record. */
        static const char bad[] = "{\"user\":\"alice\",\"uid\":4242,\"token\":{\"token\":\"t\","
                                  "\"expires_at\":5,\"provider\":\"p\",\"endpoint\":\"e\","
                                  "\"state\":\"zombie\"},\"sessions\":[]}";
        assert_int_equal(record_parse(bad, strlen(bad), "alice", &v), -EBADMSG);
        user_state_free(u);
}

/* Records and token files are written into directories kept open across writes; one that
 * was removed (and made again) under the daemon is found again. Integers print as
 * integers. */
static void test_record_dirs_cached(void **state)
{
        struct user_state *u = test_user();
        char cmd[8192], path[4096];

        assert_int_equal(record_save(test_cfg(), u), 0);
        snprintf(path, sizeof(path), "%s/sessions/alice.json", tmpdir);
        assert_non_null(strstr(slurp(path), "\"issued_ms\":1700000000000,"));
        assert_non_null(strstr(slurp(path), "\"uid\":"));
        assert_non_null(strstr(slurp(path), "\"pid_start\":987654321,"));
        assert_non_null(strstr(slurp(path), "\"expires_at\":1700000060,"));
        snprintf(cmd, sizeof(cmd), "rm -rf %s/sessions", tmpdir);
        assert_int_equal(system(cmd), 0);
        u->tok.issued_ms = NOW + 1;
        assert_int_equal(record_save(test_cfg(), u), 0);
        assert_non_null(strstr(slurp(path), "\"issued_ms\":1700000000001,"));
        /* Removed and made again by someone else: the new directory gets the record. */
        snprintf(cmd, sizeof(cmd), "rm -rf %s/sessions && mkdir -m 700 %s/sessions", tmpdir,
                 tmpdir);
        assert_int_equal(system(cmd), 0);
        u->tok.issued_ms = NOW + 2;
        assert_int_equal(record_save(test_cfg(), u), 0);
        assert_non_null(strstr(slurp(path), "\"issued_ms\":1700000000002,"));
        if (getuid() == 0) {
                /* The token files' users directory, the same way. */
                assert_int_equal(tokenfile_write(test_cfg(), u, path, sizeof(path)), 0);
                snprintf(cmd, sizeof(cmd), "rm -rf %s/users", tmpdir);
                assert_int_equal(system(cmd), 0);
                apilogin_erase_free(u->tok.token);
                u->tok.token = strdup("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
                assert_int_equal(tokenfile_update(test_cfg(), u), 0);
                assert_string_equal(slurp(path), "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
                assert_int_equal(tokenfile_remove(test_cfg(), u->uid), 0);
        }
        user_state_free(u);
}

static void test_token_json_state(void **state)
{
        struct user_state *u;
        char path[4096], dir[4096];
        struct stat st;

        if (getuid() != 0) {
                skip(); /* token files go to the apilogin group: needs root (chown) */
                return;
        }
        u = test_user();
        assert_int_equal(tokenfile_write(test_cfg(), u, path, sizeof(path)), 0);
        assert_string_equal(slurp(path), u->tok.token);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        snprintf(dir, sizeof(dir), "%s/users/%u/token.json", tmpdir, u->uid);
        assert_non_null(strstr(slurp(dir), "\"state\":\"valid\""));
        /* A renewal rewrites both files; an expired token says so. */
        apilogin_erase_free(u->tok.token);
        u->tok.token = strdup("ffffffffffffffffffffffffffffffff");
        u->tok.expired = true;
        assert_int_equal(tokenfile_update(test_cfg(), u), 0);
        assert_string_equal(slurp(path), "ffffffffffffffffffffffffffffffff");
        assert_non_null(strstr(slurp(dir), "\"state\":\"expired\""));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, u->uid);
        assert_int_equal(tokenfile_remove(test_cfg(), u->uid), 0);
        /* tokenfile_update remakes a directory that went away. */
        assert_int_equal(tokenfile_update(test_cfg(), u), 0);
        assert_string_equal(slurp(path), "ffffffffffffffffffffffffffffffff");
        assert_int_equal(tokenfile_remove(test_cfg(), u->uid), 0);
        user_state_free(u);
}

static void touch(const char *dir, const char *name)
{
        char path[8192];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        close(fd);
}

static bool exists(const char *dir, const char *name)
{
        char path[8192];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, F_OK) == 0;
}

static void drop_user(void *userdata, struct user_state *u)
{
        user_state_free(u);
}

static void test_stale_temps(void **state)
{
        struct user_state *u;
        char path[4096], udir[4096], sdir[4096];

        if (getuid() != 0) {
                skip(); /* as test_token_json_state */
                return;
        }
        u = test_user();
        assert_int_equal(tokenfile_write(test_cfg(), u, path, sizeof(path)), 0);
        snprintf(udir, sizeof(udir), "%s/users/%u", tmpdir, u->uid);
        snprintf(sdir, sizeof(sdir), "%s/sessions", tmpdir);
        assert_int_equal(mkdir(sdir, 0700) == 0 || errno == EEXIST, 1);
        touch(udir, ".token.0123abcd");
        touch(udir, ".token.json.7fffffff");
        touch(udir, ".notours.01234567");
        touch(sdir, ".alice.json.0a0b0c0d");
        touch(sdir, ".keyring");
        assert_int_equal(tokenfile_tidy(test_cfg(), u->uid), 0);
        assert_false(exists(udir, ".token.0123abcd"));
        assert_false(exists(udir, ".token.json.7fffffff"));
        assert_true(exists(udir, ".notours.01234567"));
        assert_true(exists(udir, "token"));
        assert_true(exists(udir, "token.json"));
        unsigned bad = 0;
        assert_int_equal(record_load_all(test_cfg(), drop_user, NULL, &bad), 0);
        assert_false(exists(sdir, ".alice.json.0a0b0c0d"));
        assert_true(exists(sdir, ".keyring"));
        assert_int_equal(tokenfile_remove(test_cfg(), u->uid), 0);
        user_state_free(u);
}

/* ---- pidwatch --------------------------------------------------------------------------- */

static uint32_t dead_pid;
static unsigned dead_calls;

static void on_dead(void *userdata, uint32_t pid)
{
        dead_pid = pid;
        dead_calls++;
}

static pid_t spawn_sleeper(void)
{
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        return pid;
}

static void test_pidwatch(void **state)
{
        struct apilogin_http *h = NULL;
        struct loop *l = NULL;
        struct pidwatch *w = NULL;
        unsigned pids, fds;
        pid_t child = spawn_sleeper();
        uint64_t start;

        assert_int_equal(apilogin_http_new(&h), 0);
        assert_int_equal(loop_new(h, &l), 0);
        assert_int_equal(pidwatch_new(l, on_dead, NULL, &w), 0);
        start = pidwatch_start_time((uint32_t)child);
        assert_true(start > 0);
        assert_int_equal(pidwatch_start_time((uint32_t)getpid()) > 0, 1);
        assert_int_equal(pidwatch_add(w, (uint32_t)child, start), 0);
        assert_int_equal(pidwatch_add(w, (uint32_t)child, 0), 0); /* a second session */
        assert_int_equal(pidwatch_add(w, (uint32_t)child, start + 1), -ESRCH);
        assert_int_equal(pidwatch_add(w, 0, 0), -EINVAL);
        pidwatch_count(w, &pids, &fds);
        assert_int_equal(pids, 1);
        pidwatch_remove(w, (uint32_t)child);   /* one reference left */
        assert_int_equal(loop_iterate(l, 50), 0);
        assert_int_equal(dead_calls, 0);
        kill(child, SIGKILL);
        for (int i = 0; i < 100 && dead_calls == 0; i++)
                assert_int_equal(loop_iterate(l, 50), 0);
        assert_int_equal(dead_calls, 1);
        assert_int_equal(dead_pid, (uint32_t)child);
        pidwatch_count(w, &pids, &fds);
        assert_int_equal(pids, 0);
        /* A process that is gone (here: a zombie reaped now) is refused. */
        waitpid(child, NULL, 0);
        assert_int_equal(pidwatch_add(w, (uint32_t)child, start), -ESRCH);
        pidwatch_free(w);
        loop_free(l);
        apilogin_http_free(h);
}

/* ---- keyring ----------------------------------------------------------------------------- */

static void test_keyring(void **state)
{
        struct keyring *k = NULL, *k2 = NULL;
        char *s = NULL;
        int r = keyring_open(tmpdir, &k);

        if (r == -ENOSYS || r == -EPERM || r == -EACCES) {
                skip();
                return;
        }
        assert_int_equal(r, 0);
        assert_int_equal(keyring_fetch(k, "alice", &s), -ENOKEY);
        assert_int_equal(keyring_remove(k, "alice"), 0);
        r = keyring_store(k, "alice", "alice-pw", 60);
        if (r == -EDQUOT || r == -EACCES || r == -EPERM) {
                keyring_free(k);
                skip();
                return;
        }
        assert_int_equal(r, 0);
        assert_int_equal(keyring_store(k, "bad/name", "x", 60), -EINVAL);
        assert_int_equal(keyring_store(k, "bob", "", 60), -EINVAL);
        assert_int_equal(keyring_fetch(k, "alice", &s), 0);
        assert_string_equal(s, "alice-pw");
        s = apilogin_erase_free(s);
        assert_int_equal(keyring_store(k, "alice", "new-pw", 60), 0); /* replaces */
        assert_int_equal(keyring_touch(k, "alice", 120), 0);
        /* Another handle on the same run_dir (a restarted daemon) finds the key. */
        assert_int_equal(keyring_open(tmpdir, &k2), 0);
        assert_int_equal(keyring_fetch(k2, "alice", &s), 0);
        assert_string_equal(s, "new-pw");
        s = apilogin_erase_free(s);
        assert_int_equal(keyring_remove(k2, "alice"), 0);
        assert_int_equal(keyring_fetch(k, "alice", &s), -ENOKEY);
        assert_int_equal(keyring_touch(k, "alice", 60), -ENOKEY);
        assert_int_equal(keyring_discard(k2), 0);
        keyring_free(k2);
        keyring_free(k);
}

/* ---- main ---------------------------------------------------------------------------------- */

static int setup(void **state)
{
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_due_window),
                cmocka_unit_test(test_due_overdue),
                cmocka_unit_test(test_due_issue_unknown),
                cmocka_unit_test(test_extra_due),
                cmocka_unit_test(test_backoff),
                cmocka_unit_test(test_lanes),
                cmocka_unit_test(test_record_round_trip),
                cmocka_unit_test(test_record_dirs_cached),
                cmocka_unit_test(test_token_json_state),
                cmocka_unit_test(test_stale_temps),
                cmocka_unit_test(test_pidwatch),
                cmocka_unit_test(test_keyring),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, setup, teardown);
}

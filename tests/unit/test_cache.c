/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_cache.c: the NSS cache end to end below the module: written by daemon/cache_write.c
 * (directly and through daemon/users.c) into a temp dir, read back through core/cache.c;
 * replacement detection; buffer packing stepped from 0 with a canary; corrupt and
 * truncated files; the uid rule, role_groups, users_file and provisional entries (meant to
 * run under ASan/UBSan too). */
#include "config.h"

#include <dirent.h>
#include <pwd.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"
#include "conf.h"
#include "macro.h"
#include "names.h"
#include "daemon/cache_write.h"
#include "daemon/localusers.h"
#include "daemon/users.h"
#include "uidhash.h"

#define GROUP "apilogin-users"
#define GID 237497u

struct fixture {
        char dir[64];
        char path[128];
        struct localusers *local; /* the host's /etc/passwd, as the daemon reads it */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        strcpy(f->dir, "/tmp/apilogin-test-cache-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, APILOGIN_CACHE_NAME);
        if (localusers_open("/etc/passwd", &f->local) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        DIR *d = opendir(f->dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
        if (d)
                closedir(d);
        (void)rmdir(f->dir);
        localusers_free(f->local);
        free(f);
        return 0;
}

static const struct apilogin_cache_pw three[] = {
        { "alice", 266183, "Alice Example", "/home/alice", "/bin/bash" },
        { "bob", 211092, NULL, "/home/bob", "/bin/sh" },
        { "carol.c@example.com", 250001, "Carol, Room 1", "/home/carol.c@example.com",
          "/bin/zsh" },
};

static char *fl[] = { "sshd", "login" };

static int write_users(const char *dir, const struct apilogin_cache_pw *u, size_t n,
                       uint32_t flags)
{
        struct apilogin_cache_removed rm = { "dave", 222222 };
        struct apilogin_cache_content c = {
                .uid_min = 200000, .uid_max = 299999, .flags = flags,
                .group = GROUP, .gid = GID, .users = u, .n_users = n,
                .removed = &rm, .n_removed = 1,
                .first_login_from = fl, .n_first_login_from = 2,
        };

        return apilogin_cache_write(dir, &c);
}

static void test_roundtrip(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        struct stat st;

        assert_int_equal(write_users(f->dir, three, 3, APILOGIN_CACHE_F_ENUMERATE), 0);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        assert_int_equal(c.meta.uid_min, 200000);
        assert_int_equal(c.meta.uid_max, 299999);
        assert_int_equal(c.meta.gid, GID);
        assert_int_equal(c.meta.n_users, 3);
        assert_int_equal(c.meta.flags, APILOGIN_CACHE_F_ENUMERATE);
        assert_int_equal(c.meta.fl_len, sizeof("sshd") + sizeof("login"));
        assert_memory_equal(c.meta.first_login_from, "sshd\0login\0", c.meta.fl_len);
        assert_false(apilogin_cache_is_stale(&c));

        assert_int_equal(apilogin_cache_find_pw_name(&c, "alice", &pw), 1);
        assert_int_equal(pw.uid, 266183);
        assert_int_equal(pw.gid, GID);
        assert_string_equal(pw.name, "alice");
        assert_string_equal(pw.gecos, "Alice Example");
        assert_string_equal(pw.dir, "/home/alice");
        assert_string_equal(pw.shell, "/bin/bash");
        assert_int_equal(apilogin_cache_find_pw_uid(&c, 211092, &pw), 1);
        assert_string_equal(pw.name, "bob");
        assert_string_equal(pw.gecos, "");
        assert_int_equal(apilogin_cache_find_pw_name(&c, "carol.c@example.com", &pw), 1);
        assert_int_equal(pw.uid, 250001);

        assert_int_equal(apilogin_cache_find_pw_name(&c, "nobody-here", &pw), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "", &pw), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "alic", &pw), 0);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, 266184, &pw), 0);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, 0, &pw), 0);
        /* the removed user is not a passwd entry */
        assert_int_equal(apilogin_cache_find_pw_name(&c, "dave", &pw), 0);

        assert_int_equal(apilogin_cache_find_gr_name(&c, GROUP, &gr), 1);
        assert_int_equal(gr.gid, GID);
        assert_int_equal(gr.n_mem, 3);
        assert_memory_equal(gr.mem, "alice\0bob\0carol.c@example.com\0", gr.mem_len);
        assert_int_equal(apilogin_cache_find_gr_gid(&c, GID, &gr), 1);
        assert_string_equal(gr.name, GROUP);
        assert_int_equal(apilogin_cache_find_gr_gid(&c, GID + 1, &gr), 0);
        assert_int_equal(apilogin_cache_find_gr_name(&c, "alice", &gr), 0);
        apilogin_cache_close(&c);
        apilogin_cache_close(&c); /* twice is fine */
}

static void test_enumerate(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        unsigned cur = APILOGIN_CACHE_CURSOR_START, seen = 0, at;
        const uint8_t *k, *d;
        size_t kl, dl;

        assert_int_equal(write_users(f->dir, three, 3, 0), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        while (apilogin_cache_next_pw(&c, &cur, &pw) == 1)
                seen |= 1u << (pw.uid == 266183 ? 0 : pw.uid == 211092 ? 1 : 2);
        assert_int_equal(seen, 7);
        /* replay: the same cursor gives the same record */
        cur = APILOGIN_CACHE_CURSOR_START;
        assert_int_equal(apilogin_cache_next_pw(&c, &cur, &pw), 1);
        at = cur;
        assert_int_equal(apilogin_cache_next_pw(&c, &cur, &pw), 1);
        cur = at;
        {
                struct apilogin_pwrec again;

                assert_int_equal(apilogin_cache_next_pw(&c, &cur, &again), 1);
                assert_int_equal(again.uid, pw.uid);
        }
        cur = APILOGIN_CACHE_CURSOR_START;
        assert_int_equal(apilogin_cache_next_gr(&c, &cur, &gr), 1);
        assert_int_equal(gr.gid, GID);
        assert_int_equal(apilogin_cache_next_gr(&c, &cur, &gr), 0);
        cur = APILOGIN_CACHE_CURSOR_START;
        assert_int_equal(apilogin_cache_next_raw(&c, &cur, 'R', &k, &kl, &d, &dl), 1);
        assert_int_equal(kl, 4);
        assert_memory_equal(k, "dave", 4);
        assert_int_equal(dl, 4);
        assert_int_equal(apilogin_cache_get_u32(d), 222222);
        apilogin_cache_close(&c);
}

static void test_stale_remap(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        ino_t first;

        assert_int_equal(write_users(f->dir, three, 2, 0), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        first = c.ino;
        assert_int_equal(apilogin_cache_find_pw_name(&c, "carol.c@example.com", &pw), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_true(c.ino == first);

        /* The daemon rewrites: the old mapping sees its stale byte flip at once. */
        assert_int_equal(write_users(f->dir, three, 3, 0), 0);
        assert_true(apilogin_cache_is_stale(&c));
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_false(apilogin_cache_is_stale(&c));
        assert_true(c.ino != first);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "carol.c@example.com", &pw), 1);
        apilogin_cache_close(&c);
}

static int copy_file(const char *from, const char *to)
{
        char buf[65536];
        int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ssize_t n;

        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t)n) != n)
                        break;
        close(in);
        close(out);
        return in >= 0 && out >= 0 ? 0 : -1;
}

static void test_replaced_by_other(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        char other[160];

        snprintf(other, sizeof(other), "%s/other.cdb", f->dir);
        assert_int_equal(write_users(f->dir, three, 3, 0), 0);
        assert_int_equal(copy_file(f->path, other), 0);
        assert_int_equal(write_users(f->dir, three, 1, 0), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "bob", &pw), 0);

        /* Someone else renames a file in place: no stale mark, caught by the re-stat. */
        assert_int_equal(rename(other, f->path), 0);
        assert_false(apilogin_cache_is_stale(&c));
        c.checked_ns -= 2000000000ULL; /* as if two seconds had passed */
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "bob", &pw), 1);

        /* The file disappears: unavailable, and the mapping is dropped. */
        assert_int_equal(unlink(f->path), 0);
        c.checked_ns -= 2000000000ULL;
        assert_int_equal(apilogin_cache_refresh(&c, f->path), -ENOENT);
        assert_false(c.mapped);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), -ENOENT);
        apilogin_cache_close(&c);
}

static void put_file(const char *path, const void *data, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void test_missing(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;

        assert_int_equal(apilogin_cache_open(&c, f->path), -ENOENT);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "alice", &pw), -EBADMSG);
        char target[160];

        /* a symlink to a file of ours (never a system file: this may run as root) */
        snprintf(target, sizeof(target), "%s/target", f->dir);
        put_file(target, "untouched", 9);
        assert_int_equal(symlink(target, f->path), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), -ELOOP);
        /* the writer never writes through the symlink either */
        assert_int_equal(write_users(f->dir, three, 3, 0), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        apilogin_cache_close(&c);
        {
                char buf[16] = "";
                int fd = open(target, O_RDONLY);

                assert_true(fd >= 0);
                assert_int_equal(read(fd, buf, sizeof(buf)), 9);
                assert_string_equal(buf, "untouched");
                close(fd);
        }
}

static void test_write_rejects(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache_pw bad[] = {
                { "alice", 1, "A:B", "/home/alice", "/bin/sh" },
                { "bad name", 2, NULL, "/home/x", "/bin/sh" },
                { "bob", 3, NULL, "/home/b\nob", "/bin/sh" },
        };

        static const uint32_t g[APILOGIN_CACHE_EXTRA_GIDS_MAX + 1];
        struct apilogin_cache_extra bad_x[] = {
                { NULL, 0, "ad:min" }, { g, ELEMENTSOF(g), NULL }, { NULL, 1, NULL },
        };
        struct apilogin_cache_removed bad_r = { "", 5 };
        struct apilogin_cache_content c = {
                .uid_min = 1000, .uid_max = 2000, .group = GROUP, .gid = GID,
                .users = three, .n_users = 1,
        };

        for (size_t i = 0; i < 3; i++)
                assert_int_equal(write_users(f->dir, &bad[i], 1, 0), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(bad_x); i++) {
                c.extra = &bad_x[i];
                assert_int_equal(apilogin_cache_write(f->dir, &c), -EINVAL);
        }
        c.extra = NULL;
        c.reserved = &bad_r;
        c.n_reserved = 1;
        assert_int_equal(apilogin_cache_write(f->dir, &c), -EINVAL);
        c.n_reserved = 0;
        c.home_template = "/home/%u";
        assert_int_equal(apilogin_cache_write(f->dir, &c), -EINVAL); /* shell missing */
        assert_int_equal(access(f->path, F_OK), -1); /* nothing written */
}

/* Assert every string of pw lies inside buf[0..len). */
static void assert_in(const char *p, const char *buf, size_t len)
{
        assert_true(p >= buf && p + strlen(p) < buf + len);
}

static void test_pack_passwd_steps(void **state)
{
        struct apilogin_pwrec r = {
                .uid = 266183, .gid = GID, .name = "alice", .name_len = 5,
                .gecos = "Alice Example", .gecos_len = 13, .dir = "/home/alice",
                .dir_len = 11, .shell = "/bin/bash", .shell_len = 9,
        };
        const size_t need = 6 + 2 + 14 + 12 + 10;
        struct passwd pw, sentinel;
        bool fitted = false;

        memset(&sentinel, 0xa5, sizeof(sentinel));
        assert_int_equal(apilogin_cache_pack_passwd(&r, &pw, NULL, 100), -ERANGE);
        for (size_t len = 0; len <= need + 8; len++) {
                char *buf = malloc(len + 1);
                int k;

                assert_non_null(buf);
                buf[len] = (char)0x5a; /* canary just past buflen */
                pw = sentinel;
                k = apilogin_cache_pack_passwd(&r, &pw, buf, len);
                assert_int_equal((unsigned char)buf[len], 0x5a);
                if (len < need) {
                        assert_int_equal(k, -ERANGE);
                        assert_memory_equal(&pw, &sentinel, sizeof(pw));
                } else {
                        assert_int_equal(k, 0);
                        fitted = true;
                        assert_string_equal(pw.pw_name, "alice");
                        assert_string_equal(pw.pw_passwd, "*");
                        assert_string_equal(pw.pw_gecos, "Alice Example");
                        assert_string_equal(pw.pw_dir, "/home/alice");
                        assert_string_equal(pw.pw_shell, "/bin/bash");
                        assert_int_equal(pw.pw_uid, 266183);
                        assert_int_equal(pw.pw_gid, GID);
                        assert_in(pw.pw_name, buf, len);
                        assert_in(pw.pw_passwd, buf, len);
                        assert_in(pw.pw_gecos, buf, len);
                        assert_in(pw.pw_dir, buf, len);
                        assert_in(pw.pw_shell, buf, len);
                }
                free(buf);
        }
        assert_true(fitted);
}

static void test_pack_group_steps(void **state)
{
        static const char mem[] = "alice\0bob\0carol\0";
        struct apilogin_grrec r = {
                .gid = GID, .n_mem = 3, .name = GROUP, .name_len = strlen(GROUP),
                .mem = mem, .mem_len = sizeof(mem) - 1,
        };
        struct group gr, sentinel;
        size_t first_ok = 0;

        memset(&sentinel, 0xa5, sizeof(sentinel));
        /* 4 pointers (+ up to 7 bytes of alignment), the name, "x" and the members */
        for (size_t len = 0; len <= 200; len++) {
                char *raw = malloc(len + 1 + 8);
                char *buf = raw + 1 + (len % 8); /* vary the alignment of the buffer */
                int k;

                assert_non_null(raw);
                buf[len] = (char)0x5a;
                gr = sentinel;
                k = apilogin_cache_pack_group(&r, &gr, buf, len);
                assert_int_equal((unsigned char)buf[len], 0x5a);
                if (k < 0) {
                        assert_int_equal(k, -ERANGE);
                        assert_memory_equal(&gr, &sentinel, sizeof(gr));
                        assert_int_equal(first_ok, 0);
                } else {
                        if (!first_ok)
                                first_ok = len;
                        assert_string_equal(gr.gr_name, GROUP);
                        assert_string_equal(gr.gr_passwd, "x");
                        assert_int_equal(gr.gr_gid, GID);
                        assert_string_equal(gr.gr_mem[0], "alice");
                        assert_string_equal(gr.gr_mem[1], "bob");
                        assert_string_equal(gr.gr_mem[2], "carol");
                        assert_null(gr.gr_mem[3]);
                        assert_true((uintptr_t)gr.gr_mem % _Alignof(char *) == 0);
                        assert_true((char *)gr.gr_mem >= buf &&
                                    (char *)(gr.gr_mem + 4) <= buf + len);
                        assert_in(gr.gr_name, buf, len);
                        assert_in(gr.gr_passwd, buf, len);
                        for (int i = 0; i < 3; i++)
                                assert_in(gr.gr_mem[i], buf, len);
                }
                free(raw);
        }
        assert_true(first_ok >= 4 * sizeof(char *) + sizeof(GROUP) + 2 + sizeof(mem) - 1);
        assert_true(first_ok <= 4 * sizeof(char *) + 7 + sizeof(GROUP) + 2 + sizeof(mem) - 1);
}

/* Open whatever is at path and exercise every read path; only crashes matter. */
static void poke(const char *path)
{
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        unsigned cur = APILOGIN_CACHE_CURSOR_START;
        char buf[512];
        struct passwd p;
        struct group g;
        int n = 0;

        if (apilogin_cache_open(&c, path) < 0)
                return;
        if (apilogin_cache_find_pw_name(&c, "alice", &pw) > 0)
                (void)apilogin_cache_pack_passwd(&pw, &p, buf, sizeof(buf));
        (void)apilogin_cache_find_pw_uid(&c, 211092, &pw);
        if (apilogin_cache_find_gr_name(&c, GROUP, &gr) > 0)
                (void)apilogin_cache_pack_group(&gr, &g, buf, sizeof(buf));
        (void)apilogin_cache_find_gr_gid(&c, GID, &gr);
        while (n++ < 100000 && apilogin_cache_next_pw(&c, &cur, &pw) > 0)
                (void)apilogin_cache_pack_passwd(&pw, &p, buf, sizeof(buf));
        cur = APILOGIN_CACHE_CURSOR_START;
        while (n++ < 200000 && apilogin_cache_next_gr(&c, &cur, &gr) > 0)
                (void)apilogin_cache_pack_group(&gr, &g, buf, sizeof(buf));
        apilogin_cache_close(&c);
}

static void test_corrupt(void **state)
{
        struct fixture *f = *state;
        static const size_t sizes[] = { 0, 1, 100, 2047, 2048, 2056, 3000, 10000 };
        uint8_t *good, *bad;
        struct stat st;
        int fd;

        srand(12345);
        bad = malloc(10000);
        assert_non_null(bad);
        for (size_t s = 0; s < ELEMENTSOF(sizes); s++)
                for (int rep = 0; rep < 20; rep++) {
                        for (size_t i = 0; i < sizes[s]; i++)
                                bad[i] = (uint8_t)rand();
                        put_file(f->path, bad, sizes[s]);
                        poke(f->path);
                }

        /* A real small cache, truncated at every length, then with each byte flipped. */
        assert_int_equal(write_users(f->dir, three, 3, 0), 0);
        fd = open(f->path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        good = malloc((size_t)st.st_size);
        assert_non_null(good);
        assert_int_equal(read(fd, good, (size_t)st.st_size), st.st_size);
        close(fd);
        for (size_t len = 0; len < (size_t)st.st_size; len++) {
                put_file(f->path, good, len);
                poke(f->path);
        }
        for (size_t i = 0; i < (size_t)st.st_size; i++) {
                memcpy(bad, good, (size_t)st.st_size);
                bad[i] ^= (uint8_t)(1u << (i % 8));
                put_file(f->path, bad, (size_t)st.st_size);
                poke(f->path);
                bad[i] = 0xff;
                put_file(f->path, bad, (size_t)st.st_size);
                poke(f->path);
        }
        free(good);
        free(bad);
}

static struct apilogin_config *test_config(const char *dir, uint32_t min, uint32_t max)
{
        static char *fl_v[] = { "sshd" };
        struct apilogin_config *cfg = calloc(1, sizeof(*cfg));

        assert_non_null(cfg);
        cfg->uid_min = min;
        cfg->uid_max = max;
        cfg->home = "/home/%u";
        cfg->shell = "/bin/bash";
        cfg->group = GROUP;
        cfg->state_dir = (char *)dir;
        cfg->first_login_from = (struct apilogin_strv){ fl_v, 1 };
        return cfg;
}

static void test_users(void **state)
{
        struct fixture *f = *state;
        struct apilogin_config *cfg = test_config(f->dir, 200000, 299999);
        struct apilogin_users *u = NULL;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        const struct apilogin_user *e;
        uint32_t uid = 0, uid2 = 0;

        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_int_equal(users_count(u), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0); /* written at open */
        assert_int_equal(c.meta.gid, apilogin_uid_hash(GROUP, 200000, 299999, 0));

        assert_int_equal(users_record_login(u, "alice", "Alice: \"A\"\nX", "admin", "fleet", &uid),
                         0);
        assert_int_equal(uid, apilogin_uid_hash("alice", 200000, 299999, 0));
        assert_true(apilogin_cache_is_stale(&c));
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, uid, &pw), 1);
        assert_string_equal(pw.name, "alice");
        assert_string_equal(pw.gecos, "Alice  \"A\" X");
        assert_string_equal(pw.dir, "/home/alice");
        assert_string_equal(pw.shell, "/bin/bash");
        assert_int_equal(pw.gid, c.meta.gid);

        /* same gecos and role again: nothing the cache holds changed, no rewrite */
        assert_int_equal(users_record_login(u, "alice", "Alice: \"A\"\nX", "admin", "fleet", &uid2),
                         0);
        assert_int_equal(uid2, uid);
        assert_false(apilogin_cache_is_stale(&c));
        /* another role: the cache keeps the role, so it is rewritten */
        assert_int_equal(users_record_login(u, "alice", NULL, "user", "fleet", &uid2), 0);
        assert_true(apilogin_cache_is_stale(&c));
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        e = users_find(u, "alice");
        assert_non_null(e);
        assert_string_equal(e->gecos, "Alice  \"A\" X");
        assert_string_equal(e->role, "user");
        assert_string_equal(e->provider, "fleet");
        assert_true(e->last_login > 0);

        assert_int_equal(users_add(u, "bob", &uid2), 0);
        assert_int_equal(users_add(u, "bob", NULL), -EEXIST);
        assert_int_equal(users_add(u, "-bad", NULL), -EINVAL);
        assert_int_equal(users_record_login(u, "a:b", NULL, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(users_count(u), 2);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_gr_name(&c, GROUP, &gr), 1);
        assert_int_equal(gr.n_mem, 2);

        assert_int_equal(users_remove(u, "alice"), 0);
        assert_int_equal(users_remove(u, "alice"), -ENOENT);
        assert_null(users_find(u, "alice"));
        assert_non_null(users_find(u, "bob"));
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "alice", &pw), 0);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, uid2, &pw), 1);
        u = users_free(u);
        assert_null(u);

        /* reload from the cache: same users, same uids */
        cfg->home = "/srv/home/%u/x%u";
        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_int_equal(users_count(u), 1);
        e = users_at(u, 0);
        assert_string_equal(e->name, "bob");
        assert_int_equal(e->uid, uid2);
        assert_null(users_at(u, 1));
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_pw_name(&c, "bob", &pw), 1);
        assert_string_equal(pw.dir, "/srv/home/bob/xbob");
        users_free(u);
        apilogin_cache_close(&c);
        free(cfg);
}

/* Two names whose first hash attempt lands on the same uid in [min, min + 1], and a third
 * that lands on the other uid. */
static void colliding_names(uint32_t min, char a[16], char b[16], char c[16])
{
        uint32_t ua = 0;
        bool have_a = false, have_b = false, have_c = false;

        for (unsigned i = 0; i < 1000 && !(have_b && have_c); i++) {
                char n[16];
                uint32_t uid;

                snprintf(n, sizeof(n), "user%u", i);
                uid = apilogin_uid_hash(n, min, min + 1, 0);
                if (!have_a) {
                        strcpy(a, n);
                        ua = uid;
                        have_a = true;
                } else if (uid == ua && !have_b) {
                        strcpy(b, n);
                        have_b = true;
                } else if (uid != ua && !have_c) {
                        strcpy(c, n);
                        have_c = true;
                }
        }
        assert_true(have_b && have_c);
}

static void put_text(const char *path, const char *text)
{
        put_file(path, text, strlen(text));
}

/* The daemon's one reader of /etc/passwd sees an account added after it started (the file
 * changed), keeps what it read when the file becomes unreadable, and says so. */
static void test_localusers(void **state)
{
        struct fixture *f = *state;
        char path[160];
        struct localusers *lu = NULL;
        struct stat st;
        size_t n;

        snprintf(path, sizeof(path), "%s/passwd", f->dir);
        assert_int_equal(localusers_open(path, &lu), 0); /* missing: no account */
        assert_int_equal(localusers_has_name(lu, "root"), 0);
        put_text(path, "root:x:0:0:root:/root:/bin/bash\nzed:x:1500:1500::/home/zed:/bin/sh\n"
                       "zed2:x:1500:1500::/home/zed:/bin/sh\n");
        localusers_refresh(lu);
        assert_int_equal(localusers_has_name(lu, "zed"), 1);
        assert_int_equal(localusers_has_name(lu, "alice"), 0);
        assert_true(localusers_has(lu, "zed2", 1500));
        assert_false(localusers_has(lu, "zed", 0));
        assert_string_equal(localusers_by_uid(lu, 0), "root");
        assert_null(localusers_by_uid(lu, 1501));
        assert_non_null(localusers_all(lu, &n));
        assert_int_equal(n, 3);
        /* alice appears; the same size would hide it, the mtime and inode do not */
        assert_int_equal(stat(path, &st), 0);
        put_text(path, "root:x:0:0:root:/root:/bin/bash\nalice:x:1600:1600::/h:/bin/sh\n");
        localusers_refresh(lu);
        assert_int_equal(localusers_has_name(lu, "alice"), 1);
        assert_int_equal(localusers_has_name(lu, "zed"), 0);
        /* a directory where the file was: unreadable, the last set stays, absence unproven */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0700), 0);
        localusers_refresh(lu);
        assert_int_equal(localusers_has_name(lu, "alice"), 1);
        assert_true(localusers_has_name(lu, "bob") < 0);
        assert_int_equal(rmdir(path), 0);
        localusers_free(lu);
}

static void test_users_collisions(void **state)
{
        struct fixture *f = *state;
        /* uid 0 is root's in every /etc/passwd: no name can have it */
        struct apilogin_config *cfg = test_config(f->dir, 0, 0);
        struct apilogin_users *u = NULL;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        char a[16], b[16], third[16];
        uint32_t ua = 0, uc = 0, x;

        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_int_equal(users_add(u, "alice", NULL), -EADDRINUSE);
        assert_int_equal(users_check_new(u, "alice"), -EADDRINUSE);
        assert_int_equal(users_record_login(u, "alice", NULL, NULL, NULL, NULL), -EADDRINUSE);
        assert_int_equal(users_count(u), 0);
        /* the local account's uid is in the range: NSS learns it is taken */
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        assert_int_equal(apilogin_cache_uid_taken(&c, 0), 1);
        users_free(u);

        /* two names on one uid: the first keeps it, the second is refused, not moved */
        cfg->uid_min = 4000000000u;
        cfg->uid_max = 4000000001u;
        colliding_names(cfg->uid_min, a, b, third);
        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_int_equal(users_add(u, a, &ua), 0);
        assert_int_equal(users_check_new(u, a), 0);
        assert_int_equal(users_check_new(u, b), -EADDRINUSE);
        assert_int_equal(users_add(u, b, NULL), -EADDRINUSE);
        assert_int_equal(users_record_login(u, b, NULL, NULL, NULL, NULL), -EADDRINUSE);
        assert_null(users_find(u, b));
        assert_int_equal(users_add(u, third, &uc), 0);
        assert_true(ua != uc);

        /* a removed user's uid goes to nobody else, but back to the same name */
        assert_int_equal(users_remove(u, a), 0);
        assert_int_equal(users_check_new(u, b), -EADDRINUSE);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_uid_taken(&c, ua), 1);
        assert_int_equal(apilogin_cache_find_removed(&c, a, &x), 1);
        assert_int_equal(x, ua);
        users_free(u);
        assert_int_equal(users_open(cfg, f->local, &u), 0); /* remembered across a restart */
        assert_int_equal(users_check_new(u, b), -EADDRINUSE);
        assert_int_equal(users_record_login(u, a, NULL, NULL, NULL, &x), 0);
        assert_int_equal(x, ua);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_removed(&c, a, &x), 0);
        users_free(u);
        apilogin_cache_close(&c);
        free(cfg);
}

/* role_groups, the role kept across a restart, and users_file with pins and bad lines. */
static void test_users_roles_file(void **state)
{
        struct fixture *f = *state;
        struct apilogin_config *cfg = test_config(f->dir, 200000, 299999);
        struct apilogin_pair rg[] = { { "admin", "root" }, { "Ops", "root" },
                                      { "admin", "no-such-group-here" } };
        struct apilogin_users *u = NULL;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_extrec x;
        struct apilogin_pwrec pw;
        char path[128];
        static const char file[] = "# provisioned\n"
                                   "kim\n"
                                   "  lee   200777  # pinned\n"
                                   "\n"
                                   "bad:name\n"
                                   "root\n"
                                   "far 100\n"
                                   "two words 3\n"
                                   "kim\n"
                                   "moe 200777\n";
        uint32_t uid;

        snprintf(path, sizeof(path), "%s/users", f->dir);
        put_file(path, file, sizeof(file) - 1);
        cfg->users_file = path;
        cfg->role_groups = rg;
        cfg->n_role_groups = ELEMENTSOF(rg);
        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_int_equal(users_count(u), 2); /* kim and lee; moe's pin collides with lee */
        assert_int_equal(users_find(u, "kim")->uid, apilogin_uid_hash("kim", 200000, 299999, 0));
        assert_int_equal(users_find(u, "lee")->uid, 200777);
        assert_null(users_find(u, "moe"));
        assert_null(users_find(u, "far"));

        /* "Admin, ops" holds both roles: gid 0 once (the missing group is skipped) */
        assert_int_equal(users_record_login(u, "ann", NULL, "Admin, ops", "pbx", &uid), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_extra(&c, "ann", &x), 1);
        assert_int_equal(x.n_gids, 1);
        assert_int_equal(apilogin_extrec_gid(&x, 0), 0);
        assert_string_equal(x.role, "Admin, ops");
        assert_int_equal(apilogin_cache_find_extra(&c, "kim", &x), 0);
        users_free(u);

        /* after a restart the role is still there, and so are its groups */
        assert_int_equal(users_open(cfg, f->local, &u), 0);
        assert_string_equal(users_find(u, "ann")->role, "Admin, ops");
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_extra(&c, "ann", &x), 1);
        assert_int_equal(x.n_gids, 1);
        /* a role without a mapping keeps the role, no gids */
        assert_int_equal(users_record_login(u, "ann", NULL, "user", "pbx", &uid), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_find_extra(&c, "ann", &x), 1);
        assert_int_equal(x.n_gids, 0);
        assert_string_equal(x.role, "user");

        /* moe, whose pin collides, may still not log in under lee's uid */
        assert_int_equal(users_check_new(u, "moe"), -EADDRINUSE);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, 200777, &pw), 1);
        assert_string_equal(pw.name, "lee");
        users_free(u);

        /* an unreadable users_file is logged, not fatal */
        cfg->users_file = "/nonexistent/users";
        assert_int_equal(users_open(cfg, f->local, &u), 0);
        users_free(u);
        apilogin_cache_close(&c);
        free(cfg);
}

/* Provisional entries: only for names never seen, never on a taken uid, with the home
 * and shell of the 'T' record; and which programs may have them. */
static void test_provisional(void **state)
{
        struct fixture *f = *state;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec pw;
        struct passwd out;
        char home[64], buf[256];
        uint32_t hu = apilogin_uid_hash("newbie", 200000, 299999, 0);
        struct apilogin_cache_removed rm[] = { { "dave", 222222 } };
        struct apilogin_cache_removed lo[] = { { "localguy", hu } };
        static const uint32_t gids[] = { 27, 4 };
        struct apilogin_cache_extra xs[] = { { gids, 2, "admin" }, { NULL, 0, NULL },
                                             { NULL, 0, "" } };
        struct apilogin_cache_content cc = {
                .uid_min = 200000, .uid_max = 299999, .group = GROUP, .gid = GID,
                .users = three, .n_users = 3, .extra = xs, .removed = rm, .n_removed = 1,
                .first_login_from = fl, .n_first_login_from = 2,
                .home_template = "/home/%u/h%u", .shell = "/bin/sh",
        };
        struct apilogin_extrec x;

        assert_int_equal(apilogin_cache_write(f->dir, &cc), 0);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        assert_true(apilogin_cache_first_login_allowed(&c, "sshd"));
        assert_true(apilogin_cache_first_login_allowed(&c, "sshd-session"));
        assert_true(apilogin_cache_first_login_allowed(&c, "login"));
        assert_false(apilogin_cache_first_login_allowed(&c, "getent"));
        assert_false(apilogin_cache_first_login_allowed(&c, "ssh"));
        assert_false(apilogin_cache_first_login_allowed(&c, ""));

        assert_int_equal(apilogin_cache_provisional(&c, "newbie", home, sizeof(home), &pw), 1);
        assert_int_equal(pw.uid, hu);
        assert_int_equal(pw.gid, GID);
        assert_string_equal(pw.name, "newbie");
        assert_string_equal(pw.gecos, "");
        assert_string_equal(pw.dir, "/home/newbie/hnewbie");
        assert_string_equal(pw.shell, "/bin/sh");
        assert_int_equal(apilogin_cache_pack_passwd(&pw, &out, buf, sizeof(buf)), 0);
        assert_string_equal(out.pw_dir, "/home/newbie/hnewbie");
        assert_int_equal(apilogin_cache_provisional(&c, "newbie", home, 8, &pw), 0);
        /* removed names and invalid names get none */
        assert_int_equal(apilogin_cache_provisional(&c, "dave", home, sizeof(home), &pw), 0);
        assert_int_equal(apilogin_cache_provisional(&c, "a:b", home, sizeof(home), &pw), 0);
        assert_int_equal(apilogin_cache_uid_taken(&c, 222222), 1);
        assert_int_equal(apilogin_cache_uid_taken(&c, 266183), 1);
        assert_int_equal(apilogin_cache_uid_taken(&c, 266184), 0);

        assert_int_equal(apilogin_cache_find_extra(&c, "alice", &x), 1);
        assert_int_equal(x.n_gids, 2);
        assert_int_equal(apilogin_extrec_gid(&x, 0), 27);
        assert_int_equal(apilogin_extrec_gid(&x, 1), 4);
        assert_string_equal(x.role, "admin");
        assert_int_equal(apilogin_cache_find_extra(&c, "bob", &x), 0);
        assert_int_equal(apilogin_cache_find_extra(&c, "carol.c@example.com", &x), 1);
        assert_int_equal(x.n_gids, 0);

        /* a local account on the hash uid: no provisional entry */
        cc.reserved = lo;
        cc.n_reserved = 1;
        assert_int_equal(apilogin_cache_write(f->dir, &cc), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_provisional(&c, "newbie", home, sizeof(home), &pw), 0);
        /* without a 'T' record, or without first_login_from: none */
        cc.n_reserved = 0;
        cc.home_template = NULL;
        cc.n_first_login_from = 0;
        assert_int_equal(apilogin_cache_write(f->dir, &cc), 0);
        assert_int_equal(apilogin_cache_refresh(&c, f->path), 0);
        assert_int_equal(apilogin_cache_provisional(&c, "newbie", home, sizeof(home), &pw), 0);
        assert_false(apilogin_cache_first_login_allowed(&c, "sshd"));
        apilogin_cache_close(&c);

        /* the home template helper */
        assert_int_equal(apilogin_cache_expand_home("/h/%u", "ab", home, 6), 5);
        assert_string_equal(home, "/h/ab");
        assert_int_equal(apilogin_cache_expand_home("/h/%u", "ab", home, 5), -ERANGE);
        assert_int_equal(apilogin_cache_expand_home("%x%", "ab", home, 4), 3);
        assert_string_equal(home, "%x%");
        assert_int_equal(apilogin_cache_expand_home("", "ab", home, 0), -ERANGE);
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_users_10k(void **state)
{
        struct fixture *f = *state;
        struct apilogin_config *cfg = test_config(f->dir, 200000, 299999);
        struct apilogin_cache_pw *pw = calloc(10000, sizeof(*pw));
        char (*names)[16] = calloc(10000, sizeof(*names));
        struct apilogin_users *u = NULL;
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        struct apilogin_pwrec rec;
        double t0, t1, t2, t3;

        assert_non_null(pw);
        assert_non_null(names);
        for (unsigned i = 0; i < 10000; i++) {
                snprintf(names[i], sizeof(names[i]), "user%05u", i);
                pw[i] = (struct apilogin_cache_pw){ names[i], 200000 + i, "Some User",
                                                    "/home/x", "/bin/bash" };
        }
        t0 = now_ms();
        assert_int_equal(write_users(f->dir, pw, 10000, 0), 0);
        t1 = now_ms();
        assert_int_equal(users_open(cfg, f->local, &u), 0); /* load 10k + one full write */
        t2 = now_ms();
        assert_int_equal(users_count(u), 10000);
        assert_int_equal(users_add(u, "newcomer", NULL), 0); /* one full write */
        t3 = now_ms();
        print_message("# cache_write 10000 users: %.1f ms; users_open (load + write): %.1f ms;"
                      " users_add at 10000: %.1f ms\n", t1 - t0, t2 - t1, t3 - t2);
        assert_true(t3 - t2 < 1000);
        assert_int_equal(apilogin_cache_open(&c, f->path), 0);
        assert_int_equal(c.meta.n_users, 10001);
        assert_int_equal(apilogin_cache_find_pw_uid(&c, 209999, &rec), 1);
        assert_string_equal(rec.name, "user09999");
        apilogin_cache_close(&c);
        users_free(u);
        free(pw);
        free(names);
        free(cfg);
}

static void test_names(void **state)
{
        struct fixture *f = *state;
        char long_ok[256], too_long[257], pw[160];
        static const char lines[] = "root:x:0:0:root:/root:/bin/bash\n"
                                    "alice:x:1000:1000::/home/alice:/bin/sh\n"
                                    "broken line\nbob:x:1001:1001::/home/bob:/bin/sh";
        static const char *good[] = { "alice", "a", "Bob_2", "carol.c@example.com", "x-y",
                                      "DOMAIN+user", "a..b" };
        static const char *bad[] = { "", "-alice", ".alice", ".", "..", "a b", "a:b", "a/b",
                                     "a\\b", "a,b", "a\"b", "a'b", "a#b", "a\tb", "a\nb",
                                     "caf\xc3\xa9", "a\x7f" };

        memset(long_ok, 'a', 255);
        long_ok[255] = 0;
        memset(too_long, 'a', 256);
        too_long[256] = 0;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(apilogin_name_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(apilogin_name_valid(bad[i]));
        assert_false(apilogin_name_valid(NULL));
        assert_true(apilogin_name_valid(long_ok));
        assert_false(apilogin_name_valid(too_long));

        snprintf(pw, sizeof(pw), "%s/passwd", f->dir);
        put_file(pw, lines, sizeof(lines) - 1);
        assert_int_equal(apilogin_name_in_passwd(pw, "alice"), 1);
        assert_int_equal(apilogin_name_in_passwd(pw, "bob"), 1);
        assert_int_equal(apilogin_name_in_passwd(pw, "root"), 1);
        assert_int_equal(apilogin_name_in_passwd(pw, "ali"), 0);
        assert_int_equal(apilogin_name_in_passwd(pw, "alice:x"), 0);
        assert_int_equal(apilogin_name_in_passwd(pw, "broken line"), 0);
        assert_int_equal(apilogin_name_in_passwd(pw, "carol"), 0);
        assert_int_equal(apilogin_name_in_passwd(pw, ""), 0);
        assert_int_equal(apilogin_name_in_passwd("/nonexistent/passwd", "alice"), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enumerate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_remap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replaced_by_other, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_rejects, setup, teardown),
                cmocka_unit_test(test_pack_passwd_steps),
                cmocka_unit_test(test_pack_group_steps),
                cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_users, setup, teardown),
                cmocka_unit_test_setup_teardown(test_localusers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_users_collisions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_users_roles_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_provisional, setup, teardown),
                cmocka_unit_test_setup_teardown(test_users_10k, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

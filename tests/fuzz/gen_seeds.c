/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gen_seeds.c: writes the generated part of the seed corpora (run by
 * tests/fuzz/make_corpus.sh; the output is committed under tests/fuzz/corpus/):
 *   corpus/proto/  every request verb and a few replies, encoded by apilogin_proto_encode,
 *                  each behind fuzz_proto.c's direction byte;
 *   corpus/cache/  NSS cache files written by the daemon's own writer
 *                  (daemon/cache_write.c): empty, typical, with removed users, reserved
 *                  uids, templates and first_login_from.
 * Usage: gen_seeds OUTDIR */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "daemon/cache_write.h"
#include "proto.h"

static void write_file(const char *path, const void *p, size_t n)
{
        FILE *f = fopen(path, "wb");

        if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

static void proto_seed(const char *dir, const char *name, uint8_t dirbyte,
                       const struct apilogin_msg *m)
{
        uint8_t out[1 + APILOGIN_PROTO_MAX_MSG];
        char path[512];
        int n = apilogin_proto_encode(m, out + 1, sizeof(out) - 1);

        if (n < 0) {
                fprintf(stderr, "encode %s: %d\n", name, n);
                exit(1);
        }
        out[0] = dirbyte;
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        write_file(path, out, (size_t)n + 1);
}

/* fuzz_proto.c: dir byte even = request, type req_types[(b >> 1) % 11]; odd = reply. */
static void proto_seeds(const char *dir)
{
        static struct apilogin_msg m;

        m = (struct apilogin_msg){ .type = APILOGIN_REQ_AUTH, .user = "alice", .secret = "pw",
                                   .service = "sshd", .tty = "ssh", .rhost = "192.0.2.7",
                                   .provider = "fleet" };
        proto_seed(dir, "auth", 0 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REQ_ACCT, .user = "alice", .service = "sshd" };
        proto_seed(dir, "acct", 1 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REQ_OPEN, .user = "alice", .service = "login",
                                   .has_pid = true, .pid = 4242, .tty = "tty1" };
        proto_seed(dir, "open", 2 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REQ_CLOSE, .user = "alice",
                                   .session = "s-0123456789", .has_pid = true, .pid = 4242 };
        proto_seed(dir, "close", 3 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REQ_PING };
        proto_seed(dir, "ping", 4 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REQ_USER_ADD, .user = "bob" };
        proto_seed(dir, "user_add", 8 << 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REPLY, .has_outcome = true, .outcome = 0,
                                   .has_uid = true, .uid = 200001, .message = "welcome" };
        proto_seed(dir, "reply_auth", 1, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REPLY, .has_outcome = true, .outcome = 0,
                                   .session = "s-0123456789", .has_uid = true, .uid = 200001,
                                   .token_file = "/run/apilogin/tokens/200001/token.json" };
        proto_seed(dir, "reply_open", 3, &m);
        m = (struct apilogin_msg){ .type = APILOGIN_REPLY, .has_outcome = true, .outcome = 0,
                                   .text = "apilogind 0.1\nusers: 2\n" };
        proto_seed(dir, "reply_status", 5, &m);
}

static void cache_seed(const char *dir, const char *name, const struct apilogin_cache_content *c)
{
        char tmp[512], src[600], dst[600];

        (void)snprintf(tmp, sizeof(tmp), "%s/.gen", dir);
        (void)mkdir(tmp, 0755);
        if (apilogin_cache_write(tmp, c) < 0) {
                fprintf(stderr, "cache write %s failed\n", name);
                exit(1);
        }
        (void)snprintf(src, sizeof(src), "%s/" APILOGIN_CACHE_NAME, tmp);
        (void)snprintf(dst, sizeof(dst), "%s/%s", dir, name);
        if (rename(src, dst) < 0 || rmdir(tmp) < 0) {
                perror(dst);
                exit(1);
        }
}

static void cache_seeds(const char *dir)
{
        static const struct apilogin_cache_pw users[] = {
                { "alice", 200000, "Alice Liddell", "/home/alice", "/bin/bash" },
                { "bob", 200001, NULL, "/home/bob", "/bin/sh" },
                { "kiosk", 200002, "Kiosk", "/srv/kiosk", "/usr/sbin/nologin" },
        };
        static const uint32_t gids[] = { 27, 100 };
        static const struct apilogin_cache_extra extra[] = {
                { gids, 2, "admin" }, { NULL, 0, "" }, { gids + 1, 1, "user" },
        };
        static const struct apilogin_cache_removed removed[] = { { "gone", 200003 } };
        static const struct apilogin_cache_removed reserved[] = { { "localguy", 200004 } };
        static char *fl[] = { (char *)"sshd", (char *)"login" };
        struct apilogin_cache_content c = {
                .uid_min = 200000, .uid_max = 299999, .group = "apilogin-users", .gid = 4242,
        };

        cache_seed(dir, "empty", &c);
        c.users = users;
        c.n_users = 3;
        cache_seed(dir, "users", &c);
        c.flags = APILOGIN_CACHE_F_ENUMERATE;
        c.extra = extra;
        c.removed = removed;
        c.n_removed = 1;
        c.reserved = reserved;
        c.n_reserved = 1;
        c.first_login_from = fl;
        c.n_first_login_from = 2;
        c.home_template = "/home/%u";
        c.shell = "/bin/bash";
        cache_seed(dir, "full", &c);
}

int main(int argc, char **argv)
{
        char d[512];

        if (argc != 2) {
                fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
                return 2;
        }
        (void)snprintf(d, sizeof(d), "%s/proto", argv[1]);
        (void)mkdir(d, 0755);
        proto_seeds(d);
        (void)snprintf(d, sizeof(d), "%s/cache", argv[1]);
        (void)mkdir(d, 0755);
        cache_seeds(d);
        return 0;
}

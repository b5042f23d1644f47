/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_cache.c: libFuzzer target for the NSS cache reader (core/cache.c) on mutated cache
 * files: whatever the file holds (truncated, corrupt tables, lying lengths, missing NULs),
 * opening it and every lookup, enumeration and packing the NSS module does must return an
 * answer or an error, never crash the process that loaded the module.
 *
 * The input is written as a cache file and opened through the path, like the module does;
 * then a fixed set of names and ids (those of the seed files, tests/fuzz/gen_seeds.c) is
 * looked up, and both enumerations are walked. */
#include "config.h"

#include <pwd.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "fuzz_tmpfile.h"

#define ENUM_MAX 4096

static char buf[4096];
/* Every gid is read (so ASan sees each access); the sum only keeps the reads. */
static volatile uint32_t g_gid_sink;

static void use_pw(const struct apilogin_pwrec *pw)
{
        struct passwd p;

        if (strlen(pw->name) != pw->name_len || strlen(pw->gecos) != pw->gecos_len ||
            strlen(pw->dir) != pw->dir_len || strlen(pw->shell) != pw->shell_len)
                abort();
        (void)apilogin_cache_pack_passwd(pw, &p, buf, sizeof(buf));
        (void)apilogin_cache_pack_passwd(pw, &p, buf, 16); /* ERANGE path */
}

static void use_gr(const struct apilogin_grrec *gr)
{
        struct group g;

        if (strlen(gr->name) != gr->name_len)
                abort();
        (void)apilogin_cache_pack_group(gr, &g, buf, sizeof(buf));
        (void)apilogin_cache_pack_group(gr, &g, buf, 24);
}

static void lookups(struct apilogin_cache *c)
{
        static const char *names[] = { "alice", "bob", "kiosk", "apilogin-users", "gone",
                                       "nobody-here", "" };
        static const uint32_t ids[] = { 200000, 200001, 200002, 299999, 0, 150, 4242 };
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        struct apilogin_extrec ex;
        char home[256];
        uint32_t uid;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if (apilogin_cache_find_pw_name(c, names[i], &pw) == 1)
                        use_pw(&pw);
                if (apilogin_cache_find_gr_name(c, names[i], &gr) == 1)
                        use_gr(&gr);
                if (apilogin_cache_find_extra(c, names[i], &ex) == 1) {
                        if (ex.n_gids > APILOGIN_CACHE_EXTRA_GIDS_MAX)
                                abort();
                        for (uint32_t k = 0; k < ex.n_gids; k++)
                                g_gid_sink += apilogin_extrec_gid(&ex, k);
                        if (strlen(ex.role) != ex.role_len)
                                abort();
                }
                (void)apilogin_cache_find_removed(c, names[i], &uid);
                if (apilogin_cache_provisional(c, names[i], home, sizeof(home), &pw) == 1)
                        use_pw(&pw);
        }
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                if (apilogin_cache_find_pw_uid(c, ids[i], &pw) == 1)
                        use_pw(&pw);
                if (apilogin_cache_find_gr_gid(c, ids[i], &gr) == 1)
                        use_gr(&gr);
                (void)apilogin_cache_uid_taken(c, ids[i]);
        }
        (void)apilogin_cache_first_login_allowed(c, "sshd");
        (void)apilogin_cache_first_login_allowed(c, "sshd-session");
        (void)apilogin_cache_first_login_allowed(c, "login");
        (void)apilogin_cache_is_stale(c);
}

static void enumerate(struct apilogin_cache *c)
{
        struct apilogin_pwrec pw;
        struct apilogin_grrec gr;
        unsigned cur = APILOGIN_CACHE_CURSOR_START, prev;
        int n = 0;

        for (prev = cur; n < ENUM_MAX && apilogin_cache_next_pw(c, &cur, &pw) == 1; n++) {
                use_pw(&pw);
                if (cur <= prev)
                        abort(); /* a cursor that does not advance loops getpwent forever */
                prev = cur;
        }
        cur = APILOGIN_CACHE_CURSOR_START;
        for (prev = cur, n = 0; n < ENUM_MAX && apilogin_cache_next_gr(c, &cur, &gr) == 1; n++) {
                use_gr(&gr);
                if (cur <= prev)
                        abort();
                prev = cur;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct apilogin_cache c = APILOGIN_CACHE_INIT;
        const char *path;

        if (size > 1024 * 1024)
                return 0;
        path = fuzz_tmpfile("cache", data, size);
        if (apilogin_cache_refresh(&c, path) == 0) {
                lookups(&c);
                enumerate(&c);
        }
        apilogin_cache_close(&c);
        return 0;
}

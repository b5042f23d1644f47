/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_stress.c: threads resolve users through the NSS module while the cache is replaced
 * under them, the way a multithreaded server meets a daemon that writes the cache after
 * every login. Every lookup of a user present in every version of the file must succeed
 * with the right uid, and nothing may crash (a mapping unmapped under a reader would).
 * Usage: nss_stress MODULE THREADS REWRITES. Writes APILOGIN_STATEDIR/cache.cdb: run it
 * only inside the e2e tests' private mount namespace. Prints "lookups=N bad=N rewrites=N";
 * exit 0 when bad is 0. */
#include "config.h"

#include <dlfcn.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cache_write.h"

#define STABLE 8        /* users in every version of the file */
#define UID_MIN 200000u

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);

static pwnam_fn pwnam;
static volatile bool stop;
static unsigned long lookups[64], bad[64];

static void *reader(void *arg)
{
        unsigned id = (unsigned)(unsigned long)arg;
        char name[16], buf[1024];
        struct passwd pw;
        int err;

        for (unsigned i = 0; !stop; i++) {
                unsigned u = i % STABLE;

                snprintf(name, sizeof(name), "stable%u", u);
                if (pwnam(name, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS ||
                    pw.pw_uid != UID_MIN + u || strcmp(pw.pw_name, name) != 0)
                        bad[id]++;
                lookups[id]++;
        }
        return NULL;
}

/* Version v of the file: the stable users plus v % 50 others, so sizes keep changing. */
static int write_version(unsigned v)
{
        struct apilogin_cache_pw pw[STABLE + 50];
        char names[STABLE + 50][16];
        size_t n = 0;
        struct apilogin_cache_content c = {
                .uid_min = UID_MIN, .uid_max = 299999, .group = "apilogin-users",
                .gid = 250000, .users = pw,
        };

        for (unsigned i = 0; i < STABLE + v % 50; i++, n++) {
                snprintf(names[n], sizeof(names[n]), i < STABLE ? "stable%u" : "other%u", i);
                pw[n] = (struct apilogin_cache_pw){ names[n], UID_MIN + i, NULL, "/home/x",
                                                    "/bin/sh" };
        }
        c.n_users = n;
        return apilogin_cache_write(APILOGIN_STATEDIR, &c);
}

int main(int argc, char **argv)
{
        pthread_t t[64];
        unsigned nt, rewrites;
        unsigned long total = 0, nbad = 0;
        void *mod;

        if (argc != 4)
                return 2;
        nt = (unsigned)atoi(argv[2]);
        rewrites = (unsigned)atoi(argv[3]);
        if (nt < 1 || nt > 64 || !(mod = dlopen(argv[1], RTLD_NOW)) ||
            !(pwnam = (pwnam_fn)dlsym(mod, "_nss_apilogin_getpwnam_r")))
                return 2;
        if (write_version(0) < 0)
                return 1;
        for (unsigned i = 0; i < nt; i++)
                pthread_create(&t[i], NULL, reader, (void *)(unsigned long)i);
        for (unsigned v = 1; v <= rewrites; v++)
                if (write_version(v) < 0)
                        return 1;
        stop = true;
        for (unsigned i = 0; i < nt; i++) {
                pthread_join(t[i], NULL);
                total += lookups[i];
                nbad += bad[i];
        }
        printf("lookups=%lu bad=%lu rewrites=%u\n", total, nbad, rewrites);
        return nbad ? 1 : 0;
}

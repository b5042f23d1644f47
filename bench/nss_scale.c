/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nss_scale.c: the threaded and group rows of bench/nss_lookup. Threads measure their own
 * CPU time (CLOCK_THREAD_CPUTIME_ID) per lookup as well as the wall-clock total, so that
 * 8 threads on 2 cores show the cost of a lookup, not the time a thread waited for a core.
 * The "one mutex" rows wrap each call in a global mutex: the module's design before its
 * lookups became lock-free (1.3 to 3.2 us per lookup with 2 to 8 threads then). */
#include "config.h"

#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nss_scale.h"

#define RUN_NS 400000000ull /* each thread count runs for about 0.4 s */
#define NAMES 64

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);

/* One per thread, each on its own cache line: workers sharing a line would make the
 * benchmark's own counters the contention it measures. */
struct worker {
        pwnam_fn pwnam;
        bool serialise;
        unsigned n;
        pthread_t tid;
        unsigned long calls, bad;
        uint64_t cpu_ns;
} __attribute__((aligned(64)));

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile bool go, stop;

static uint64_t clock_ns(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
        struct worker *w = arg;
        char names[NAMES][16], buf[1024];
        struct passwd pw;
        uint64_t c0;
        unsigned long calls = 0, bad = 0; /* counted here, stored once at the end */
        int err;

        for (unsigned i = 0; i < NAMES; i++)
                snprintf(names[i], sizeof(names[i]), "user%05u",
                         (unsigned)(((uint64_t)i * 2654435761u) % w->n));
        while (!go)
                ;
        c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        while (!stop) {
                for (unsigned i = 0; i < NAMES; i++) {
                        enum nss_status s;

                        if (w->serialise)
                                pthread_mutex_lock(&big_lock);
                        s = w->pwnam(names[i], &pw, buf, sizeof(buf), &err);
                        if (w->serialise)
                                pthread_mutex_unlock(&big_lock);
                        bad += s != NSS_STATUS_SUCCESS;
                }
                calls += NAMES;
        }
        w->calls = calls;
        w->bad = bad;
        w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        return NULL;
}

/* Total lookups per second with t threads; *ret_cpu_ns: mean thread CPU ns per lookup. */
static double run_threads(pwnam_fn pwnam, bool serialise, unsigned n, unsigned t,
                          double *ret_cpu_ns)
{
        struct worker w[8] = { 0 };
        unsigned long calls = 0, bad = 0;
        uint64_t cpu = 0, t0, t1;

        go = stop = false;
        for (unsigned i = 0; i < t; i++) {
                w[i] = (struct worker){ .pwnam = pwnam, .serialise = serialise, .n = n };
                pthread_create(&w[i].tid, NULL, work, &w[i]);
        }
        t0 = clock_ns(CLOCK_MONOTONIC);
        go = true;
        while (clock_ns(CLOCK_MONOTONIC) - t0 < RUN_NS)
                usleep(10000);
        stop = true;
        for (unsigned i = 0; i < t; i++) {
                pthread_join(w[i].tid, NULL);
                calls += w[i].calls;
                bad += w[i].bad;
                cpu += w[i].cpu_ns;
        }
        t1 = clock_ns(CLOCK_MONOTONIC);
        if (bad)
                fprintf(stderr, "nss_scale: %lu lookups failed\n", bad);
        *ret_cpu_ns = calls ? (double)cpu / (double)calls : 0;
        return calls ? (double)calls * 1e9 / (double)(t1 - t0) : 0;
}

void nss_scale_threads(void *mod, unsigned n)
{
        static const unsigned threads[] = { 1, 2, 4, 8 };
        pwnam_fn pwnam = (pwnam_fn)dlsym(mod, "_nss_apilogin_getpwnam_r");
        double base[2] = { 0, 0 };

        if (!pwnam)
                return;
        printf("# %u users, %ld cores: getpwnam_r hits from several threads at once\n", n,
               sysconf(_SC_NPROCESSORS_ONLN));
        printf("%-30s %7s %12s %8s %14s\n", "design", "threads", "lookups/s", "vs 1",
               "cpu ns/lookup");
        for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
                        double cpu, rate = run_threads(pwnam, s == 1, n, threads[i], &cpu);

                        if (i == 0)
                                base[s] = rate;
                        printf("%-30s %7u %12.0f %7.2fx %14.0f\n",
                               s ? "one mutex (the old design)" : "apilogin (lock-free hits)",
                               threads[i], rate, base[s] > 0 ? rate / base[s] : 0, cpu);
                        fflush(stdout);
                }
        }
}

static double per_call(int op, void *mod, const char *name, gid_t gid)
{
        grnam_fn grnam = (grnam_fn)dlsym(mod, "_nss_apilogin_getgrnam_r");
        grgid_fn grgid = (grgid_fn)dlsym(mod, "_nss_apilogin_getgrgid_r");
        initgr_fn initgr = (initgr_fn)dlsym(mod, "_nss_apilogin_initgroups_dyn");
        size_t len = 1024 * 1024;
        char *buf = malloc(len);
        long size = 64, start;
        gid_t *groups = malloc((size_t)size * sizeof(gid_t));
        unsigned long calls = 0;
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC), t;
        struct group gr;
        int err;

        if (!grnam || !grgid || !initgr || !buf || !groups)
                return -1;
        do {
                for (int i = 0; i < 16; i++) {
                        if (op == 0)
                                (void)grnam(name, &gr, buf, len, &err);
                        else if (op == 1)
                                (void)grgid(gid, &gr, buf, len, &err);
                        else {
                                start = 0;
                                (void)initgr(name, 100, &start, &size, &groups, 0, &err);
                        }
                }
                calls += 16;
                t = clock_ns(CLOCK_MONOTONIC);
        } while (t - t0 < RUN_NS / 2);
        free(buf);
        free(groups);
        return (double)(t - t0) / (double)calls;
}

void nss_scale_group(void *mod, unsigned n, const char *group, unsigned gid)
{
        printf("%-30s %6u  %-14s %10.0f   (packs all %u members)\n", "apilogin (module, direct)",
               n, "getgrnam hit", per_call(0, mod, group, gid), n);
        printf("%-30s %6u  %-14s %10.0f\n", "apilogin (module, direct)", n, "getgrnam miss",
               per_call(0, mod, "nosuchgroup", gid));
        printf("%-30s %6u  %-14s %10.0f   (packs all %u members)\n", "apilogin (module, direct)",
               n, "getgrgid hit", per_call(1, mod, group, gid), n);
        printf("%-30s %6u  %-14s %10.0f\n", "apilogin (module, direct)", n, "getgrgid miss",
               per_call(1, mod, group, 4000000u));
        printf("%-30s %6u  %-14s %10.0f\n", "apilogin (module, direct)", n, "initgroups hit",
               per_call(2, mod, "user00001", gid));
        printf("%-30s %6u  %-14s %10.0f\n", "apilogin (module, direct)", n, "initgroups miss",
               per_call(2, mod, "ghost00001", gid));
        fflush(stdout);
}

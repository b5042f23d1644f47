/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_auth_client.c: benchmark driver. Runs pam_start, pam_authenticate, pam_end in a loop
 * in P processes and prints logins per second and the p50/p99 latency of one whole login.
 *
 *   pam_auth_client SERVICE USER PASSWORD ITERATIONS PROCESSES
 *
 * PAUSE_MS in the environment: wait that long before each login (not timed), e.g. for
 * the daemon's connections to go idle between logins (bench/wan.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_appl.h>

static const char *password;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *d)
{
        struct pam_response *r = calloc((size_t)n, sizeof(*r));

        (void)d;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        r[i].resp = strdup(password);
        *resp = r;
        return PAM_SUCCESS;
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* One worker: n logins, latencies into lat. Returns failures. */
static int worker(const char *svc, const char *user, int n, double *lat)
{
        struct pam_conv c = { conv, NULL };
        const char *pause = getenv("PAUSE_MS");
        int fails = 0;

        for (int i = 0; i < n; i++) {
                pam_handle_t *pamh = NULL;
                double t0;

                if (pause)
                        usleep((useconds_t)atoi(pause) * 1000);
                t0 = now_us();
                int r = pam_start(svc, user, &c, &pamh);

                if (r == PAM_SUCCESS)
                        r = pam_authenticate(pamh, PAM_SILENT);
                pam_end(pamh, r);
                lat[i] = now_us() - t0;
                fails += r != PAM_SUCCESS;
        }
        return fails;
}

int main(int argc, char **argv)
{
        int iters, procs, fails = 0;
        double *lat, t0, elapsed;

        if (argc != 6) {
                fprintf(stderr, "usage: pam_auth_client SERVICE USER PASSWORD ITERATIONS PROCESSES\n");
                return 2;
        }
        password = argv[3];
        iters = atoi(argv[4]);
        procs = atoi(argv[5]);
        if (iters < 1 || procs < 1 || procs > 64)
                return 2;
        lat = mmap(NULL, sizeof(double) * (size_t)iters * (size_t)procs, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (lat == MAP_FAILED)
                return 1;
        t0 = now_us();
        for (int p = 0; p < procs; p++)
                if (fork() == 0)
                        _exit(worker(argv[1], argv[2], iters, lat + (size_t)p * iters) ? 1 : 0);
        for (int p = 0; p < procs; p++) {
                int st;

                wait(&st);
                fails += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
        elapsed = now_us() - t0;
        qsort(lat, (size_t)iters * procs, sizeof(double), cmp);
        printf("%-14s procs=%d logins=%d  %8.0f logins/s  p50 %8.1f us  p99 %8.1f us%s\n",
               argv[1], procs, iters * procs, iters * procs / (elapsed / 1e6),
               lat[(size_t)(iters * procs * 0.50)], lat[(size_t)(iters * procs * 0.99)],
               fails ? "  (FAILURES)" : "");
        return fails ? 1 : 0;
}

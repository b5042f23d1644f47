/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* refresh_client.c: opens many sessions at apilogind fast, for bench/refresh.sh. For each
 * of COUNT users PREFIX%05d (from FIRST on) it sends AUTH (password "pw-" + the name) and
 * OPEN (this process as the session leader) over the daemon's socket, as pam_apilogin.so
 * would, then prints one line and waits for SIGTERM, so that the sessions stay alive: the
 * daemon ends them when this process goes. With SPREAD (seconds) the sessions are opened
 * at an even pace over that time instead of as fast as possible.
 *
 *   refresh_client SOCKET PREFIX FIRST COUNT [SPREAD] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "outcome.h"
#include "proto.h"

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* AUTH then OPEN for one user; 0 when both said OK. */
static int one_session(const char *sock, const char *user)
{
        struct apilogin_msg req, rep;
        char secret[64];
        int r;

        snprintf(secret, sizeof(secret), "pw-%s", user);
        memset(&req, 0, sizeof(req));
        req.type = APILOGIN_REQ_AUTH;
        req.user = user;
        req.secret = secret;
        req.service = "apilogin-bench";
        r = apilogin_client_call(sock, &req, &rep, 10000);
        if (r < 0 || rep.outcome != APILOGIN_OK)
                return -1;
        memset(&req, 0, sizeof(req));
        req.type = APILOGIN_REQ_OPEN;
        req.user = user;
        req.service = "apilogin-bench";
        req.has_pid = true;
        req.pid = (uint32_t)getpid();
        r = apilogin_client_call(sock, &req, &rep, 10000);
        return r < 0 || rep.outcome != APILOGIN_OK ? -1 : 0;
}

int main(int argc, char **argv)
{
        unsigned first, count, ok = 0, failed = 0;
        double t0, spread = 0;
        char user[64];
        sigset_t set;
        int sig;

        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: refresh_client SOCKET PREFIX FIRST COUNT [SPREAD]\n");
                return 2;
        }
        first = (unsigned)strtoul(argv[3], NULL, 10);
        count = (unsigned)strtoul(argv[4], NULL, 10);
        if (argc == 6)
                spread = strtod(argv[5], NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, NULL);
        t0 = now_s();
        for (unsigned i = first; i < first + count; i++) {
                double due = t0 + spread * (i - first) / (count ? count : 1), wait = due - now_s();

                if (wait > 0)
                        usleep((useconds_t)(wait * 1e6));
                snprintf(user, sizeof(user), "%s%05u", argv[2], i);
                if (one_session(argv[1], user) == 0)
                        ok++;
                else
                        failed++;
        }
        printf("opened %u failed %u in %.2f s\n", ok, failed, now_s() - t0);
        fflush(stdout);
        sigwait(&set, &sig);
        return 0;
}

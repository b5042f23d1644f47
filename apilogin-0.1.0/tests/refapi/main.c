/* main.c: refapi entry point: options, accounts, the MHD daemon, and clean shutdown.
 *
 *   refapi --accounts FILE [--port N] [--port-file PATH] [--stall-seconds S] [--threads N]
 *
 * Binds 127.0.0.1 only, prints "PORT=<n>" on stdout once listening, runs until SIGTERM
 * or SIGINT and exits 0.  Accounts-file and usage errors exit 2, start-up failures 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "faults.h"
#include "refapi.h"
#include "stall.h"
#include "store.h"
#include "ws_session.h"

struct opts {
        const char *accounts;
        const char *port_file;
        unsigned port;
        unsigned stall_seconds;
        unsigned threads;
};

static void usage(FILE *f)
{
        fprintf(f, "usage: refapi --accounts FILE [--port N] [--port-file PATH] "
                "[--stall-seconds S] [--threads N]\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max || s[0] == '-')
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
                { "accounts", required_argument, NULL, 'a' },
                { "port", required_argument, NULL, 'p' },
                { "port-file", required_argument, NULL, 'f' },
                { "stall-seconds", required_argument, NULL, 's' },
                { "threads", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c, r = 0;

        while (r == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'a': o->accounts = optarg; break;
                case 'f': o->port_file = optarg; break;
                case 'p': r = parse_uint(optarg, 65535, &o->port); break;
                case 's': r = parse_uint(optarg, 86400, &o->stall_seconds); break;
                case 't': r = parse_uint(optarg, 256, &o->threads); break;
                case 'h': usage(stdout); exit(0);
                default: r = -EINVAL; break;
                }
        }
        if (r == 0 && (!o->accounts || optind != argc))
                r = -EINVAL;
        return r;
}

/* Writes "<port>\n" to path via a temporary file and rename, so readers never see
 * a half-written file. */
static int write_port_file(const char *path, unsigned port)
{
        char tmp[4096];
        FILE *f;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "%u\n", port);
        if (fclose(f) != 0 || rename(tmp, path) != 0) {
                int r = -errno;

                (void)unlink(tmp);
                return r;
        }
        return 0;
}

static struct MHD_Daemon *start_daemon(const struct opts *o)
{
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(o->port) };
        unsigned threads = o->threads;

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);

                threads = n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
        }
        return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                                MHD_ALLOW_UPGRADE,
                                o->port, NULL, NULL, router_on_request, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                MHD_OPTION_THREAD_POOL_SIZE, threads,
                                MHD_OPTION_NOTIFY_COMPLETED, router_on_completed, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                                MHD_OPTION_CONNECTION_LIMIT, 4000u,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                MHD_OPTION_END);
}

static int announce_port(struct MHD_Daemon *d, const char *port_file)
{
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        unsigned port = info ? info->port : 0;
        int r;

        if (port == 0) {
                fprintf(stderr, "refapi: Failed to get the bound port\n");
                return -EIO;
        }
        /* the file first: whoever saw the PORT line may read the file at once */
        if (port_file && (r = write_port_file(port_file, port)) < 0) {
                fprintf(stderr, "refapi: Failed to write %s: %s\n", port_file, strerror(-r));
                return r;
        }
        printf("PORT=%u\n", port);
        fflush(stdout);
        return 0;
}

static void wait_for_signal(const sigset_t *set)
{
        int sig;

        while (sigwait(set, &sig) != 0)
                ;
}

static int serve(const struct opts *o, const sigset_t *set)
{
        struct MHD_Daemon *d;
        int r;

        if ((r = store_init()) < 0 || (r = stall_start(o->stall_seconds)) < 0) {
                fprintf(stderr, "refapi: Failed to initialise: %s\n", strerror(-r));
                return 1;
        }
        d = start_daemon(o);
        if (!d) {
                fprintf(stderr, "refapi: Failed to start HTTP daemon on 127.0.0.1:%u\n", o->port);
                stall_stop();
                return 1;
        }
        r = announce_port(d, o->port_file);
        if (r == 0)
                wait_for_signal(set);
        /* MHD must not be stopped with suspended or upgraded connections */
        stall_stop();
        ws_sessions_stop();
        MHD_stop_daemon(d);
        return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
        struct opts o = { .stall_seconds = 30 };
        sigset_t set;
        int r;

        if (parse_args(argc, argv, &o) < 0) {
                usage(stderr);
                return 2;
        }
        if (accounts_load(o.accounts) < 0) {
                accounts_free();
                return 2;
        }
        /* block the stop signals in every thread; main collects them with sigwait() */
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = serve(&o, &set);
        store_free();
        faults_free();
        accounts_free();
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: refapi entry point: options, accounts, the MHD daemon, and clean shutdown.
 *
 *   refapi --accounts FILE [--port N] [--port-file PATH] [--stall-seconds S] [--threads N]
 *          [--tls-cert PEM --tls-key PEM] [--listen ADDR] [--idle-timeout S]
 *
 * Binds 127.0.0.1 (or the IPv4/IPv6 address ADDR: bench/wan.sh serves from another network
 * namespace), prints "PORT=<n>" on stdout once listening, runs until SIGTERM or SIGINT and
 * exits 0.  Accounts-file and usage errors exit 2, start-up failures 1.
 * With --tls-cert and --tls-key every API is https (and the WebSocket wss) instead.
 * --idle-timeout closes a connection idle that many seconds (default 120), the way real
 * servers drop idle keep-alive connections; each accepted connection counts in /_stats
 * ("connections"), so tests can tell a reused connection from a new one; OPTIONS * is
 * answered here (on_request), counted in "keepwarm" only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "faults.h"
#include "refapi.h"
#include "stall.h"
#include "stats.h"
#include "store.h"
#include "tls.h"
#include "ws_session.h"

struct opts {
        const char *accounts;
        const char *port_file;
        const char *tls_cert, *tls_key;
        unsigned port;
        unsigned stall_seconds;
        unsigned threads;
        const char *listen;     /* NULL = 127.0.0.1 */
        unsigned idle_timeout;  /* seconds */
};

static void usage(FILE *f)
{
        fprintf(f, "usage: refapi --accounts FILE [--port N] [--port-file PATH] "
                "[--stall-seconds S] [--threads N] [--tls-cert PEM --tls-key PEM] "
                "[--listen ADDR] [--idle-timeout S]\n");
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
                { "tls-cert", required_argument, NULL, 'c' },
                { "tls-key", required_argument, NULL, 'k' },
                { "listen", required_argument, NULL, 'l' },
                { "idle-timeout", required_argument, NULL, 'i' },
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
                case 'c': o->tls_cert = optarg; break;
                case 'k': o->tls_key = optarg; break;
                case 'l': o->listen = optarg; break;
                case 'i': r = parse_uint(optarg, 86400, &o->idle_timeout); break;
                case 'h': usage(stdout); exit(0);
                default: r = -EINVAL; break;
                }
        }
        if (r == 0 && (!o->accounts || optind != argc || !o->tls_cert != !o->tls_key ||
                       o->idle_timeout == 0))
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

/* Every accepted connection counts once (a TLS connection is one handshake). Nagle goes
 * off at once: MHD writes the TLS handshake's flight record by record, and with Nagle the
 * records after the first wait for the client's (delayed) ACK, a round trip that real
 * servers do not cost (bench/wan.sh measures round trips). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        const union MHD_ConnectionInfo *ci;
        int one = 1;

        (void)cls;
        (void)socket_context;
        if (code != MHD_CONNECTION_NOTIFY_STARTED)
                return;
        stat_inc(ST_connections);
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci)
                (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* OPTIONS * (RFC 9110 §9.3.7: a question about the server, no resource) is what apilogind
 * sends to re-open an idle connection in the background (keep_warm). Answered here with
 * 204 and counted only in "keepwarm", so that no endpoint counter, nor total, moves. The
 * answer waits for the second call (the whole request read): MHD closes a connection
 * whose answer was queued before that. */
static char options_marker;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        struct MHD_Response *resp;
        enum MHD_Result r;

        if (!*con_cls && strcmp(method, "OPTIONS") == 0 && strcmp(url, "*") == 0) {
                *con_cls = &options_marker;
                return MHD_YES;
        }
        if (*con_cls != &options_marker)
                return router_on_request(cls, conn, url, method, version, upload_data,
                                         upload_data_size, con_cls);
        if (*upload_data_size > 0) {
                *upload_data_size = 0; /* a body is not expected; ignored */
                return MHD_YES;
        }
        stat_inc(ST_keepwarm);
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        (void)MHD_add_response_header(resp, "Allow", "GET, POST, OPTIONS");
        r = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
        MHD_destroy_response(resp);
        return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        if (*con_cls != &options_marker)
                router_on_completed(cls, conn, con_cls, toe);
}

/* The address to bind: 127.0.0.1, or --listen's IPv4 or IPv6 literal. */
static int bind_address(const struct opts *o, struct sockaddr_storage *ss, unsigned *flags)
{
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        const char *a = o->listen ? o->listen : "127.0.0.1";

        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
                sin->sin_family = AF_INET;
                sin->sin_port = htons(o->port);
                return 0;
        }
        if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(o->port);
                *flags |= MHD_USE_IPv6;
                return 0;
        }
        fprintf(stderr, "refapi: --listen %s: not an IPv4 or IPv6 address\n", a);
        return -EINVAL;
}

static struct MHD_Daemon *start_daemon(const struct opts *o, const struct tls_pem *tls)
{
        struct sockaddr_storage ss;
        struct MHD_OptionItem tls_opts[] = {
                { MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert },
                { MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key },
                { MHD_OPTION_END, 0, NULL },
        };
        unsigned threads = o->threads, flags = 0;

        if (bind_address(o, &ss, &flags) < 0)
                return NULL;
        if (threads == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);

                threads = n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
        }
        if (tls->cert)
                flags |= MHD_USE_TLS;
        else
                tls_opts[0].option = MHD_OPTION_END;
        return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                                MHD_ALLOW_UPGRADE | flags,
                                o->port, NULL, NULL, on_request, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                MHD_OPTION_ARRAY, tls_opts,
                                MHD_OPTION_THREAD_POOL_SIZE, threads,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout,
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

static int serve(const struct opts *o, const struct tls_pem *tls, const sigset_t *set)
{
        struct MHD_Daemon *d;
        int r;

        if ((r = store_init()) < 0 || (r = stall_start(o->stall_seconds)) < 0) {
                fprintf(stderr, "refapi: Failed to initialise: %s\n", strerror(-r));
                return 1;
        }
        d = start_daemon(o, tls);
        if (!d) {
                fprintf(stderr, "refapi: Failed to start HTTP daemon on %s:%u\n",
                        o->listen ? o->listen : "127.0.0.1", o->port);
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
        struct opts o = { .stall_seconds = 30, .idle_timeout = 120 };
        struct tls_pem tls = { 0 };
        sigset_t set;
        int r;

        if (parse_args(argc, argv, &o) < 0) {
                usage(stderr);
                return 2;
        }
        if (o.tls_cert && tls_pem_load(o.tls_cert, o.tls_key, &tls) < 0) {
                tls_pem_free(&tls);
                return 2;
        }
        if (accounts_load(o.accounts) < 0) {
                accounts_free();
                tls_pem_free(&tls);
                return 2;
        }
        /* block the stop signals in every thread; main collects them with sigwait() */
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = serve(&o, &tls, &set);
        tls_pem_free(&tls);
        store_free();
        faults_free();
        accounts_free();
        return r;
}

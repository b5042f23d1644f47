/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: apilogind's entry point: command line, config (load, check, reload on SIGHUP),
 * directories, the parts of the daemon, the main loop and an orderly stop on SIGTERM or
 * SIGINT (stop accepting, let logins in flight finish for up to STOP_GRACE_MS, exit 0).
 * The daemon stays in the foreground (systemd Type=notify); --foreground adds stderr to
 * the log. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon/fsutil.h"
#include "daemon/http.h"
#include "daemon/provider.h"
#include "daemon/users.h"
#include "dlog.h"
#include "localusers.h"
#include "lockout.h"
#include "login.h"
#include "loop.h"
#include "metrics.h"
#include "macro.h"
#include "server.h"
#include "sessions.h"
#include "ws_warm.h"

/* The local accounts, read directly (localusers.h). */
#define LOCAL_PASSWD "/etc/passwd"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define STOP_GRACE_MS 3000
#define NOFILE_WANT 16384     /* descriptors wanted (RLIMIT_NOFILE soft limit) */
#define ERR_MAX 1024

struct opts {
        const char *config;
        bool foreground;
        bool debug;
};

struct state {
        struct apilogind d;
        struct opts o;
        struct cfg_box *retired; /* kept while the user table may still point into it */
        int sigfd;
        bool quit;
        bool force_quit;
        struct loop_timer watchdog;
        uint64_t watchdog_ms;
};

static void notify(const char *what)
{
#ifdef HAVE_SYSTEMD
        (void)sd_notify(0, what);
#else
        (void)what;
#endif
}

#ifdef HAVE_SYSTEMD
/* WATCHDOG=1 at half the interval systemd asked for (WatchdogSec=): it comes from a loop
 * timer, so it stops when the loop stops turning. */
static void on_watchdog(void *userdata)
{
        struct state *st = userdata;

        notify("WATCHDOG=1");
        (void)loop_timer_set(st->d.loop, &st->watchdog, apilogin_now_ms() + st->watchdog_ms);
}
#endif

static void watchdog_start(struct state *st)
{
#ifdef HAVE_SYSTEMD
        uint64_t usec = 0;

        if (sd_watchdog_enabled(0, &usec) <= 0 || usec < 2000)
                return;
        st->watchdog_ms = usec / 2000;
        loop_timer_init(&st->watchdog, on_watchdog, st);
        on_watchdog(st);
#else
        (void)st;
#endif
}

/* ---- command line ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
        fprintf(f, "Usage: apilogind [--config PATH] [--foreground] [--debug]\n"
                   "  -c, --config PATH  config file (default %s)\n"
                   "  -f, --foreground   log to stderr too\n"
                   "  -d, --debug        log debug messages\n"
                   "  -h, --help         this text\n"
                   "  -V, --version      print the version\n"
                   "      --list-keys    print every config key: section, key, default, doc\n",
                APILOGIN_CONFIG_PATH);
}

/* 0 to run, 1 to exit 0 (help/version), -EINVAL for a bad command line. */
static int parse_args(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "debug", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "list-keys", no_argument, NULL, 'K' },
                {},
        };
        int c;

        *o = (struct opts){ .config = APILOGIN_CONFIG_PATH };
        while ((c = getopt_long(argc, argv, "c:fdhV", longopts, NULL)) >= 0) {
                switch (c) {
                case 'c': o->config = optarg; break;
                case 'f': o->foreground = true; break;
                case 'd': o->debug = true; break;
                case 'h': usage(stdout); return 1;
                case 'V': printf("apilogind %s\n", PACKAGE_VERSION); return 1;
                case 'K': apilogin_registry_print_keys(stdout); return 1;
                default: usage(stderr); return -EINVAL;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return -EINVAL;
        }
        return 0;
}

/* ---- config ------------------------------------------------------------------------------- */

static int check_url(const struct apilogin_provider_cfg *p, const char *path, const char *key,
                     const char *url, char *err, size_t n)
{
        int r = apilogin_http_url_allowed(url, p->insecure_http);

        if (r == -EPERM)
                snprintf(err, n, "%s:%d: %s: '%s' is not allowed (https or wss; plain http/ws "
                         "only to loopback hosts or with insecure_http = yes)", path, p->line,
                         key, url);
        else if (r < 0)
                snprintf(err, n, "%s:%d: %s: '%s' is not a valid URL", path, p->line, key, url);
        return r < 0 ? -EINVAL : 0;
}

/* What the config parser cannot know: which drivers this build has, the URL rules. */
static int check_provider(const struct apilogin_config *cfg,
                          const struct apilogin_provider_cfg *p, char *err, size_t n)
{
        int r;

        r = check_url(p, cfg->path, "url", p->url, err, n);
        for (size_t i = 0; r == 0 && i < p->fallback_urls.n; i++)
                r = check_url(p, cfg->path, "fallback_urls", p->fallback_urls.v[i], err, n);
        return r;
}

static int load_config(const char *path, struct apilogin_config **ret, char *err, size_t n)
{
        struct apilogin_config *cfg = NULL;
        int r;

        err[0] = '\0';
        r = apilogin_config_load(path, apilogin_registry_type, &cfg, err, n);
        if (r < 0) {
                if (!err[0])
                        snprintf(err, n, "%s: %s", path, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < cfg->n_prov; i++) {
                r = check_provider(cfg, &cfg->prov[i], err, n);
                if (r < 0) {
                        apilogin_config_free(cfg);
                        return r;
                }
        }
        *ret = cfg;
        return 0;
}

static bool str_differs(const char *a, const char *b)
{
        return !a || !b ? a != b : strcmp(a, b) != 0;
}

/* SIGHUP: a config that does not load, or changes what needs a restart, is refused. */
static void reload(struct state *st)
{
        struct apilogind *d = &st->d;
        struct apilogin_config *cfg = NULL;
        struct cfg_box *box;
        char err[ERR_MAX];
        int r;

        notify("RELOADING=1");
        r = load_config(st->o.config, &cfg, err, sizeof(err));
        if (r == 0 && (str_differs(cfg->socket_path, d->cfg->socket_path) ||
                       str_differs(cfg->state_dir, d->cfg->state_dir) ||
                       str_differs(cfg->run_dir, d->cfg->run_dir))) {
                snprintf(err, sizeof(err), "%s: socket, state_dir or run_dir changed; "
                         "restart apilogind to apply that", st->o.config);
                cfg = apilogin_config_free(cfg);
                r = -EINVAL;
        }
        box = r == 0 ? cfg_box_new(cfg) : NULL;
        if (!box) {
                dlog_err("Failed to reload the config, keeping the running one: %s",
                         r < 0 ? err : strerror(ENOMEM));
                notify("READY=1");
                return;
        }
        r = users_reconfigure(d->users, box->cfg);
        st->retired = cfg_box_unref(st->retired);
        if (r < 0) {
                /* The table may or may not have switched: keep the old config alive too. */
                dlog_err("Failed to apply the new config to the user cache: %s", strerror(-r));
                st->retired = cfg_box_ref(d->cfgbox);
        }
        cfg_box_unref(d->cfgbox);
        d->cfgbox = box;
        d->cfg = box->cfg;
        dlog_info("Reloaded %s", st->o.config);
        notify("READY=1");
}

/* ---- signals -------------------------------------------------------------------------------- */

static void on_signal(void *userdata, int fd, short revents)
{
        struct state *st = userdata;
        struct signalfd_siginfo si;

        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP && !st->quit) {
                        reload(st);
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                        if (st->quit)
                                st->force_quit = true;
                        st->quit = true;
                }
        }
}

static int setup_signals(struct state *st)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        (void)signal(SIGPIPE, SIG_IGN);
        st->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (st->sigfd < 0)
                return negative_errno();
        return loop_add_io(st->d.loop, st->sigfd, POLLIN, on_signal, st);
}

/* ---- directories -------------------------------------------------------------------------- */

/* Create the parents of dir (0755) where missing, like mkdir -p. */
static int make_parents(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        return 0;
}

static int make_dir(const char *parent, const char *sub, mode_t mode)
{
        char path[4096];
        int r;

        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", parent, sub ? "/" : "",
                             sub ? sub : "") >= sizeof(path))
                return -ENAMETOOLONG;
        r = sub ? 0 : make_parents(path);
        r = r ?: apilogin_mkdir_owned(path, mode, geteuid(), getegid());
        if (r < 0)
                dlog_err("Failed to create directory %s: %s", path, strerror(-r));
        return r;
}

static int make_dirs(const struct apilogin_config *cfg)
{
        int r;

        r = make_dir(cfg->state_dir, NULL, 0755);
        r = r ?: make_dir(cfg->state_dir, "private", 0700);
        r = r ?: make_dir(cfg->run_dir, NULL, 0755);
        r = r ?: make_dir(cfg->run_dir, "sessions", 0700);
        r = r ?: make_dir(cfg->run_dir, "users", 0755);
        return r;
}

/* ---- the parts, in order ----------------------------------------------------------------- */

static int open_lockout(struct apilogind *d)
{
        char dir[4096];
        int r;

        snprintf(dir, sizeof(dir), "%s/private", d->cfg->state_dir);
        r = lockout_new(dir, "lockout", &d->lockout);
        if (r < 0)
                return r;
        r = lockout_load(d->lockout);
        if (r > 0)
                dlog_warn("Ignored %d unparsable line(s) in %s/lockout", r, dir);
        else if (r < 0)
                dlog_warn("Failed to read %s/lockout: %s, starting with no lockouts", dir,
                          strerror(-r));
        return 0;
}

/* Raise the soft descriptor limit (up to NOFILE_WANT, within the hard one): the socket's
 * connection budgets (admit.h) are a fraction of it. */
static void raise_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= NOFILE_WANT)
                return;
        rl.rlim_cur = rl.rlim_max < NOFILE_WANT ? rl.rlim_max : NOFILE_WANT;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                dlog_warn("Failed to raise the file descriptor limit to %llu: %m",
                          (unsigned long long)rl.rlim_cur);
}

static int setup(struct state *st)
{
        struct apilogind *d = &st->d;
        int r;

        r = make_dirs(d->cfg);
        r = r ?: apilogin_http_new(&d->http);
        r = r ?: loop_new(d->http, &d->loop);
        r = r ?: setup_signals(st);
        if (r < 0)
                return r;
        r = localusers_open(LOCAL_PASSWD, &d->local);
        if (r < 0) {
                dlog_err("Failed to read %s: %s", LOCAL_PASSWD, strerror(-r));
                return r;
        }
        r = users_open(d->cfg, d->local, &d->users);
        if (r < 0) {
                dlog_err("Failed to open the user cache in %s: %s", d->cfg->state_dir,
                         strerror(-r));
                return r;
        }
        d->metrics = metrics_new();
        if (!d->metrics)
                return -ENOMEM;
        r = open_lockout(d);
        r = r ?: logins_new(d, &d->logins);
        r = r ?: sessions_new(d, &d->sessions);
        if (r < 0)
                return r;
        raise_nofile();
        r = server_new(d, &d->server);
        return r ?: metrics_file_start(d, &d->metrics_file);
}

static void teardown(struct state *st)
{
        struct apilogind *d = &st->d;

        d->metrics_file = metrics_file_stop(d->metrics_file); /* the last write, at exit */
        d->server = server_free(d->server);
        d->logins = logins_free(d->logins);
        d->sessions = sessions_free(d->sessions);
        d->lockout = lockout_free(d->lockout);
        d->users = users_free(d->users);
        d->local = localusers_free(d->local);
        d->metrics = metrics_free(d->metrics);
        if (st->sigfd >= 0) {
                if (d->loop)
                        loop_remove_io(d->loop, st->sigfd);
                (void)close(st->sigfd);
        }
        apilogin_ws_warm_free();
        d->loop = loop_free(d->loop);
        d->http = apilogin_http_free(d->http);
        d->cfgbox = cfg_box_unref(d->cfgbox);
        d->cfg = NULL;
        st->retired = cfg_box_unref(st->retired);
}

/* ---- running -------------------------------------------------------------------------------- */

static bool busy(const struct state *st)
{
        struct sessions_stats ss;

        sessions_stats(st->d.sessions, &ss);
        return logins_in_flight(st->d.logins) > 0 || server_clients(st->d.server) > 0 ||
               ss.logouts > 0 || ss.renewing > 0;
}

static int run(struct state *st)
{
        uint64_t deadline;
        int r;

        while (!st->quit) {
                r = loop_iterate(st->d.loop, -1);
                if (r < 0) {
                        dlog_err("Failed to wait for events: %s", strerror(-r));
                        return r;
                }
        }
        notify("STOPPING=1");
        dlog_info("Stopping");
        st->d.stopping = true;
        server_stop(st->d.server);
        deadline = apilogin_now_ms() + STOP_GRACE_MS;
        while (busy(st) && !st->force_quit) {
                uint64_t now = apilogin_now_ms();

                if (now >= deadline) {
                        dlog_warn("Stopping with %u login(s) still in flight",
                                  logins_in_flight(st->d.logins));
                        break;
                }
                if (loop_iterate(st->d.loop, (int)(deadline - now)) < 0)
                        break;
        }
        return 0;
}

static int start(struct state *st)
{
        struct apilogin_config *cfg = NULL;
        char err[ERR_MAX];
        int r;

        r = load_config(st->o.config, &cfg, err, sizeof(err));
        if (r < 0) {
                dlog_err("%s", err);
                if (!st->o.foreground)
                        fprintf(stderr, "apilogind: %s\n", err);
                return r;
        }
        st->d.cfgbox = cfg_box_new(cfg);
        if (!st->d.cfgbox)
                return -ENOMEM;
        st->d.cfg = st->d.cfgbox->cfg;
        r = setup(st);
        if (r < 0)
                return r;
        watchdog_start(st);
        notify("READY=1");
        dlog_info("apilogind %s ready (config %s)", PACKAGE_VERSION, st->o.config);
        return run(st);
}

int main(int argc, char **argv)
{
        struct state st = { .sigfd = -1 };
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "apilogind: Failed to initialise libcurl\n");
                return EXIT_FAILURE;
        }
        umask(077);
        r = parse_args(argc, argv, &st.o);
        if (r != 0) {
                curl_global_cleanup();
                return r > 0 ? EXIT_SUCCESS : 2;
        }
        dlog_setup(st.o.foreground, st.o.debug);
        r = start(&st);
        teardown(&st);
        if (r == 0)
                dlog_info("Stopped");
        dlog_close();
        curl_global_cleanup();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

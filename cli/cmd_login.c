/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_login.c: apiloginctl test-login USER. Asks the daemon whether it handles the name
 * (QUERY: also its login timeout and what to prompt for), reads the password from the
 * terminal with echo off (or from standard input when there is no terminal), sends one
 * TEST_LOGIN request (an AUTH that stores nothing, core/proto.h) and waits for it as long
 * as the daemon's timeout plus a margin, then prints the outcome, the endpoint, the PAM
 * code and the time.
 *
 * The password lives in one stack buffer that is wiped on every path; the encoded request
 * is wiped by apilogin_client_call. While echo is off, SIGINT/SIGTERM/SIGHUP/SIGQUIT are
 * caught but kept blocked except inside ppoll(), which unblocks them atomically while it
 * waits: a signal can then never slip in between a check of the flag and a blocking
 * read(). On a signal the terminal is restored first and the signal is raised again with
 * its old disposition, so the shell sees the usual status. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "macro.h"
#include "outcome.h"
#include "pam_code.h"
#include "secure.h"

#define SERVICE_NAME "apiloginctl"

static const int catch_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
        got_signal = sig;
}

/* The terminal (or stdin) the password is read from, and what to put back afterwards. */
struct prompt {
        int fd;
        bool own_fd;      /* fd is /dev/tty, opened by us */
        bool signals_set; /* old_sa, old_tstp and old_mask hold what to put back */
        bool echo_off;    /* termios changed: restore saved */
        struct termios saved;
        struct sigaction old_sa[ELEMENTSOF(catch_signals)];
        struct sigaction old_tstp;
        sigset_t old_mask; /* the mask before ours: ppoll waits with it */
};

struct secret_buf {
        char s[APILOGIN_SECRET_MAX + 1];
};

static void secret_buf_erase(struct secret_buf *b)
{
        apilogin_secure_erase(b, sizeof(*b));
}

/* Block the terminating signals and catch them (they are let in only inside ppoll), and
 * ignore SIGTSTP, so the process never stops or dies with echo off. */
static void prompt_signals(struct prompt *p)
{
        struct sigaction sa = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };
        sigset_t block;

        sigemptyset(&block);
        for (size_t i = 0; i < ELEMENTSOF(catch_signals); i++)
                sigaddset(&block, catch_signals[i]);
        (void)sigprocmask(SIG_BLOCK, &block, &p->old_mask);
        sigemptyset(&sa.sa_mask);
        sigemptyset(&ign.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(catch_signals); i++)
                (void)sigaction(catch_signals[i], &sa, &p->old_sa[i]);
        (void)sigaction(SIGTSTP, &ign, &p->old_tstp);
        p->signals_set = true;
}

/* Open the terminal, print the prompt and turn echo off. Without a terminal, stdin is read
 * as it is. Returns 0 or -errno (echo could not be turned off). */
static int prompt_open(struct prompt *p, const char *user, const char *what)
{
        struct termios t;

        *p = (struct prompt){ .fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC) };
        p->own_fd = p->fd >= 0;
        if (!p->own_fd)
                p->fd = STDIN_FILENO;
        if (!isatty(p->fd))
                return 0;
        if (tcgetattr(p->fd, &p->saved) < 0)
                return negative_errno();
        prompt_signals(p);
        t = p->saved;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        if (tcsetattr(p->fd, TCSAFLUSH, &t) < 0)
                return negative_errno();
        p->echo_off = true;
        (void)dprintf(p->own_fd ? p->fd : STDERR_FILENO, "%s for %s: ", what, user);
        return 0;
}

/* Restore the terminal and the signal dispositions, then re-raise a caught signal (the
 * caller has wiped the password by then: with the default disposition we do not return). */
static void prompt_close(struct prompt *p)
{
        if (p->echo_off) {
                (void)tcsetattr(p->fd, TCSAFLUSH, &p->saved);
                (void)!write(p->own_fd ? p->fd : STDERR_FILENO, "\n", 1);
        }
        if (p->signals_set) {
                for (size_t i = 0; i < ELEMENTSOF(catch_signals); i++)
                        (void)sigaction(catch_signals[i], &p->old_sa[i], NULL);
                (void)sigaction(SIGTSTP, &p->old_tstp, NULL);
                (void)sigprocmask(SIG_SETMASK, &p->old_mask, NULL);
        }
        if (p->own_fd)
                (void)close(p->fd);
        p->fd = -1;
        if (got_signal)
                (void)raise(got_signal);
}

/* Read one line (without its newline, and a '\r' before it) into buf. Returns its length,
 * -ECANCELED on a signal, -EMSGSIZE if longer than APILOGIN_SECRET_MAX (the rest of the
 * line is read and dropped), -ENODATA on end of input before anything, or -errno. */
static int read_line(int fd, const sigset_t *wait_mask, struct secret_buf *buf)
{
        size_t n = 0;
        bool too_long = false;
        char c = 0;
        int r;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (ppoll(&pfd, 1, NULL, wait_mask) < 0 && errno != EINTR) {
                        r = negative_errno();
                        break;
                }
                if (got_signal) {
                        r = -ECANCELED;
                        break;
                }
                if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                        continue;
                k = read(fd, &c, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = got_signal ? -ECANCELED : negative_errno();
                        break;
                }
                if (k == 0 || c == '\n') {
                        r = k == 0 && n == 0 && !too_long ? -ENODATA : 0;
                        break;
                }
                if (n >= APILOGIN_SECRET_MAX)
                        too_long = true;
                else
                        buf->s[n++] = c;
        }
        apilogin_secure_erase(&c, sizeof(c));
        if (n > 0 && buf->s[n - 1] == '\r')
                n--;
        buf->s[n] = '\0';
        if (r == 0 && too_long)
                r = -EMSGSIZE;
        return r < 0 ? r : (int)n;
}

static int read_password(const char *user, const char *what, struct secret_buf *buf)
{
        struct prompt p;
        int r;

        r = prompt_open(&p, user, what);
        if (r < 0) {
                prompt_close(&p);
                fprintf(stderr, "Failed to turn off echo on the terminal: %s\n", strerror(-r));
                return r;
        }
        r = read_line(p.fd, p.signals_set ? &p.old_mask : NULL, buf);
        if (r <= 0)
                secret_buf_erase(buf); /* before prompt_close, which may re-raise a signal */
        prompt_close(&p);
        if (r == -ENODATA || r == 0)
                fprintf(stderr, "No password given; nothing sent.\n");
        else if (r == -EMSGSIZE)
                fprintf(stderr, "Password too long (more than %d bytes); nothing sent.\n",
                        APILOGIN_SECRET_MAX);
        else if (r < 0)
                fprintf(stderr, "Failed to read the password: %s\n", strerror(-r));
        return r > 0 ? 0 : r < 0 ? r : -ENODATA;
}

/* The value of "key=" in the daemon's key=value lines, copied into buf ("-" if absent). */
static const char *field(const char *text, const char *key, char *buf, size_t n)
{
        size_t k = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, key, k) == 0 && p[k] == '=') {
                        size_t len = strcspn(p + k + 1, "\n");

                        snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), p + k + 1);
                        return buf[0] ? buf : "-";
                }
        }
        snprintf(buf, n, "-");
        return buf;
}

static int print_auth_reply(const struct apilogin_msg *reply)
{
        char buf[512];
        int num;
        const char *pam;
        long ms;

        if (!reply->has_outcome) {
                fprintf(stderr, "Failed to read the reply of apilogind: no outcome\n");
                return CTL_EXIT_FAIL;
        }
        num = apilogin_outcome_pam((int)reply->outcome, &pam);
        fputs(apilogin_outcome_name((int)reply->outcome), stdout);
        if (reply->message && reply->message[0]) {
                fputs(": ", stdout);
                ctl_print_safe(stdout, reply->message);
        }
        putchar('\n');
        printf("  provider:  ");
        ctl_print_safe(stdout, field(reply->text, "provider", buf, sizeof(buf)));
        printf("\n  endpoint:  ");
        ctl_print_safe(stdout, field(reply->text, "endpoint", buf, sizeof(buf)));
        printf("%s\n", reply->outcome == APILOGIN_OK || reply->outcome == APILOGIN_AUTH_ERR ||
                                       reply->outcome == APILOGIN_ACCT_EXPIRED
                               ? " (answered)" : " (asked last)");
        printf("  PAM code:  %s (%d)\n", pam, num);
        ms = strtol(field(reply->text, "elapsed_ms", buf, sizeof(buf)), NULL, 10);
        printf("  time:      %ld.%03ld s\n", ms / 1000, ms % 1000);
        if (reply->outcome == APILOGIN_OK && reply->has_uid)
                printf("  uid:       %u\n", (unsigned)reply->uid);
        field(reply->text, "detail", buf, sizeof(buf));
        if (strcmp(buf, "-") != 0) {
                printf("  detail:    ");
                ctl_print_safe(stdout, buf);
                putchar('\n');
        }
        printf("  stored:    nothing (a test login: no session, no users-table entry, no "
               "offline verifier%s)\n",
               reply->outcome == APILOGIN_OK ? "; the issued token is logged out" : "");
        return reply->outcome == APILOGIN_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* Ask the daemon (QUERY) whether it handles user for service, and for how long a login may
 * take there and what to prompt for. Returns -1 to go on, else an exit code (printed). */
static int query(const char *socket_path, const struct apilogin_msg *q, int *ret_timeout_ms,
                 char *prompt, size_t n)
{
        struct apilogin_msg reply;
        int code = -1;

        if (ctl_call(socket_path, q, &reply, CTL_TIMEOUT_MS) < 0)
                return CTL_EXIT_FAIL;
        if (!reply.has_outcome || reply.outcome != APILOGIN_OK) {
                printf("%s: apilogind does not handle %s for service %s (an invalid or denied "
                       "name, root, a local account without allow_local_users, a service not "
                       "in [global] services (see --service)%s)\n",
                       reply.has_outcome ? apilogin_outcome_name((int)reply.outcome) : "invalid",
                       q->user, q->service,
                       getuid() != 0 ? ", or not your own remote name: as a non-root user you "
                                       "may only test your own" : "");
                code = CTL_EXIT_FAIL;
        } else {
                *ret_timeout_ms = reply.has_timeout && reply.timeout > 0 &&
                                                  reply.timeout < 600000
                                          ? (int)reply.timeout
                                          : CTL_TIMEOUT_MS;
                snprintf(prompt, n, "%.*s", (int)strcspn(reply.text ? reply.text : "", ":"),
                         reply.text && reply.text[0] ? reply.text : "Password");
        }
        apilogin_proto_wipe(&reply);
        return code;
}

int cmd_test_login(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "service", required_argument, NULL, 'S' },
                { "provider", required_argument, NULL, 'P' },
                { 0 },
        };
        _cleanup_(secret_buf_erase) struct secret_buf pw;
        struct apilogin_msg req = { .type = APILOGIN_REQ_QUERY, .service = SERVICE_NAME };
        struct apilogin_msg reply;
        char prompt[64];
        int timeout_ms = CTL_TIMEOUT_MS, o, r;

        optind = 0;
        while ((o = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
                if (o == 'h')
                        return ctl_help("test-login");
                if (o == 'S' && optarg[0] && strlen(optarg) <= 64)
                        req.service = optarg;
                else if (o == 'P' && optarg[0] && strlen(optarg) <= 64)
                        req.provider = optarg;
                else
                        return ctl_usage_error("test-login", o == '?' ? NULL
                                               : "--service and --provider take 1 to 64 bytes");
        }
        if (argc - optind != 1)
                return ctl_usage_error("test-login", "'test-login' takes a user name");
        if (!ctl_user_arg_ok(argv[optind]))
                return ctl_usage_error("test-login", "invalid user name (1 to %d characters, "
                                       "no blanks or control characters)", APILOGIN_NAME_MAX);
        req.user = argv[optind];
        /* Before the prompt: a name the daemon will not handle, or a socket nobody (or no
         * root daemon) serves, should not cost a password. */
        r = query(x->socket, &req, &timeout_ms, prompt, sizeof(prompt));
        if (r >= 0)
                return r;
        r = read_password(req.user, prompt, &pw);
        if (r < 0)
                return CTL_EXIT_FAIL;
        req.type = APILOGIN_REQ_TEST_LOGIN;
        req.secret = pw.s;
        /* The daemon gives up at its own timeout; wait that long and a margin more. */
        r = ctl_call(x->socket, &req, &reply, timeout_ms + CTL_LOGIN_MARGIN_MS);
        secret_buf_erase(&pw);
        if (r < 0)
                return CTL_EXIT_FAIL;
        r = print_auth_reply(&reply);
        apilogin_proto_wipe(&reply);
        return r;
}

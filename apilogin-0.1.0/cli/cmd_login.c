/* cmd_login.c: apiloginctl test-login USER. Reads the password from the terminal with echo
 * off (or from standard input when there is no terminal), sends one AUTH request to
 * apilogind as the PAM module would (service "apiloginctl"), and prints the outcome.
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
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ctl.h"
#include "macro.h"
#include "outcome.h"
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
static int prompt_open(struct prompt *p, const char *user)
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
        (void)dprintf(p->own_fd ? p->fd : STDERR_FILENO, "Password for %s: ", user);
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

static int read_password(const char *user, struct secret_buf *buf)
{
        struct prompt p;
        int r;

        r = prompt_open(&p, user);
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

static int print_auth_reply(const struct apilogin_msg *reply)
{
        if (!reply->has_outcome) {
                fprintf(stderr, "Failed to read the reply of apilogind: no outcome\n");
                return CTL_EXIT_FAIL;
        }
        fputs(apilogin_outcome_name((int)reply->outcome), stdout);
        if (reply->message && reply->message[0]) {
                fputs(": ", stdout);
                ctl_print_safe(stdout, reply->message);
        }
        if (reply->outcome == APILOGIN_OK && reply->has_uid)
                printf(" (uid %u)", (unsigned)reply->uid);
        putchar('\n');
        return reply->outcome == APILOGIN_OK ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

int cmd_test_login(const char *config_path, const char *user)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        _cleanup_(secret_buf_erase) struct secret_buf pw;
        struct apilogin_msg req = { .type = APILOGIN_REQ_AUTH,
                                    .user = user,
                                    .service = SERVICE_NAME };
        struct apilogin_msg reply;
        int r;

        /* Before the prompt: a broken config or socket path should not cost a password. */
        if (ctl_load_config(config_path, &cfg) < 0)
                return CTL_EXIT_FAIL;
        r = read_password(user, &pw);
        if (r < 0)
                return CTL_EXIT_FAIL;
        req.secret = pw.s;
        r = ctl_call(cfg, &req, &reply);
        secret_buf_erase(&pw);
        if (r < 0)
                return CTL_EXIT_FAIL;
        r = print_auth_reply(&reply);
        apilogin_proto_wipe(&reply);
        return r;
}

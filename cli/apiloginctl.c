/* apiloginctl.c: the admin CLI. Command line and usage text, check-config (the daemon's
 * own parser, without touching the daemon), and the admin requests to apilogind over its
 * socket, which need only the socket path: --socket, else the socket key of --config (read
 * alone, core/sockpath.c), else the compiled-in default. test-login is in cmd_login.c.
 * Exit codes: 0 ok, 1 failure, 2 usage error. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "daemon/providers/registry.h"
#include "ctl.h"
#include "macro.h"
#include "outcome.h"
#include "sockpath.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const char usage_text[] =
        "NAME\n"
        "    apiloginctl - check and control apilogin\n"
        "\n"
        "SYNOPSIS\n"
        "    apiloginctl [--socket PATH | --config PATH] COMMAND [ARGUMENT]\n"
        "\n"
        "DESCRIPTION\n"
        "    apiloginctl checks an apilogin configuration file with the parser apilogind uses,\n"
        "    and talks to the running apilogind over its Unix socket. Every command but\n"
        "    check-config needs only the socket path (--socket, else the socket key of the\n"
        "    [global] section of --config, read alone, else the default), so it works\n"
        "    whatever the file on disk says: the daemon keeps the config it loaded. The\n"
        "    socket must be served by root, or nothing is sent. status, users, sessions,\n"
        "    flush and user need root; test-login run by another user may only test that\n"
        "    user's own name.\n"
        "\n"
        "COMMANDS\n"
        "    check-config [FILE]\n"
        "                     Parse FILE (default: --config, else " APILOGIN_CONFIG_PATH ")\n"
        "                     as apilogind would, without asking the daemon. Prints OK and\n"
        "                     one warning line per key that is accepted but not implemented\n"
        "                     yet, or the first error as FILE:LINE: KEY: what is wrong.\n"
        "    status           Show the daemon's state.\n"
        "    users            List the remote users the daemon knows (what NSS answers).\n"
        "    sessions         List the live sessions.\n"
        "    flush            Drop every pending login (authenticated, no session opened\n"
        "                     yet); their tokens are logged out.\n"
        "    user add NAME    Provision NAME before its first login: give it a uid and put\n"
        "                     it in the NSS cache.\n"
        "    user del NAME    Remove NAME from the NSS cache.\n"
        "    test-login USER  Ask for USER's password on the terminal (without echo; read\n"
        "                     from standard input when there is no terminal) and try a\n"
        "                     login through apilogind as PAM would (service apiloginctl).\n"
        "                     Prints the outcome (ok, auth_err, unavailable, ...) and the\n"
        "                     message a user would see. No session is opened.\n"
        "    help             Show this text.\n"
        "\n"
        "OPTIONS\n"
        "    -s, --socket PATH  apilogind's socket (default " APILOGIN_SOCKET_DEFAULT ").\n"
        "    -c, --config PATH  Config file: checked by check-config; for the other commands\n"
        "                       only its socket key is read.\n"
        "    -h, --help         Show this text.\n"
        "    -V, --version      Show the version.\n"
        "\n"
        "EXIT STATUS\n"
        "    0  success (config OK, or the daemon answered ok)\n"
        "    1  config error, apilogind not reachable, or the request failed or was refused\n"
        "    2  usage error\n"
        "\n"
        "FILES\n"
        "    " APILOGIN_CONFIG_PATH "\n"
        "    " APILOGIN_RUNDIR "/socket (default socket)\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
        va_list ap;

        if (fmt) {
                fputs("apiloginctl: ", stderr);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        fputs("Try 'apiloginctl --help' for more information.\n", stderr);
        return CTL_EXIT_USAGE;
}

/* ---- shared helpers (ctl.h) ------------------------------------------------------------ */

int ctl_load_config(const char *path, struct apilogin_config **ret)
{
        char err[1024] = "";
        int r = apilogin_config_load(path, apilogin_registry_type, ret, err, sizeof(err));

        if (r < 0)
                fprintf(stderr, "%s\n", err[0] ? err : strerror(-r));
        return r;
}

int ctl_call(const char *socket_path, const struct apilogin_msg *req,
             struct apilogin_msg *ret_reply)
{
        int r = apilogin_client_call(socket_path, req, ret_reply, CTL_TIMEOUT_MS);

        if (r == -ENOENT || r == -ECONNREFUSED)
                fprintf(stderr, "apilogind is not running (socket %s): %s\n", socket_path,
                        strerror(-r));
        else if (r == -EPERM)
                fprintf(stderr, "Refusing to talk to %s: it is not served by root, so not by "
                                "apilogind; nothing was sent\n", socket_path);
        else if (r == -ETIMEDOUT)
                fprintf(stderr, "apilogind did not answer within %d s (socket %s)\n",
                        CTL_TIMEOUT_MS / 1000, socket_path);
        else if (r < 0)
                fprintf(stderr, "Failed to talk to apilogind (socket %s): %s\n", socket_path,
                        strerror(-r));
        return r;
}

void ctl_print_safe(FILE *f, const char *s)
{
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;

                fputc(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f) ? c : '?', f);
        }
}

/* ---- commands ---------------------------------------------------------------------------- */

/* Where to find things: the command line's --config and --socket. */
struct where {
        const char *config; /* --config, or NULL */
        const char *socket; /* --socket, or NULL */
        char socket_buf[108];
};

enum arg_kind {
        ARG_NONE,
        ARG_USER,          /* a user name, required */
        ARG_FILE_OPTIONAL, /* a file name, optional */
};

struct command {
        const char *name;
        const char *sub; /* second word ("user add"), or NULL */
        enum arg_kind arg;
        int (*run)(struct where *w, const struct command *c, const char *arg);
        uint8_t req; /* admin request type */
};

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

/* The socket path: --socket, else --config's socket key alone, else the default. A config
 * file with a typo elsewhere still gives its socket key. */
static const char *socket_path(struct where *w)
{
        int r;

        if (w->socket)
                return w->socket;
        snprintf(w->socket_buf, sizeof(w->socket_buf), "%s", APILOGIN_SOCKET_DEFAULT);
        if (w->config) {
                r = apilogin_socket_from_config(w->config, w->socket_buf, sizeof(w->socket_buf));
                if (r < 0 && r != -ENOENT)
                        fprintf(stderr, "Failed to read the socket key of %s: %s; using %s\n",
                                w->config, strerror(-r), APILOGIN_SOCKET_DEFAULT);
                if (r < 0)
                        snprintf(w->socket_buf, sizeof(w->socket_buf), "%s",
                                 APILOGIN_SOCKET_DEFAULT);
        }
        return w->socket_buf;
}

static int run_check_config(struct where *w, const struct command *c, const char *arg)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        const char *file = arg ? arg : w->config ? w->config : APILOGIN_CONFIG_PATH;

        if (ctl_load_config(file, &cfg) < 0)
                return CTL_EXIT_FAIL;
        printf("OK\n");
        for (size_t i = 0; i < cfg->warnings.n; i++)
                printf("warning: %s\n", cfg->warnings.v[i]);
        return CTL_EXIT_OK;
}

/* Print the text of an admin reply; the outcome decides the exit code. */
static int print_admin_reply(const struct command *c, const struct apilogin_msg *reply)
{
        if (reply->text && reply->text[0]) {
                ctl_print_safe(stdout, reply->text);
                if (reply->text[strlen(reply->text) - 1] != '\n')
                        putchar('\n');
        }
        if (!reply->has_outcome) {
                fprintf(stderr, "Failed to read the reply of apilogind: no outcome\n");
                return CTL_EXIT_FAIL;
        }
        if (reply->outcome == APILOGIN_OK)
                return CTL_EXIT_OK;
        fprintf(stderr, "%s%s%s failed: %s", c->name, c->sub ? " " : "", c->sub ? c->sub : "",
                apilogin_outcome_name((int)reply->outcome));
        if (reply->message && reply->message[0]) {
                fputs(": ", stderr);
                ctl_print_safe(stderr, reply->message);
        }
        fputc('\n', stderr);
        if (reply->outcome == APILOGIN_PERM_DENIED && geteuid() != 0)
                fprintf(stderr, "(admin commands need root)\n");
        return CTL_EXIT_FAIL;
}

static int run_admin(struct where *w, const struct command *c, const char *arg)
{
        struct apilogin_msg req = { .type = c->req, .user = arg };
        struct apilogin_msg reply;
        int r;

        if (ctl_call(socket_path(w), &req, &reply) < 0)
                return CTL_EXIT_FAIL;
        r = print_admin_reply(c, &reply);
        apilogin_proto_wipe(&reply);
        return r;
}

static int run_test_login(struct where *w, const struct command *c, const char *arg)
{
        return cmd_test_login(socket_path(w), arg);
}

static int run_help(struct where *w, const struct command *c, const char *arg)
{
        fputs(usage_text, stdout);
        return CTL_EXIT_OK;
}

static const struct command commands[] = {
        { "check-config", NULL, ARG_FILE_OPTIONAL, run_check_config, 0 },
        { "status", NULL, ARG_NONE, run_admin, APILOGIN_REQ_STATUS },
        { "users", NULL, ARG_NONE, run_admin, APILOGIN_REQ_USERS },
        { "sessions", NULL, ARG_NONE, run_admin, APILOGIN_REQ_SESSIONS },
        { "flush", NULL, ARG_NONE, run_admin, APILOGIN_REQ_FLUSH },
        { "user", "add", ARG_USER, run_admin, APILOGIN_REQ_USER_ADD },
        { "user", "del", ARG_USER, run_admin, APILOGIN_REQ_USER_DEL },
        { "test-login", NULL, ARG_USER, run_test_login, 0 },
        { "help", NULL, ARG_NONE, run_help, 0 },
};

/* A user name argument: what the protocol can carry; the daemon judges the rest. */
static bool user_arg_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > APILOGIN_NAME_MAX)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
                        return false;
        return true;
}

static int dispatch(struct where *w, int argc, char **argv)
{
        const struct command *c = NULL;
        int words, nargs;

        if (argc == 0)
                return usage_error("missing command");
        for (size_t i = 0; i < ELEMENTSOF(commands) && !c; i++)
                if (strcmp(argv[0], commands[i].name) == 0 &&
                    (!commands[i].sub || (argc >= 2 && strcmp(argv[1], commands[i].sub) == 0)))
                        c = &commands[i];
        if (!c && strcmp(argv[0], "user") == 0)
                return usage_error("expected 'user add NAME' or 'user del NAME'");
        if (!c)
                return usage_error("unknown command '%.64s'", argv[0]);
        words = c->sub ? 2 : 1;
        nargs = argc - words;
        if (c->arg == ARG_FILE_OPTIONAL ? nargs > 1 : nargs != (c->arg == ARG_USER))
                return usage_error("'%s%s%s' takes %s", c->name, c->sub ? " " : "",
                                   c->sub ? c->sub : "",
                                   c->arg == ARG_USER           ? "a user name"
                                   : c->arg == ARG_FILE_OPTIONAL ? "at most a file name"
                                                                 : "no argument");
        if (c->arg == ARG_USER && !user_arg_ok(argv[words]))
                return usage_error(
                        "invalid user name (1 to %d characters, no blanks or control characters)",
                        APILOGIN_NAME_MAX);
        return c->run(w, c, nargs ? argv[words] : NULL);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        struct where w = {};
        int o;

        /* "+": stop at the command, so that its arguments are never taken for options. */
        while ((o = getopt_long(argc, argv, "+c:s:hV", options, NULL)) != -1) {
                switch (o) {
                case 'c':
                        w.config = optarg;
                        break;
                case 's':
                        if (optarg[0] != '/' || strlen(optarg) >= sizeof(w.socket_buf))
                                return usage_error("--socket takes an absolute path of at "
                                                   "most %zu bytes", sizeof(w.socket_buf) - 1);
                        w.socket = optarg;
                        break;
                case 'h':
                        fputs(usage_text, stdout);
                        return CTL_EXIT_OK;
                case 'V':
                        printf("apiloginctl %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                default:
                        return usage_error(NULL); /* getopt said what was wrong */
                }
        }
        return dispatch(&w, argc - optind, argv + optind);
}

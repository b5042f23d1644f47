/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apiloginctl.c: the admin CLI. Global options, the verb table with each verb's help,
 * check-config (the daemon's own parser, without touching the daemon), and the helpers the
 * verbs share. Every verb but check-config needs only the socket path: --socket, else the
 * socket key of --config (read alone, core/sockpath.c), else the compiled-in default; the
 * daemon is the one reader of the config. The verbs talking to the daemon are in
 * cmd_admin.c and cmd_login.c. Exit codes: 0 ok, 1 failure, 2 usage error. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "daemon/providers/registry.h"
#include "ctl.h"
#include "macro.h"
#include "sockpath.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

struct verb {
        const char *name;
        int (*run)(const struct ctl_verb_ctx *x, int argc, char **argv);
        const char *synopsis; /* after "apiloginctl [GLOBAL OPTIONS] " */
        const char *help;     /* indented description, one paragraph per line group */
};

static int cmd_check_config(const struct ctl_verb_ctx *x, int argc, char **argv);
static int cmd_help(const struct ctl_verb_ctx *x, int argc, char **argv);

static const struct verb verbs[] = {
        { "check-config", cmd_check_config, "check-config [FILE]",
          "Parse FILE (default: --config, else " APILOGIN_CONFIG_PATH ") as apilogind\n"
          "would, without asking the daemon. Prints OK, or the first error as\n"
          "FILE:LINE: KEY: what is wrong (exit 1). Any user who can read the file may\n"
          "run it.\n" },
        { "status", cmd_status, "status [--json]",
          "Show apilogind's state: its version, pid, uptime and the config file it\n"
          "loaded; each provider with its type, whether it is online (its last request got\n"
          "an answer), offline (it could not be reached) or unknown (not asked yet), and\n"
          "when it last answered and last failed; the remote users in the NSS cache, the\n"
          "live sessions and pending logins, the users in offline sessions and the\n"
          "offline logins; the logins since start by outcome; token renewals; what is in\n"
          "flight. Root only.\n" },
        { "users", cmd_users, "users [--json]",
          "List the remote users in the NSS cache as a table (NAME, UID, GECOS,\n"
          "PROVIDER, LAST LOGIN in UTC, SESSIONS, DISABLED). Root only.\n" },
        { "sessions", cmd_sessions, "sessions [--json]",
          "List the live sessions as a table (USER, UID, SESSION, SERVICE, TTY, RHOST,\n"
          "PID of the leader, OPENED in UTC, PROVIDER, STATE of the user's token:\n"
          "online, offline, expired or no token). Never shows a token. Root only.\n" },
        { "flush", cmd_flush, "flush",
          "Expire the NSS cache, as sss_cache -E does for SSSD: every cached remote user\n"
          "who is not logged in (no live session, no login in progress) leaves the cache,\n"
          "so the next lookup of that name does not find it; its uid stays reserved for\n"
          "it and its next login (or users_file, at the next reload) brings it back.\n"
          "Users with live sessions keep their entry; no session is ended. Root only.\n" },
        { "user", cmd_user, "user add NAME | user del NAME",
          "add: provision NAME before its first login (a uid, an entry in the NSS cache).\n"
          "del: expire NAME from the NSS cache (its uid stays reserved for it). Refused\n"
          "while NAME is logged in: end its sessions first. Root only.\n" },
        { "test-login", cmd_test_login, "test-login [--service NAME] [--provider NAME] USER",
          "Try a login of USER through apilogind: the same providers, endpoints and\n"
          "timeout as a PAM login, waiting as long as the daemon's timeout allows (plus\n"
          "5 s). Asks for the password (or token, or PIN, as the provider wants) on the\n"
          "terminal without echo, or reads one line from standard input when there is no\n"
          "terminal. Prints the outcome and the message a user would see, the provider and\n"
          "endpoint that answered (or were asked last), the PAM code pam_apilogin would\n"
          "return and the time it took. Stores nothing: no session, no users-table entry,\n"
          "no offline verifier; a token the API issued is logged out again. A wrong\n"
          "password counts towards the local lockout like any other. Exit 0 only when the\n"
          "login succeeded.\n"
          "  --service NAME   PAM service to test as (default apiloginctl; name one listed\n"
          "                   in [global] services when that key is set)\n"
          "  --provider NAME  ask only this provider\n"
          "Root may test any name; another user only its own remote name.\n" },
        { "help", cmd_help, "help [VERB]", "Show the usage, or one verb's help.\n" },
};

static const char global_text[] =
        "Usage: apiloginctl [--socket PATH | --config PATH] VERB [OPTIONS] [ARGUMENTS]\n"
        "\n"
        "Check and control apilogin. Every verb but check-config talks to the running\n"
        "apilogind over its socket and needs only the socket path (--socket, else the\n"
        "socket key of --config's [global] section, read alone, else the default); the\n"
        "socket must be served by root, or nothing is sent.\n"
        "\n"
        "Global options:\n"
        "  -s, --socket PATH  apilogind's socket (default " APILOGIN_SOCKET_DEFAULT ")\n"
        "  -c, --config PATH  config file: checked by check-config; for the other verbs\n"
        "                     only its socket key is read\n"
        "  -h, --help         show this text (VERB --help: that verb's)\n"
        "  -V, --version      show the version\n"
        "\n"
        "Verbs:\n";

static const char exit_text[] =
        "\n"
        "Exit status: 0 success, 1 failure (config error, daemon not reachable, request\n"
        "refused or failed, login not successful), 2 usage error.\n";

static const struct verb *verb_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

int ctl_help(const char *name)
{
        const struct verb *v = name ? verb_find(name) : NULL;

        if (v) {
                printf("Usage: apiloginctl [GLOBAL OPTIONS] %s\n\n%s", v->synopsis, v->help);
                if (strstr(v->synopsis, "--json"))
                        printf("  --json  print the daemon's answer as one JSON object\n");
                printf("  -h, --help  show this text\n%s", exit_text);
                return CTL_EXIT_OK;
        }
        fputs(global_text, stdout);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %s\n", verbs[i].synopsis);
        printf("\nRun 'apiloginctl VERB --help' for what a verb does.\n%s", exit_text);
        return CTL_EXIT_OK;
}

int ctl_usage_error(const char *verb, const char *fmt, ...)
{
        va_list ap;

        if (fmt) {
                fputs("apiloginctl: ", stderr);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        fprintf(stderr, "Try 'apiloginctl %s%s--help' for more information.\n",
                verb ? verb : "", verb ? " " : "");
        return CTL_EXIT_USAGE;
}

int ctl_verb_options(const char *verb, int argc, char **argv, bool *json)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { 0 },
        };
        int o;

        optind = 0; /* reset getopt for the verb's vector */
        while ((o = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
                switch (o) {
                case 'h':
                        return ctl_help(verb);
                case 'j':
                        if (json) {
                                *json = true;
                                break;
                        }
                        return ctl_usage_error(verb, "'%s' has no --json option", verb);
                default:
                        return ctl_usage_error(verb, NULL);
                }
        }
        return -1;
}

bool ctl_user_arg_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > APILOGIN_NAME_MAX)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
                        return false;
        return true;
}

const char *ctl_own_name(void)
{
        const struct passwd *pw = getpwuid(getuid());

        return pw ? pw->pw_name : NULL;
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
             struct apilogin_msg *ret_reply, int timeout_ms)
{
        int r = apilogin_client_call(socket_path, req, ret_reply, timeout_ms);

        if (r == -ENOENT || r == -ECONNREFUSED)
                fprintf(stderr, "apilogind is not running (socket %s): %s\n", socket_path,
                        strerror(-r));
        else if (r == -EPERM)
                fprintf(stderr, "Refusing to talk to %s: it is not served by root, so not by "
                                "apilogind; nothing was sent\n", socket_path);
        else if (r == -ETIMEDOUT)
                fprintf(stderr, "apilogind did not answer within %d s (socket %s)\n",
                        (timeout_ms + 999) / 1000, socket_path);
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

/* ---- check-config and help -------------------------------------------------------------- */

static void config_freep(struct apilogin_config **c)
{
        apilogin_config_free(*c);
}

static int cmd_check_config(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        _cleanup_(config_freep) struct apilogin_config *cfg = NULL;
        const char *file;
        int r = ctl_verb_options("check-config", argc, argv, NULL);

        if (r >= 0)
                return r;
        if (argc - optind > 1)
                return ctl_usage_error("check-config", "'check-config' takes at most a file name");
        file = optind < argc ? argv[optind] : x->config ? x->config : APILOGIN_CONFIG_PATH;
        if (ctl_load_config(file, &cfg) < 0)
                return CTL_EXIT_FAIL;
        printf("OK\n");
        return CTL_EXIT_OK;
}

static int cmd_help(const struct ctl_verb_ctx *x, int argc, char **argv)
{
        int r = ctl_verb_options("help", argc, argv, NULL);

        if (r >= 0)
                return r;
        if (argc - optind > 1)
                return ctl_usage_error("help", "'help' takes at most a verb");
        if (optind < argc && !verb_find(argv[optind]))
                return ctl_usage_error(NULL, "unknown verb '%.64s'", argv[optind]);
        return ctl_help(optind < argc ? argv[optind] : NULL);
}

/* ---- main -------------------------------------------------------------------------------- */

/* The socket path: --socket, else --config's socket key alone, else the default. A config
 * file with a typo elsewhere still gives its socket key. */
static const char *socket_path(const char *config, char *buf, size_t n)
{
        int r;

        snprintf(buf, n, "%s", APILOGIN_SOCKET_DEFAULT);
        if (!config)
                return buf;
        r = apilogin_socket_from_config(config, buf, n);
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "Failed to read the socket key of %s: %s; using %s\n", config,
                        strerror(-r), APILOGIN_SOCKET_DEFAULT);
        if (r < 0)
                snprintf(buf, n, "%s", APILOGIN_SOCKET_DEFAULT);
        return buf;
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
        struct ctl_verb_ctx x = {};
        char sock[108];
        const struct verb *v;
        int o;

        /* "+": stop at the verb, whose own options and arguments are its business. */
        while ((o = getopt_long(argc, argv, "+c:s:hV", options, NULL)) != -1) {
                switch (o) {
                case 'c':
                        x.config = optarg;
                        break;
                case 's':
                        if (optarg[0] != '/' || strlen(optarg) >= sizeof(sock))
                                return ctl_usage_error(NULL, "--socket takes an absolute path "
                                                       "of at most %zu bytes", sizeof(sock) - 1);
                        x.socket = optarg;
                        break;
                case 'h':
                        return ctl_help(NULL);
                case 'V':
                        printf("apiloginctl %s\n", PACKAGE_VERSION);
                        return CTL_EXIT_OK;
                default:
                        return ctl_usage_error(NULL, NULL); /* getopt said what was wrong */
                }
        }
        if (optind >= argc)
                return ctl_usage_error(NULL, "missing verb");
        v = verb_find(argv[optind]);
        if (!v)
                return ctl_usage_error(NULL, "unknown verb '%.64s'", argv[optind]);
        if (!x.socket && v->run != cmd_check_config && v->run != cmd_help)
                x.socket = socket_path(x.config, sock, sizeof(sock));
        return v->run(&x, argc - optind, argv + optind);
}

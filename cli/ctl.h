/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl.h: what the parts of apiloginctl share: exit codes, loading the config (check-config
 * only: every other command needs just the socket path), one exchange with apilogind,
 * printing text that came from the daemon, and the verbs' entry points. Each helper prints
 * its own error message (the CLI is the edge where errors are reported) and returns
 * -errno; each verb returns an exit code. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "proto.h"

enum {
        CTL_EXIT_OK = 0,    /* done; the daemon answered OK */
        CTL_EXIT_FAIL = 1,  /* config error, daemon unreachable, request refused or failed */
        CTL_EXIT_USAGE = 2, /* bad command line */
};

/* How long one request to the daemon may take, connect to reply, when nothing says more:
 * the admin requests are answered at once. test-login waits the daemon's own login
 * timeout (from its QUERY reply) plus CTL_LOGIN_MARGIN_MS. */
#define CTL_TIMEOUT_MS 10000
#define CTL_LOGIN_MARGIN_MS 5000

/* Load the config at path into *ret. On failure prints the parser's one-line error to
 * stderr and returns -errno. */
int ctl_load_config(const char *path, struct apilogin_config **ret);

/* Send req to apilogind at socket_path and wait for the reply (timeout_ms in all).
 * Returns 0 with the decoded reply, or -errno after printing a message naming the socket
 * ("apilogind is not running (socket PATH): ..." when nobody listens; a socket not served
 * by root is refused before anything is sent). The caller wipes *ret_reply with
 * apilogin_proto_wipe. */
int ctl_call(const char *socket_path, const struct apilogin_msg *req,
             struct apilogin_msg *ret_reply, int timeout_ms);

/* Print s to f with control characters other than newline and tab shown as '?', so text
 * that came from a login API (display names, messages) cannot drive the terminal. */
void ctl_print_safe(FILE *f, const char *s);

/* A usage error: "apiloginctl: MESSAGE" and where to find help; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The name of the calling user (real uid), or NULL. */
const char *ctl_own_name(void);

/* One verb: its argument vector starts at the verb's name (argv[0]); it parses its own
 * options with getopt_long. */
struct ctl_verb_ctx {
        const char *socket; /* resolved socket path */
        const char *config; /* --config, or NULL */
};

/* cmd_admin.c */
int cmd_status(const struct ctl_verb_ctx *x, int argc, char **argv);
int cmd_users(const struct ctl_verb_ctx *x, int argc, char **argv);
int cmd_sessions(const struct ctl_verb_ctx *x, int argc, char **argv);
int cmd_flush(const struct ctl_verb_ctx *x, int argc, char **argv);
int cmd_user(const struct ctl_verb_ctx *x, int argc, char **argv);

/* cmd_login.c: test-login [--service NAME] [--provider NAME] USER. */
int cmd_test_login(const struct ctl_verb_ctx *x, int argc, char **argv);

/* Per-verb help (apiloginctl.c); verb NULL = the whole usage. Returns CTL_EXIT_OK. */
int ctl_help(const char *verb);

/* Parse the options every verb shares: -h/--help, and --json where json is not NULL.
 * The verb's positional arguments are left at argv[optind..]. Returns -1 to go on, else an
 * exit code (help shown, or a usage error). */
int ctl_verb_options(const char *verb, int argc, char **argv, bool *json);

/* A user name argument: what the protocol can carry; the daemon judges the rest. */
bool ctl_user_arg_ok(const char *s);

/* ctl.h: what the parts of apiloginctl share: exit codes, loading the config, one exchange
 * with apilogind, and printing text that came from the daemon. Each helper prints its own
 * error message (the CLI is the edge where errors are reported) and returns -errno. */
#pragma once

#include <stdio.h>

#include "conf.h"
#include "proto.h"

enum {
        CTL_EXIT_OK = 0,    /* done; the daemon answered OK */
        CTL_EXIT_FAIL = 1,  /* config error, daemon unreachable, request refused or failed */
        CTL_EXIT_USAGE = 2, /* bad command line */
};

/* How long one request to the daemon may take, connect to reply. */
#define CTL_TIMEOUT_MS 10000

/* Load the config at path into *ret. On failure prints the parser's one-line error to
 * stderr and returns -errno. */
int ctl_load_config(const char *path, struct apilogin_config **ret);

/* Send req to apilogind at cfg->socket_path and wait for the reply (CTL_TIMEOUT_MS in
 * all). Returns 0 with the decoded reply, or -errno after printing a message naming the
 * socket ("apilogind is not running (socket PATH): ..." when nobody listens).
 * The caller wipes *ret_reply with apilogin_proto_wipe. */
int ctl_call(const struct apilogin_config *cfg, const struct apilogin_msg *req,
             struct apilogin_msg *ret_reply);

/* Print s to f with control characters other than newline and tab shown as '?', so text
 * that came from a login API (display names, messages) cannot drive the terminal. */
void ctl_print_safe(FILE *f, const char *s);

/* test-login USER (cmd_login.c): prompt for the password without echo, send one AUTH
 * request, print the outcome. user has been checked by the caller. Returns an exit code. */
int cmd_test_login(const char *config_path, const char *user);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pam_opts.h: the module arguments of pam_apilogin.so. The module reads no policy: the
 * daemon decides which names and services are apilogin's (see proto.h, QUERY). */
#pragma once

#include <stdbool.h>
#include <security/pam_modules.h>

#include "sockpath.h"

struct apilogin_pam_opts {
        char socket[108];     /* socket=PATH, else config=PATH's socket key, else the default */
        const char *provider; /* provider=NAME, passed to the daemon */
        bool debug;
        bool quiet;           /* PAM_SILENT: no messages to the user */
};

/* Fill o from flags and argv. Unknown arguments are logged and ignored; use_first_pass and
 * try_first_pass are understood by pam_get_authtok itself. config=PATH is read for its
 * [global] socket key alone (core/sockpath.c); a file without one, or one that cannot be
 * read, leaves the compiled-in default (logged at debug level). Never fails. */
void apilogin_pam_opts_parse(pam_handle_t *pamh, int flags, int argc, const char **argv,
                             struct apilogin_pam_opts *o);

#define pam_debug(pamh, o, ...)                                      \
        do {                                                         \
                if ((o)->debug)                                      \
                        pam_syslog((pamh), LOG_DEBUG, __VA_ARGS__);  \
        } while (0)
